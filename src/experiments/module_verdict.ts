/**
 * The verdict on one module, as the notebooks' ablation sections close on it (docs/mechanisms.md,
 * amendment 4, "Reading a module's verdict"): the module's real-data primary contrast read with
 * two facts beside it, the manipulation check of the module in the full model and the module's
 * positive control in the mechanism study ({@link ControlReading}, read by
 * `mechanisms.controlReading`). A significant difference is a finding when the module is active;
 * a null difference is a finding ("no effect larger than the MDE") only when the module is active,
 * its positive control passed and the observed difference is smaller than the contrast's MDE (a
 * null whose |Δ| reaches the MDE is "inconclusive": the seeds cannot tell); anything else is "not
 * tested" ({@link moduleVerdict}). A reader can then tell a module that does not matter here and
 * one that was not tested apart.
 *
 * @module
 */
import { methodLabel } from "../models/mod.ts";
import type { CellMethod } from "./spec.ts";
import { formatDiff, formatEffect, formatP, type PairedComparison } from "./stats.ts";
import { comparisonMde, type PrimaryContrast } from "./report/paired.ts";

/** The significance level of the controls' criterion and of the primary contrasts. */
export const VERDICT_ALPHA = 0.05;

/** The positive control a reading is about: a sweep of the mechanism study at one knob value. */
export interface ControlSweep {
  /** The sweep's name, e.g. "control-shortcut-heldout". */
  name: string;
  /** The amendment of docs/mechanisms.md that registered it, e.g. "amendment 3". */
  amendment: string;
  /** The ablation both arms share. */
  ablation: string;
  /** The knob: a generator setting, or "bits". */
  knob: string;
  /** The knob's value (the control's extreme value). */
  value: number;
}

/** What a module's positive control shows (`mechanisms.controlReading`). */
export type ControlReading =
  | {
    /** The mechanism study registers no control for the module. */
    status: "none";
    method: CellMethod;
    ablation: string;
  }
  | {
    /** Some of the control's cells (this method's) have no result file yet. */
    status: "not run";
    control: ControlSweep;
    method: CellMethod;
    /** Cells with a result (for a real-valued control: those scored both ways). */
    finished: number;
    /** Cells the control has for this method. */
    cells: number;
  }
  | {
    /** "passed": the oracle is ahead in the mean of both directions at p < 0.05. */
    status: "passed" | "failed";
    control: ControlSweep;
    method: CellMethod;
    /** Ablation − oracle in MAP@all, mean of both directions, paired by seed. */
    test: PairedComparison;
    /** Holm-corrected p across the positive controls of the control's amendment. */
    p: number;
    /** Minimal detectable effect of `test` (α 0.05, 80% power). */
    mde: number;
  };

/** "16 bits" or "shortcut 4". */
function knobAt(c: ControlSweep): string {
  return c.knob === "bits" ? `${c.value} bits` : `${c.knob} ${c.value}`;
}

/**
 * A control reading in a few words: "passed", "failed", "not run yet (k of n cells)" or
 * "none registered".
 */
export function controlStatus(r: ControlReading): string {
  if (r.status === "none") return "none registered";
  if (r.status === "not run") return `not run yet (${r.finished} of ${r.cells} cells)`;
  return r.status;
}

/**
 * A control reading as one line: the control's name and amendment, the knob value, the seeds,
 * Δ = ablation − oracle in the mean of both directions with its 95% CI, the Holm-corrected p,
 * the MDE, and what it means.
 */
export function formatControlReading(r: ControlReading): string {
  if (r.status === "none") {
    return `positive control: none registered for ${methodLabel(r.method)} ${r.ablation} — a ` +
      "null difference cannot be read";
  }
  const c = r.control;
  const head = `positive control \`${c.name}\` (${c.amendment}): ${methodLabel(r.method)} ` +
    `${c.ablation} against the oracle at ${knobAt(c)}`;
  if (r.status === "not run") return `${head} — ${controlStatus(r)}`;
  const reading = r.status === "passed"
    ? "passed: the design detects an effect of this size"
    : "failed: the oracle is not significantly ahead";
  return `${head}, ${r.test.n} seeds; Δ mean (ablation − oracle) ${formatDiff(r.test)}, p ` +
    `${formatP(r.p)} (Holm over ${c.amendment}'s controls), MDE ${formatEffect(r.mde)} — ` +
    reading;
}

/** The verdict categories of {@link moduleVerdict}. */
export type VerdictCategory = "matters" | "hurts" | "no effect" | "inconclusive" | "not tested";

/** A module's verdict ({@link moduleVerdict}). */
export interface ModuleVerdict {
  /** Which of the five readings. */
  category: VerdictCategory;
  /**
   * The verdict in words: "matters", "hurts", "no effect larger than the MDE (…)",
   * "inconclusive: <why>" or "not tested: <reason>".
   */
  label: string;
  /** The numbers behind it ("" when there are none). */
  detail: string;
}

/** What {@link moduleVerdict} reads. */
export interface VerdictInput {
  /** Where the section's cells come from: committed long runs, or a short live run. */
  source: "committed" | "live";
  /** The module's primary contrast in the committed cells (`primaryContrasts`), if any. */
  primary?: PrimaryContrast;
  /** The module's positive control (`mechanisms.controlReading`). */
  control: ControlReading;
}

/** The primary contrast's numbers in words (its p only where it was tested). */
function primaryDetail(p: PrimaryContrast): string {
  const tested = Number.isFinite(p.pHolm)
    ? `, p ${formatP(p.pHolm)} (Holm over the ${p.familySize} active modules)`
    : "";
  return `primary contrast Δ mean ${formatDiff(p.c)}${tested}, MDE ${
    formatEffect(comparisonMde(p.c))
  }`;
}

/**
 * The verdict on a module (docs/mechanisms.md, amendment 4): "not tested" for a short live
 * run, a primary contrast without a manipulation record, an inactive module, or too few seeds;
 * "matters" (the full model significantly ahead) or "hurts" (the ablation significantly ahead)
 * for an active module whose primary contrast's Holm-corrected p is below 0.05, whatever its
 * control; for a null difference, "no effect" only when the positive control passed and the
 * observed |Δ| is below the contrast's MDE ("inconclusive" when it is not: an effect of the size
 * seen would be missed too often with these seeds), else "not tested" with the control's status
 * as the reason.
 */
export function moduleVerdict(input: VerdictInput): ModuleVerdict {
  const notTested = (reason: string, detail = ""): ModuleVerdict => ({
    category: "not tested",
    label: `not tested: ${reason}`,
    detail,
  });
  if (input.source === "live") {
    return notTested("the short live run is too short to support a verdict");
  }
  const p = input.primary;
  if (!p) return notTested("no primary contrast in the committed cells");
  if (!p.check) return notTested("no manipulation record", primaryDetail(p));
  if (!p.check.active) return notTested("module inactive", p.check.evidence);
  if (!Number.isFinite(p.pHolm)) return notTested("too few seeds", primaryDetail(p));
  if (p.pHolm < VERDICT_ALPHA) {
    const category = p.c.mean < 0 ? "matters" : "hurts";
    return { category, label: category, detail: primaryDetail(p) };
  }
  const c = input.control;
  if (c.status === "passed") {
    const mde = comparisonMde(p.c);
    if (!(Math.abs(p.c.mean) < mde)) {
      return {
        category: "inconclusive",
        label: `inconclusive: |Δ| ${formatEffect(Math.abs(p.c.mean))} is not below its MDE ` +
          `${formatEffect(mde)} with ${p.c.n} seeds — more seeds needed`,
        detail: primaryDetail(p),
      };
    }
    return {
      category: "no effect",
      label: "no effect larger than the MDE (a finding: module active, positive control passed)",
      detail: primaryDetail(p),
    };
  }
  const why = c.status === "none"
    ? "no positive control registered"
    : c.status === "failed"
    ? "positive control failed"
    : `positive control ${controlStatus(c)}`;
  return notTested(why, primaryDetail(p));
}
