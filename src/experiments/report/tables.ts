/**
 * The report's data types and its tables: dataset sections, the main MAP table and one
 * ablation table per method, every number read from the result files (mean ± std over seeds).
 *
 * @module
 */
import * as aq from "./arquero.ts";
import type { ColumnTable } from "./arquero.ts";
import {
  bitsOf,
  DIRECTION_LABELS,
  type NamedFigure,
  sectionKeyOf,
  type Series,
  seriesOf,
  summarize,
  type Summary,
} from "../figures/mod.ts";
import type { CellResult } from "../results.ts";
import type { CellMethod } from "../spec.ts";
import type { ControlReading } from "../module_verdict.ts";
import { ablationDescription, methodLabel } from "../../models/mod.ts";
import type { Direction } from "../../types.ts";

/** The placeholder of a missing cell. */
export const MISSING = "—";

/** One table of a report. */
export interface ReportTable {
  /** File-name-safe id within its section, e.g. "main", "ablations-cpah", "published". */
  id: string;
  /** Title, e.g. "MAP@all by code length". */
  title: string;
  /** What the numbers are and how to read them. */
  caption: string;
  /** Notes shown before the table (warnings about comparability). */
  notes: string[];
  /** The table as shown: formatted strings, "—" for missing cells. */
  display: ColumnTable;
  /** The same rows as numbers (mean, std, n per cell; empty when missing), for CSV. */
  data: ColumnTable;
  /** Shown folded (a `<details>` block) in Markdown and HTML: long reference tables. */
  collapsed?: boolean;
}

/** Results of one dataset, variant and split. */
export interface DatasetSection {
  /** `dataset|variant|split`. */
  key: string;
  /** File-name-safe form, e.g. "wikipedia-fixed", "wikipedia-tfidf-fixed". */
  slug: string;
  /** Heading, e.g. "wikipedia (variant tfidf), split fixed". */
  heading: string;
  /** Dataset name. */
  dataset: string;
  /** Dataset variant (absent: the standard one). */
  variant?: string;
  /** Split convention. */
  split: string;
  /** The section's result files. */
  results: CellResult[];
}

/** A section of a report: facts, tables, notes and figures. */
export interface SectionReport {
  /** The dataset section. */
  section: DatasetSection;
  /** Provenance lines of the section (data, split, epochs, seeds, times). */
  facts: string[];
  /** The section's tables, in display order. */
  tables: ReportTable[];
  /** Notes after the tables (e.g. why there is no published comparison). */
  notes: string[];
  /** The section's figures. */
  figures: NamedFigure[];
}

/** A whole report as data. */
export interface Report {
  /** Report title. */
  title: string;
  /** ISO time the report was built. */
  generated: string;
  /** Provenance lines of the whole report (command, versions, backend, times). */
  provenance: string[];
  /** One section per dataset, variant and split. */
  sections: SectionReport[];
  /** Problems met while building (duplicate results, failed figures). */
  warnings: string[];
}

/** Options of {@link buildReport}. */
export interface BuildOptions {
  /** Report title (default "Cross-modal hashing — reproduction report"). */
  title?: string;
  /** Commands that produced the results (e.g. the lines of command.txt files). */
  commands?: string[];
  /** Build the figures too (default true). */
  figures?: boolean;
  /** The report's time (default now). */
  now?: Date;
  /**
   * The positive control of a method's module that an ablation removes (e.g.
   * `mechanisms.controlReading` over the mechanism study's results): with it, the primary
   * contrasts table shows each module's control and reads its verdict with it
   * (`moduleVerdict`); without it, the table gives the contrasts' own verdicts.
   */
  controls?: (method: CellMethod, ablation: string) => ControlReading;
}

export const DEFAULT_TITLE = "Cross-modal hashing — reproduction report";

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

export function slugify(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
}

/**
 * Group results by (dataset, variant, split), in order of dataset name, variant, split.
 * Results with the same id (the same cell read twice) are kept once; the others are reported in
 * `duplicates`.
 */
export function groupSections(
  results: readonly CellResult[],
): { sections: DatasetSection[]; duplicates: string[] } {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const map = new Map<string, DatasetSection>();
  for (const r of results) {
    if (seen.has(r.id)) {
      duplicates.push(r.id);
      continue;
    }
    seen.add(r.id);
    const key = sectionKeyOf(r);
    let s = map.get(key);
    if (!s) {
      const { dataset, variant, split } = r.spec;
      s = {
        key,
        slug: slugify([dataset, variant, split].filter(Boolean).join("-")),
        heading: `${dataset}${variant ? ` (variant ${variant})` : ""}, split ${split}`,
        dataset,
        variant,
        split,
        results: [],
      };
      map.set(key, s);
    }
    s.results.push(r);
  }
  const sections = [...map.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { sections, duplicates };
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** "0.7123 ± 0.0040", "0.7123" (one seed) or "—"; "(n=k)" when k differs from the row's. */
export function formatSummary(s: Summary | null, rowSeeds?: number): string {
  if (!s) return MISSING;
  let t = s.mean.toFixed(4);
  if (s.std !== null) t += ` ± ${s.std.toFixed(4)}`;
  if (rowSeeds !== undefined && s.n !== rowSeeds) t += ` (n=${s.n})`;
  return t;
}

export function mapSummary(s: Series, bits: number, dir: Direction): Summary | null {
  return summarize(
    s.results.filter((r) => r.spec.bits === bits).map((r) => r.metrics[dir]?.mapAll).filter(
      (v): v is number => typeof v === "number",
    ),
  );
}

export interface MapColumns {
  display: Record<string, string[]>;
  data: Record<string, (number | null)[]>;
}

/** MAP columns (direction x bits) of some series: formatted and numeric. */
export function mapColumns(
  series: readonly Series[],
  bits: readonly number[],
  dirs: readonly Direction[],
): MapColumns {
  const display: Record<string, string[]> = { seeds: [] };
  const data: Record<string, (number | null)[]> = {};
  const cells = series.map((s) => dirs.map((d) => bits.map((b) => mapSummary(s, b, d))));
  cells.forEach((row) => {
    const ns = row.flat().filter((c): c is Summary => c !== null).map((c) => c.n);
    const lo = Math.min(...ns), hi = Math.max(...ns);
    display.seeds.push(ns.length ? (lo === hi ? String(hi) : `${lo}–${hi}`) : "0");
  });
  dirs.forEach((d, di) => {
    bits.forEach((b, bi) => {
      const name = `${DIRECTION_LABELS[d]} ${b}`;
      display[name] = cells.map((row) => {
        const ns = row.flat().filter((c): c is Summary => c !== null).map((c) => c.n);
        return formatSummary(row[di][bi], Math.max(...ns));
      });
      data[`${d}_${b}_mean`] = cells.map((row) => row[di][bi]?.mean ?? null);
      data[`${d}_${b}_std`] = cells.map((row) => row[di][bi]?.std ?? null);
      data[`${d}_${b}_n`] = cells.map((row) => row[di][bi]?.n ?? null);
    });
  });
  return { display, data };
}

export const CROSS: readonly Direction[] = ["I2T", "T2I"];

export const MAP_CAPTION =
  "Mean ± sample standard deviation (n − 1) over seeds of MAP@all by Hamming " +
  "ranking (query set against the retrieval database; relevant = at least one shared label; " +
  "ties broken by database index). 'seeds' = seeds per cell; a cell with fewer seeds than its " +
  "row shows (n=k); one seed shows no ±; — = no result.";

/**
 * Main table: MAP@all I→T and T→I by code length for the full models and the random-projection
 * baseline of a section.
 */
export function mainTable(section: DatasetSection): ReportTable {
  const series = seriesOf(section.results).filter((s) => s.ablation === "full");
  const bits = bitsOf(section.results);
  const cols = mapColumns(series, bits, CROSS);
  const label = series.map((s) => s.label);
  const hasRandom = series.some((s) => s.method === "random");
  return {
    id: "main",
    title: `MAP@all by code length — ${section.heading}`,
    caption: MAP_CAPTION +
      (hasRandom
        ? " Random projection = signs of a fixed random Gaussian projection per modality " +
          "(untrained; the chance-level floor)."
        : ""),
    notes: [],
    display: aq.table({ method: label, ...cols.display }),
    data: aq.table({
      method: series.map((s) => s.method),
      ablation: series.map((s) => s.ablation),
      epochs: series.map((s) => s.epochs),
      backend: series.map((s) => s.backend),
      ...cols.data,
    }),
  };
}

/** One table per trained method that has ablation results: full vs each ablation. */
export function ablationTables(section: DatasetSection): ReportTable[] {
  const all = seriesOf(section.results);
  const bits = bitsOf(section.results);
  const methods = [...new Set(all.filter((s) => s.method !== "random").map((s) => s.method))];
  const out: ReportTable[] = [];
  for (const m of methods) {
    const series = all.filter((s) => s.method === m);
    if (!series.some((s) => s.ablation !== "full")) continue;
    const cols = mapColumns(series, bits, CROSS);
    const withEpochs = new Set(series.map((s) => s.epochs)).size > 1;
    const withBackend = new Set(series.map((s) => s.backend)).size > 1;
    const rowName = (s: Series) =>
      s.ablation + (withEpochs ? ` (${s.epochs} epochs)` : "") +
      (withBackend ? ` [${s.backend}]` : "");
    out.push({
      id: `ablations-${slugify(m)}`,
      title: `${methodLabel(m)} ablations — ${section.heading}`,
      caption: MAP_CAPTION +
        " Each ablation switches off one part of the full model (one config flag).",
      notes: [],
      display: aq.table({
        ablation: series.map(rowName),
        removes: series.map((s) => ablationDescription(m, s.ablation)),
        ...cols.display,
      }),
      data: aq.table({
        method: series.map(() => m),
        ablation: series.map((s) => s.ablation),
        epochs: series.map((s) => s.epochs),
        backend: series.map((s) => s.backend),
        ...cols.data,
      }),
    });
  }
  return out;
}

export function distinct<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** The image-features part of a dataset provenance line ("image = …"), or undefined. */
export function imagePart(provenance: string): string | undefined {
  // Bracketed groups ("[I_tr; I_te]") are kept whole; the part ends at "; " or ", text =".
  const m = /image = (?:\[[^\]]*\]|[^;[])*?(?=, text =|;|$)/.exec(provenance);
  return m?.[0];
}

export function splitSizes(rs: readonly CellResult[]): string {
  const s = distinct(rs.map((r) => {
    const p = r.dataset.split;
    return `query ${p.query}, database ${p.database}, train ${p.train}, validation ${p.validation}`;
  }));
  return s.join(" / ");
}

/**
 * Our full models and baseline beside the published rows of the benchmark, or null with the
 * reason (not a published benchmark; Wikipedia has no published rows).
 */
