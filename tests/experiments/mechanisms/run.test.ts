/**
 * The mechanism study's runner: one tiny real cell with generator settings checks the plumbing
 * end to end (its data, the quantisation gap in its result file), the gap itself by hand, and
 * the time estimate from finished cells or the prior, and a run limited to some seeds.
 */
import assert from "node:assert/strict";
import { cellId, type ExperimentSpec } from "../../../src/experiments/spec.ts";
import { readResult } from "../../../src/experiments/results.ts";
import { DatasetCache, runCell } from "../../../src/experiments/run_cell.ts";
import { sweepByName, sweepSpecs } from "../../../src/experiments/mechanisms/sweeps.ts";
import {
  estimateSeconds,
  quantisationGap,
  runStudy,
} from "../../../src/experiments/mechanisms/run.ts";
import { fabricate } from "./fabricate.ts";
import {
  realValuedDiagnostics,
  realValuedOutputs,
} from "../../../src/experiments/mechanisms/real_valued.ts";
import { gatherRows } from "../../../src/datasets/matrix.ts";
import { unpackCodes } from "../../../src/retrieval/codes.ts";

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

Deno.test("a study run limited to some seeds plans only their cells, and counts only those", async () => {
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    await runStudy({
      sweeps: [sweepByName("fusion")],
      seeds: [2, 4],
      out,
      backend: "wasm",
      plan: true,
      command: "deno task mechanisms --sweep fusion --seeds 2,4 --plan",
    });
  } finally {
    console.log = log;
  }
  const cells = lines.filter((l) => l.startsWith("  synthetic__"));
  assert.equal(cells.length, 2 * 4 * 2); // 2 seeds x 4 values x (full, noFusion)
  assert.ok(cells.every((l) => /__seed[24]__/.test(l)), cells.join("\n"));
  assert.match(lines[0], /^sweep fusion: 16 cells .*seeds 2,4\), 0 finished$/);
  // Planning writes nothing.
  assert.deepEqual([...Deno.readDirSync(out)], []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("relaxed cells record the MAP of their real-valued outputs, whose signs are the codes", async () => {
  const out = await Deno.makeTempDir();
  for (const method of ["dfah", "cpah"] as const) {
    const spec: ExperimentSpec = {
      dataset: "synthetic",
      split: "fixed",
      method,
      ablation: "relaxed",
      bits: 16,
      seed: 2,
      epochs: 1,
      backend: "wasm",
      data: { n: 600, testRows: 100, databaseRows: 250 },
    };
    let signsAgree = false;
    const r = await runCell(spec, {
      out,
      log: () => {},
      diagnose: (model, _spec, ds, split) => {
        const enc = realValuedOutputs(model)!;
        const x = gatherRows(ds.image, split.query), y = gatherRows(ds.text, split.query);
        const codes = [unpackCodes(model.encodeImage(x)), unpackCodes(model.encodeText(y))];
        const real = [enc.image(x), enc.text(y)];
        signsAgree = real.every((v, m) => v.every((h, i) => (h >= 0 ? 1 : -1) === codes[m][i]));
        return realValuedDiagnostics(model, ds, split);
      },
    }, { cache: new DatasetCache() });
    assert.ok(signsAgree, `${method}: the codes are the signs of the real-valued outputs`);
    assert.deepEqual(r.dataset.split.query, 100);
    assert.deepEqual(r.dataset.split.database, 250);
    const d = (await readResult(`${out}/${cellId(spec)}.json`)).diagnostics!;
    for (const k of ["realMapI2T", "realMapT2I"]) {
      assert.ok(d[k] > 0 && d[k] <= 1, `${method} ${k} ${d[k]}`);
    }
  }
  assert.equal(realValuedOutputs({ method: "scm-seq" } as never), undefined);
  await Deno.remove(out, { recursive: true });
});
