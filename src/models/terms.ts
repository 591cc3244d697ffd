/**
 * The loss terms CPAH and DFAH share, defined once so that a term of the same name means the
 * same thing at the same scale in both methods (each a mean; the methods' weights and
 * normalisations are applied by the caller), and the sign step both methods' discrete steps
 * end with.
 *
 * The adversarial pair of terms is a confusion game. D learns image = 1, text = 0
 * ({@link discriminatorLoss}); the networks learn to make D answer 1/2 on both modalities
 * ({@link adversarialTerm}). Its optimum for the networks is D at chance on every item: a
 * representation where D calls images "text" and texts "image" costs them as much as one where
 * D is right, so the modalities can only merge, never trade places. (Training the networks
 * towards D's flipped labels has its optimum at the swap; docs/methods.md has the history.)
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { bceWithLogits, pairNll } from "../nn/losses.ts";
import type { Scalar, Tensor2D } from "../tensor_types.ts";

/**
 * L_pair: the pairwise likelihood across modalities, the mean of its two directions:
 * (pairNll(h^v, other^t, S) + pairNll(h^t, other^v, S)) / 2. `hv`, `ht`: m x K batch outputs;
 * `otherV`, `otherT`: N x K outputs they are paired with (stored outputs of the training set,
 * or the batch itself); `s`: m x N similarities. Zero outputs give log 2.
 */
export function pairwiseTerm(
  hv: Tensor2D,
  ht: Tensor2D,
  otherV: Tensor2D,
  otherT: Tensor2D,
  s: Tensor2D,
): Scalar {
  return tf.tidy(() =>
    tf.mul(tf.add(pairNll(hv, otherT, s), pairNll(ht, otherV, s)), 0.5) as Scalar
  );
}

/**
 * L_adv, the networks' side: binary cross-entropy of D's logits on both modalities' items
 * against the target 1/2, mean over the 2m items (`dv`, `dt`: m x 1 logits on the image and
 * text items). Its minimum, log 2, is reached exactly when every logit is 0 (D at chance); its
 * gradient in a logit z is (sigmoid(z) − 1/2)/(2m), which pulls a swapped item (image scored as
 * text) back towards the boundary as firmly as a correctly scored one.
 */
export function adversarialTerm(dv: Tensor2D, dt: Tensor2D): Scalar {
  return tf.tidy(() => {
    const logits = tf.concat([dv, dt], 0);
    return bceWithLogits(logits, tf.fill(logits.shape, 0.5));
  });
}

/**
 * D's classification loss: binary cross-entropy with image = 1 and text = 0, mean over the 2m
 * items. The gradient penalty is a separate term (`gradientPenalty` in src/nn/losses.ts), added
 * in D's step with its own weight.
 */
export function discriminatorLoss(dv: Tensor2D, dt: Tensor2D): Scalar {
  return tf.tidy(() =>
    bceWithLogits(tf.concat([dv, dt], 0), tf.concat([tf.onesLike(dv), tf.zerosLike(dt)], 0))
  );
}

/**
 * The sign step: `out[i] = 1` where `m[i] >= 0`, else −1 (sign(0) = +1), written into `out`.
 * Returns the fraction of entries whose sign differs from `out`'s previous signs.
 */
export function signStep(m: ArrayLike<number>, out: Float32Array): number {
  if (m.length !== out.length) {
    throw new Error(`signStep: m has ${m.length} entries, out has ${out.length}`);
  }
  let flipped = 0;
  for (let i = 0; i < out.length; i++) {
    const b = m[i] >= 0 ? 1 : -1;
    if ((out[i] >= 0 ? 1 : -1) !== b) flipped++;
    out[i] = b;
  }
  return flipped / Math.max(1, out.length);
}
