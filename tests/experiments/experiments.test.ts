/**
 * The experiment grid end to end on a tiny grid: result files written, report tables with the
 * right rows, a rerun skips finished cells (also those another process finishes meanwhile), a corrupted result file stops the grid with a
 * clear error, and the CLI's parsing and command log.
 */
import assert from "node:assert/strict";
import { expandGrid } from "../../src/experiments/spec.ts";
import { TINY_GRID } from "../test_utils.ts";
import { readResult, resultPath } from "../../src/experiments/results.ts";
import { runGrid } from "../../src/experiments/grid.ts";
import { buildReport, reportMarkdown } from "../../src/experiments/report/mod.ts";
import { DEFAULT_RUN_EPOCHS, parseCli } from "../../src/experiments/reproduce_options.ts";
import { recordCommand } from "../../src/experiments/command_log.ts";
import { cellConfig, runCell } from "../../src/experiments/run_cell.ts";
import { METHODS } from "../../src/models/mod.ts";
import { trainingSetInfo } from "../../src/models/model.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { makeSplit } from "../../src/datasets/split.ts";

const grid = () => expandGrid({ ...TINY_GRID, methods: ["cpah", "random"] });

Deno.test("a tiny grid writes one result per cell, reports them, and a rerun skips finished cells", async () => {
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const specs = grid();
  assert.equal(specs.length, 2);
  const done: string[] = [];
  const first = await runGrid(specs, {
    out,
    log: (l) => lines.push(l),
    // Each cell is reported once, after its result file is on disk.
    onCellDone: async (r) => {
      await Deno.stat(`${out}/${r.id}.json`);
      done.push(r.id);
    },
  });
  assert.equal(first.ran, 2);
  assert.deepEqual(done, first.results.map((r) => r.id));
  assert.equal(first.skipped, 0);
  for (const s of specs) {
    const r = await readResult(resultPath(out, s));
    assert.equal(r.spec.method, s.method);
    for (const d of ["I2T", "T2I", "I2I", "T2T"] as const) {
      assert.ok(r.metrics[d].mapAll > 0 && r.metrics[d].mapAll <= 1, `${s.method} ${d}`);
    }
    assert.equal(r.backend.name, "wasm");
    assert.equal(r.dataset.split.query, 500);
  }
  const cpah = await readResult(resultPath(out, specs[0]));
  assert.equal(cpah.training.history.length, 1);
  assert.ok(lines.some((l) => /^cell 2\/2 done: synthetic__permutation__random-full__16b/.test(l)));
  // No checkpoint is left behind for finished cells.
  const left = [...Deno.readDirSync(`${out}/.checkpoints`)];
  assert.equal(left.length, 0);

  const md = reportMarkdown(buildReport(first.results));
  assert.match(md, /\| CPAH \| 1 \| 0\.\d{4} \| 0\.\d{4} \|/);
  assert.match(md, /\| Random projection \| 1 \| 0\.\d{4} \| 0\.\d{4} \|/);

  const again = await runGrid(specs, {
    out,
    log: (l) => lines.push(l),
    onCellDone: (r) => {
      done.push(r.id);
    },
  });
  assert.equal(again.ran, 0);
  assert.equal(done.length, 2, "skipped cells are not reported as done");
  assert.equal(again.skipped, 2);
  assert.deepEqual(again.results.map((r) => r.id).sort(), first.results.map((r) => r.id).sort());

  // A second process sharing the directory finishes the second cell while the first runs: the
  // grid takes that result when the cell's turn comes instead of training it again.
  const shared = await Deno.makeTempDir();
  const meanwhile: string[] = [];
  const racing = await runGrid(specs, {
    out: shared,
    log: (l) => meanwhile.push(l),
    onCellDone: async () => {
      await Deno.copyFile(resultPath(out, specs[1]), resultPath(shared, specs[1]));
    },
  });
  assert.equal(racing.ran, 1);
  assert.equal(racing.skipped, 1);
  assert.deepEqual(racing.results.map((r) => r.id), first.results.map((r) => r.id));
  assert.ok(meanwhile.some((l) => /^cell 2\/2 finished meanwhile by another run: /.test(l)));
  await Deno.remove(shared, { recursive: true });

  await Deno.writeTextFile(resultPath(out, specs[1]), '{"format": "cmh-result-1", "spec": ');
  await assert.rejects(
    () => runGrid(specs, { out, log: () => {} }),
    new RegExp(
      `random-full__16b__seed1__e0__wasm\\.json: corrupted result file \\(not valid JSON\\)`,
    ),
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("the CLI parses grids, rejects bad values with the option named, and logs commands once", async () => {
  const def = parseCli([]);
  assert.equal(def.isDefault, true);
  assert.equal(def.grid.epochs, DEFAULT_RUN_EPOCHS);
  assert.deepEqual(def.grid.bits, [16, 32, 64]);
  assert.equal(def.grid.ablations, "all");
  const wiki = parseCli(["--dataset", "wikipedia", "--bits", "32", "--seeds", "1,2"]);
  assert.equal(wiki.grid.split, "fixed");
  assert.equal(wiki.grid.epochs, undefined); // preset paper: the methods' own defaults
  assert.equal(wiki.preset.name, "paper");
  assert.deepEqual(wiki.grid.seeds, [1, 2]);
  assert.equal(wiki.out, "results/wikipedia");
  assert.throws(() => parseCli(["--bits", "16,x"]), /--bits: 'x' is not a non-negative integer/);
  assert.throws(() => parseCli(["--methods", "dcmx"]), /--methods: unknown method 'dcmx'/);
  assert.throws(() => parseCli(["--backend", "gpu"]), /--backend: unknown backend 'gpu'/);
  assert.throws(() => parseCli(["--split", "middle"]), /--split: 'middle'/);
  assert.throws(
    () =>
      expandGrid({
        ...grid()[0],
        datasets: ["synthetic"],
        methods: ["dfah"],
        ablations: ["noCR"],
        bits: [16],
        seeds: [1],
      }),
    /--ablations: 'noCR' is not an ablation of dfah/,
  );
  const dir = await Deno.makeTempDir();
  await recordCommand(dir, "deno task reproduce --methods cpah");
  await recordCommand(dir, "deno task reproduce --methods dfah");
  await recordCommand(dir, "deno task reproduce --methods cpah");
  assert.deepEqual((await Deno.readTextFile(`${dir}/command.txt`)).trim().split("\n"), [
    "deno task reproduce --methods cpah",
    "deno task reproduce --methods dfah",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the cell's seed drives the model: config seed, initial weights, identical results", async () => {
  const specs = expandGrid({ ...TINY_GRID, seeds: [1, 2] });
  const [s1, s2] = specs;
  const c1 = cellConfig(s1) as { seed: number }, c2 = cellConfig(s2) as { seed: number };
  assert.deepEqual([c1.seed, c2.seed], [1, 2]);
  // Initial weights: another seed, other weights; the same seed, the same weights.
  const ds = synthetic();
  const info = trainingSetInfo(ds, makeSplit(ds, { convention: "permutation", seed: 1 }));
  const initial = (config: object) => {
    const m = METHODS.cpah.create(info, config);
    const w = m.state()["image.E.0.W"].data.slice();
    m.dispose();
    return w;
  };
  assert.deepEqual(initial(c1), initial(cellConfig(s1)));
  assert.notDeepEqual(initial(c1), initial(c2));
  // Whole cells: the same seed twice gives the same codes (every metric equal to the last
  // digit); the other seed does not.
  const out = await Deno.makeTempDir();
  const a = await runCell(s1, { out: `${out}/a`, log: () => {} });
  const b = await runCell(s1, { out: `${out}/b`, log: () => {} });
  const c = await runCell(s2, { out: `${out}/c`, log: () => {} });
  assert.deepEqual(b.metrics, a.metrics);
  assert.notDeepEqual(c.metrics.I2T.mapAll, a.metrics.I2T.mapAll);
  await Deno.remove(out, { recursive: true });
});
