/**
 * The ablation sections of notebooks 02 and 03 (src/experiments/ablation_evidence.ts and the
 * display helpers of src/experiments/notebook.ts): which cells a section uses (committed long
 * runs with enough shared seeds, else the live run), its paired table, its figures and its
 * diagnostics at the selected epoch, its primary contrast, and the order the notebooks show them
 * in. Results are built from one committed result file.
 */
import assert from "node:assert/strict";
import { type CellResult, readResult } from "../../src/experiments/results.ts";
import type { CellMethod } from "../../src/experiments/spec.ts";
import {
  ablationEvidence,
  ablationSection,
  pairedCells,
  selectedEpochDiagnostics,
} from "../../src/experiments/ablation_evidence.ts";
import type { ControlReading } from "../../src/experiments/module_verdict.ts";
import { emptyManipulation } from "../../src/models/manipulation.ts";
import {
  ablationFigureBundles,
  figureBundles,
  showAblationSection,
} from "../../src/experiments/notebook.ts";

const root = new URL("../../", import.meta.url).pathname;
const template = await readResult(
  `${root}docs/results/archive/wikipedia-inactive-modules/wikipedia__fixed__cpah-full__16b__seed1__e100__wasm.json`,
);

interface Cell {
  ablation: string;
  seed: number;
  bits?: number;
  dataset?: "wikipedia" | "synthetic";
  epochs?: number;
  i2t?: number;
  diagnostics?: (epoch: number) => Record<string, number>;
}

/** A CPAH cell from the template: 3 epochs, the middle one selected. */
function cell(c: Cell): CellResult {
  const r: CellResult = structuredClone(template);
  const synthetic = c.dataset === "synthetic";
  r.spec = {
    ...r.spec,
    dataset: c.dataset ?? "wikipedia",
    split: synthetic ? "permutation" : "fixed",
    ablation: c.ablation,
    seed: c.seed,
    bits: c.bits ?? 16,
    epochs: c.epochs ?? 100,
  };
  r.id = `${r.spec.dataset}-${c.ablation}-${r.spec.bits}-${c.seed}-${r.spec.epochs}`;
  r.metrics.I2T = { ...r.metrics.I2T, mapAll: c.i2t ?? 0.5 + 0.01 * c.seed };
  r.training.history = [0, 1, 2].map((epoch) => ({
    epoch,
    losses: { pair: 1 },
    seconds: 1,
    ...(c.diagnostics ? { diagnostics: c.diagnostics(epoch) } : {}),
  }));
  r.training.selectedEpoch = 1;
  return r;
}

const committed = [
  ...[1, 2, 3].map((seed) => cell({ ablation: "full", seed })),
  ...[1, 2, 3].map((seed) => cell({ ablation: "noCR", seed, i2t: 0.4 + 0.01 * seed })),
  cell({ ablation: "relaxed", seed: 1 }), // one seed only: not enough to pair
  ...[1, 2].map((seed) => cell({ ablation: "full", seed, bits: 32 })),
  cell({ ablation: "noCR", seed: 2, bits: 32 }), // one shared seed at 32 bits
];
const diag = (e: number) => ({ maskImage: 0.5 + 0.01 * e, quantGap: 0.8 - 0.1 * e });
const live = ["full", "noCR", "relaxed"].flatMap((ablation) =>
  [1, 2].map((seed) =>
    cell({
      ablation,
      seed,
      dataset: "synthetic",
      epochs: 3,
      diagnostics: ablation === "noCR" ? (e) => ({ quantGap: 0.7 - 0.1 * e }) : diag,
    })
  )
);

Deno.test("pairedCells: code lengths with enough shared seeds, in the group with the most pairs", () => {
  const p = pairedCells(committed, "cpah", "noCR")!;
  assert.deepEqual(p.bits, [16]);
  assert.deepEqual(p.seeds, [[1, 2, 3]]);
  assert.equal(p.results.length, 6);
  assert.ok(p.results.every((r) => r.spec.bits === 16));
  assert.deepEqual(pairedCells(committed, "cpah", "noCR", 1)!.bits, [16, 32]);
  assert.equal(pairedCells(committed, "cpah", "relaxed"), undefined);
  assert.equal(pairedCells(committed, "dfah", "noFusion"), undefined);
});

Deno.test("ablationEvidence: committed cells when they pair, else the live run, and says which", () => {
  const a = ablationEvidence(committed, live, "cpah", "noCR");
  assert.equal(a.source, "committed");
  assert.match(
    a.description,
    /^committed result files: wikipedia, split fixed, 16 bits \(3 seeds\)/,
  );
  const b = ablationEvidence(committed, live, "cpah", "relaxed");
  assert.equal(b.source, "live");
  assert.ok(b.results.every((r) => r.spec.dataset === "synthetic"));
  assert.match(
    b.description,
    /short live run: synthetic, split permutation, .*\(too short to say anything/,
  );
  assert.throws(
    () => ablationEvidence(committed, live, "cpah", "noMultiTask"),
    /neither the committed nor the live results hold cpah full and noMultiTask/,
  );
});

Deno.test("ablationSection: paired table and PR curves of the evidence, diagnostics of the live run", () => {
  const s = ablationSection(committed, live, "cpah", "noCR", ["maskImage", "quantGap"]);
  const rows = s.table.display.objects() as Record<string, string>[];
  assert.deepEqual(rows.map((r) => `${r.ablation} ${r.bits} ${r.seeds}`), ["noCR 16 3"]);
  // noCR − full in I→T: 0.40 + 0.01 s − (0.50 + 0.01 s) = −0.1 for every seed.
  assert.match(rows[0]["Δ I→T [95% CI]"], /^−0\.1000/);
  assert.match(s.pr.title, /wikipedia/);
  // The committed cells record no diagnostics: one figure, from the live run.
  assert.deepEqual(s.diagnostics.map((d) => d.source), ["live"]);
  const sel = s.diagnostics[0].selected;
  assert.deepEqual(sel.map((r) => r.setting), ["CPAH", "CPAH noCR"]);
  // Selected epoch 1: maskImage 0.51 (full only), quantGap 0.7 (full) and 0.6 (noCR).
  assert.ok(Math.abs(sel[0].values.maskImage! - 0.51) < 1e-12);
  assert.equal(sel[1].values.maskImage, null);
  assert.ok(Math.abs(sel[1].values.quantGap! - 0.6) < 1e-12);
});

Deno.test("ablationSection: committed diagnostics are used when recorded; live added without the first key", () => {
  const withDiag = committed.map((r) => {
    const c = structuredClone(r);
    c.training.history.forEach((h) => (h.diagnostics = { quantGap: 0.5 }));
    return c;
  });
  const both = ablationSection(withDiag, live, "cpah", "noCR", ["maskImage", "quantGap"]);
  assert.deepEqual(both.diagnostics.map((d) => d.source), ["committed", "live"]);
  const one = ablationSection(withDiag, live, "cpah", "noCR", ["quantGap"]);
  assert.deepEqual(one.diagnostics.map((d) => d.source), ["committed"]);
  assert.equal(one.diagnostics[0].selected[0].values.quantGap, 0.5);
});

Deno.test("ablationSection: committed diagnostics come from the code length that records them", () => {
  // 16-bit cells written before the models recorded diagnostics; 64-bit cells with them.
  const at64 = [1, 2].flatMap((seed) =>
    ["full", "noCR"].map((ablation) => cell({ ablation, seed, bits: 64, diagnostics: diag }))
  );
  const s = ablationSection([...committed, ...at64], live, "cpah", "noCR", ["maskImage"]);
  assert.equal(s.evidence.bits[0], 16);
  assert.deepEqual(s.diagnostics.map((d) => d.source), ["committed"]);
  assert.ok(s.diagnostics[0].results.every((r) => r.spec.bits === 64));
  assert.equal(s.diagnostics[0].selected[0].values.maskImage, 0.51);
});

Deno.test("selectedEpochDiagnostics reads the selected epoch of each seed, diagnostics then losses", () => {
  const rs = [1, 2].map((seed) =>
    cell({ ablation: "full", seed, diagnostics: (e) => ({ discAcc: 0.5 + 0.1 * e + 0.1 * seed }) })
  );
  rs[1].training.selectedEpoch = 2;
  const rows = selectedEpochDiagnostics(rs, "cpah", ["discAcc", "pair", "none"], 16);
  // Seed 1 at epoch 1: 0.7; seed 2 at epoch 2: 0.9.
  assert.ok(Math.abs(rows[0].values.discAcc! - 0.8) < 1e-12);
  assert.equal(rows[0].values.pair, 1);
  assert.equal(rows[0].values.none, null);
  assert.equal(rows[0].seeds, 2);
});

Deno.test("notebook helpers outside the kernel: figure titles as text, sections printed", async () => {
  const s = ablationSection(committed, live, "cpah", "noCR", ["maskImage", "quantGap"]);
  const bundles = await ablationFigureBundles({ noCR: s });
  assert.match(String(bundles.noCR.pr["text/plain"]), /^\[plotly figure: Precision-recall/);
  assert.equal(bundles.noCR.diagnostics.length, 1);
  assert.deepEqual(await figureBundles([]), []);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  const control: ControlReading = { status: "none", method: "cpah", ablation: "noCR" };
  try {
    await showAblationSection(s, bundles.noCR, control);
  } finally {
    console.log = log;
  }
  // Check, positive control, the effect (cells, table, PR curves), diagnostics, verdict.
  assert.match(lines[0], /^manipulation check \(full model\): /);
  assert.match(lines[1], /^positive control: none registered for CPAH noCR/);
  assert.match(lines[2], /^paired comparison: committed result files/);
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const table = at(/^\|ablation\|/), pr = at(/^\[plotly figure: Precision-recall/);
  const diagTable = at(/the short live run \(mean over seeds\)/);
  const diagFigure = at(/^\[plotly figure: CPAH diagnostics per epoch/);
  assert.ok(2 < table && table < pr && pr < diagTable && diagTable < diagFigure);
  assert.equal(diagFigure, lines.length - 2);
  assert.match(lines.at(-1)!, /^verdict: not tested: no manipulation record/);
  // A section on the live run closes saying that run cannot support a verdict.
  const relaxed = ablationSection(committed, live, "cpah", "relaxed", ["quantGap"]);
  lines.length = 0;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await showAblationSection(relaxed, (await ablationFigureBundles({ relaxed })).relaxed, control);
  } finally {
    console.log = log;
  }
  assert.equal(
    lines.at(-1),
    "verdict: not tested: the short live run is too short to support a verdict",
  );
});

Deno.test("ablationSection: the primary contrast at 32 bits, Holm across every method's modules", () => {
  const at32 = (method: CellMethod, ablation: string, seed: number, i2t: number) => {
    const r = cell({ ablation, seed, bits: 32, i2t });
    r.spec = { ...r.spec, method };
    r.id = `${method}-${r.id}`;
    r.manipulation = {
      ...emptyManipulation(),
      maskBelow01: { image: 0.3, text: 0.3 },
      maskAbove09: { image: 0.2, text: 0.2 },
      consistencyAccuracy: { value: 0.9, chance: 0.5 },
      fusionDecisive: 0.2,
    };
    return r;
  };
  // Both modules active; each ablation behind its full model by 0.02 − 0.003 seed in I→T.
  const modules: [CellMethod, string][] = [["cpah", "noCR"], ["dfah", "noFusion"]];
  const cells = modules.flatMap(([method, ablation]) =>
    [1, 2, 3].flatMap((seed) => [
      at32(method, "full", seed, 0.5),
      at32(method, ablation, seed, 0.48 + 0.003 * seed),
    ])
  );
  const s = ablationSection(cells, live, "cpah", "noCR", ["maskImage"]);
  assert.equal(s.primary?.familySize, 2);
  assert.equal(s.primary?.check?.active, true);
  assert.equal(s.primary?.c.n, 3);
  assert.ok(s.primary!.pHolm > s.primary!.c.p);
  // Only this method's cells: a family of one.
  const alone = ablationSection(
    cells.filter((r) => r.spec.method === "cpah"),
    live,
    "cpah",
    "noCR",
    [
      "maskImage",
    ],
  );
  assert.equal(alone.primary?.familySize, 1);
  assert.equal(alone.primary?.pHolm, alone.primary?.c.p);
});
