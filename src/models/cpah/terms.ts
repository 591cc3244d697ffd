/**
 * The terms of CPAH's objective, one function per equation of the paper (numbers in brackets:
 * the ones the public re-implementation cites), each a small function of tensors; weights are
 * applied in {@link networkObjective}.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { CpahConfig } from "./config.ts";
import {
  bceWithLogits,
  gradientPenalty,
  quantization,
  softmaxCrossEntropy,
} from "../../nn/losses.ts";

/**
 * L_pair [10], L_adv [6] (the networks' side, a confusion target) and D's loss [5]: the terms
 * CPAH shares with DFAH, defined once in src/models/terms.ts (each a mean; scaled by
 * {@link termScales}).
 */
export { adversarialTerm, discriminatorLoss, pairwiseTerm } from "../terms.ts";

/** L_q [11]: mean (B - h^v)^2 + mean (B - h^t)^2 over the batch rows of B (m x K). */
export function quantizationTerm(b: tf.Tensor2D, hv: tf.Tensor2D, ht: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(quantization(b, hv), quantization(b, ht)) as tf.Scalar);
}

/**
 * The consistency classes of the 4m stacked parts [c^v; c^t; p^v; p^t]: 0 (common) for the
 * first 2m rows, 1 (image-private) for the next m, 2 (text-private) for the last m. `fn` names
 * the caller in the error for a row count that is not a multiple of 4.
 */
export function consistencyClasses(logits: tf.Tensor2D, fn: string): Int32Array {
  const rows = logits.shape[0];
  if (rows % 4 !== 0) {
    throw new Error(`${fn}: logits has ${rows} rows, expected 4m ([c^v; c^t; p^v; p^t])`);
  }
  const m = rows / 4;
  const classes = new Int32Array(rows);
  classes.fill(1, 2 * m, 3 * m);
  classes.fill(2, 3 * m, 4 * m);
  return classes;
}

/**
 * L_cons [7]: cross-entropy of the consistency classifier's logits with classes
 * C(c^v) = 0, C(c^t) = 0 (common), C(p^v) = 1 (image-private), C(p^t) = 2 (text-private);
 * mean over the 4m items. `logits`: 4m x 3, the rows of C([c^v; c^t; p^v; p^t]) in that order
 * (C is applied once to the stacked parts: one pass of the classifier instead of four).
 */
export function consistencyTerm(logits: tf.Tensor2D): tf.Scalar {
  return softmaxCrossEntropy(logits, consistencyClasses(logits, "consistencyTerm"));
}

/** L_label [8]: BCE of each modality's label logits (m x c) against the labels (m x c 0/1). */
export function labelTerm(
  logitsV: tf.Tensor2D,
  logitsT: tf.Tensor2D,
  labels: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() =>
    tf.add(bceWithLogits(logitsV, labels), bceWithLogits(logitsT, labels)) as tf.Scalar
  );
}

/**
 * Gradient penalty of D (WGAN-GP): mean (||grad_x D(x)|| - 1)^2 at x = eps c^v + (1-eps) c^t,
 * eps (m x 1) drawn by the caller's seeded generator. Weighted by `gpWeight` in D's step.
 * `inputGradient`, when given, computes grad_x D(x) directly (else tf.grad of `critic`).
 */
export const gradientPenaltyTerm: typeof gradientPenalty = gradientPenalty;

/** The terms of the networks' objective, each unweighted (zero tensors for inactive terms). */
export interface NetworkTerms {
  /** L_pair: the pairwise likelihood across modalities. */
  pair: tf.Scalar;
  /** L_q: the quantisation term ‖B − H‖². */
  quant: tf.Scalar;
  /** L_cons: the consistency classifier's cross-entropy. */
  cons: tf.Scalar;
  /** L_label: the label classifiers' loss. */
  label: tf.Scalar;
  /** L_adv: the adversarial term against the discriminator. */
  adv: tf.Scalar;
}

/** What the scale of the terms depends on: the batch and the pairs it sees. */
export interface TermCounts {
  /** Batch size m. */
  batch: number;
  /** Partners each batch row is paired with in L_pair (n stored rows, or m in "batch" mode). */
  partners: number;
  /** Label classes c. */
  classes: number;
}

/**
 * Factors that turn the mean-form terms above (each a mean, src/nn/losses.ts and
 * src/models/terms.ts) into the configured normalisation. Every convention is a
 * per-batch-item scale (the sums divided by m); Adam is invariant to a global factor, so only
 * the ratios between the terms matter.
 *
 * "reference" — the relative weights that alpha, beta and gamma have in the public CPAH code
 * they come from (comrados/cpah), where L_pair is summed over the m x m pairs of the batch with
 * one symmetric likelihood per pair, L_q over m x K entries of both modalities, L_cons over
 * the 4m parts, L_label over m x c entries of both modalities, and L_adv is the MEAN over the
 * batch of one side's log-likelihood. Divided by m, per item: m pair terms, K (x2 modalities)
 * quantisation entries, 4 consistency items, c (x2) label entries, and 1/m of an adversarial
 * item. Our L_pair is the mean of its two directions, an estimate of the per-pair likelihood,
 * so the factor m makes it m pair terms whatever the number of stored partners; our L_adv is
 * the mean over both sides' 2m items, an estimate of one side's mean, so the factor 1/m makes
 * it 1/m of one side's mean. Factors: pair m, quant K, cons 4, label c, adv 1/m.
 *
 * "perItem" (the default) — each term summed over one training pair's contributions: L_pair
 * over ALL its n stored partners in both directions (2n), L_q over K, L_label over c, L_cons
 * over 4 items, L_adv over its 2 items. L_pair then weighs 2n/m times more than in the
 * reference code, so a weight w_ref of the public code carries over as
 * w = w_ref · 2n/m for the multi-task terms (alpha) and w = w_ref · 2n/m · (1/m) / 2 =
 * w_ref · n/m² for the adversarial term (gamma): the public code's current adversarial weight
 * 100 (2021-02-25 revision onward, one side) is gamma = 100 n/m², about 48 at Wikipedia's
 * training size (n 1,973 training pairs, m 64), and its alpha 0.1 is about 6.2 there.
 *
 * "mean" — every term a plain mean (all factors 1).
 */
export function termScales(
  c: Pick<CpahConfig, "normalization" | "bits">,
  n: TermCounts,
): Record<keyof NetworkTerms, number> {
  switch (c.normalization) {
    case "mean":
      return { pair: 1, quant: 1, cons: 1, label: 1, adv: 1 };
    case "perItem":
      return { pair: 2 * n.partners, quant: c.bits, cons: 4, label: n.classes, adv: 2 };
    case "reference":
      return { pair: n.batch, quant: c.bits, cons: 4, label: n.classes, adv: 1 / n.batch };
  }
}

/**
 * L = L_pair + beta L_q + alpha (L_cons + L_label) + gamma L_adv, each term times its factor:
 * `factors` = the normalisation of {@link termScales} times the term's weight (1, beta, alpha,
 * alpha, gamma from activeParts; 0 for a term an ablation removes).
 */
export function networkObjective(
  t: NetworkTerms,
  factors: Record<keyof NetworkTerms, number>,
): tf.Scalar {
  const names = Object.keys(t) as (keyof NetworkTerms)[];
  return tf.tidy(() => tf.addN(names.map((k) => tf.mul(t[k], factors[k]))) as tf.Scalar);
}
