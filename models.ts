/**
 * `@cmh/hashing/models`: every hashing method and what they share — the model contract, the
 * registry (configs, factories, ablation flags, save / load), CPAH and DFAH with their parts,
 * the baselines (DCMH, SCM, CMFH, random projection), the per-epoch diagnostics, and the
 * training loop with its validation MAP.
 *
 * @module
 */
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
  DEFAULT_GRID_METHODS,
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
export {
  type EpochRecord,
  train,
  type TrainData,
  type TrainOptions,
  type TrainResult,
  validationMap,
} from "./src/train.ts";
/** CPAH's modules: config, one function per term of the objective, the model, diagnostics. */
export * as cpah from "./src/models/cpah/mod.ts";
/** DFAH's modules: config, terms, the discrete step, the model, diagnostics. */
export * as dfah from "./src/models/dfah/mod.ts";

/** @deprecated Renamed {@link CpahModel} (one naming for both methods). */
export { CpahModel as Cpah } from "./src/models/cpah/mod.ts";

// Types the models' signatures use.
export type {
  CrossModalDataset,
  CsrMatrix,
  DenseMatrix,
  LabelMatrix,
  Matrix,
  PackedCodes,
  Split,
} from "./src/types.ts";
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
export type {
  NamedTensorMap,
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Variable,
} from "./src/tensor_types.ts";
export {
  ablationCheck,
  BINARY_SCALE_BAND,
  emptyManipulation,
  FUSION_DECISIVE_MIN,
  GRAD_SHARE_MIN,
  type Manipulation,
  meanManipulation,
  MERGED_BAND,
  type ModuleCheck,
  moduleCheck,
  type PerModality,
  relaxedScaleCheck,
} from "./src/models/manipulation.ts";
export { adversarialTerm, discriminatorLoss, pairwiseTerm, signStep } from "./src/models/terms.ts";
export { configError, type FieldRule, validateFields, withOverrides } from "./src/models/config.ts";
