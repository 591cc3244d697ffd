/**
 * `@cmh/hashing/experiments`: experiments as data and their outputs — grid cells and their ids,
 * the runner, result files, saved cells (`reproduce --save`), codes folders scored by
 * `deno task evaluate`, reports and their figures, the paired statistics of the ablation tables,
 * the verdict on a module, the time estimate, the mechanism study, and the notebooks' display
 * helpers.
 *
 * @module
 */
export {
  cellId,
  type CellMethod,
  type ConfigValue,
  expandGrid,
  type ExperimentSpec,
  type GridParams,
  type SplitConvention,
} from "./src/experiments/spec.ts";
export {
  type CellResult,
  type FolderResults,
  readFolderResults,
  readResult,
  readResults,
  RESULT_FORMAT,
  resultPath,
  upgradeResult,
} from "./src/experiments/results.ts";
export {
  cellConfig,
  type CellOptions,
  DatasetCache,
  encodeSplit,
  evaluateModel,
  runCell,
  type RunOptions,
} from "./src/experiments/run_cell.ts";
export { type GridOptions, type GridOutcome, runGrid } from "./src/experiments/grid.ts";
export {
  loadSavedCell,
  loadSavedModel,
  saveCell,
  type SaveCellInput,
  SAVED_ARRAYS,
  SAVED_FORMAT,
  type SavedArrayName,
  type SavedCell,
  type SavedManifest,
  savedPath,
} from "./src/experiments/saved.ts";
export {
  type ArrayRecord,
  CODE_ARRAYS,
  type CodesArrayName,
  type CodesDir,
  type CodesEvaluation,
  DIRECTION_ARRAYS,
  directionsOf,
  evaluateCodesDir,
  type EvaluateCodesOptions,
  EVALUATION_FORMAT,
  type EvaluationFile,
  LABEL_ARRAYS,
  readCodesDir,
} from "./src/experiments/evaluate_codes.ts";
export {
  compareByQuery,
  compareByRun,
  type Comparison,
  comparisonHolm,
  comparisonMarkdown,
  type ComparisonRow,
  evaluationMarkdown,
} from "./src/experiments/evaluate_report.ts";
export {
  formatDiff,
  formatP,
  holm,
  type PairedComparison,
  pairedComparison,
  tCdf,
  tQuantile,
  verdict,
} from "./src/experiments/stats.ts";
export {
  type AblationEvidence,
  ablationEvidence,
  type AblationSection,
  ablationSection,
  type DiagnosticsPanel,
  pairedCells,
  type SelectedDiagnosticsRow,
  selectedEpochDiagnostics,
} from "./src/experiments/ablation_evidence.ts";
export {
  type ControlReading,
  controlStatus,
  type ControlSweep,
  formatControlReading,
  type ModuleVerdict,
  moduleVerdict,
  type VerdictCategory,
  type VerdictInput,
} from "./src/experiments/module_verdict.ts";
export type { PrimaryContrast } from "./src/experiments/report/paired.ts";
export {
  type DatasetCosts,
  describeEstimate,
  estimateGrid,
  type GridEstimate,
  MEASURED_COSTS,
} from "./src/experiments/estimate.ts";
export {
  type BuildOptions,
  buildReport,
  type DatasetSection,
  type MarkdownOptions,
  readCommands,
  type Report,
  reportMarkdown,
  type ReportTable,
  type SectionReport,
  writeFolderReport,
  writeReports,
  type WriteReportsOptions,
} from "./src/experiments/report/mod.ts";
/**
 * The pre-registered mechanism study (docs/mechanisms.md): its sweeps as typed data, the
 * analysis of their result files, and the figure of a sweep.
 */
export * as mechanisms from "./src/experiments/mechanisms/mod.ts";
export type {
  FigureImages,
  ImageFormat,
  NamedFigure,
  PlotlyFigure,
} from "./src/experiments/figures/mod.ts";
/** Plotly figures of the reports: PR curves, precision@N, training curves, MAP vs bits. */
export * as figures from "./src/experiments/figures/mod.ts";
// Notebook display helpers (Deno's Jupyter kernel).
export {
  type AblationBundles,
  ablationFigureBundles,
  figureBundle,
  figureBundles,
  type RenderableTable,
  showAblationSection,
  showBundles,
  showFigure,
  type ShowFigureOptions,
  showFigures,
  showTable,
} from "./src/experiments/notebook.ts";

// Types the experiments' signatures use.
export type { BackendInfo, BackendName } from "./src/accel/backend.ts";
export type {
  CrossModalDataset,
  CsrMatrix,
  DenseMatrix,
  Direction,
  LabelMatrix,
  Matrix,
  PackedCodes,
  Split,
} from "./src/types.ts";
export type { CodeEncoding } from "./src/retrieval/code_arrays.ts";
export type {
  CrossModalCodes,
  EmptyRetrievedPolicy,
  MetricConventions,
  RetrievalMetrics,
  ZeroRelevantPolicy,
} from "./src/retrieval/metrics.ts";
export type { EpochRecord } from "./src/train.ts";
export type {
  Batch,
  HashModel,
  LossTerms,
  StepContext,
  TrainingSetInfo,
} from "./src/models/model.ts";
export type { NamedArrays } from "./src/nn/mod.ts";
export type { Rng } from "./src/random.ts";
export type { Tensor2D } from "./src/tensor_types.ts";
/** The tables of a report (arquero's ColumnTable, as far as the toolkit types it). */
export type { ColumnTable, FormatOptions } from "./src/experiments/report/arquero.ts";
