/**
 * Deep cross-modal hashing in TypeScript: CPAH and DFAH on TensorFlow.js, with their
 * ablations, the standard datasets, the retrieval metrics and the experiment runner.
 *
 * Data flows one way: dataset -> model -> trainer -> codes -> metrics -> report. The entry
 * points come first below: training and evaluation, the models, the datasets; then codes and
 * metrics, saved cells, experiments and reports, the backend, and the building blocks.
 *
 * Epochs, batch size and seed come from the method's config (its defaults for the dataset:
 * the one place that sets them); `train` takes them from there unless told otherwise.
 *
 * ```ts
 * import * as cmh from "./mod.ts";
 * await cmh.initBackend();                                   // wasm by default
 * const ds = await cmh.loadDataset("synthetic");             // or "wikipedia", ...
 * const split = cmh.makeSplit(ds, { seed: 1 });
 * const info = cmh.trainingSetInfo(ds, split);
 * const config = cmh.cpahConfig("synthetic", 32);            // 30 epochs, batch 64 on synthetic
 * const model = cmh.createCpah(info, config);
 * await cmh.train(model, { dataset: ds, train: split.train, validation: split.validation });
 * const metrics = cmh.evaluateModel(model, ds, split);       // all four directions
 * console.log(metrics.I2T.mapAll, metrics.T2I.mapAll);
 * await cmh.saveModel(model, info, "my-model");              // cmh.loadModel("my-model")
 * model.dispose();
 * ```
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Train and evaluate
// ---------------------------------------------------------------------------------------------

export {
  type EpochRecord,
  train,
  type TrainData,
  type TrainOptions,
  type TrainResult,
  validationMap,
} from "./src/train.ts";
export { encodeSplit, evaluateModel } from "./src/experiments/run_cell.ts";
export {
  type CrossModalCodes,
  DEFAULT_MAP_AT_K,
  type DirectionMetrics,
  type DirectionsOptions,
  type EmptyRetrievedPolicy,
  evaluate,
  evaluateDirections,
  type EvaluateOptions,
  mapAll,
  type MetricConventions,
  type RetrievalMetrics,
  type ZeroRelevantPolicy,
} from "./src/retrieval/metrics.ts";
export { mapAllParallel, type ParallelOptions } from "./src/retrieval/parallel.ts";

// ---------------------------------------------------------------------------------------------
// Models: the contract, the registry, save / load, and one section per method
// ---------------------------------------------------------------------------------------------

export {
  type Batch,
  ClosedFormModel,
  encodeInBatches,
  type Forward,
  type HashModel,
  type LossTerms,
  NoTrainingSteps,
  type OptimisationConfig,
  type StepContext,
  type TrainingSetInfo,
  trainingSetInfo,
} from "./src/models/model.ts";
export {
  ablationDescription,
  type AblationFlag,
  ablationNames,
  isTrainable,
  loadModel,
  method,
  METHOD_NAMES,
  type MethodEntry,
  type MethodKind,
  methodLabel,
  type MethodName,
  METHODS,
  saveModel,
  type TrainingPairs,
} from "./src/models/mod.ts";
export { createDcmh, Dcmh, type DcmhConfig, dcmhConfig } from "./src/models/dcmh.ts";
export {
  createScm,
  Scm,
  type ScmConfig,
  scmConfig,
  type ScmFitReport,
  type ScmVariant,
} from "./src/models/scm.ts";
export {
  Cmfh,
  type CmfhConfig,
  cmfhConfig,
  type CmfhFitReport,
  createCmfh,
} from "./src/models/cmfh.ts";
export {
  activeParts as activeCpahParts,
  type Branch as CpahBranch,
  CPAH_BITS,
  type CpahConfig,
  cpahConfig,
  CpahModel,
  type CpahParts,
  createCpah,
  validateCpahConfig,
} from "./src/models/cpah/mod.ts";
export {
  createDfah,
  type DfahConfig,
  dfahConfig,
  DfahModel,
  type DfahParts,
  type DiscreteProblem,
  type Forward as DfahForward,
  type PairMode,
  validateDfahConfig,
} from "./src/models/dfah/mod.ts";
export {
  createRandomProjection,
  RandomProjection,
  type RandomProjectionConfig,
  randomProjectionConfig,
} from "./src/models/random_projection.ts";
export {
  type Diagnostics,
  discriminatorAccuracy,
  EpochMeans,
  type QuantisationStats,
  quantisationStats,
  readScalars,
} from "./src/models/diagnostics.ts";
/** CPAH's modules: config, one function per term of the objective, the model, diagnostics. */
export * as cpah from "./src/models/cpah/mod.ts";
/** DFAH's modules: config, terms, the discrete step, the model, diagnostics. */
export * as dfah from "./src/models/dfah/mod.ts";

/** @deprecated Renamed {@link CpahModel} (one naming for both methods). */
export { CpahModel as Cpah } from "./src/models/cpah/mod.ts";

// ---------------------------------------------------------------------------------------------
// Datasets: loaders, splits, generated data, matrices and file readers
// ---------------------------------------------------------------------------------------------

export type {
  CrossModalDataset,
  CsrMatrix,
  DenseMatrix,
  Direction,
  LabelMatrix,
  Matrix,
  NumericArray,
  PackedCodes,
  Split,
} from "./src/types.ts";
export { DIRECTIONS } from "./src/types.ts";
export {
  DATASET_NAMES,
  DATASET_VARIANTS,
  type DatasetName,
  defaultDataDir,
  loadDataset,
  type LoadDatasetOptions,
  MIRFLICKR_LABELS,
  WIKIPEDIA_CATEGORIES,
} from "./src/datasets/datasets.ts";
export {
  DEFAULT_SPLIT_SIZES,
  defaultSplitSizes,
  makeSplit,
  SPLIT_CONVENTIONS,
  type SplitOptions,
} from "./src/datasets/split.ts";
export { synthetic, SYNTHETIC_DEFAULTS, type SyntheticOptions } from "./src/datasets/synthetic.ts";
export { SIMULATED_DEFAULTS, type SimulatedImageOptions } from "./src/datasets/simulated.ts";
export {
  denseMatrix,
  describeMatrix,
  gatherLabelRows,
  gatherRows,
  labelMatrix,
  toDense,
} from "./src/datasets/matrix.ts";
export { inspectMatFile, type MatFormat, readMatFile } from "./src/datasets/formats/matfile.ts";
export type {
  MatCharVariable,
  MatClass,
  MatNumericClass,
  MatNumericVariable,
  MatSparseVariable,
  MatTypedArray,
  MatUnsupportedVariable,
  MatVariable,
  MatVariableInfo,
} from "./src/datasets/formats/mat.ts";
// .npy files: every export of npy.ts (parse / read / encode / write, conversions to matrices).
export * from "./src/datasets/formats/npy.ts";

// ---------------------------------------------------------------------------------------------
// Codes: packing and Hamming distances
// ---------------------------------------------------------------------------------------------

export {
  hamming,
  packDense,
  type PackedLabels,
  packLabels,
  packSigns,
  sharesLabel,
  unpackCodes,
} from "./src/retrieval/codes.ts";
export { hammingDistances, hammingRanking } from "./src/retrieval/metrics.ts";

// ---------------------------------------------------------------------------------------------
// Saved cells (`reproduce --save`): model, codes, labels, split (docs/saved-models.md)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Experiments and reports
// ---------------------------------------------------------------------------------------------

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
  runCell,
  type RunOptions,
} from "./src/experiments/run_cell.ts";
export { type GridOptions, type GridOutcome, runGrid } from "./src/experiments/grid.ts";
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
export { TOOLKIT_VERSION } from "./src/version.ts";

// Notebook display helpers (Deno's Jupyter kernel).
export {
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

// ---------------------------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------------------------

export {
  BACKEND_NAMES,
  type BackendInfo,
  backendInfo,
  type BackendName,
  type BackendOptions,
  initBackend,
  parseBackendName,
} from "./src/accel/backend.ts";
export type { BlasMode } from "./src/accel/blas.ts";
export type { WebGpuAdapter } from "./src/accel/webgpu.ts";

// ---------------------------------------------------------------------------------------------
// Building blocks (for new methods) and seeded randomness
// ---------------------------------------------------------------------------------------------

export { Rng } from "./src/random.ts";
export {
  type Activation,
  BatchNorm1d,
  Linear,
  Mlp,
  type MlpOptions,
  type NamedArrays,
  ParamStore,
} from "./src/nn/mod.ts";
export { Adam, type AdamConfig } from "./src/nn/optim.ts";
/** The losses as formulas (means; see the README's "Loss scale"). */
export * as losses from "./src/nn/losses.ts";
export type {
  NamedTensorMap,
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Variable,
} from "./src/tensor_types.ts";
