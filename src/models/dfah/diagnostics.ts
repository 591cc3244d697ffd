/**
 * DFAH's per-epoch diagnostics (recorded in the training history, `EpochRecord.diagnostics`):
 * how much the fused outputs U decide the unified codes B, how well the discriminator D tells
 * the modalities' features apart, and how far the outputs and codes are from binary.
 * Definitions:
 *
 * | field | definition | absent when |
 * |---|---|---|
 * | `discAcc` | D's accuracy on the batch's features f^v, f^t after D's step (`discriminatorAccuracy`), mean over the epoch's batches | noAdversary |
 * | `fusionShare` | after the discrete step, in M = U + λ (H^v + H^t) + μ L P (B = sign M): sum abs(U) / (sum abs(U) + λ sum abs(H^v + H^t) + μ sum abs(L P)), the fused term's share of M | noFusion |
 * | `fusionAgree` | fraction of the entries of B whose sign equals sign(U) | noFusion |
 * | `fusionDecisive` | fraction of the entries of B whose sign would change without U, i.e. sign(λ (H^v + H^t) + μ L P) ≠ sign(B) | noFusion |
 * | `quantGap` | after the step, stored head outputs H^v, H^t: mean of abs(abs(h) − 1) = 1 − mean abs(h) (`quantisationStats`) | — |
 * | `signDistance` | mean (h − sign h)² over H^v, H^t: the quantisation error of the test-time codes | — |
 * | `bSignDistance` | mean (B − sign B)² over the codes B: 0 for binary B, the relaxed codes' distance from binary under `relaxed` | — |
 *
 * J before and after each discrete step are loss terms of the history already (`discJ0`,
 * `discJ`, per code entry), and so is the fraction of bits the step flipped (`flipped`), all
 * from `DfahModel.endEpoch`.
 *
 * @module
 */
import { type DiscreteProblem, labelTimesP } from "./discrete.ts";

/** How much the fused outputs U decide the codes B (see the module's table). */
export interface FusionContribution {
  /** The fused term's share of the B-step's M (sums of absolute values). */
  fusionShare: number;
  /** Fraction of entries with sign(U) = sign(B). */
  fusionAgree: number;
  /** Fraction of entries whose sign in B would change without U. */
  fusionDecisive: number;
}

/**
 * The contribution of the fused outputs `p.U` to codes `B` made by the B-step from the
 * projection `P` (B = sign(U + λ (H^v + H^t) + μ L P), or its real-valued form under `relaxed`,
 * which has the same signs): U's share of the sum of absolute values of M's three terms, the
 * sign agreement of U with B, and the fraction of entries where the other two terms alone would
 * give the other sign (sign(0) = +1 throughout).
 */
export function fusionContribution(
  p: DiscreteProblem,
  B: Float32Array,
  P: Float64Array,
): FusionContribution {
  const LP = labelTimesP(p, P);
  let u = 0, heads = 0, labels = 0, agree = 0, decisive = 0;
  for (let e = 0; e < B.length; e++) {
    const hv = p.Hv[e] + p.Ht[e];
    u += Math.abs(p.U[e]);
    heads += Math.abs(hv);
    labels += Math.abs(LP[e]);
    const b = B[e] >= 0;
    if ((p.U[e] >= 0) === b) agree++;
    if ((p.lambda * hv + p.mu * LP[e] >= 0) !== b) decisive++;
  }
  const total = u + p.lambda * heads + p.mu * labels;
  return {
    fusionShare: total > 0 ? u / total : 0,
    fusionAgree: agree / B.length,
    fusionDecisive: decisive / B.length,
  };
}

/** Mean (b − sign b)² over the entries of codes B (sign(0) = +1): 0 when B is binary. */
export function codeSignDistance(B: Float32Array): number {
  let sq = 0;
  for (let e = 0; e < B.length; e++) sq += (B[e] - (B[e] >= 0 ? 1 : -1)) ** 2;
  return sq / B.length;
}
