/**
 * The terms of DFAH's network objective, one function per term (claims 1-3 of the abstract).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { bitBalance, pairNll, quantization } from "../../nn/losses.ts";

// Loss terms (one function per term of the objective)

/**
 * Cross-modal pairwise likelihood L_pair (claim 1, DCMH), adversarial term of the extractors
 * (claim 3, a confusion target) and the Modality Discriminator's loss (claim 3, without the
 * gradient penalty): the terms DFAH shares with CPAH, defined once in
 * src/models/terms.ts, so that they mean the same thing at the same scale in both.
 */
export { adversarialTerm, discriminatorLoss, pairwiseTerm } from "../terms.ts";

/** Optional intra-modal pair term L_pair(h, other) (other = stored outputs or h itself). */
export function intraModalTerm(h: tf.Tensor2D, other: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return pairNll(h, other, s);
}

/**
 * Fusion pair term (claim 2): pair likelihood of the fused codes u against `other` (stored U of
 * all items, or u itself in batch mode), so the unified code embeds the pair semantics.
 */
export function fusionPairTerm(u: tf.Tensor2D, other: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return pairNll(u, other, s);
}

/**
 * Label embedding (claim 2): mean over entries of (l P_l - u)^2, with `labels` m x c (0/1),
 * `pl` the learned c x K projection and `u` m x K.
 */
export function labelEmbeddingTerm(
  labels: tf.Tensor2D,
  pl: tf.Tensor2D,
  u: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => quantization(tf.matMul(labels, pl), u));
}

/**
 * Quantisation / regression (claim 4): mean(target - h^v)^2 + mean(target - h^t)^2
 * (+ mean(target - u)^2 when `u` is given). Target = the batch rows of B (±1, or real-valued
 * under `relaxed`).
 */
export function quantizationTerm(
  target: tf.Tensor2D,
  hv: tf.Tensor2D,
  ht: tf.Tensor2D,
  u?: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    let q = tf.add(quantization(target, hv), quantization(target, ht));
    if (u) q = tf.add(q, quantization(target, u));
    return q as tf.Scalar;
  });
}

/** Optional bit balance (DCMH): bitBalance(h^v) + bitBalance(h^t). */
export function balanceTerm(hv: tf.Tensor2D, ht: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(bitBalance(hv), bitBalance(ht)) as tf.Scalar);
}
