/**
 * The ablation sections of notebooks 02 and 03 (src/experiments/ablation_evidence.ts and the
 * display helpers of src/experiments/notebook.ts): which cells a section uses (committed long
 * runs with enough shared seeds, else the live run), its paired table, its figures and its
 * diagnostics at the selected epoch. Results are built from one committed result file.
 */
import assert from "node:assert/strict";
import { type CellResult, readResult } from "../../src/experiments/results.ts";
import {
  ablationEvidence,
  ablationSection,
  pairedCells,
  selectedEpochDiagnostics,
} from "../../src/experiments/ablation_evidence.ts";
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
  assert.equal(bundles.noCR.length, 2); // PR curves, diagnostics
  assert.match(String(bundles.noCR[0]["text/plain"]), /^\[plotly figure: Precision-recall/);
  assert.deepEqual(await figureBundles([]), []);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await showAblationSection(s, bundles.noCR);
  } finally {
    console.log = log;
  }
  assert.match(lines[0], /^manipulation check \(full model\): /);
  assert.match(lines[1], /^paired comparison: committed result files/);
  assert.ok(lines.some((l) => l.includes("the short live run (mean over seeds)")));
  assert.ok(lines.some((l) => l.includes("[plotly figure: CPAH diagnostics per epoch")));
});
