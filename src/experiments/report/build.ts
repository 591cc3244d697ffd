/**
 * The report as data: sections with their tables, facts (data, backend, epochs, timing) and
 * figures ({@link buildReport}).
 *
 * @module
 */
import { bitsOf, type NamedFigure, sectionFigures } from "../figures/mod.ts";
import { publishedComparison } from "./published_table.ts";
import {
  pairedAblationTables,
  type PrimaryContrast,
  primaryContrastsTable,
  type PrimaryReading,
  trainingTable,
} from "./paired.ts";
import { moreMetricsTables } from "./metrics_tables.ts";
import {
  ablationTables,
  type BuildOptions,
  type DatasetSection,
  DEFAULT_TITLE,
  distinct,
  groupSections,
  mainTable,
  type Report,
  type SectionReport,
  splitSizes,
} from "./tables.ts";
import type { CellResult } from "../results.ts";
import type { CellMethod } from "../spec.ts";
import { formatP, formatSigned } from "../stats.ts";
import { type ControlReading, controlStatus, moduleVerdict } from "../module_verdict.ts";
import { methodLabel } from "../../models/mod.ts";

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

export function cellSeconds(r: CellResult): number {
  const t = Date.parse(r.finished) - Date.parse(r.started);
  return Number.isFinite(t) && t >= 0 ? t / 1000 : 0;
}

/** One line naming a backend, e.g. "wasm (tfjs 4.22.0; accelerated: cblas openblas)". */
export function describeBackend(b: CellResult["backend"]): string {
  const parts = [`tfjs ${b.tfjs}`];
  if (b.nativePackage) parts.push(`native package ${b.nativePackage}`);
  if (b.accelerated) parts.push(`accelerated kernels: ${b.accelerated}`);
  if (b.explicitTransposeGrad) parts.push("explicit-transpose MatMul gradient");
  if (b.adapter) {
    parts.push(
      `adapter ${b.adapter.description}${b.adapter.isFallbackAdapter ? " (software)" : ""}`,
    );
  }
  return `${b.name} (${parts.join("; ")})`;
}

export function sectionFacts(section: DatasetSection): string[] {
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

/** A positive control in a table cell: its status, name and, once run, Δ and Holm p. */
function controlCell(c: ControlReading): string {
  if (c.status === "none" || c.status === "not run") {
    return c.status === "none" ? controlStatus(c) : `${controlStatus(c)}, \`${c.control.name}\``;
  }
  const delta = Number.isFinite(c.test.mean) ? formatSigned(c.test.mean) : "—";
  return `${c.status} (\`${c.control.name}\`: Δ ${delta}, p ${formatP(c.p)})`;
}

/** A primary contrast's control and verdict (docs/mechanisms.md, amendment 4), in words. */
function primaryReading(
  controls: (method: CellMethod, ablation: string) => ControlReading,
): (row: PrimaryContrast) => PrimaryReading {
  return (row) => {
    const control = controls(row.method as CellMethod, row.ablation);
    return {
      control: controlCell(control),
      verdict: moduleVerdict({ source: "committed", primary: row, control }).label,
    };
  };
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
    const training = trainingTable(section);
    const primary = primaryContrastsTable(
      section,
      opts.controls ? primaryReading(opts.controls) : undefined,
    );
    const tables = [
      mainTable(section),
      ...ablationTables(section),
      ...(primary ? [primary] : []),
      ...pairedAblationTables(section),
      ...(training ? [training] : []),
    ];
    const notes: string[] = [];
    const cmp = publishedComparison(section);
    if (cmp.table) tables.push(cmp.table);
    else if (cmp.reason) notes.push(cmp.reason);
    tables.push(...moreMetricsTables(section));
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
    generated: (opts.now ?? new Date()).toISOString(),
    provenance,
    sections: out,
    warnings,
  };
}
