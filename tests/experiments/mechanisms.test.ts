/**
 * Generator settings in cells (ExperimentSpec.data, `reproduce --data`) and the mechanism
 * study's runner: the sweeps match the pre-registration, cells carry their knob and share ids
 * on default data, and the analysis of fabricated result files (no training) gives the
 * expected rows, Holm correction, quantisation-gap table, and rewrites only the Results
 * section of the study document. One tiny real cell checks the plumbing end to end.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  canonicalData,
  cellId,
  expandGrid,
  type ExperimentSpec,
  parseDataSetting,
} from "../../src/experiments/spec.ts";
import { parseCli } from "../../src/experiments/reproduce_options.ts";
import { gridArguments } from "../../src/experiments/slurm.ts";
import { type CellResult, readResult, writeResult } from "../../src/experiments/results.ts";
import { DatasetCache, runCell } from "../../src/experiments/run_cell.ts";
import {
  analyseSweep,
  estimateSeconds,
  FIXED,
  formatDiff,
  MEASURES,
  parseMechanismsCli,
  pointSpec,
  quantisationGap,
  replaceResultsSection,
  studySpecs,
  type Sweep,
  sweepByName,
  SWEEPS,
  sweepSpecs,
  writeAnalysis,
} from "../../src/experiments/mechanisms.ts";
import { pairedComparison } from "../../src/experiments/stats.ts";
import { TINY_GRID } from "../test_utils.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// ------------------------------------------------------------------ cells with generator settings

Deno.test("cells carry generator settings in their id; defaults are dropped; real datasets refuse them", () => {
  const base: ExperimentSpec = {
    dataset: "synthetic",
    split: "permutation",
    method: "cpah",
    ablation: "full",
    bits: 32,
    seed: 1,
    epochs: 30,
    backend: "wasm",
  };
  // Without data the id is what it always was.
  assert.equal(cellId(base), "synthetic__permutation__cpah-full__32b__seed1__e30__wasm");
  assert.equal(
    cellId({ ...base, data: { shift: 2, disagreement: 0.1 } }),
    "synthetic__permutation__cpah-full__32b__seed1__e30__wasm__data.disagreement=0.1__data.shift=2",
  );
  assert.equal(
    cellId({ ...base, overrides: { normalization: "perItem" }, data: { nuisance: 4 } }),
    "synthetic__permutation__cpah-full__32b__seed1__e30__wasm__normalization=perItem__data.nuisance=4",
  );
  assert.deepEqual(canonicalData("synthetic", { shift: 0, n: 3000, nuisance: 2 }), { nuisance: 2 });
  assert.equal(canonicalData("synthetic", { shift: 0 }), undefined);
  assert.equal(canonicalData("wikipedia", undefined), undefined);
  assert.throws(
    () => canonicalData("wikipedia", { shift: 1 }),
    /dataset 'wikipedia' is read from files/,
  );
  assert.throws(() => canonicalData("synthetic", { bogus: 1 }), /'bogus' is not a setting/);
  assert.throws(() => canonicalData("synthetic", { disagreement: 2 }), /disagreement must be/);
  const cells = expandGrid({ ...TINY_GRID, seeds: [1, 2], data: { shift: 1, nuisance: 1 } });
  assert.deepEqual(cells.map((c) => c.data), [{ shift: 1 }, { shift: 1 }]);
  assert.ok(cellId(cells[0]).endsWith("__data.shift=1"));
});

Deno.test("reproduce --data parses, validates and names the output directory", () => {
  const cli = parseCli(["--methods", "cpah", "--data", "shift=2", "--data", "disagreement=0.2"]);
  assert.deepEqual(cli.grid.data, { disagreement: 0.2, shift: 2 });
  assert.equal(cli.out, "results/synthetic-disagreement=0.2-shift=2");
  const specs = expandGrid({ ...cli.grid, epochs: 1 });
  assert.ok(specs.every((s) => s.data?.shift === 2 && s.data?.disagreement === 0.2));
  // A default value is no setting at all: same cells, same directory as without --data.
  const dflt = parseCli(["--methods", "cpah", "--data", "shift=0"]);
  assert.equal(dflt.grid.data, undefined);
  assert.equal(dflt.out, "results/synthetic");
  assert.equal(parseCli(["--data", "shift=1", "--out", "x"]).out, "x");
  assert.deepEqual(parseDataSetting("nuisance=0.5"), ["nuisance", 0.5]);
  assert.throws(() => parseCli(["--data", "shift"]), /--data: 'shift' is not KEY=VALUE/);
  assert.throws(
    () => parseCli(["--data", "shift=abc"]),
    /--data: shift must be a number, got 'abc'/,
  );
  assert.throws(
    () => parseCli(["--data", "bogus=1"]),
    /--data: 'bogus' is not a setting of the synthetic generator/,
  );
  assert.throws(
    () => parseCli(["--data", "shift=-1"]),
    /--data: synthetic: shift must be a finite number >= 0/,
  );
  assert.throws(
    () => parseCli(["--data", "shift=1", "--data", "shift=2"]),
    /--data: shift given twice/,
  );
  assert.throws(
    () => parseCli(["--dataset", "wikipedia", "--data", "shift=1"]),
    /--data: dataset 'wikipedia' is read from files and has no generator settings/,
  );
  // The Slurm array tasks get the --data options too.
  assert.deepEqual(gridArguments(["--data", "shift=1", "--slurm", "--out", "r"], "/abs/r"), [
    "--data",
    "shift=1",
    "--out",
    "/abs/r",
  ]);
});

Deno.test("a cell with generator settings runs on that data and records the quantisation gap", async () => {
  const out = await Deno.makeTempDir();
  const spec: ExperimentSpec = {
    dataset: "synthetic",
    split: "permutation",
    method: "cpah",
    ablation: "relaxed",
    bits: 16,
    seed: 1,
    epochs: 1,
    backend: "wasm",
    data: { n: 600, shift: 1 },
  };
  const cache = new DatasetCache();
  const r = await runCell(spec, { out, log: () => {}, diagnose: (m) => quantisationGap(m) }, {
    cache,
  });
  assert.match(r.dataset.provenance, /n=600, .*shift=1/);
  assert.equal(r.dataset.split.query, 100);
  const back = await readResult(`${out}/${cellId(spec)}.json`);
  assert.ok(cellId(spec).endsWith("__data.n=600__data.shift=1"));
  const g = back.diagnostics!;
  assert.ok(g.meanAbsH > 0 && g.meanAbsH < 1, `mean |h| ${g.meanAbsH}`);
  assert.ok(g.signDistance > 0 && g.signDistance < 4, `gap ${g.signDistance}`);
  assert.ok(Math.abs(g.meanAbsH - (g.meanAbsHImage + g.meanAbsHText) / 2) < 1e-9);
  // The cache keeps datasets apart by their settings.
  const a = await cache.get("synthetic", undefined, { n: 600, shift: 1 });
  const b = await cache.get("synthetic", undefined, { n: 600 });
  assert.notEqual(a, b);
  assert.equal(a, await cache.get("synthetic", undefined, { shift: 1, n: 600 }));
  await Deno.remove(out, { recursive: true });
});

Deno.test("quantisationGap: mean |h| and mean (h − sign h)² over both stored outputs", () => {
  const model = {
    Hv: Float32Array.from([0.5, -1, 0, 0.9]),
    Ht: Float32Array.from([-0.5, 1, 0.2, -0.1]),
  } as never;
  const g = quantisationGap(model)!;
  assert.ok(Math.abs(g.meanAbsH - (0.5 + 1 + 0 + 0.9 + 0.5 + 1 + 0.2 + 0.1) / 8) < 1e-7);
  // sign(0) = +1: (0 − 1)² = 1.
  const sq = [0.25, 0, 1, 0.01, 0.25, 0, 0.64, 0.81];
  assert.ok(Math.abs(g.signDistance - sq.reduce((a, b) => a + b) / 8) < 1e-6);
  assert.ok(Math.abs(g.signDistanceImage - (0.25 + 0 + 1 + 0.01) / 4) < 1e-6);
  assert.equal(quantisationGap({} as never), undefined);
});

// ------------------------------------------------------------------ the sweeps

/** The values column of the pre-registration's table, by ablation flag. */
function preRegisteredValues(doc: string): Map<string, { knob: string; values: number[] }> {
  const out = new Map<string, { knob: string; values: number[] }>();
  for (const line of doc.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 6) continue;
    const flag = cells[1].match(/\(`(\w+)`\)/)?.[1];
    if (!flag) continue;
    const knob = cells[3].match(/^`(\w+)`/)?.[1] ?? cells[3];
    out.set(flag, { knob, values: cells[4].split(",").map(Number) });
  }
  return out;
}

Deno.test("the sweeps are the pre-registered ones, with its fixed settings", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const table = preRegisteredValues(doc);
  assert.equal(table.size, SWEEPS.length);
  for (const s of SWEEPS) {
    const row = table.get(s.ablation)!;
    assert.deepEqual(row.values, [...s.values], s.name);
    assert.equal(s.knob === "bits" ? "code length" : s.knob, row.knob, s.name);
  }
  assert.match(doc, /n = 3,000 pairs/);
  assert.match(doc, /Seeds 1–5/);
  assert.equal(FIXED.n, 3000);
  assert.deepEqual([...FIXED.seeds], [1, 2, 3, 4, 5]);
  // Cells: methods x values x (full, ablation) x seeds, with the method's default epochs.
  const adv = sweepSpecs(sweepByName("adversary"), "wasm");
  assert.equal(adv.length, 2 * 4 * 2 * 5);
  assert.deepEqual([...new Set(adv.map((s) => s.epochs))].sort(), [20, 30]); // dfah, cpah
  assert.ok(adv.every((s) => s.bits === 32 && s.split === "permutation"));
  assert.deepEqual(pointSpec(sweepByName("adversary"), "cpah", "full", 2, 1, "wasm").data, {
    shift: 2,
  });
  assert.equal(pointSpec(sweepByName("adversary"), "cpah", "full", 0, 1, "wasm").data, undefined);
  const bits = sweepSpecs(sweepByName("discrete"), "wasm");
  assert.deepEqual([...new Set(bits.map((s) => s.bits))], [16, 32, 64, 128]);
  assert.ok(bits.every((s) => s.data === undefined));
  // The default-data full models at 32 bits are shared by three sweeps each: 250 - 2 x 2 x 5.
  const all = studySpecs(SWEEPS, "wasm");
  assert.equal(all.length, 230);
  assert.equal(new Set(all.map(cellId)).size, 230);
  assert.deepEqual(all.slice(0, 3).map((s) => s.seed), [1, 1, 1]);
  assert.equal(all.at(-1)!.seed, 5);
});

Deno.test("mechanisms CLI: sweeps, defaults and errors", () => {
  const d = parseMechanismsCli([]);
  assert.equal(d.sweeps.length, 4);
  assert.equal(d.out, "docs/results/mechanisms");
  assert.ok(d.doc.endsWith("docs/mechanisms.md"));
  const one = parseMechanismsCli(["--sweep", "fusion,adversary", "--out", "o", "--report-only"]);
  assert.deepEqual(one.sweeps.map((s) => s.name), ["fusion", "adversary"]);
  assert.equal(one.reportOnly, true);
  assert.throws(() => parseMechanismsCli(["--sweep", "cr"]), /--sweep: unknown sweep 'cr'/);
  assert.throws(() => parseMechanismsCli(["--plan", "--report-only"]), /choose one/);
  // The toolkit's CLI parser: one-line errors in CLI terms.
  assert.throws(() => parseMechanismsCli(["--bogus"]), /'deno task mechanisms --help' lists/);
  assert.throws(() => parseMechanismsCli(["--out", "a", "--out", "b"]), /--out: given twice/);
});

// ------------------------------------------------------------------ analysis of fabricated results

/** A result file's content for a cell, with the given MAP@all values and history. */
function fabricate(
  spec: ExperimentSpec,
  i2t: number,
  t2i: number,
  extra: Partial<CellResult> = {},
): CellResult {
  const epochs = 4;
  return {
    format: "cmh-result-1",
    id: cellId(spec),
    spec,
    config: {},
    dataset: {
      name: "synthetic",
      provenance: "fabricated",
      imageDim: 256,
      textDim: 128,
      classes: 10,
      split: {
        convention: "permutation",
        query: 500,
        database: 2500,
        train: 2250,
        validation: 250,
      },
    },
    backend: { name: "wasm", tfjs: "4.22.0", explicitTransposeGrad: true, deno: "2.9.6" },
    versions: { toolkit: "0.1.0", tfjs: "4.22.0", deno: "2.9.6" },
    training: {
      history: Array.from({ length: epochs }, (_, e) => ({ epoch: e, losses: {}, seconds: 3 })),
      selectedEpoch: epochs - 1,
      seconds: 3 * epochs,
    },
    metrics: { I2T: { mapAll: i2t }, T2I: { mapAll: t2i } } as never,
    encodeSeconds: 0.5,
    started: "2025-01-01T00:00:00.000Z",
    finished: "2025-01-01T00:00:20.000Z",
    ...extra,
  };
}

/**
 * The fusion sweep (DFAH, disagreement 0/0.1/0.2/0.4) with the ablation behind the full model
 * by `gap[v]` + a seed-dependent wobble; the value 0.4 has only 3 seeds of the ablation.
 */
async function fabricateFusion(out: string): Promise<Map<string, CellResult>> {
  const sweep = sweepByName("fusion");
  const gap = [0, -0.002, -0.02, -0.05];
  const wobble = [0.004, -0.003, 0.001, -0.001, 0.002];
  const written = new Map<string, CellResult>();
  for (const [vi, value] of sweep.values.entries()) {
    for (const seed of FIXED.seeds) {
      const f = pointSpec(sweep, "dfah", "full", value, seed, "wasm");
      const fr = fabricate(f, 0.6 + 0.01 * seed, 0.5 + 0.01 * seed);
      written.set(cellId(f), fr);
      if (value === 0.4 && seed > 3) continue;
      const a = pointSpec(sweep, "dfah", "noFusion", value, seed, "wasm");
      const w = wobble[seed - 1];
      written.set(
        cellId(a),
        fabricate(a, 0.6 + 0.01 * seed + gap[vi] + w, 0.5 + 0.01 * seed + gap[vi] - w / 2),
      );
    }
  }
  for (const r of written.values()) await writeResult(out, r);
  return written;
}

/** Holm by hand: sort ascending, multiply by (m − rank), running maximum, cap at 1. */
function holmByHand(p: number[]): number[] {
  const order = p.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(p.length);
  let run = 0;
  order.forEach(([x, i], rank) => {
    run = Math.max(run, Math.min(1, (p.length - rank) * x));
    out[i] = run;
  });
  return out;
}

Deno.test("the analysis pairs seeds, Holm-corrects across knob values, and renders the rows", async () => {
  const out = await Deno.makeTempDir();
  const written = await fabricateFusion(out);
  const sweep = sweepByName("fusion");
  const lookup = (s: ExperimentSpec) => written.get(cellId(s));
  const a = analyseSweep(sweep, lookup, "wasm");
  assert.equal(a.cells, 40);
  assert.equal(a.finished, 38);
  assert.equal(a.methods.length, 1);
  const rows = a.methods[0].rows;
  assert.deepEqual(rows.map((r) => r.value), [0, 0.1, 0.2, 0.4]);
  assert.deepEqual(rows[3].finished, { full: 5, ablation: 3 });
  // Each row's comparison is the paired test over the seeds both have.
  for (const [vi, r] of rows.entries()) {
    const seeds = vi === 3 ? [1, 2, 3] : [1, 2, 3, 4, 5];
    const get = (abl: string, s: number) =>
      written.get(cellId(pointSpec(sweep, "dfah", abl, sweep.values[vi], s, "wasm")))!;
    const i2t = pairedComparison(
      seeds.map((s) => get("noFusion", s).metrics.I2T.mapAll),
      seeds.map((s) => get("full", s).metrics.I2T.mapAll),
    );
    assert.equal(r.tests.I2T.n, seeds.length);
    assert.ok(Math.abs(r.tests.I2T.mean - i2t.mean) < 1e-12);
    assert.ok(Math.abs(r.tests.I2T.p - i2t.p) < 1e-12);
    const meanMap = (abl: string, s: number) =>
      (get(abl, s).metrics.I2T.mapAll + get(abl, s).metrics.T2I.mapAll) / 2;
    const m = pairedComparison(
      seeds.map((s) => meanMap("noFusion", s)),
      seeds.map((s) => meanMap("full", s)),
    );
    assert.ok(Math.abs(r.tests.mean.mean - m.mean) < 1e-12);
    const fullI2t = seeds.reduce((a, s) => a + 0.6 + 0.01 * s, 0) / seeds.length;
    assert.ok(Math.abs(r.full.I2T - fullI2t) < 1e-12); // over the paired seeds only
  }
  // Holm across the four knob values, per measure.
  for (const k of MEASURES) {
    const expected = holmByHand(rows.map((r) => r.tests[k].p));
    rows.forEach((r, i) => assert.ok(Math.abs(r.pHolm[k] - expected[i]) < 1e-12, `${k} ${i}`));
    rows.forEach((r) => assert.ok(r.pHolm[k] >= r.tests[k].p));
  }
  // The gap grows along the knob: at 0 there is no difference, at 0.4 the full model is ahead.
  assert.ok(Math.abs(rows[0].tests.I2T.mean - 0.0006) < 1e-9);
  assert.ok(rows[3].tests.mean.mean < -0.04);
  assert.ok(rows[3].pHolm.mean < 0.05);

  // Rendered: the table row of 0.4 with the numbers above, and the summary's verdict.
  const doc = `${out}/mechanisms.md`;
  await Deno.writeTextFile(
    doc,
    "# Study\n\n## Pre-registration\n\nFixed.\n\n## Results\n\nNot yet run.\n",
  );
  const body = await writeAnalysis({
    out,
    doc,
    backend: "wasm",
    date: "2030-01-02",
    commands: ["deno task mechanisms --sweep fusion"],
  });
  const r4 = rows[3];
  const row = body.split("\n").find((l) => /^\| 0\.4 +\| 3 \(full 5, ablation 3\) /.test(l));
  assert.ok(row, body);
  const cells = row!.split("|").map((c) => c.trim());
  assert.equal(cells[3], `${r4.full.I2T.toFixed(4)} / ${r4.ablation.I2T.toFixed(4)}`);
  assert.equal(cells[4], formatDiff(r4.tests.I2T));
  assert.equal(cells[5], r4.pHolm.I2T < 0.001 ? "<0.001" : r4.pHolm.I2T.toFixed(3));
  assert.match(body, /- mean: can matter: full model significantly ahead at [0-9., ]*0\.4\./);
  assert.match(body, /38 of 40\s+cells finished/);
  assert.match(body, /\n\| 0\.2 +\| 5 +\| 0\.6300 \/ 0\.6106 /);
  assert.match(body, /2030-01-02/);
  assert.match(body, /deno task mechanisms --sweep fusion/);
  // Sweeps without results are still listed, as not run.
  assert.match(body, /0 of 50 cells finished/);
  assert.match(body, /not testable yet/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("the quantisation-gap table averages the recorded diagnostics and flags cells without them", async () => {
  const sweep: Sweep = sweepByName("discrete");
  const written = new Map<string, CellResult>();
  for (const seed of [1, 2]) {
    for (const ablation of ["full", "relaxed"]) {
      const s = pointSpec(sweep, "cpah", ablation, 64, seed, "wasm");
      const diag = ablation === "full"
        ? { meanAbsH: 0.9 + 0.02 * seed, signDistance: 0.02 * seed }
        : { meanAbsH: 0.5, signDistance: 0.3 };
      written.set(
        cellId(s),
        fabricate(s, 0.7, 0.6, seed === 2 && ablation === "relaxed" ? {} : { diagnostics: diag }),
      );
    }
  }
  const a = analyseSweep(sweep, (s) => written.get(cellId(s)), "wasm");
  const g = a.gap!.filter((x) => x.method === "cpah" && x.value === 64);
  assert.deepEqual(g.map((x) => [x.ablation, x.finished, x.recorded]), [["full", 2, 2], [
    "relaxed",
    2,
    1,
  ]]);
  assert.ok(Math.abs(g[0].meanAbsH - 0.93) < 1e-12);
  assert.ok(Math.abs(g[0].signDistance - 0.03) < 1e-12);
  assert.equal(g[1].meanAbsH, 0.5);
  const empty = a.gap!.find((x) => x.method === "dfah" && x.value === 16)!;
  assert.equal(empty.finished, 0);
  assert.ok(Number.isNaN(empty.meanAbsH));
  const { sweepMarkdown } = await import("../../src/experiments/mechanisms.ts");
  const md = sweepMarkdown(a);
  assert.match(md, /\| CPAH \| 64 \| full \| 2 \/ 2 \| 0\.9300 \| 0\.0300 \|/);
  assert.match(md, /\| CPAH \| 64 \| relaxed \| 1 \/ 2 \| 0\.5000 \| 0\.3000 \|/);
  assert.match(md, /\| DFAH \| 16 \| full \| 0 \/ 0 \| — \| — \|/);
  assert.match(md, /cannot be computed from a result file's history/);
});

Deno.test("only the Results section of the study document is rewritten", async () => {
  const original = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const cut = original.indexOf("## Results") + "## Results".length;
  const first = replaceResultsSection(original, "Table one.");
  assert.equal(first.slice(0, cut), original.slice(0, cut));
  assert.equal(first.slice(cut), "\n\nTable one.\n");
  // Rewriting replaces the previous results, it does not append.
  const second = replaceResultsSection(first, "Table two.\n");
  assert.equal(second, original.slice(0, cut) + "\n\nTable two.\n");
  // A section after Results survives untouched.
  const withAppendix = first + "\n## Appendix\n\nKeep me.\n";
  assert.equal(
    replaceResultsSection(withAppendix, "Table three."),
    original.slice(0, cut) + "\n\nTable three.\n\n## Appendix\n\nKeep me.\n",
  );
  assert.throws(
    () => replaceResultsSection("# Nothing\n", "x"),
    /exactly one '## Results' heading/,
  );

  // End to end on a copy of the real document: the pre-registration is byte for byte the same,
  // and the written section is stable under deno fmt (what the repository's check runs).
  const dir = await Deno.makeTempDir();
  const doc = `${dir}/mechanisms.md`;
  await Deno.writeTextFile(doc, original);
  await writeAnalysis({
    out: `${dir}/none`,
    doc,
    backend: "wasm",
    date: "2030-01-02",
    log: () => {},
  });
  const after = await Deno.readTextFile(doc);
  assert.equal(after.slice(0, cut), original.slice(0, cut));
  assert.match(after.slice(cut), /^\n\nWritten by `deno task mechanisms` on 2030-01-02/);
  assert.match(after, /0 of 250 sweep cells finished/);
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--check", "--config", `${ROOT}deno.json`, doc],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(fmt.code, 0, new TextDecoder().decode(fmt.stderr));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the time estimate uses finished cells' seconds per epoch, else the prior", () => {
  const sweep = sweepByName("fusion");
  const todo = sweepSpecs(sweep, "wasm").slice(0, 4);
  const prior = estimateSeconds(todo, []);
  assert.match(prior.basis, /prior/);
  assert.ok(prior.seconds > 4 * 20 * 1); // 4 DFAH cells of 20 epochs, > 1 s each
  const done = fabricate(todo[0], 0.5, 0.5); // 4 epochs of 3 s
  const measured = estimateSeconds(todo.slice(1), [done]);
  assert.match(measured.basis, /3\.0 s\/epoch, 4\.0 epochs \(measured on 1 finished cells\)/);
  assert.ok(Math.abs(measured.seconds - 3 * (4 * 3 + 2)) < 1e-9);
});
