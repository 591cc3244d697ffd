/**
 * The TensorFlow.js types that appear in the toolkit's public signatures (models, layers, the
 * optimiser), as aliases of the toolkit's own `npm:@tensorflow/tfjs@4.22.0`: mod.ts exports
 * them, so the API documentation is complete without documenting TensorFlow.js itself. Code
 * inside the toolkit may use `tf.Tensor2D` and these names interchangeably.
 *
 * @module
 */
import type * as tf from "npm:@tensorflow/tfjs@4.22.0";

/** A TensorFlow.js tensor of any rank. */
export type Tensor = tf.Tensor;
/** A TensorFlow.js rank-0 tensor (a loss value). */
export type Scalar = tf.Scalar;
/** A TensorFlow.js vector. */
export type Tensor1D = tf.Tensor1D;
/** A TensorFlow.js matrix (rows x columns: batch x features, batch x bits, ...). */
export type Tensor2D = tf.Tensor2D;
/** A trainable TensorFlow.js tensor (a model parameter or a running statistic). */
export type Variable = tf.Variable;
/** Tensors by name (gradients of named variables). */
export type NamedTensorMap = tf.NamedTensorMap;
