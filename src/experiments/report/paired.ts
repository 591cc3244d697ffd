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
  formatP,
  holm,
  type PairedComparison,
  pairedComparison,
  verdict,
} from "../stats.ts";
import { ablationDescription, methodLabel } from "../../models/mod.ts";
import type { Direction } from "../../types.ts";
import { ablationCheck } from "../../models/manipulation.ts";
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
    type Row = { s: Series; bits: number; tests: PairedComparison[] };
    const rows: Row[] = [];
    for (const s of abl) {
      for (const b of bits) {
        const tests = CROSS.map((d) => {
          const f = bySeed(full, b, d), a = bySeed(s, b, d);
          const seeds = [...a.keys()].filter((k) => f.has(k)).sort((x, y) => x - y);
          return pairedComparison(seeds.map((k) => a.get(k)!), seeds.map((k) => f.get(k)!));
        });
        if (tests.some((t) => t.n > 0)) rows.push({ s, bits: b, tests });
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
    });
    out.push({
      id: `paired-${slugify(m)}`,
      title: `${
        methodLabel(m)
      } ablations against the full model, paired by seed — ${section.heading}`,
      caption: "Δ = ablation − full model in MAP@all, paired over the seeds both have (mean and " +
        "95% confidence interval from the t distribution); p = two-sided paired t-test, " +
        "Holm-corrected across the tests of the rows read; verdict at 5%. A row is read only " +
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
