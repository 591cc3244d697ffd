/**
 * CPAH's per-epoch diagnostics (recorded in the training history, `EpochRecord.diagnostics`):
 * what the CR mask routes to the common and the private part, how well the discriminator D and
 * the consistency classifier C do their jobs, and how far the continuous outputs are from
 * binary codes. Definitions (each per-batch value is averaged over the epoch's batches):
 *
 * | field | definition | absent when |
 * |---|---|---|
 * | `maskImage`, `maskText` | mean of the mask m over the batch's entries: the share of each feature routed to the common part (the private share is 1 − m) | noCR |
 * | `commonImage`, `commonText` | mean of abs(c) = abs(f ⊙ m) over the entries: the common part's magnitude | noCR |
 * | `privateImage`, `privateText` | mean of abs(p) = abs(f ⊙ (1 − m)): the private part's magnitude | noCR |
 * | `discAcc` | D's accuracy on the batch's common parts c^v, c^t after D's step (`discriminatorAccuracy`) | noAdversary |
 * | `consAcc` | C's 3-way accuracy on [c^v; c^t; p^v; p^t] (targets common, common, image-private, text-private) | noCR, noMultiTask |
 * | `quantGap` | end of epoch, stored outputs H^v, H^t: mean of abs(abs(h) − 1) = 1 − mean abs(h) (`quantisationStats`) | — |
 * | `signDistance` | end of epoch: mean (h − sign h)² over H^v, H^t | — |
 *
 * The fraction of bits of B the discrete step flipped is a loss term of the history already
 * (`flipped`, from `CpahModel.endEpoch`).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Scalar, Tensor2D } from "../../tensor_types.ts";
import { discriminatorAccuracy } from "../diagnostics.ts";
import { consistencyClasses } from "./terms.ts";
import type { BranchOutputs } from "./model.ts";

/**
 * Accuracy of the consistency classifier C: the fraction of the 4m rows of `logits` (C on
 * [c^v; c^t; p^v; p^t], as in `consistencyTerm`) whose largest logit is the row's class —
 * 0 (common) for the first 2m rows, 1 (image-private) for the next m, 2 (text-private) for the
 * last m.
 */
export function consistencyAccuracy(logits: Tensor2D): Scalar {
  const classes = consistencyClasses(logits, "consistencyAccuracy");
  return tf.tidy(() =>
    tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(classes, "int32")), "float32"))
  );
}

/**
 * The CR mask of one modality: mean m, mean abs(c) and mean abs(p) over the batch's entries,
 * named `mask<Modality>`, `common<Modality>`, `private<Modality>`; nothing under noCR (no
 * mask).
 */
export function maskMagnitudes(
  o: BranchOutputs,
  modality: "Image" | "Text",
): Record<string, Scalar> {
  if (!o.m || !o.p) return {};
  return {
    [`mask${modality}`]: tf.mean(o.m),
    [`common${modality}`]: tf.mean(tf.abs(o.c)),
    [`private${modality}`]: tf.mean(tf.abs(o.p)),
  };
}

/** What one CPAH training step produced that its diagnostics read. */
export interface CpahStepOutputs {
  /** Image branch outputs of the step's forward pass. */
  v: BranchOutputs;
  /** Text branch outputs. */
  t: BranchOutputs;
  /** D's logits on c^v and c^t in the network step (absent under noAdversary). */
  critic?: { dv: Tensor2D; dt: Tensor2D };
  /** C's logits on [c^v; c^t; p^v; p^t] (absent under noCR or noMultiTask). */
  consLogits?: Tensor2D;
}

/**
 * The per-batch diagnostics of a CPAH step as scalar tensors: the mask magnitudes of both
 * modalities, `discAcc` and `consAcc` (each only when its module exists). Call off the
 * gradient tape (`readScalars`).
 */
export function cpahStepDiagnostics(s: CpahStepOutputs): Record<string, Scalar> {
  const out: Record<string, Scalar> = {
    ...maskMagnitudes(s.v, "Image"),
    ...maskMagnitudes(s.t, "Text"),
  };
  if (s.critic) out.discAcc = discriminatorAccuracy(s.critic.dv, s.critic.dt);
  if (s.consLogits) out.consAcc = consistencyAccuracy(s.consLogits);
  return out;
}
