/**
 * The analysis of the mechanism study ({@link analyseSweep}), as pre-registered
 * (docs/mechanisms.md): at each knob value the paired difference ablation − full over the
 * seeds, its 95% CI (t distribution), a two-sided paired t-test, Holm-corrected across the
 * knob values of the sweep (one family per method and measure); measures MAP@all I→T, T→I and
 * their mean.
 *
 * @module
 */
import type { BackendName } from "../../accel/backend.ts";
import { cellId, type CellMethod, type ExperimentSpec } from "../spec.ts";
import type { CellResult } from "../results.ts";
import { holm, type PairedComparison, pairedComparison } from "../stats.ts";
import { ablationCheck, type ModuleCheck } from "../../models/manipulation.ts";
import { selectedLast } from "../report/paired.ts";
import {
  FIXED,
  pointSpec,
  readingOrder,
  studySpecs,
  type Sweep,
  SWEEPS,
  sweepSpecs,
} from "./sweeps.ts";
import { existingResults } from "./run.ts";

/** The measures compared: MAP@all I→T, T→I, and their mean. */
export type Measure = "I2T" | "T2I" | "mean";
/** The measures in table order. */
export const MEASURES: readonly Measure[] = ["I2T", "T2I", "mean"];

/** A cell's value of a measure. */
export function measureOf(r: CellResult, m: Measure): number | undefined {
  const i2t = r.metrics.I2T?.mapAll, t2i = r.metrics.T2I?.mapAll;
  if (m === "I2T") return i2t;
  if (m === "T2I") return t2i;
  return typeof i2t === "number" && typeof t2i === "number" ? (i2t + t2i) / 2 : undefined;
}

/** One knob value of one method: full and ablation over the seeds, and their comparison. */
export interface PointRow {
  value: number;
  /** Cells finished (full, ablation) of the seeds. */
  finished: { full: number; ablation: number };
  /** Of those, cells whose selected epoch is their last trained one (may be undertrained). */
  selectedLast: { full: number; ablation: number };
  /** Mean over the seeds both have (those of {@link tests}), per measure (NaN when none). */
  full: Record<Measure, number>;
  ablation: Record<Measure, number>;
  /** Paired ablation − full over the seeds both have. */
  tests: Record<Measure, PairedComparison>;
  /**
   * Holm-corrected p across the knob values of the sweep (this method, this measure); in a
   * {@link Sweep.checked} sweep across the values whose module check passes (NaN elsewhere).
   */
  pHolm: Record<Measure, number>;
  /**
   * The manipulation check of the full model's module at this value (mean over the seeds'
   * records; undefined when none is recorded). Set in {@link Sweep.checked} sweeps only.
   */
  check?: ModuleCheck;
}

/** Quantisation gap of one method, code length and series (full or ablation). */
export interface GapRow {
  method: CellMethod;
  value: number;
  ablation: string;
  /** Finished cells, and of them those with a recorded gap. */
  finished: number;
  recorded: number;
  /** Means over the recorded cells (NaN when none). */
  meanAbsH: number;
  signDistance: number;
}

/** The analysis of one sweep. */
export interface SweepAnalysis {
  sweep: Sweep;
  /** Cells of the sweep and how many have a result. */
  cells: number;
  finished: number;
  methods: { method: CellMethod; rows: PointRow[] }[];
  /** The quantisation gap rows (sweeps with `quantisationGap`). */
  gap?: GapRow[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Analyse one sweep from the result files that exist (`lookup` returns a cell's result or
 * undefined): per method and knob value, full and ablation means and the paired comparison;
 * Holm across the knob values per method and measure.
 */
export function analyseSweep(
  sweep: Sweep,
  lookup: (spec: ExperimentSpec) => CellResult | undefined,
  backend: BackendName,
): SweepAnalysis {
  const specs = sweepSpecs(sweep, backend);
  const finished = specs.filter((s) => lookup(s)).length;
  const methods = sweep.methods.map((method) => {
    const rows: PointRow[] = sweep.values.map((value) => {
      const series = (ablation: string) =>
        new Map(
          FIXED.seeds.flatMap((seed) => {
            const r = lookup(pointSpec(sweep, method, ablation, value, seed, backend));
            return r ? [[seed, r] as const] : [];
          }),
        );
      const abl = series(sweep.ablation);
      // The real-valued control's oracle arm: the same cells, scored by their real-valued MAP.
      const full = sweep.realValued
        ? new Map(
          [...abl].flatMap(([seed, r]) => {
            const d = r.diagnostics;
            if (typeof d?.realMapI2T !== "number" || typeof d?.realMapT2I !== "number") return [];
            const metrics = {
              ...r.metrics,
              I2T: { ...r.metrics.I2T, mapAll: d.realMapI2T },
              T2I: { ...r.metrics.T2I, mapAll: d.realMapT2I },
            };
            return [[seed, { ...r, metrics } as CellResult] as const];
          }),
        )
        : series("full");
      const paired = FIXED.seeds.filter((s) => full.has(s) && abl.has(s));
      const avg = (m: Map<number, CellResult>, k: Measure) =>
        mean(paired.map((s) => measureOf(m.get(s)!, k)).filter((x) => typeof x === "number"));
      const per = <T>(f: (k: Measure) => T) =>
        Object.fromEntries(MEASURES.map((k) => [k, f(k)])) as Record<Measure, T>;
      return {
        value,
        finished: { full: full.size, ablation: abl.size },
        selectedLast: {
          full: [...full.values()].filter(selectedLast).length,
          ablation: [...abl.values()].filter(selectedLast).length,
        },
        full: per((k) => avg(full, k)),
        ablation: per((k) => avg(abl, k)),
        tests: per((k) =>
          pairedComparison(
            paired.map((s) => measureOf(abl.get(s)!, k) ?? NaN),
            paired.map((s) => measureOf(full.get(s)!, k) ?? NaN),
          )
        ),
        pHolm: per(() => NaN),
        ...(sweep.checked
          ? {
            check: ablationCheck(
              sweep.ablation,
              [...full.values()].flatMap((r) => (r.manipulation ? [r.manipulation] : [])),
              [...abl.values()].flatMap((r) => (r.manipulation ? [r.manipulation] : [])),
            ),
          }
          : {}),
      };
    });
    const read = rows.map((r) => !sweep.checked || r.check?.active === true);
    for (const k of MEASURES) {
      const corrected = holm(rows.map((r, i) => (read[i] ? r.tests[k].p : NaN)));
      rows.forEach((r, i) => (r.pHolm[k] = corrected[i]));
    }
    return { method, rows };
  });
  const out: SweepAnalysis = { sweep, cells: specs.length, finished, methods };
  if (sweep.quantisationGap) {
    out.gap = sweep.methods.flatMap((method) =>
      sweep.values.flatMap((value) =>
        ["full", sweep.ablation].map((ablation) => {
          const rs = FIXED.seeds.map((seed) =>
            lookup(pointSpec(sweep, method, ablation, value, seed, backend))
          ).filter((r): r is CellResult => r !== undefined);
          const d = rs.map((r) => r.diagnostics).filter((x) =>
            typeof x?.meanAbsH === "number" && typeof x?.signDistance === "number"
          ) as Record<string, number>[];
          return {
            method,
            value,
            ablation,
            finished: rs.length,
            recorded: d.length,
            meanAbsH: mean(d.map((x) => x.meanAbsH)),
            signDistance: mean(d.map((x) => x.signDistance)),
          };
        })
      )
    );
  }
  return out;
}

/** The knob values where the corrected test rejects at 5%, by who is ahead. */
export function significantValues(
  rows: PointRow[],
  k: Measure,
  alpha = 0.05,
): { fullAhead: number[]; ablationAhead: number[] } {
  const sig = rows.filter((r) => r.pHolm[k] < alpha);
  return {
    fullAhead: sig.filter((r) => r.tests[k].mean < 0).map((r) => r.value),
    ablationAhead: sig.filter((r) => r.tests[k].mean > 0).map((r) => r.value),
  };
}

/**
 * Analyse `sweeps` (default: every sweep) from the result files in `out`, in reading order
 * (each original sweep followed by the amendments' sweeps that repeat it).
 */
export async function analyseStudy(
  out: string,
  backend: BackendName,
  sweeps: readonly Sweep[] = SWEEPS,
): Promise<SweepAnalysis[]> {
  const found = await existingResults(out, studySpecs(sweeps, backend));
  const lookup = (s: ExperimentSpec) => found.get(cellId(s));
  return readingOrder(sweeps).map((s) => analyseSweep(s, lookup, backend));
}
