/**
 * `@cmh/hashing/nn`: the building blocks of the learned methods — parameters, layers, the
 * optimiser, the losses as formulas, seeded randomness and the TensorFlow.js types of the
 * public signatures.
 *
 * @module
 */
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
