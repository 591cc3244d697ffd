/**
 * A module's positive control read from the mechanism study's analyses
 * (src/experiments/mechanisms/control.ts), on fabricated result files (no training): passed,
 * failed, not run yet with missing cells, none registered, the real-valued control, and Holm
 * across the controls of one amendment.
 */
import assert from "node:assert/strict";
import { cellId, type CellMethod, type ExperimentSpec } from "../../../src/experiments/spec.ts";
import type { CellResult } from "../../../src/experiments/results.ts";
import { holm } from "../../../src/experiments/stats.ts";
import { FIXED, pointSpec, sweepByName } from "../../../src/experiments/mechanisms/sweeps.ts";
import { analyseSweep } from "../../../src/experiments/mechanisms/analysis.ts";
import { controlReading } from "../../../src/experiments/mechanisms/control.ts";
import type { ControlReading } from "../../../src/experiments/module_verdict.ts";
import { fabricate } from "./fabricate.ts";

const wobble = [0.004, -0.003, 0.001, -0.001, 0.002];

/**
 * The cells of an oracle control of `method` at its one value: the oracle arm at 0.7 and the
 * ablation at 0.7 + `delta` (plus a seed-dependent wobble), for `seeds`.
 */
function oracleControl(
  name: string,
  method: CellMethod,
  delta: number,
  seeds: readonly number[] = FIXED.seeds,
): CellResult[] {
  const sweep = sweepByName(name);
  return seeds.flatMap((seed) => {
    const at = (arm: string) => pointSpec(sweep, method, arm, sweep.values[0], seed, "wasm");
    const w = wobble[seed - 1];
    return [
      fabricate(at("full"), 0.7 + 0.01 * seed, 0.6 + 0.01 * seed),
      fabricate(
        at(sweep.ablation),
        0.7 + 0.01 * seed + delta + w,
        0.6 + 0.01 * seed + delta - w / 2,
      ),
    ];
  });
}

/** A reading's status, with its cell counts when it has not run yet. */
function counts(r: ControlReading) {
  return r.status === "not run"
    ? { status: r.status, finished: r.finished, cells: r.cells }
    : { status: r.status };
}

/** The analyses of `names` from `cells`. */
function analyses(names: string[], cells: CellResult[]) {
  const byId = new Map(cells.map((r) => [r.id, r]));
  const lookup = (s: ExperimentSpec) => byId.get(cellId(s));
  return names.map((n) => analyseSweep(sweepByName(n), lookup, "wasm"));
}

Deno.test("a control passes when the oracle is significantly ahead, Holm across its amendment's controls", () => {
  const a = analyses(
    ["control-shortcut-heldout", "control-gap-heldout"],
    [
      ...oracleControl("control-shortcut-heldout", "cpah", -0.01),
      ...oracleControl("control-gap-heldout", "cpah", -0.002),
    ],
  );
  const r = controlReading(a, "cpah", "noCR");
  assert.equal(r.status, "passed");
  if (r.status !== "passed") return;
  assert.deepEqual(r.control, {
    name: "control-shortcut-heldout",
    amendment: "amendment 3",
    ablation: "noCR",
    knob: "shortcut",
    value: 4,
  });
  // Δ mean = delta + wobble / 4 per seed; the wobble's mean is 0.0006.
  assert.ok(Math.abs(r.test.mean - (-0.01 + 0.0006 / 4)) < 1e-9);
  assert.equal(r.test.n, 5);
  // The family: both controls of amendment 3 in the analyses.
  const raw = a.map((x) => x.methods[0].rows[0].tests.mean.p);
  assert.equal(r.p, holm(raw)[0]);
  assert.ok(r.p > raw[0]);
  assert.ok(r.mde > 0 && r.mde < 0.01);
});

Deno.test("a control fails when the oracle is not ahead", () => {
  const a = analyses(
    ["control-gap-heldout"],
    oracleControl("control-gap-heldout", "cpah", +0.01),
  );
  assert.equal(controlReading(a, "cpah", "noAdversary").status, "failed");
});

Deno.test("a control with missing cells has not run yet, and says how many of its cells exist", () => {
  const a = analyses(
    ["control-gap-dfah-heldout"],
    oracleControl("control-gap-dfah-heldout", "dfah", -0.05, [1, 2]).slice(0, 3),
  );
  const r = controlReading(a, "dfah", "noAdversary");
  assert.deepEqual(counts(r), { status: "not run", finished: 3, cells: 10 });
  assert.equal(r.status !== "none" && r.control.name, "control-gap-dfah-heldout");
  // Its analysis absent altogether: nothing has run; no throw.
  assert.deepEqual(counts(controlReading([], "cpah", "noMultiTask")), {
    status: "not run",
    finished: 0,
    cells: 10,
  });
});

Deno.test("the real-valued control counts the relaxed cells scored both ways, per method", () => {
  const sweep = sweepByName("control-discrete-heldout");
  const cells = FIXED.seeds.map((seed) => {
    const spec = pointSpec(sweep, "cpah", "relaxed", 16, seed, "wasm");
    const w = wobble[seed - 1];
    const diagnostics: Record<string, number> = seed === 5
      ? {}
      : { realMapI2T: 0.75 + w, realMapT2I: 0.65 - w };
    return fabricate(spec, 0.7, 0.6, { diagnostics });
  });
  const partial = analyses(["control-discrete-heldout"], cells);
  assert.deepEqual(counts(controlReading(partial, "cpah", "relaxed")), {
    status: "not run",
    finished: 4,
    cells: 5,
  });
  cells[4].diagnostics = { realMapI2T: 0.75, realMapT2I: 0.65 };
  const complete = analyses(["control-discrete-heldout"], cells);
  assert.equal(controlReading(complete, "cpah", "relaxed").status, "passed");
  // DFAH's cells of the same control have not run.
  assert.equal(controlReading(complete, "dfah", "relaxed").status, "not run");
});

Deno.test("a module the study registers no control for reads none", () => {
  assert.deepEqual(controlReading([], "dcmh", "noLabels"), {
    status: "none",
    method: "dcmh",
    ablation: "noLabels",
  });
});
