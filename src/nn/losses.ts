/**
 * Loss pieces shared by CPAH and DFAH (methods.md, "Shared loss pieces"), each written as its
 * formula in one small function named after its role; how an op runs fast is the business of
 * src/nn/ops.ts and src/accel/. Normalisation (a choice of this project, documented in the
 * README): every term is a MEAN — the pairwise likelihood over the pairs it sees, the
 * quantisation and regression terms over code entries, cross-entropies over items — so the
 * weights (alpha, beta, gamma, ...) compare terms of comparable scale.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { matMulT, pairLikelihood } from "./ops.ts";

export { labelSimilarity, pairLikelihood, pairLikelihoodOps } from "./ops.ts";

/**
 * Pairwise negative log-likelihood (DCMH): Theta_ij = 0.5 h^a_i . h^b_j,
 * L = mean_ij( log(1 + exp(Theta_ij)) - S_ij Theta_ij ), computed stably with softplus.
 * `ha`: m x K, `hb`: n x K, `s`: m x n (a constant: no gradient flows to it). The 0.5 scales
 * the m x K side before the product; the elementwise part is {@link pairLikelihood}.
 */
export function pairNll(ha: tf.Tensor2D, hb: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => pairLikelihood(matMulT(tf.mul(ha, 0.5), hb, false, true) as tf.Tensor2D, s));
}

/** Quantisation / regression onto targets: mean over entries of (B - h)^2. */
export function quantization(target: tf.Tensor2D, h: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(target, h)) as tf.Scalar);
}

/** Bit balance (DCMH): mean over bits of (column mean of h)^2, i.e. ||h^T 1||^2 / (m^2 K). */
export function bitBalance(h: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.mean(h, 0))) as tf.Scalar);
}

/** Binary cross-entropy with logits, mean over entries (stable: softplus form). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    // max(z,0) - z*y + log(1 + exp(-|z|)) == softplus(z) - z*y
    tf.mean(tf.sub(tf.softplus(logits), tf.mul(logits, targets))) as tf.Scalar
  );
}

/** Softmax cross-entropy of logits (m x k) against integer classes, mean over items. */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  classes: number[] | Int32Array,
): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const oneHot = tf.oneHot(tf.tensor1d(Array.from(classes), "int32"), k);
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), 1))) as tf.Scalar;
  });
}

/**
 * WGAN-GP style gradient penalty: mean over items of (||d D(x_hat) / d x_hat||_2 - 1)^2 with
 * x_hat = eps * a + (1 - eps) * b, eps ~ U(0,1) per item (given as `eps`, m x 1, so the
 * caller's seeded generator decides). `critic` maps m x d -> m x 1 (logits). The input gradient
 * is tf.grad of the critic (a second-order gradient when the penalty is differentiated), or
 * `inputGradient(x_hat)` when given: the same gradient written as first-order ops (for an Mlp
 * critic, `Mlp.inputGradient` in src/nn/layers.ts).
 */
export function gradientPenalty(
  critic: (x: tf.Tensor2D) => tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  eps: tf.Tensor2D,
  inputGradient?: (x: tf.Tensor2D) => tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const xHat = tf.add(tf.mul(eps, a), tf.mul(tf.sub(1, eps), b)) as tf.Tensor2D;
    const g = inputGradient
      ? inputGradient(xHat)
      : tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor2D)))(xHat);
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), 1), 1e-12));
    return tf.mean(tf.square(tf.sub(norm, 1))) as tf.Scalar;
  });
}
