/**
 * Generator settings in cells (ExperimentSpec.data, `reproduce --data`), the cells the
 * mechanism study's sweeps are made of, and the study's CLI (src/experiments/mechanisms.ts):
 * sweeps, seeds, defaults and one-line errors. The study itself is tested in mechanisms/.
 */
import assert from "node:assert/strict";
import {
  canonicalData,
  cellId,
  expandGrid,
  type ExperimentSpec,
  parseDataSetting,
} from "../../src/experiments/spec.ts";
import { parseCli } from "../../src/experiments/reproduce_options.ts";
import { gridArguments } from "../../src/experiments/slurm.ts";
import { parseMechanismsCli } from "../../src/experiments/mechanisms.ts";
import { TINY_GRID } from "../test_utils.ts";

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

Deno.test("mechanisms CLI: sweeps, defaults and errors", () => {
  const d = parseMechanismsCli([]);
  // The four registered sweeps, the three of amendment 1, the three controls of amendment 2,
  // amendment 3's four controls and three method sweeps, and amendment 4's two controls.
  assert.equal(d.sweeps.length, 19);
  assert.equal(d.values, undefined);
  assert.deepEqual(parseMechanismsCli(["--values", "4, 0.6,4"]).values, [4, 0.6]);
  assert.throws(() => parseMechanismsCli(["--values", "4,x"]), /--values: 'x' is not a number/);
  assert.deepEqual(d.seeds, [1, 2, 3, 4, 5]);
  assert.equal(d.out, "docs/results/mechanisms");
  assert.ok(d.doc.endsWith("docs/mechanisms.md"));
  const one = parseMechanismsCli(["--sweep", "fusion,adversary", "--out", "o", "--report-only"]);
  assert.deepEqual(one.sweeps.map((s) => s.name), ["fusion", "adversary"]);
  assert.equal(one.reportOnly, true);
  assert.throws(() => parseMechanismsCli(["--sweep", "cr"]), /--sweep: unknown sweep 'cr'/);
  // A subset of the study's seeds, e.g. one per process sharing --out.
  assert.deepEqual(parseMechanismsCli(["--seeds", "2, 4,2"]).seeds, [2, 4]);
  assert.throws(
    () => parseMechanismsCli(["--seeds", "1,6"]),
    /--seeds: '6' is not one of the study's seeds 1, 2, 3, 4, 5/,
  );
  assert.throws(() => parseMechanismsCli(["--plan", "--report-only"]), /choose one/);
  // The toolkit's CLI parser: one-line errors in CLI terms.
  assert.throws(() => parseMechanismsCli(["--bogus"]), /'deno task mechanisms --help' lists/);
  assert.throws(() => parseMechanismsCli(["--out", "a", "--out", "b"]), /--out: given twice/);
});
