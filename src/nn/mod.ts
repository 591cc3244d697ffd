/**
 * The network layer: parameters, layers, ops (the one door into src/accel/), tape helpers,
 * losses as formulas, the optimiser and checkpoints.
 *
 * @module
 */
export { type NamedArrays, ParamStore } from "./params.ts";
export { BatchNorm1d, Linear, Mlp, type MlpOptions } from "./layers.ts";
export {
  type Activation,
  batchNormTraining,
  dense,
  denseOps,
  labelSimilarity,
  matMulT,
  pairLikelihood,
  pairLikelihoodOps,
} from "./ops.ts";
export { constantOf, stopGradient, withoutTape } from "./tape.ts";
export { Adam, type AdamConfig, type AdamStep, adamUpdateOps } from "./optim.ts";
export { hasCheckpoint, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
