/**
 * The terms of DFAH's network objective, one function per term (claims 1-3 of the abstract).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import {
  bceWithLogits,
  bitBalance,
  gradientPenalty,
  pairNll,
  quantization,
} from "../../nn/losses.ts";

// Loss terms (one function per term of the objective)

/**
 * Cross-modal pairwise likelihood (claim 1, DCMH). Batch mode (`stored` absent):
 * L_pair(h^v, h^t) with `s` batch x batch. Stored mode: the mean of L_pair(h^v, stored H^t)
 * and L_pair(h^t, stored H^v), `s` batch x N (N stored rows, constants).
 */
export function pairwiseTerm(
  hv: tf.Tensor2D,
  ht: tf.Tensor2D,
  s: tf.Tensor2D,
  stored?: { hv: tf.Tensor2D; ht: tf.Tensor2D },
): tf.Scalar {
  return tf.tidy(() => {
    if (!stored) return pairNll(hv, ht, s);
    return tf.mul(tf.add(pairNll(hv, stored.ht, s), pairNll(ht, stored.hv, s)), 0.5) as tf.Scalar;
  });
}

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

/**
 * Adversarial term of the extractors (claim 3): binary cross-entropy of D's logits with the
 * labels flipped (image features -> 0, text features -> 1), mean over the 2m items.
 */
export function adversarialTerm(dv: tf.Tensor2D, dt: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() =>
    bceWithLogits(
      tf.concat([dv, dt], 0),
      tf.concat([tf.zerosLike(dv), tf.onesLike(dt)], 0),
    )
  );
}

/**
 * Loss of the Modality Discriminator (claim 3): BCE of D(f^v) -> 1 and D(f^t) -> 0, mean over
 * the 2m items, plus `gpWeight` times the gradient penalty on interpolates
 * eps f^v + (1 - eps) f^t (`eps` m x 1). `inputGradient` computes D's input gradient directly
 * (the model passes `Mlp.inputGradient`, first-order ops); without it, tf.grad of `critic`.
 */
export function discriminatorLoss(
  critic: (x: tf.Tensor2D) => tf.Tensor2D,
  fv: tf.Tensor2D,
  ft: tf.Tensor2D,
  eps: tf.Tensor2D,
  gpWeight: number,
  inputGradient?: (x: tf.Tensor2D) => tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const dv = critic(fv), dt = critic(ft);
    let loss: tf.Tensor = bceWithLogits(
      tf.concat([dv, dt], 0),
      tf.concat([tf.onesLike(dv), tf.zerosLike(dt)], 0),
    );
    if (gpWeight > 0) {
      loss = tf.add(loss, tf.mul(gradientPenalty(critic, fv, ft, eps, inputGradient), gpWeight));
    }
    return loss as tf.Scalar;
  });
}

/** Optional bit balance (DCMH): bitBalance(h^v) + bitBalance(h^t). */
export function balanceTerm(hv: tf.Tensor2D, ht: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(bitBalance(hv), bitBalance(ht)) as tf.Scalar);
}
