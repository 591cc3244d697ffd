/**
 * One ablation against its full model, as the notebooks' ablation sections show it: which result
 * files to use (committed long runs when they hold the pair, else a short live run), the paired
 * table and the module's primary contrast of the report (src/experiments/report/paired.ts), a
 * precision-recall figure, and the per-epoch diagnostics figure
 * (src/experiments/figures/diagnostics.ts) from whichever results record the diagnostics.
 *
 * @module
 */
import { ablationCheck, type ModuleCheck } from "../models/manipulation.ts";
import type { CellResult } from "./results.ts";
import { groupSections, type ReportTable } from "./report/tables.ts";
import { pairedAblationTables, type PrimaryContrast, primaryContrasts } from "./report/paired.ts";
import { prCurvesFigure } from "./figures/curves.ts";
import { diagnosticsFigure, epochValue, hasEpochValue } from "./figures/diagnostics.ts";
import { sectionKeyOf, seriesOf } from "./figures/series.ts";
import type { NamedFigure } from "./figures/series.ts";

/** The result files one ablation section uses, and where they come from. */
export interface AblationEvidence {
  /** Method, e.g. "cpah". */
  method: string;
  /** The ablation flag, e.g. "noCR". */
  ablation: string;
  /** "committed": long runs read from result files; "live": the short run made here. */
  source: "committed" | "live";
  /** Result files of the full model and the ablation: one dataset section, one epoch budget. */
  results: CellResult[];
  /** Code lengths at which both have results for the same seeds. */
  bits: number[];
  /** Seeds both have, per code length (in the order of `bits`). */
  seeds: number[][];
  /** One line saying which cells these are. */
  description: string;
}

/** Seeds of `rs` at `bits`, sorted. */
function seedsAt(rs: readonly CellResult[], bits: number): number[] {
  return [...new Set(rs.filter((r) => r.spec.bits === bits).map((r) => r.spec.seed))]
    .sort((a, b) => a - b);
}

/**
 * The best paired set of full + `ablation` cells of `method` in `results`: grouped by dataset
 * section, epoch budget and backend, the group with the most (code length, seed) pairs where
 * both have a result; only code lengths with at least `minSeeds` shared seeds count. Undefined
 * when no group qualifies.
 */
export function pairedCells(
  results: readonly CellResult[],
  method: string,
  ablation: string,
  minSeeds = 2,
): Omit<AblationEvidence, "source" | "description"> | undefined {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    if (r.spec.method !== method || (r.spec.ablation !== "full" && r.spec.ablation !== ablation)) {
      continue;
    }
    const key = `${sectionKeyOf(r)}|e${r.spec.epochs}|${r.spec.backend}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  let best: Omit<AblationEvidence, "source" | "description"> | undefined;
  let bestPairs = 0;
  for (const rs of groups.values()) {
    const full = rs.filter((r) => r.spec.ablation === "full");
    const abl = rs.filter((r) => r.spec.ablation === ablation);
    const bits: number[] = [], seeds: number[][] = [];
    for (const b of [...new Set(rs.map((r) => r.spec.bits))].sort((x, y) => x - y)) {
      const a = seedsAt(abl, b), shared = seedsAt(full, b).filter((s) => a.includes(s));
      if (shared.length >= minSeeds) {
        bits.push(b);
        seeds.push(shared);
      }
    }
    const pairs = seeds.reduce((n, s) => n + s.length, 0);
    if (pairs > bestPairs) {
      bestPairs = pairs;
      const keep = (r: CellResult) => {
        const i = bits.indexOf(r.spec.bits);
        return i >= 0 && seeds[i].includes(r.spec.seed);
      };
      best = { method, ablation, results: rs.filter(keep), bits, seeds };
    }
  }
  return best;
}

/** "wikipedia, split fixed, 16 bits (5 seeds), 100 epochs at most, 693 queries". */
function describeCells(e: Omit<AblationEvidence, "source" | "description">): string {
  const r = e.results[0];
  const at = e.bits.map((b, i) => `${b} bits (${e.seeds[i].length} seeds)`).join(", ");
  const data = r.spec.data ? ` (generator settings ${JSON.stringify(r.spec.data)})` : "";
  return `${r.spec.dataset}${data}, split ${r.spec.split}, ${at}, ${r.spec.epochs} epochs at ` +
    `most with the best validation epoch kept, ${r.dataset.split.query} queries against ` +
    `${r.dataset.split.database} database items`;
}

/**
 * The cells an ablation section uses: the committed results when they hold full + `ablation`
 * of `method` for at least `minSeeds` shared seeds at some code length ({@link pairedCells}),
 * else the `live` results (a short run), which must hold the pair. The description says which.
 */
export function ablationEvidence(
  committed: readonly CellResult[],
  live: readonly CellResult[],
  method: string,
  ablation: string,
  minSeeds = 2,
): AblationEvidence {
  const c = pairedCells(committed, method, ablation, minSeeds);
  if (c) {
    return {
      ...c,
      source: "committed",
      description: `committed result files: ${describeCells(c)}`,
    };
  }
  const l = pairedCells(live, method, ablation, 1);
  if (!l) {
    throw new Error(
      `ablationEvidence: neither the committed nor the live results hold ${method} full and ` +
        `${ablation} for the same seed`,
    );
  }
  return {
    ...l,
    source: "live",
    description: `no committed cells of ${method} full and ${ablation} with ${minSeeds} or more ` +
      `shared seeds, so a short live run: ${
        describeCells(l)
      } (too short to say anything about the method)`,
  };
}

/** One setting's diagnostics at the selected epoch ({@link selectedEpochDiagnostics}). */
export interface SelectedDiagnosticsRow {
  /** The setting, e.g. "CPAH noCR". */
  setting: string;
  /** Seeds averaged. */
  seeds: number;
  /** Mean over the seeds of each key at each seed's selected epoch; null when not recorded. */
  values: Record<string, number | null>;
}

/**
 * Per setting (full first, then the ablations, at code length `bits`) the mean over seeds of
 * each diagnostic `key` at each seed's selected epoch — the epoch whose weights give the codes
 * (read as in the figures: the epoch's diagnostics, else its losses).
 */
export function selectedEpochDiagnostics(
  results: readonly CellResult[],
  method: string,
  keys: readonly string[],
  bits: number,
): SelectedDiagnosticsRow[] {
  return seriesOf(results).filter((s) => s.method === method).map((s) => {
    const rs = s.results.filter((r) => r.spec.bits === bits);
    const at = rs.map((r) => r.training.history.find((h) => h.epoch === r.training.selectedEpoch));
    const values: Record<string, number | null> = {};
    for (const k of keys) {
      const v = at.map((h) => (h ? epochValue(h, k) : undefined))
        .filter((x): x is number => x !== undefined);
      values[k] = v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    }
    return { setting: s.label, seeds: rs.length, values };
  }).filter((r) => r.seeds > 0);
}

/** A diagnostics figure of an ablation section and the results it was drawn from. */
export interface DiagnosticsPanel {
  /** The figure ({@link diagnosticsFigure}). */
  figure: NamedFigure;
  /** "committed": the section's committed results; "live": the short live run. */
  source: "committed" | "live";
  /** The results drawn (full and ablation). */
  results: CellResult[];
  /** The keys' values at the selected epoch, per setting ({@link selectedEpochDiagnostics}). */
  selected: SelectedDiagnosticsRow[];
}

/** What an ablation section shows, as data (the notebooks display it). */
export interface AblationSection {
  /** The cells the table and the PR figure use. */
  evidence: AblationEvidence;
  /**
   * The manipulation check of the module the ablation removes, in the full model of the
   * evidence (mean over its seeds' records at the first paired code length; src/models/
   * manipulation.ts, `ablationCheck`); undefined when the cells record no checks.
   */
  check?: ModuleCheck;
  /** The report's paired table (ablation − full by seed, 95% CI, Holm-corrected p, verdict). */
  table: ReportTable;
  /**
   * The module's pre-specified primary contrast in the committed cells of the evidence's
   * dataset section (`primaryContrasts`: 32 bits, mean of both directions, Holm across the
   * section's modules of every method in `committed` whose check passes); undefined for a live
   * run or without paired 32-bit cells.
   */
  primary?: PrimaryContrast;
  /** Precision-recall curves of full and ablation (I→T and T→I) at the first paired code length. */
  pr: NamedFigure;
  /**
   * Diagnostics per epoch of full and ablation: from the committed cells when they record any
   * of the keys, and from the live run too when the committed cells lack the first key.
   */
  diagnostics: DiagnosticsPanel[];
}

/**
 * Everything an ablation section shows: {@link ablationEvidence}, the paired table of its cells,
 * PR curves of full and ablation, and figures of the diagnostics `keys` per epoch (the first key
 * is the section's main diagnostic): from the committed evidence when it records any of the keys
 * (result files written before the models recorded diagnostics have only the discrete step's
 * numbers), and from the `live` results whenever the evidence lacks the first key.
 * `committed` may hold the cells of every method: the section reads those of `method`, and the
 * primary contrast's Holm family spans the modules of all of them.
 */
export function ablationSection(
  committed: readonly CellResult[],
  live: readonly CellResult[],
  method: string,
  ablation: string,
  keys: readonly string[],
): AblationSection {
  const evidence = ablationEvidence(committed, live, method, ablation);
  const section = groupSections(evidence.results).sections[0];
  const table = pairedAblationTables(section).find((t) => t.id === `paired-${method}`);
  if (!table) throw new Error(`ablationSection: no paired table for ${method} ${ablation}`);
  const pr = prCurvesFigure(evidence.results, {
    bits: evidence.bits[0],
    compare: { kind: "ablations", method },
    directions: ["I2T", "T2I"],
  });
  const diagnostics: DiagnosticsPanel[] = [];
  const panel = (rs: CellResult[], bits: number, source: "committed" | "live") => {
    const recorded = keys.filter((k) => hasEpochValue(rs, k));
    return {
      figure: diagnosticsFigure(rs, { method, ablations: ["full", ablation], keys, bits }),
      source,
      results: rs,
      selected: selectedEpochDiagnostics(rs, method, recorded, bits),
    };
  };
  const committedOnes = evidence.source === "committed" ? evidence.results : [];
  // The first paired code length whose committed cells record any key (cells written before
  // the models recorded diagnostics have none, so another length may have them).
  const atBits = (b: number) => committedOnes.filter((r) => r.spec.bits === b);
  const diagBits = evidence.bits.find((b) => keys.some((k) => hasEpochValue(atBits(b), k)));
  if (diagBits !== undefined) diagnostics.push(panel(atBits(diagBits), diagBits, "committed"));
  if (diagBits === undefined || !hasEpochValue(atBits(diagBits), keys[0])) {
    const rs = evidence.source === "live"
      ? evidence.results
      : pairedCells(live, method, ablation, 1)?.results;
    if (!rs?.length) {
      throw new Error(`ablationSection: no live results of ${method} full and ${ablation}`);
    }
    diagnostics.push(panel(rs, rs[0].spec.bits, "live"));
  }
  const manip = (a: string) =>
    evidence.results.filter((r) =>
      r.spec.ablation === a && r.spec.bits === evidence.bits[0] && r.manipulation
    ).map((r) => r.manipulation!);
  const check = ablationCheck(ablation, manip("full"), manip(ablation));
  return { evidence, check, table, primary: primaryOf(committed, evidence), pr, diagnostics };
}

/** The evidence's primary contrast among the committed cells of its dataset section. */
function primaryOf(
  committed: readonly CellResult[],
  evidence: AblationEvidence,
): PrimaryContrast | undefined {
  if (evidence.source !== "committed") return undefined;
  const key = sectionKeyOf(evidence.results[0]);
  const section = groupSections(committed).sections.find((x) => x.key === key);
  return section &&
    primaryContrasts(section).find((p) =>
      p.method === evidence.method && p.ablation === evidence.ablation
    );
}
