/**
 * Paper-style reports of an experiment grid: per dataset section (dataset, variant, split) a
 * main MAP table (full models and the random-projection baseline by code length), one ablation
 * table per method, and, on the published benchmarks, our rows beside the published rows of
 * src/experiments/published.ts with the differences in image features and protocol spelled
 * out. Every number shown is read from the result files: mean ± sample standard deviation over
 * seeds, "—" where a cell has no result.
 *
 * {@link buildReport} makes the report as data; {@link reportMarkdown} and {@link reportHtml}
 * render it; {@link writeReports} writes report.md, report.html (plotly inlined, figures
 * embedded), one CSV per table and, when Chromium is available, PNG figures.
 *
 * @module
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { join } from "node:path";
import type { Direction } from "../types.ts";
import type { CellResult } from "./runner.ts";
import { ablationDescription } from "../models/mod.ts";
import {
  bitsOf,
  DIRECTION_LABELS,
  escapeHtml,
  figureJson,
  methodLabel,
  type NamedFigure,
  readPlotlyJs,
  renderPngs,
  scriptSafe,
  sectionFigures,
  sectionKeyOf,
  type Series,
  seriesOf,
  summarize,
  type Summary,
} from "./figures.ts";
import { benchmarkOf, PUBLISHED_BITS, publishedRowsFor } from "./published.ts";

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
}

/** Results of one dataset, variant and split. */
export interface DatasetSection {
  /** `dataset|variant|split`. */
  key: string;
  /** File-name-safe form, e.g. "wikipedia-fixed", "wikipedia-tfidf-fixed". */
  slug: string;
  /** Heading, e.g. "wikipedia (variant tfidf), split fixed". */
  heading: string;
  dataset: string;
  variant?: string;
  split: string;
  results: CellResult[];
}

/** A section of a report: facts, tables, notes and figures. */
export interface SectionReport {
  section: DatasetSection;
  /** Provenance lines of the section (data, split, epochs, seeds, times). */
  facts: string[];
  tables: ReportTable[];
  /** Notes after the tables (e.g. why there is no published comparison). */
  notes: string[];
  figures: NamedFigure[];
}

/** A whole report as data. */
export interface Report {
  title: string;
  /** ISO time the report was built. */
  generated: string;
  /** Provenance lines of the whole report (command, versions, backend, times). */
  provenance: string[];
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
}

const DEFAULT_TITLE = "Cross-modal hashing — reproduction report";

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function slugify(s: string): string {
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

function mapSummary(s: Series, bits: number, dir: Direction): Summary | null {
  return summarize(
    s.results.filter((r) => r.spec.bits === bits).map((r) => r.metrics[dir]?.mapAll).filter(
      (v): v is number => typeof v === "number",
    ),
  );
}

interface MapColumns {
  display: Record<string, string[]>;
  data: Record<string, (number | null)[]>;
}

/** MAP columns (direction x bits) of some series: formatted and numeric. */
function mapColumns(
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

const CROSS: readonly Direction[] = ["I2T", "T2I"];

const MAP_CAPTION = "Mean ± sample standard deviation (n − 1) over seeds of MAP@all by Hamming " +
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

function distinct<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

function imagePart(provenance: string): string | undefined {
  const m = /image = [^;]*/.exec(provenance);
  return m?.[0];
}

function splitSizes(rs: readonly CellResult[]): string {
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
export function publishedComparison(
  section: DatasetSection,
): { table: ReportTable | null; reason?: string } {
  const benchmark = benchmarkOf(section.dataset);
  if (!benchmark) {
    const reason = section.dataset === "wikipedia"
      ? "Wikipedia: /work/shared/docs/reported-tables.md has no published rows for this " +
        "dataset, so there is no comparison with published numbers."
      : `${section.dataset}: not one of the published benchmarks (MIRFlickr-25K, NUS-WIDE, ` +
        "MS-COCO, IAPR TC-12); no comparison with published numbers.";
    return { table: null, reason };
  }
  const published = publishedRowsFor(benchmark);
  const ours = seriesOf(section.results).filter((s) => s.ablation === "full");
  if (!published.length || !ours.length) {
    return { table: null, reason: `${benchmark}: no rows to compare.` };
  }
  const simulated = section.dataset.endsWith("-simimg");
  const provs = distinct(section.results.map((r) => r.dataset.provenance));
  const ourImage = simulated
    ? "SIMULATED from the labels (src/datasets/simulated.ts); text and labels real"
    : (imagePart(provs[0]) ?? "see the data provenance line");
  const bits = [...PUBLISHED_BITS];
  const cols = mapColumns(ours, bits, CROSS);
  const rowsDisplay: Record<string, string[]> = {
    method: [],
    source: [],
    "image features": [],
    protocol: [],
  };
  const bitCols = CROSS.flatMap((d) => bits.map((b) => `${DIRECTION_LABELS[d]} ${b}`));
  for (const c of bitCols) rowsDisplay[c] = [];
  rowsDisplay.note = [];
  const data: Record<string, (string | number | null)[]> = {
    row: [],
    method: [],
    source: [],
    image_features: [],
    protocol: [],
  };
  for (const d of CROSS) {
    for (const b of bits) for (const k of ["mean", "std", "n"]) data[`${d}_${b}_${k}`] = [];
  }
  data.note = [];

  ours.forEach((s, i) => {
    const rs = s.results;
    const epochs = distinct(rs.map((r) => r.spec.epochs)).join("/");
    const protocol = `split ${section.split}; ${splitSizes(rs)} (validation held out of the ` +
      `training pairs, used for epoch selection)` +
      (s.method === "random" ? "" : `; ${epochs} epochs`);
    const note = (simulated ? "SIMULATED image side: not comparable to the published rows. " : "") +
      (s.method === "random"
        ? "Untrained baseline (chance level)."
        : "This toolkit's implementation; no published numbers of this method are available.");
    rowsDisplay.method.push(`${s.label} (ours)`);
    rowsDisplay.source.push("this run");
    rowsDisplay["image features"].push(ourImage);
    rowsDisplay.protocol.push(protocol);
    for (const c of bitCols) rowsDisplay[c].push(cols.display[c][i]);
    rowsDisplay.note.push(note);
    data.row.push("ours");
    data.method.push(s.label);
    data.source.push("this run");
    data.image_features.push(ourImage);
    data.protocol.push(protocol);
    for (const d of CROSS) {
      for (const b of bits) {
        for (const k of ["mean", "std", "n"]) {
          data[`${d}_${b}_${k}`].push(cols.data[`${d}_${b}_${k}`][i]);
        }
      }
    }
    data.note.push(note);
  });
  for (const p of published) {
    const src = `${p.source.paper}, ${p.source.table}`;
    rowsDisplay.method.push(p.method);
    rowsDisplay.source.push(src);
    rowsDisplay["image features"].push(p.source.imageFeatures);
    rowsDisplay.protocol.push(p.source.protocol);
    CROSS.forEach((d) => {
      const vals = d === "I2T" ? p.i2t : p.t2i;
      bits.forEach((b, bi) => {
        rowsDisplay[`${DIRECTION_LABELS[d]} ${b}`].push(vals[bi].toFixed(p.source.decimals));
        data[`${d}_${b}_mean`].push(vals[bi]);
        data[`${d}_${b}_std`].push(null);
        data[`${d}_${b}_n`].push(null);
      });
    });
    const note = "Published (copied from the paper's table).";
    rowsDisplay.note.push(note);
    data.row.push("published");
    data.method.push(p.method);
    data.source.push(src);
    data.image_features.push(p.source.imageFeatures);
    data.protocol.push(p.source.protocol);
    data.note.push(note);
  }
  const notes: string[] = [];
  if (simulated) {
    notes.push(
      `NOTE: our ${section.dataset} rows use a SIMULATED image side (features generated from ` +
        "the labels, src/datasets/simulated.ts), not CNN-F features of the MIRFlickr images; the " +
        "published rows use CNN-F (ImageNet) image features or raw images + CNN-F. The numbers " +
        "are NOT comparable: they are side by side only to show the published scale.",
    );
  } else {
    notes.push(
      `NOTE: our image features are ${ourImage}; the published rows use CNN-F (ImageNet) image ` +
        "features or raw images + CNN-F. Compare only if ours are the same kind of features.",
    );
  }
  notes.push(
    "Protocol differences: the published rows use the papers' split conventions ('protocol' " +
      "column) with the standard sizes (query 2,000 and 10,000 training pairs; NUS-WIDE query " +
      "2,100 and 10,500 or 10,000) and their own epoch selection (the public codes of this " +
      "family select on the query set, methods.md); ours train on the drawn training pairs " +
      "minus a held-out validation slice and select the epoch on that slice, never on the query " +
      "set (sizes in the 'protocol' column). The published rows are other methods: no " +
      "published CPAH or DFAH numbers are available to this project.",
  );
  const table: ReportTable = {
    id: "published",
    title: `Ours beside published MAP@all on ${benchmark} — ${section.heading}`,
    caption: "MAP@all by Hamming ranking, I→T and T→I, 16/32/64 bits. Published numbers are " +
      "copied from the papers' tables (src/experiments/published.ts, from reported-tables.md), " +
      "printed with the papers' decimals; ours are mean ± std over seeds (— = no result at " +
      "that code length). See the 'image features', 'protocol' and 'note' columns.",
    notes,
    display: aq.table(rowsDisplay),
    data: aq.table(data),
  };
  return { table };
}

// ---------------------------------------------------------------------------------------------
// The report as data
// ---------------------------------------------------------------------------------------------

/** "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function cellSeconds(r: CellResult): number {
  const t = Date.parse(r.finished) - Date.parse(r.started);
  return Number.isFinite(t) && t >= 0 ? t / 1000 : 0;
}

/** One line naming a backend, e.g. "wasm (tfjs 4.22.0; accelerated: cblas openblas)". */
export function describeBackend(b: CellResult["backend"]): string {
  const parts = [`tfjs ${b.tfjs}`];
  if (b.nativePackage) parts.push(`native package ${b.nativePackage}`);
  if (b.accelerated) parts.push(`accelerated kernels: ${b.accelerated}`);
  if (b.explicitTransposeGrad) parts.push("explicit-transpose MatMul gradient");
  return `${b.name} (${parts.join("; ")})`;
}

function sectionFacts(section: DatasetSection): string[] {
  const rs = section.results;
  const facts: string[] = [];
  const provs = distinct(rs.map((r) => r.dataset.provenance));
  facts.push(
    `data: ${provs[0]}` +
      (provs.length > 1 ? ` (and ${provs.length - 1} other provenance line(s))` : ""),
  );
  const d = rs[0].dataset;
  facts.push(
    `features: image ${distinct(rs.map((r) => r.dataset.imageDim)).join("/")}-d, text ` +
      `${distinct(rs.map((r) => r.dataset.textDim)).join("/")}-d, ${d.classes} classes`,
  );
  facts.push(`split: ${section.split}; ${splitSizes(rs)}`);
  const trained = rs.filter((r) => r.spec.method !== "random");
  const epochLines = distinct(trained.map((r) => r.spec.method)).map((m) =>
    `${methodLabel(m)} ${
      distinct(trained.filter((r) => r.spec.method === m).map((r) => r.spec.epochs)).join("/")
    }`
  );
  const validated = trained.some((r) => r.training.history.some((h) => h.validation));
  facts.push(
    `epochs: ${epochLines.length ? epochLines.join(", ") : "none (no trained method)"}` +
      (rs.some((r) => r.spec.method === "random") ? "; random baseline: untrained" : "") +
      (trained.length
        ? validated
          ? "; model selection: best validation MAP (held-out training slice)"
          : "; no validation: last epoch kept"
        : ""),
  );
  facts.push(`seeds: ${distinct(rs.map((r) => r.spec.seed)).sort((a, b) => a - b).join(", ")}`);
  facts.push(`code lengths: ${bitsOf(rs).join(", ")} bits`);
  const conv = distinct(
    rs.flatMap((r) =>
      Object.values(r.metrics).map((m) =>
        m?.conventions
          ? `zero-relevant queries ${m.conventions.zeroRelevant}, empty retrieved set ${m.conventions.emptyRetrieved}, ties ${m.conventions.ties}`
          : "unknown"
      )
    ),
  );
  facts.push(`metric conventions: ${conv.join(" / ")}`);
  const train = rs.reduce((s, r) => s + (r.training?.seconds ?? 0), 0);
  const enc = rs.reduce((s, r) => s + (r.encodeSeconds ?? 0), 0);
  facts.push(
    `cells: ${rs.length}; training time ${formatSeconds(train)}, encoding + evaluation ` +
      `${formatSeconds(enc)}, cell wall time ${
        formatSeconds(rs.reduce((s, r) => s + cellSeconds(r), 0))
      }`,
  );
  return facts;
}

/** Build the report of some results (any number of datasets) as data. */
export function buildReport(results: readonly CellResult[], opts: BuildOptions = {}): Report {
  const { sections, duplicates } = groupSections(results);
  const warnings = duplicates.map((id) =>
    `duplicate result ${id} ignored (kept the first one read)`
  );
  const all = sections.flatMap((s) => s.results);
  const provenance: string[] = [];
  const commands = (opts.commands ?? []).map((c) => c.trim()).filter(Boolean);
  if (commands.length) provenance.push(...commands.map((c) => `command: \`${c}\``));
  else provenance.push("command: not recorded (no command.txt)");
  if (all.length) {
    provenance.push(
      `toolkit ${distinct(all.map((r) => r.versions.toolkit)).join(", ")}; TensorFlow.js ` +
        `${distinct(all.map((r) => r.versions.tfjs)).join(", ")}; Deno ` +
        `${distinct(all.map((r) => r.versions.deno)).join(", ")}`,
    );
    provenance.push(`backend: ${distinct(all.map((r) => describeBackend(r.backend))).join("; ")}`);
    const train = all.reduce((s, r) => s + (r.training?.seconds ?? 0), 0);
    const wall = all.reduce((s, r) => s + cellSeconds(r), 0);
    const first = all.map((r) => r.started).sort()[0];
    const last = all.map((r) => r.finished).sort().pop();
    provenance.push(
      `${all.length} result files in ${sections.length} dataset section(s); total training time ` +
        `${formatSeconds(train)}, total cell time ${
          formatSeconds(wall)
        }; cells ran ${first} – ${last}`,
    );
  } else {
    provenance.push("no results");
  }
  const out: SectionReport[] = sections.map((section) => {
    const tables = [mainTable(section), ...ablationTables(section)];
    const notes: string[] = [];
    const cmp = publishedComparison(section);
    if (cmp.table) tables.push(cmp.table);
    else if (cmp.reason) notes.push(cmp.reason);
    let figures: NamedFigure[] = [];
    if (opts.figures ?? true) {
      try {
        figures = sectionFigures(section.results);
      } catch (e) {
        warnings.push(`figures of ${section.heading} skipped: ${(e as Error).message}`);
      }
    }
    return { section, facts: sectionFacts(section), tables, notes, figures };
  });
  return {
    title: opts.title ?? DEFAULT_TITLE,
    generated: new Date().toISOString(),
    provenance,
    sections: out,
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A table as GitHub Markdown (cells escaped). */
export function tableMarkdown(t: ReportTable): string {
  const names = t.display.columnNames();
  const rows = t.display.objects() as Record<string, unknown>[];
  const line = (cells: string[]) => `| ${cells.map(mdCell).join(" | ")} |`;
  return [
    line(names),
    `|${names.map(() => "---").join("|")}|`,
    ...rows.map((r) => line(names.map((n) => String(r[n] ?? MISSING)))),
  ].join("\n");
}

/** Options of {@link reportMarkdown}. */
export interface MarkdownOptions {
  /** Level of the title heading (default 1; sections one deeper). */
  headingLevel?: number;
  /** Link for a figure's PNG, by `<section slug>/<figure id>`; figures without one are listed. */
  pngLinks?: Map<string, string>;
  /** Omit the title line (when embedding in another document). */
  omitTitle?: boolean;
}

/** The figure key used by {@link MarkdownOptions.pngLinks}. */
export function figureKey(section: DatasetSection, fig: NamedFigure): string {
  return `${section.slug}/${fig.id}`;
}

/** Render a report as Markdown. */
export function reportMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const h = (n: number) => "#".repeat(Math.min(6, (opts.headingLevel ?? 1) + n));
  const lines: string[] = [];
  if (!opts.omitTitle) lines.push(`${h(0)} ${report.title}`, "");
  lines.push(`Generated by src/experiments/report.ts on ${report.generated}.`, "");
  lines.push(`${h(1)} Provenance`, "");
  for (const p of report.provenance) lines.push(`- ${p}`);
  lines.push("");
  if (report.warnings.length) {
    for (const w of report.warnings) lines.push(`> warning: ${w}`);
    lines.push("");
  }
  let n = 0;
  for (const s of report.sections) {
    lines.push(`${h(1)} ${s.section.heading}`, "");
    for (const f of s.facts) lines.push(`- ${f}`);
    lines.push("");
    for (const t of s.tables) {
      n++;
      lines.push(`**Table ${n}. ${t.title}.** ${t.caption}`, "");
      for (const note of t.notes) lines.push(`> ${note}`, "");
      lines.push(tableMarkdown(t), "");
    }
    for (const note of s.notes) lines.push(`*${note}*`, "");
    if (s.figures.length) {
      lines.push(`${h(2)} Figures`, "");
      for (const f of s.figures) {
        const link = opts.pngLinks?.get(figureKey(s.section, f));
        lines.push(
          link ? `![${f.title}](${link})` : `- ${f.title} (interactive in report.html)`,
          "",
        );
      }
    }
  }
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

function inlineHtml(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const CSS = `body{font-family:"Liberation Sans",Arial,sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}th{background:#f2f2f2}
.caption{font-size:13px;margin:.2em 0}
.note{background:#fff4d6;border-left:4px solid #e0a800;padding:.4em .8em;margin:.5em 0;font-size:13px}
.plot{margin:1em 0;border:1px solid #eee}code{background:#f4f4f4;padding:0 3px}
.missing{background:#fdecea;border-left:4px solid #d33;padding:.4em .8em}`;

/**
 * Render a report as one self-contained HTML page: tables, notes and every figure, with the
 * plotly.js bundle inlined (`plotlyJs`; when null the page says figures need plotly.js and
 * still carries the figure data).
 */
export function reportHtml(report: Report, plotlyJs: string | null): string {
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(report.title)}</h1>`);
  parts.push(`<p>Generated by src/experiments/report.ts on ${escapeHtml(report.generated)}.</p>`);
  parts.push(
    `<h2>Provenance</h2><ul>${
      report.provenance.map((p) => `<li>${inlineHtml(p)}</li>`).join("")
    }</ul>`,
  );
  for (const w of report.warnings) parts.push(`<p class="note">warning: ${inlineHtml(w)}</p>`);
  if (!plotlyJs) {
    parts.push(
      `<p class="missing">plotly.js was not found when this page was written (run 'deno install'), so ` +
        `the figures below are not drawn; their data is embedded in the page.</p>`,
    );
  }
  const figs: { div: string; fig: NamedFigure }[] = [];
  let n = 0;
  for (const s of report.sections) {
    parts.push(`<h2>${escapeHtml(s.section.heading)}</h2>`);
    parts.push(`<ul>${s.facts.map((f) => `<li>${inlineHtml(f)}</li>`).join("")}</ul>`);
    for (const t of s.tables) {
      n++;
      parts.push(`<h3>Table ${n}. ${escapeHtml(t.title)}</h3>`);
      for (const note of t.notes) parts.push(`<p class="note">${inlineHtml(note)}</p>`);
      parts.push(`<p class="caption">${inlineHtml(t.caption)}</p>`);
      parts.push(t.display.toHTML());
    }
    for (const note of s.notes) parts.push(`<p class="note">${inlineHtml(note)}</p>`);
    if (s.figures.length) parts.push(`<h3>Figures</h3>`);
    for (const f of s.figures) {
      const div = `fig-${s.section.slug}-${f.id}`.replace(/[^A-Za-z0-9_-]/g, "-");
      const w = Number(f.figure.layout.width ?? 1100), hgt = Number(f.figure.layout.height ?? 600);
      parts.push(
        `<div class="plot" id="${div}" style="width:${w}px;height:${hgt}px" title="${
          escapeHtml(f.title)
        }"></div>`,
      );
      figs.push({ div, fig: f });
    }
  }
  const figData = `[${
    figs.map((f) => `{"div":${JSON.stringify(f.div)},"fig":${figureJson(f.fig.figure)}}`).join(
      ",\n",
    )
  }]`;
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<style>${CSS}</style>
${plotlyJs ? `<script>${scriptSafe(plotlyJs)}</script>` : ""}
</head><body>
${parts.join("\n")}
<script type="application/json" id="figure-data">${figData}</script>
<script>
(function () {
  if (typeof Plotly === "undefined") return;
  const figs = JSON.parse(document.getElementById("figure-data").textContent);
  for (const f of figs) Plotly.newPlot(f.div, f.fig.data, f.fig.layout, {displaylogo: false});
})();
</script>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  /** Render PNG figures when Chromium is available (default true). */
  png?: boolean;
  /** Progress and skip messages (default: none). */
  log?: (line: string) => void;
  /** Report title. */
  title?: string;
}

/** Remove the files `<dir>/<prefix>*<ext>` (files this module wrote earlier). */
async function removeGenerated(dir: string, prefix: string, ext: string): Promise<void> {
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(ext)) names.push(e.name);
    }
  } catch {
    return; // no such directory yet
  }
  names = names.sort();
  for (const n of names) await Deno.remove(join(dir, n));
}

/** The non-empty lines of `<outDir>/command.txt` (none when the file is absent). */
export async function readCommands(outDir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(join(outDir, "command.txt"))).split("\n").map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Write the report of `results` into `outDir`: report.md, report.html (self-contained: tables,
 * figures, plotly inlined), `tables/<section>__<table>.csv` (one per table) and, when `png` is
 * not false and Chromium is installed, `figures/<section>__<figure>.png`. A missing Chromium or
 * plotly.js is logged ("PNG skipped: ...") and never fails the call. Returns the files written
 * and the Markdown.
 */
export async function writeReports(
  results: CellResult[],
  outDir: string,
  opts: WriteReportsOptions = {},
): Promise<{ files: string[]; markdown: string }> {
  const log = opts.log ?? (() => {});
  const report = buildReport(results, { title: opts.title, commands: await readCommands(outDir) });
  for (const w of report.warnings) log(`report: warning: ${w}`);
  const files: string[] = [];
  // Earlier tables and PNGs of these sections are replaced, never left stale beside new ones.
  for (const s of report.sections) {
    await removeGenerated(join(outDir, "tables"), `${s.section.slug}__`, ".csv");
    await removeGenerated(join(outDir, "figures"), `${s.section.slug}__`, ".png");
  }
  await Deno.mkdir(join(outDir, "tables"), { recursive: true });
  for (const s of report.sections) {
    for (const t of s.tables) {
      const p = join(outDir, "tables", `${s.section.slug}__${t.id}.csv`);
      await Deno.writeTextFile(p, t.data.toCSV() + "\n");
      files.push(p);
    }
  }
  const pngLinks = new Map<string, string>();
  const allFigs = report.sections.reduce((k, s) => k + s.figures.length, 0);
  if (opts.png === false) {
    if (allFigs) log("PNG skipped: disabled (--no-png)");
  } else if (allFigs) {
    for (const s of report.sections) {
      const written = await renderPngs(s.figures, join(outDir, "figures"), {
        log,
        prefix: `${s.section.slug}__`,
      });
      written.forEach((p, i) =>
        pngLinks.set(figureKey(s.section, s.figures[i]), `figures/${p.split("/").pop()}`)
      );
      files.push(...written);
      if (written.length < s.figures.length) break; // the skip reason was logged
    }
  }
  const markdown = reportMarkdown(report, { pngLinks });
  const md = join(outDir, "report.md");
  await Deno.writeTextFile(md, markdown);
  files.push(md);
  let plotly: string | null = null;
  try {
    plotly = (await readPlotlyJs()).source;
  } catch (e) {
    log(`report: figures in report.html will not draw: ${(e as Error).message}`);
  }
  const html = join(outDir, "report.html");
  await Deno.writeTextFile(html, reportHtml(report, plotly));
  files.push(html);
  return { files, markdown };
}
