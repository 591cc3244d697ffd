/**
 * Two tables of a section built from the per-seed result files: each ablation against the
 * full model as paired differences over the same seeds (mean, 95% confidence interval, paired
 * t-test p-value Holm-corrected across the table, a verdict; src/experiments/stats.ts), and the
 * training record of every series (selected epoch, epochs run, early stops, and the models'
 * per-epoch diagnostics at the selected epoch when the results record them), which flags cells
 * whose selected epoch is the last one trained — those may be undertrained.
 *
 * @module
 */
import * as aq from "./arquero.ts";
import { bitsOf, DIRECTION_LABELS, type Series, seriesOf } from "../figures/mod.ts";
import type { CellResult } from "../results.ts";
import {
  formatDiff,
  formatEffect,
  formatP,
  holm,
  minimalDetectableEffect,
  type PairedComparison,
  pairedComparison,
  verdict,
} from "../stats.ts";
import { ablationDescription, methodLabel } from "../../models/mod.ts";
import type { Direction } from "../../types.ts";
import { ablationCheck, type ModuleCheck } from "../../models/manipulation.ts";
import { CROSS, type DatasetSection, MISSING, type ReportTable, slugify } from "./tables.ts";

/** MAP@all of a series' cells at `bits`, by seed. */
function bySeed(s: Series, bits: number, dir: Direction): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of s.results) {
    const v = r.metrics[dir]?.mapAll;
    if (r.spec.bits === bits && typeof v === "number") out.set(r.spec.seed, v);
  }
  return out;
}

/** (MAP@all I→T + T→I) / 2 of a series' cells at `bits`, by seed (cells with both). */
function meanBySeed(s: Series, bits: number): Map<number, number> {
  const i2t = bySeed(s, bits, "I2T"), t2i = bySeed(s, bits, "T2I");
  return new Map([...i2t].filter(([k]) => t2i.has(k)).map(([k, v]) => [k, (v + t2i.get(k)!) / 2]));
}

/** Paired comparison of two by-seed maps over the seeds both have. */
function pairedOver(ablation: Map<number, number>, full: Map<number, number>): PairedComparison {
  const seeds = [...ablation.keys()].filter((k) => full.has(k)).sort((x, y) => x - y);
  return pairedComparison(seeds.map((k) => ablation.get(k)!), seeds.map((k) => full.get(k)!));
}

/**
 * The minimal detectable effect of a paired comparison at 80% power, two-sided `alpha`
 * (default 0.05): from its number of pairs and the observed SD of its differences.
 */
export function comparisonMde(c: PairedComparison, alpha = 0.05): number {
  return minimalDetectableEffect(c.sd, c.n, { alpha, power: 0.8 });
}

/** The code length of the pre-specified primary contrasts (docs/mechanisms.md, amendment 2). */
export const PRIMARY_BITS = 32;

/**
 * One table per trained method with ablations: rows = ablation x code length, for I→T and T→I
 * the paired difference ablation − full over the seeds both have, its 95% CI and the
 * Holm-corrected p-value (the family: every test of the table), and a verdict per row.
 */
export function pairedAblationTables(section: DatasetSection): ReportTable[] {
  const all = seriesOf(section.results);
  const bits = bitsOf(section.results);
  const out: ReportTable[] = [];
  for (const m of [...new Set(all.filter((s) => s.method !== "random").map((s) => s.method))]) {
    const full = all.find((s) => s.method === m && s.ablation === "full");
    const abl = all.filter((s) => s.method === m && s.ablation !== "full");
    if (!full || !abl.length) continue;
    type Row = { s: Series; bits: number; tests: PairedComparison[]; mean: PairedComparison };
    const rows: Row[] = [];
    for (const s of abl) {
      for (const b of bits) {
        const tests = CROSS.map((d) => pairedOver(bySeed(s, b, d), bySeed(full, b, d)));
        const mean = pairedOver(meanBySeed(s, b), meanBySeed(full, b));
        if (tests.some((t) => t.n > 0)) rows.push({ s, bits: b, tests, mean });
      }
    }
    if (!rows.length) continue;
    // The manipulation check of each row's module (mean over the seeds' records): a row is
    // read only when the full model's module is active; the Holm family is the rows read.
    const checks = rows.map((r) => {
      const manip = (s: Series) =>
        s.results.filter((x) => x.spec.bits === r.bits && x.manipulation)
          .map((x) => x.manipulation!);
      return ablationCheck(r.s.ablation, manip(full), manip(r.s));
    });
    const readable = checks.map((c) => c?.active === true);
    const family = rows.flatMap((r, i) => (readable[i] ? r.tests.map((t) => t.p) : []));
    const corrected = holm(family);
    const pOf = (i: number, d: number) => {
      if (!readable[i]) return NaN;
      const before = readable.slice(0, i).filter((x) => x).length;
      return corrected[before * CROSS.length + d];
    };
    const noVerdict = (i: number) =>
      checks[i] === undefined
        ? "no manipulation check recorded — no verdict"
        : "module inactive — no verdict";
    const display: Record<string, string[]> = {
      ablation: rows.map((r) => r.s.ablation),
      bits: rows.map((r) => String(r.bits)),
      seeds: rows.map((r) => String(Math.min(...r.tests.map((t) => t.n)))),
    };
    display["module check (full model)"] = checks.map((c) =>
      c ? `${c.active ? "active" : "inactive"}: ${c.evidence}` : "not recorded"
    );
    CROSS.forEach((d, di) => {
      display[`Δ ${DIRECTION_LABELS[d]} [95% CI]`] = rows.map((r) => formatDiff(r.tests[di]));
      display[`p ${DIRECTION_LABELS[d]} (Holm)`] = rows.map((_, i) =>
        readable[i] ? formatP(pOf(i, di)) : noVerdict(i)
      );
    });
    display["Δ mean [95% CI]"] = rows.map((r) => formatDiff(r.mean));
    display["MDE I→T / T→I / mean (80% power)"] = rows.map((r) =>
      [...r.tests, r.mean].map((t) => formatEffect(comparisonMde(t))).join(" / ")
    );
    display.verdict = rows.map((r, i) =>
      readable[i]
        ? CROSS.map((d, di) => `${DIRECTION_LABELS[d]}: ${verdict(r.tests[di], pOf(i, di))}`)
          .join("; ")
        : noVerdict(i)
    );
    const data: Record<string, (string | number | null)[]> = {
      method: rows.map(() => m),
      ablation: rows.map((r) => r.s.ablation),
      bits: rows.map((r) => r.bits),
      module_active: checks.map((c) => (c ? (c.active ? 1 : 0) : null)),
      module_check: checks.map((c) => c?.evidence ?? null),
    };
    CROSS.forEach((d, di) => {
      const num = (x: number) => (Number.isFinite(x) ? x : null);
      data[`${d}_n`] = rows.map((r) => r.tests[di].n);
      data[`${d}_diff_mean`] = rows.map((r) => num(r.tests[di].mean));
      data[`${d}_ci_low`] = rows.map((r) => num(r.tests[di].ci[0]));
      data[`${d}_ci_high`] = rows.map((r) => num(r.tests[di].ci[1]));
      data[`${d}_p`] = rows.map((r) => num(r.tests[di].p));
      data[`${d}_p_holm`] = rows.map((_, i) => num(pOf(i, di)));
      data[`${d}_mde80`] = rows.map((r) => num(comparisonMde(r.tests[di])));
    });
    const num = (x: number) => (Number.isFinite(x) ? x : null);
    data.mean_diff_mean = rows.map((r) => num(r.mean.mean));
    data.mean_ci_low = rows.map((r) => num(r.mean.ci[0]));
    data.mean_ci_high = rows.map((r) => num(r.mean.ci[1]));
    data.mean_mde80 = rows.map((r) => num(comparisonMde(r.mean)));
    out.push({
      id: `paired-${slugify(m)}`,
      title: `${
        methodLabel(m)
      } ablations against the full model, paired by seed — ${section.heading}`,
      caption: "Δ = ablation − full model in MAP@all, paired over the seeds both have (mean and " +
        "95% confidence interval from the t distribution); p = two-sided paired t-test, " +
        "Holm-corrected across the tests of the rows read; verdict at 5%. These are secondary " +
        "tests: the pre-specified ones are the primary contrasts table's. Δ mean: the same for " +
        "(I→T + T→I) / 2, descriptive (the primary contrasts table tests it at 32 bits). MDE: " +
        "the minimal detectable effect, the smallest true |Δ| a two-sided paired t-test at 5% " +
        "detects with 80% power given the seeds and the observed SD of the differences " +
        "(src/experiments/stats.ts, minimalDetectableEffect); a non-significant Δ smaller than " +
        "its MDE means not detectable with these seeds, not no effect. A row is read only " +
        "when the full model's module passes its manipulation check (src/models/manipulation.ts, " +
        "moduleCheck: mean over the seeds' records); otherwise it shows Δ without a p-value or " +
        "verdict. Negative Δ: the " +
        "ablation retrieves worse. Ablations: " +
        abl.map((s) => `${s.ablation} — ${ablationDescription(m, s.ablation)}`).join("; ") +
        ".",
      notes: [],
      display: aq.table(display),
      data: aq.table(data),
    });
  }
  return out;
}

/** Whether a cell's selected epoch is the last one it trained (it may be undertrained). */
export function selectedLast(r: CellResult): boolean {
  const h = r.training.history;
  return h.length > 0 && r.training.selectedEpoch === h[h.length - 1].epoch;
}

/** Validation MAP ((I→T + T→I) / 2) of a cell's selected epoch, when it was validated. */
export function selectedValidation(r: CellResult): number | undefined {
  const e = r.training.history.find((h) => h.epoch === r.training.selectedEpoch);
  return e?.validation ? (e.validation.I2T + e.validation.T2I) / 2 : undefined;
}

/** The per-epoch diagnostics of a cell's selected epoch, when its history records them. */
export function selectedDiagnostics(r: CellResult): Record<string, number> | undefined {
  return r.training.history.find((h) => h.epoch === r.training.selectedEpoch)?.diagnostics;
}

/**
 * The diagnostics the training table shows when the results record them: field name (see
 * src/models/cpah/diagnostics.ts and src/models/dfah/diagnostics.ts) and column heading.
 */
export const TRAINING_TABLE_DIAGNOSTICS: readonly (readonly [string, string])[] = [
  ["discAcc", "D accuracy"],
  ["consAcc", "C accuracy"],
  ["maskImage", "mask m image"],
  ["maskText", "mask m text"],
  ["fusionShare", "U share of B-step"],
  ["quantGap", "quantisation gap"],
];

/**
 * Training record per series and code length: the selected (best validation) epoch over the
 * seeds, the epochs trained, how many seeds stopped early, and a flag when a seed's selected
 * epoch is the last epoch it trained ("may be undertrained"). When the results record
 * per-epoch diagnostics, also those of {@link TRAINING_TABLE_DIAGNOSTICS} at the selected
 * epoch, mean over the seeds that have them (a column only when some row has a value).
 */
export function trainingTable(section: DatasetSection): ReportTable | null {
  const series = seriesOf(section.results).filter((s) => s.method !== "random");
  const bits = bitsOf(section.results);
  const rows: { s: Series; bits: number; rs: CellResult[] }[] = [];
  for (const s of series) {
    for (const b of bits) {
      const rs = s.results.filter((r) => r.spec.bits === b && r.training.history.length);
      if (rs.length) rows.push({ s, bits: b, rs });
    }
  }
  if (!rows.length) return null;
  const range = (xs: number[]) => {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return lo === hi ? String(lo) : `${lo}–${hi}`;
  };
  const flagged = rows.map((r) => r.rs.filter(selectedLast).length);
  const diagnostics = TRAINING_TABLE_DIAGNOSTICS.map(([key, heading]) => ({
    key,
    heading,
    means: rows.map((r) => {
      const v = r.rs.map((x) => selectedDiagnostics(x)?.[key])
        .filter((x): x is number => typeof x === "number" && Number.isFinite(x));
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
    }),
  })).filter((d) => d.means.some((m) => m !== undefined));
  const bestValidation = rows.map((r) => {
    const v = r.rs.map(selectedValidation).filter((x): x is number => x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  });
  return {
    id: "training",
    title: `Training: selected epochs and early stopping — ${section.heading}`,
    caption: "Per series and code length, over its seeds: the selected epoch (best validation " +
      "MAP on the held-out training slice; 1-based), that validation MAP ((I→T + T→I) / 2, mean " +
      "over seeds: what model selection and any choice of default look at, never the query " +
      "set), the epochs trained, and how many seeds " +
      "stopped early (no better validation MAP for the patience). 'may be undertrained' counts " +
      "the seeds whose selected epoch is the last epoch they trained." +
      (diagnostics.length
        ? " Diagnostics at the selected epoch, mean over the seeds that record them (definitions " +
          "in src/models/cpah/diagnostics.ts and src/models/dfah/diagnostics.ts): D accuracy " +
          "(0.5: the modalities are indistinguishable to the discriminator), C accuracy (the " +
          "consistency classifier, 3-way), mask m (CPAH's mean share of each feature routed to " +
          "the common part), U share of B-step (DFAH's fused outputs' share of the discrete " +
          "step), quantisation gap (1 − mean |h| of the training outputs); — where the setting " +
          "has no such module or the result records no diagnostics."
        : ""),
    notes: flagged.some((f) => f > 0)
      ? [
        `${flagged.filter((f) => f > 0).length} of ${rows.length} rows have seeds whose selected ` +
        "epoch is their last: their validation MAP was still rising when training ended.",
      ]
      : [],
    display: aq.table({
      series: rows.map((r) => `${methodLabel(r.s.method)} ${r.s.ablation}`),
      bits: rows.map((r) => String(r.bits)),
      seeds: rows.map((r) => String(r.rs.length)),
      "selected epoch": rows.map((r) => range(r.rs.map((x) => x.training.selectedEpoch + 1))),
      "validation MAP": bestValidation.map((v) => (v === undefined ? MISSING : v.toFixed(4))),
      "epochs trained": rows.map((r) => range(r.rs.map((x) => x.training.history.length))),
      "stopped early": rows.map((r) =>
        `${r.rs.filter((x) => x.training.stoppedEarly).length}/${r.rs.length}`
      ),
      "may be undertrained": rows.map((_, i) =>
        flagged[i] ? `yes (${flagged[i]}/${rows[i].rs.length})` : "no"
      ),
      ...Object.fromEntries(
        diagnostics.map((d) => [
          d.heading,
          d.means.map((m) => (m === undefined ? MISSING : m.toFixed(3))),
        ]),
      ),
    }),
    data: aq.table({
      method: rows.map((r) => r.s.method),
      ablation: rows.map((r) => r.s.ablation),
      bits: rows.map((r) => r.bits),
      seeds: rows.map((r) => r.rs.length),
      selected_epoch_min: rows.map((r) =>
        Math.min(...r.rs.map((x) => x.training.selectedEpoch + 1))
      ),
      selected_epoch_max: rows.map((r) =>
        Math.max(...r.rs.map((x) => x.training.selectedEpoch + 1))
      ),
      epochs_trained_max: rows.map((r) => Math.max(...r.rs.map((x) => x.training.history.length))),
      stopped_early: rows.map((r) => r.rs.filter((x) => x.training.stoppedEarly).length),
      selected_last: flagged,
      validation_map: bestValidation.map((v) => v ?? null),
      ...Object.fromEntries(diagnostics.map((d) => [d.key, d.means.map((m) => m ?? null)])),
    }),
  };
}

/** One pre-specified primary contrast of a section ({@link primaryContrasts}). */
export interface PrimaryContrast {
  /** Method, e.g. "cpah". */
  method: string;
  /** The ablation flag, e.g. "noCR". */
  ablation: string;
  /** Ablation − full in (MAP@all I→T + T→I) / 2 at {@link PRIMARY_BITS} bits, paired by seed. */
  c: PairedComparison;
  /** The module's manipulation check in the full model (undefined: none recorded). */
  check?: ModuleCheck;
  /** Holm-corrected p across the contrasts whose module passes its check (NaN for the others). */
  pHolm: number;
  /** The size of that Holm family (the contrasts whose module passes its check). */
  familySize: number;
}

/**
 * The pre-specified primary contrasts (docs/mechanisms.md, amendment 2) of a section: one per
 * module, full model against its ablation at {@link PRIMARY_BITS} bits, MAP@all mean of the two
 * directions, paired by seed; Holm across the contrasts whose module passes its manipulation
 * check (`ablationCheck`, mean over the seeds' records), and no others.
 */
export function primaryContrasts(section: DatasetSection): PrimaryContrast[] {
  const all = seriesOf(section.results);
  const rows: Omit<PrimaryContrast, "pHolm" | "familySize">[] = [];
  for (const m of [...new Set(all.filter((s) => s.method !== "random").map((s) => s.method))]) {
    const full = all.find((s) => s.method === m && s.ablation === "full");
    if (!full) continue;
    const manip = (s: Series) =>
      s.results.filter((x) => x.spec.bits === PRIMARY_BITS && x.manipulation)
        .map((x) => x.manipulation!);
    for (const s of all.filter((x) => x.method === m && x.ablation !== "full")) {
      const c = pairedOver(meanBySeed(s, PRIMARY_BITS), meanBySeed(full, PRIMARY_BITS));
      if (c.n === 0) continue;
      rows.push({
        method: m,
        ablation: s.ablation,
        c,
        check: ablationCheck(s.ablation, manip(full), manip(s)),
      });
    }
  }
  const read = rows.map((r) => r.check?.active === true);
  const familySize = read.filter((x) => x).length;
  const corrected = holm(rows.filter((_, i) => read[i]).map((r) => r.c.p));
  return rows.map((r, i) => ({
    ...r,
    pHolm: read[i] ? corrected[read.slice(0, i).filter((x) => x).length] : NaN,
    familySize,
  }));
}

/**
 * What a caller knows beyond the result files about a primary contrast's module: its positive
 * control in the mechanism study and the verdict read with it, in words
 * (docs/mechanisms.md, amendment 4).
 */
export interface PrimaryReading {
  /** The positive control's outcome, e.g. "passed (`control-gap-heldout`, Δ −0.051 …)". */
  control: string;
  /** The module's verdict, e.g. "matters" or "not tested: positive control failed". */
  verdict: string;
}

/**
 * The table of the primary contrasts ({@link primaryContrasts}), with the minimal detectable
 * effect at 80% power at α 0.05 and at α/k (k the family size: Holm's first step); rows whose
 * module fails its check (or records none) get no verdict. With `reading`, each row also shows
 * its module's positive control, and the verdict is the one `reading` gives. Null when the
 * section has no such row.
 */
export function primaryContrastsTable(
  section: DatasetSection,
  reading?: (row: PrimaryContrast) => PrimaryReading,
): ReportTable | null {
  const rows = primaryContrasts(section);
  if (!rows.length) return null;
  const readings = reading ? rows.map(reading) : undefined;
  const read = rows.map((r) => r.check?.active === true);
  const k = rows[0].familySize;
  const why = (i: number) =>
    rows[i].check === undefined
      ? "no manipulation check recorded — no verdict"
      : "module inactive — no verdict";
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    id: "primary",
    title:
      `Primary contrasts: each module at ${PRIMARY_BITS} bits, mean of both directions — ${section.heading}`,
    caption: `One pre-specified contrast per module (docs/mechanisms.md, amendment 2): the ` +
      `ablation − the full model in (MAP@all I→T + T→I) / 2 at ${PRIMARY_BITS} bits, paired by ` +
      `seed (mean, 95% CI from the t distribution); p = two-sided paired t-test, Holm-corrected ` +
      `across the contrasts whose module passes its manipulation check (${k} here) and no ` +
      `others. MDE: the smallest true |Δ| detected with 80% power given the seeds and the ` +
      `observed SD of the differences, at α 0.05 and at α/k (Holm's first step).` +
      (readings
        ? " Positive control: the mechanism study's test of whether its design detects an effect " +
          "of the module (docs/mechanisms.md, amendments 3 and 4); a null difference is a finding " +
          "only when the module is active and its control passed, otherwise it is not tested."
        : ""),
    notes: [],
    display: aq.table({
      method: rows.map((r) => methodLabel(r.method)),
      ablation: rows.map((r) => r.ablation),
      seeds: rows.map((r) => String(r.c.n)),
      "module check (full model)": rows.map((r) =>
        r.check ? `${r.check.active ? "active" : "inactive"}: ${r.check.evidence}` : "not recorded"
      ),
      "Δ mean [95% CI]": rows.map((r) => formatDiff(r.c)),
      "p (Holm over primaries)": rows.map((r, i) => (read[i] ? formatP(r.pHolm) : why(i))),
      "MDE α 0.05 / α/k (80% power)": rows.map((r) =>
        `${formatEffect(comparisonMde(r.c))} / ${
          k ? formatEffect(comparisonMde(r.c, 0.05 / k)) : "—"
        }`
      ),
      ...(readings ? { "positive control": readings.map((x) => x.control) } : {}),
      verdict: readings
        ? readings.map((x) => x.verdict)
        : rows.map((r, i) => (read[i] ? verdict(r.c, r.pHolm) : why(i))),
    }),
    data: aq.table({
      method: rows.map((r) => r.method),
      ablation: rows.map((r) => r.ablation),
      bits: rows.map(() => PRIMARY_BITS),
      n: rows.map((r) => r.c.n),
      module_active: rows.map((r) => (r.check ? (r.check.active ? 1 : 0) : null)),
      diff_mean: rows.map((r) => num(r.c.mean)),
      ci_low: rows.map((r) => num(r.c.ci[0])),
      ci_high: rows.map((r) => num(r.c.ci[1])),
      sd: rows.map((r) => num(r.c.sd)),
      p: rows.map((r) => num(r.c.p)),
      p_holm: rows.map((r) => num(r.pHolm)),
      mde80: rows.map((r) => num(comparisonMde(r.c))),
      mde80_holm_first: rows.map((r) => (k ? num(comparisonMde(r.c, 0.05 / k)) : null)),
    }),
  };
}
