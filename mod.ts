/**
 * Deep cross-modal hashing in TypeScript: CPAH and DFAH on TensorFlow.js, with their
 * ablations, the standard datasets, the retrieval metrics and the experiment runner.
 *
 * This module holds the entry points a user needs: load data, split it, create and train a
 * model, encode, evaluate (a trained model, or codes produced anywhere), read result files and
 * write reports. Everything else is behind subpath exports (deno.json `exports`):
 *
 * - `@cmh/hashing/datasets` (datasets.ts): loaders, file readers (MAT, .npy), matrices, splits;
 * - `@cmh/hashing/retrieval` (retrieval.ts): packed codes, Hamming ranking, every metric;
 * - `@cmh/hashing/models` (models.ts): the registry, every method's config and parts, the
 *   model contract, diagnostics;
 * - `@cmh/hashing/nn` (nn.ts): parameters, layers, losses, the optimiser, seeded randomness;
 * - `@cmh/hashing/experiments` (experiments.ts): grids, result files, saved cells, reports,
 *   figures, statistics, the mechanism study, notebook display helpers;
 * - `@cmh/hashing/backend` (backend.ts): backend choice and information.
 *
 * Data flows one way: dataset -> model -> trainer -> codes -> metrics -> report. Epochs, batch
 * size and seed come from the method's config (its defaults for the dataset: the one place that
 * sets them); `train` takes them from there unless told otherwise.
 *
 * ```ts
 * import * as cmh from "./mod.ts";
 * await cmh.initBackend();                                   // wasm by default
 * const ds = await cmh.loadDataset("synthetic");             // or "wikipedia", "npy:./mine"...
 * const split = cmh.makeSplit(ds, { seed: 1 });
 * const info = cmh.trainingSetInfo(ds, split);
 * const config = cmh.cpahConfig("synthetic", 32);            // 30 epochs, batch 64 on synthetic
 * const model = cmh.method("cpah").create(info, config);     // any method of the registry
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
// Data: load, split
// ---------------------------------------------------------------------------------------------

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
export {
  DATASET_NAMES,
  type DatasetName,
  defaultDataDir,
  loadDataset,
  type LoadDatasetOptions,
} from "./src/datasets/datasets.ts";
export { loadNpyDataset, type NpyDatasetOptions } from "./src/datasets/npy_dir.ts";
export { synthetic, type SyntheticOptions } from "./src/datasets/synthetic.ts";
export type { SimulatedImageOptions } from "./src/datasets/simulated.ts";
export { makeSplit, type SplitConvention, type SplitOptions } from "./src/datasets/split.ts";

// ---------------------------------------------------------------------------------------------
// Models: create, configure, save / load
// ---------------------------------------------------------------------------------------------

export {
  type Batch,
  type HashModel,
  type LossTerms,
  type OptimisationConfig,
  type StepContext,
  type TrainingSetInfo,
  trainingSetInfo,
} from "./src/models/model.ts";
export {
  type AblationFlag,
  loadModel,
  method,
  METHOD_NAMES,
  type MethodEntry,
  type MethodKind,
  type MethodName,
  METHODS,
  saveModel,
  type TrainingPairs,
} from "./src/models/mod.ts";
export { type CpahConfig, cpahConfig } from "./src/models/cpah/mod.ts";
export { type DfahConfig, dfahConfig, type PairMode } from "./src/models/dfah/mod.ts";
export type { NamedArrays } from "./src/nn/mod.ts";
export type { Tensor2D } from "./src/tensor_types.ts";
export { Rng } from "./src/random.ts";

// ---------------------------------------------------------------------------------------------
// Train, encode, evaluate
// ---------------------------------------------------------------------------------------------

export {
  type EpochRecord,
  train,
  type TrainData,
  type TrainOptions,
  type TrainResult,
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
export { type PackedLabels, packLabels, packSigns } from "./src/retrieval/codes.ts";

// ---------------------------------------------------------------------------------------------
// Codes produced anywhere: .npy arrays, a folder in the `--save` layout
// ---------------------------------------------------------------------------------------------

export {
  type EncodeNpyOptions,
  type NpyArray,
  type NpyData,
  type NpyDtype,
  readNpy,
  writeNpy,
} from "./src/datasets/formats/npy.ts";
export {
  type CodeEncoding,
  type CodesFromArray,
  codesFromNpy,
} from "./src/retrieval/code_arrays.ts";
export {
  type ArrayRecord,
  CODE_ARRAYS,
  type CodesArrayName,
  type CodesDir,
  type CodesEvaluation,
  evaluateCodesDir,
  type EvaluateCodesOptions,
  EVALUATION_FORMAT,
  type EvaluationFile,
  LABEL_ARRAYS,
  readCodesDir,
} from "./src/experiments/evaluate_codes.ts";

// ---------------------------------------------------------------------------------------------
// Experiments and reports
// ---------------------------------------------------------------------------------------------

export type { CellMethod, ConfigValue, ExperimentSpec } from "./src/experiments/spec.ts";
export { type CellResult, readResults, RESULT_FORMAT } from "./src/experiments/results.ts";
export { writeReports, type WriteReportsOptions } from "./src/experiments/report/mod.ts";
export type { ImageFormat } from "./src/experiments/figures/mod.ts";

// ---------------------------------------------------------------------------------------------
// Backend and version
// ---------------------------------------------------------------------------------------------

export {
  type BackendInfo,
  type BackendName,
  type BackendOptions,
  initBackend,
} from "./src/accel/backend.ts";
export type { WebGpuAdapter } from "./src/accel/webgpu.ts";
export type { BlasMode } from "./src/accel/blas.ts";
export { TOOLKIT_VERSION } from "./src/version.ts";
