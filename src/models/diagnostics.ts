/**
 * Per-epoch diagnostics of the trained models: numbers that show what a component does inside
 * the model (how well the discriminator tells the modalities apart, how far the continuous
 * outputs are from binary codes, ...), recorded in the training history next to the losses
 * (`EpochRecord.diagnostics`, src/train.ts).
 *
 * Diagnostics never change training: they are computed from tensors and arrays the training
 * step has already produced, off the gradient tape, with no random draws, after the step's own
 * computation. Per-batch values are averaged over the epoch's batches ({@link EpochMeans});
 * end-of-epoch values are computed once from the stored training outputs.
 *
 * The model-specific ones live next to each model (src/models/cpah/diagnostics.ts,
 * src/models/dfah/diagnostics.ts); the pieces both models share are here.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Scalar, Tensor2D } from "../tensor_types.ts";
import { withoutTape } from "../nn/tape.ts";

/** Named per-epoch diagnostics (plain numbers). */
export type Diagnostics = Record<string, number>;

/** Running means of named per-batch values over one epoch. */
export class EpochMeans {
  #sum = new Map<string, number>();
  #count = new Map<string, number>();

  /** Add one batch's values (non-finite values are skipped). */
  add(values: Diagnostics): void {
    for (const [k, v] of Object.entries(values)) {
      if (!Number.isFinite(v)) continue;
      this.#sum.set(k, (this.#sum.get(k) ?? 0) + v);
      this.#count.set(k, (this.#count.get(k) ?? 0) + 1);
    }
  }

  /** The mean of each name over the batches that reported it. */
  means(): Diagnostics {
    const out: Diagnostics = {};
    for (const [k, s] of this.#sum) out[k] = s / this.#count.get(k)!;
    return out;
  }

  /** Forget everything (at the start of an epoch). */
  reset(): void {
    this.#sum.clear();
    this.#count.clear();
  }
}

/**
 * Evaluate named scalar tensors off the gradient tape and read them with one download: `f`
 * runs inside `withoutTape` and `tf.tidy` (its ops are not recorded by an enclosing
 * `tf.variableGrads` and its tensors are freed), so calling it inside a training step's
 * gradient closure changes neither the gradients nor the tensor count.
 */
export function readScalars(f: () => Record<string, Scalar>): Diagnostics {
  return withoutTape(() =>
    tf.tidy(() => {
      const named = f();
      const names = Object.keys(named);
      if (!names.length) return {};
      const values = tf.stack(names.map((k) => named[k])).dataSync();
      return Object.fromEntries(names.map((k, i) => [k, values[i]]));
    })
  );
}

/**
 * Accuracy of a modality discriminator: the fraction of the 2m items it classifies correctly,
 * an image item when its logit is > 0 (D's probability of "image" above 1/2), a text item when
 * its logit is <= 0. `dv`, `dt`: D's logits (m x 1) on the image and the text items. 0.5 means
 * D cannot tell the modalities apart; 1 means it always can.
 */
export function discriminatorAccuracy(dv: Tensor2D, dt: Tensor2D): Scalar {
  return tf.tidy(() => {
    const right = tf.add(
      tf.sum(tf.cast(tf.greater(dv, 0), "float32")),
      tf.sum(tf.cast(tf.lessEqual(dt, 0), "float32")),
    );
    return tf.div(right, dv.shape[0] + dt.shape[0]) as Scalar;
  });
}

/** Quantisation statistics of continuous outputs (see {@link quantisationStats}). */
export interface QuantisationStats {
  /** Mean |h| over every entry. */
  meanAbsH: number;
  /**
   * The quantisation gap: mean over entries of ||h| − 1|, the distance of each output's
   * magnitude from a binary ±1. For tanh outputs (|h| < 1) it equals 1 − mean |h|.
   */
  quantGap: number;
  /** Mean squared distance (h − sign h)² to the binary code, sign(0) = +1. */
  signDistance: number;
}

/**
 * Quantisation statistics of one or more n x K output arrays pooled (e.g. the stored outputs
 * H^v and H^t): mean |h|, the quantisation gap mean ||h| − 1| and the mean squared distance to
 * sign(h). NaN for no entries.
 */
export function quantisationStats(...arrays: Float32Array[]): QuantisationStats {
  let abs = 0, gap = 0, sq = 0, n = 0;
  for (const h of arrays) {
    for (let i = 0; i < h.length; i++) {
      const v = h[i], a = Math.abs(v);
      abs += a;
      gap += Math.abs(a - 1);
      sq += (v - (v >= 0 ? 1 : -1)) ** 2;
    }
    n += h.length;
  }
  return { meanAbsH: abs / n, quantGap: gap / n, signDistance: sq / n };
}
