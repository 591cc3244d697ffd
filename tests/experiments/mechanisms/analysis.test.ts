/**
 * The mechanism study's analysis of fabricated result files (no training): the expected rows,
 * seeds paired, Holm correction across knob values, the rendered table rows and summary, and
 * the quantisation-gap table.
 */
import assert from "node:assert/strict";
import { cellId, type ExperimentSpec } from "../../../src/experiments/spec.ts";
import { type CellResult, writeResult } from "../../../src/experiments/results.ts";
import { pairedComparison } from "../../../src/experiments/stats.ts";
import {
  FIXED,
  pointSpec,
  type Sweep,
  sweepByName,
} from "../../../src/experiments/mechanisms/sweeps.ts";
import {
  analyseStudy,
  analyseSweep,
  MEASURES,
} from "../../../src/experiments/mechanisms/analysis.ts";
import { sweepFigure } from "../../../src/experiments/mechanisms/figure.ts";
import { formatDiff } from "../../../src/experiments/stats.ts";
import { sweepMarkdown, writeAnalysis } from "../../../src/experiments/mechanisms/report.ts";
import { fabricate } from "./fabricate.ts";

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
  // The fabricated cells all select their last epoch: counted per series as possibly undertrained.
  assert.deepEqual(r4.selectedLast, { full: 5, ablation: 3 });
  assert.equal(cells[3], "5/5 / 3/3");
  assert.equal(cells[4], `${r4.full.I2T.toFixed(4)} / ${r4.ablation.I2T.toFixed(4)}`);
  assert.equal(cells[5], formatDiff(r4.tests.I2T));
  assert.equal(cells[6], r4.pHolm.I2T < 0.001 ? "<0.001" : r4.pHolm.I2T.toFixed(3));
  assert.match(body, /- mean: can matter: full model significantly ahead at [0-9., ]*0\.4\./);
  assert.match(body, /38 of 40\s+cells finished/);
  assert.match(body, /\n\| 0\.2 +\| 5 +\| 5\/5 \/ 5\/5 +\| 0\.6300 \/ 0\.6106 /);
  assert.match(body, /2030-01-02/);
  assert.match(body, /deno task mechanisms --sweep fusion/);
  // Sweeps without results are still listed, as not run.
  assert.match(body, /0 of 50 cells finished/);
  assert.match(body, /not testable yet/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("the quantisation-gap table averages the recorded diagnostics and flags cells without them", () => {
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
  const md = sweepMarkdown(a);
  assert.match(md, /\| CPAH \| 64 \| full \| 2 \/ 2 \| 0\.9300 \| 0\.0300 \|/);
  assert.match(md, /\| CPAH \| 64 \| relaxed \| 1 \/ 2 \| 0\.5000 \| 0\.3000 \|/);
  assert.match(md, /\| DFAH \| 16 \| full \| 0 \/ 0 \| — \| — \|/);
  assert.match(md, /cannot be computed from a result file's history/);
});

Deno.test("a sweep's figure draws Δ and its 95% CI at every knob value with two paired seeds", async () => {
  const out = await Deno.makeTempDir();
  const written = await fabricateFusion(out);
  const sweep = sweepByName("fusion");
  // Read back from the directory, it is the analysis of the cells written.
  const [a] = await analyseStudy(out, "wasm", [sweep]);
  const direct = analyseSweep(sweep, (s) => written.get(cellId(s)), "wasm");
  assert.deepEqual(a, direct);
  const fig = sweepFigure(a, "dfah");
  assert.equal(fig.id, "mechanism_fusion_dfah");
  assert.match(fig.title, /noFusion − full along disagreement/);
  const [i2t, t2i] = fig.figure.data as {
    name: string;
    x: number[];
    y: number[];
    error_y: { array: number[]; arrayminus: number[] };
  }[];
  assert.deepEqual([i2t.name, t2i.name], ["I→T", "T→I"]);
  const rows = a.methods[0].rows;
  assert.equal(i2t.x.length, 4);
  i2t.x.forEach((x, i) => assert.ok(Math.abs(x - i) < 0.25, `x of value ${i}`));
  rows.forEach((r, i) => {
    assert.equal(i2t.y[i], r.tests.I2T.mean);
    assert.equal(t2i.y[i], r.tests.T2I.mean);
    assert.ok(Math.abs(i2t.y[i] + i2t.error_y.array[i] - r.tests.I2T.ci[1]) < 1e-12);
    assert.ok(Math.abs(i2t.y[i] - i2t.error_y.arrayminus[i] - r.tests.I2T.ci[0]) < 1e-12);
  });
  const xaxis = (fig.figure.layout as { xaxis: { ticktext: string[] } }).xaxis;
  assert.deepEqual(xaxis.ticktext, ["0", "0.1", "0.2", "0.4"]);
  assert.throws(() => sweepFigure(a, "cpah"), /method 'cpah' is not in sweep 'fusion' \(dfah\)/);

  // A knob value with fewer than two paired seeds has no point.
  const empty = await Deno.makeTempDir();
  const [none] = await analyseStudy(empty, "wasm", [sweep]);
  const blank = sweepFigure(none, "dfah").figure.data as { x: number[] }[];
  assert.deepEqual(blank.map((t) => t.x.length), [0, 0]);
  await Deno.remove(empty, { recursive: true });
  await Deno.remove(out, { recursive: true });
});
