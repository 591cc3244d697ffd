/**
 * Deep cross-modal hashing in TypeScript: CPAH and DFAH on TensorFlow.js, with their
 * ablations, the standard datasets, the retrieval metrics and the experiment runner.
 *
 * Data flows one way: dataset -> model -> trainer -> codes -> metrics -> report.
 *
 * ```ts
 * import * as cmh from "./mod.ts";
 * await cmh.initBackend();                                   // wasm by default
 * const ds = await cmh.loadDataset("wikipedia");             // or "synthetic", ...
 * const split = cmh.makeSplit(ds, { convention: "fixed", seed: 1 });
 * const info = cmh.trainingSetInfo(ds, split);
 * const model = cmh.createCpah(info, cmh.cpahConfig("wikipedia", 32));
 * await cmh.train(model, { dataset: ds, train: split.train, validation: split.validation },
 *   { epochs: 50, batchSize: 128, seed: 1 });
 * const codes = model.encodeImage(cmh.gatherRows(ds.image, split.query));
 * ```
 *
 * @module
 */

// Plain data types.
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
export { DIRECTIONS } from "./src/types.ts";

// Backend selection and accelerated kernels.
export {
  BACKEND_NAMES,
  type BackendInfo,
  backendInfo,
  type BackendName,
  type BackendOptions,
  initBackend,
  parseBackendName,
} from "./src/accel/backend.ts";
export {
  FAST_KERNEL_NAMES,
  fastKernelsDescription,
  installFastKernels,
  uninstallFastKernels,
} from "./src/accel/fast_kernels.ts";
export {
  blasDescription,
  blasKernelsInstalled,
  type BlasMode,
  installBlasKernels,
  uninstallBlasKernels,
} from "./src/accel/blas.ts";

// Seeded randomness.
export { Rng } from "./src/random.ts";

// Data: readers, loaders, splits, generators.
export * from "./src/datasets/mod.ts";

// Retrieval: packed codes, Hamming ranking and the metrics.
export * from "./src/retrieval/mod.ts";

// Building blocks, losses, optimiser, checkpoints.
export {
  type Activation,
  BatchNorm1d,
  batchNormTraining,
  constantOf,
  dense,
  denseOps,
  Linear,
  Mlp,
  type NamedArrays,
  ParamStore,
  withoutTape,
} from "./src/nn/mod.ts";
export { Adam, type AdamConfig } from "./src/nn/optim.ts";
export * as losses from "./src/nn/losses.ts";
export { hasCheckpoint, readCheckpoint, writeCheckpoint } from "./src/nn/checkpoint.ts";

// Models: the shared contract, the registry, and one folder per method.
export {
  type Batch,
  checkBatch,
  checkTrainingSetInfo,
  encodeInBatches,
  type HashModel,
  type LossTerms,
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
} from "./src/models/mod.ts";
export {
  activeParts as activeCpahParts,
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
  validateDfahConfig,
} from "./src/models/dfah/mod.ts";
export {
  createRandomProjection,
  RandomProjection,
  type RandomProjectionConfig,
  randomProjectionConfig,
} from "./src/models/random_projection.ts";
export * as cpah from "./src/models/cpah/mod.ts";
export * as dfah from "./src/models/dfah/mod.ts";

/** @deprecated Renamed {@link CpahModel} (one naming for both methods). */
export { CpahModel as Cpah } from "./src/models/cpah/mod.ts";

// Training.
export {
  type EpochRecord,
  train,
  type TrainData,
  type TrainOptions,
  type TrainResult,
  validationMap,
} from "./src/train.ts";

// Experiments and reports.
export {
  cellId,
  type CellMethod,
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
export { cellConfig, DatasetCache, evaluateModel, runCell } from "./src/experiments/run_cell.ts";
export { type GridOutcome, runGrid } from "./src/experiments/grid.ts";
export {
  buildReport,
  readCommands,
  reportMarkdown,
  writeReports,
} from "./src/experiments/report/mod.ts";
export * as figures from "./src/experiments/figures/mod.ts";
export { TOOLKIT_VERSION } from "./src/version.ts";

// Notebook display helpers (Deno's Jupyter kernel).
export {
  figureBundle,
  type RenderableTable,
  showFigure,
  type ShowFigureOptions,
  showFigures,
  showTable,
} from "./src/experiments/notebook.ts";
