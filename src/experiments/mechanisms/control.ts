/**
 * A module's positive control read from the mechanism study's analyses ({@link controlReading}):
 * can the study's design detect an effect of the module at all (docs/mechanisms.md, amendments 3
 * and 4). The notebooks' ablation sections show it beside each module's verdict
 * (src/experiments/module_verdict.ts).
 *
 * @module
 */
import type { CellMethod } from "../spec.ts";
import { holm, minimalDetectableEffect } from "../stats.ts";
import { type ControlReading, VERDICT_ALPHA } from "../module_verdict.ts";
import { FIXED, positiveControlFor, type Sweep } from "./sweeps.ts";
import type { SweepAnalysis } from "./analysis.ts";

/** A control's cells of one method, and how many of them have a result. */
function controlCells(a: SweepAnalysis | undefined, sweep: Sweep, method: CellMethod) {
  const cells = sweep.values.length * FIXED.seeds.length * (sweep.realValued ? 1 : 2);
  const rows = a?.methods.find((m) => m.method === method)?.rows ?? [];
  const finished = rows.reduce(
    (n, r) => n + r.finished.full + (sweep.realValued ? 0 : r.finished.ablation),
    0,
  );
  return { cells, finished };
}

/**
 * Holm-corrected p of `method`'s last row of `a` (mean of both directions) across the positive
 * controls of `a`'s amendment in `analyses` (every method, every value): the pre-registered
 * family.
 */
function familyP(analyses: readonly SweepAnalysis[], a: SweepAnalysis, method: CellMethod) {
  const family = analyses.filter((x) => x.sweep.oracle && x.sweep.amendment === a.sweep.amendment)
    .flatMap((x) => x.methods.flatMap((m) => m.rows.map((r) => ({ x, method: m.method, r }))));
  const last = a.methods.find((m) => m.method === method)!.rows.at(-1);
  const at = family.findIndex((e) => e.x === a && e.method === method && e.r === last);
  return holm(family.map((e) => e.r.tests.mean.p))[at];
}

/**
 * The positive control of the module `ablation` removes from `method` ({@link positiveControlFor},
 * amendments 3 and 4 of docs/mechanisms.md), read from the study's analyses
 * (`analyseStudy`, analysis.ts; pass every sweep's, so that the Holm family is complete): "none" when
 * the study registers none; "not run" while any of the control's cells of `method` lacks a
 * result file (or its analysis is not in `analyses`); else "passed" when the oracle is ahead of
 * the ablation in the mean of both directions at the knob's extreme value with p < 0.05, Holm
 * across the controls of the control's amendment, and "failed" otherwise. Missing cells never
 * throw.
 */
export function controlReading(
  analyses: readonly SweepAnalysis[],
  method: CellMethod,
  ablation: string,
): ControlReading {
  const sweep = positiveControlFor(method, ablation);
  if (!sweep) return { status: "none", method, ablation };
  const control = {
    name: sweep.name,
    amendment: sweep.amendment ?? "the pre-registration",
    ablation: sweep.ablation,
    knob: sweep.knob,
    value: sweep.values.at(-1)!,
  };
  const a = analyses.find((x) => x.sweep.name === sweep.name);
  const { cells, finished } = controlCells(a, sweep, method);
  if (!a || finished < cells) return { status: "not run", control, method, finished, cells };
  const test = a.methods.find((m) => m.method === method)!.rows.at(-1)!.tests.mean;
  const p = familyP(analyses, a, method);
  return {
    status: test.mean < 0 && p < VERDICT_ALPHA ? "passed" : "failed",
    control,
    method,
    test,
    p,
    mde: minimalDetectableEffect(test.sd, test.n, { alpha: VERDICT_ALPHA, power: 0.8 }),
  };
}
