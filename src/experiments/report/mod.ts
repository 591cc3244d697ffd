/**
 * Paper-style reports of an experiment grid: per dataset section (dataset, variant, split) a
 * main MAP table (full models and the random-projection baseline by code length), one ablation
 * table per method, the ablations as paired differences with confidence intervals and
 * Holm-corrected tests, the training record (selected epochs, early stops), on the published
 * benchmarks our rows beside the published rows of src/experiments/published.ts with the
 * differences in image features and protocol spelled out, and one "more metrics" table per
 * code length (all four directions, MAP@k standard and legacy, precision within radius 2).
 * Every number shown is read from the result files: mean ± sample standard deviation over
 * seeds, "—" where a cell has no result. {@link longTable} is every per-seed number in tidy
 * long format.
 *
 * {@link buildReport} makes the report as data; {@link reportMarkdown} and {@link reportHtml}
 * render it; {@link writeReports} writes report.md, report.html (small: the basic plotly.js
 * bundle inlined when it draws every figure, figures embedded), one CSV per table, the long
 * CSV and, when Chromium is available, SVG and PNG figures.
 *
 * @module
 */
export {
  ablationTables,
  type BuildOptions,
  type DatasetSection,
  formatSummary,
  groupSections,
  mainTable,
  MISSING,
  type Report,
  type ReportTable,
  type SectionReport,
} from "./tables.ts";
export { publishedComparison } from "./published_table.ts";
export {
  LONG_COLUMNS,
  LONG_METRICS,
  type LongRow,
  longRows,
  longTable,
  moreMetricsTables,
} from "./metrics_tables.ts";
export {
  comparisonMde,
  pairedAblationTables,
  PRIMARY_BITS,
  type PrimaryContrast,
  primaryContrasts,
  primaryContrastsTable,
  selectedDiagnostics,
  selectedLast,
  TRAINING_TABLE_DIAGNOSTICS,
  trainingTable,
} from "./paired.ts";
export { buildReport, describeBackend, formatSeconds } from "./build.ts";
export { figureKey, type MarkdownOptions, reportMarkdown, tableMarkdown } from "./markdown.ts";
export { reportHtml } from "./html.ts";
export {
  readCommands,
  writeFolderReport,
  writeReports,
  type WriteReportsOptions,
} from "./write.ts";
