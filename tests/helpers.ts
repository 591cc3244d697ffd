/** Small helpers shared by the loss-term tests. */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";

/** A 2-D tensor from nested rows. */
export const t2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows);

/** The first value of a tensor, disposing it. */
export const value = (x: tf.Tensor): number => {
  const v = x.dataSync()[0];
  x.dispose();
  return v;
};

/** Assert |actual - expected| <= tol (1 + |expected|). */
export const close = (actual: number, expected: number, tol = 1e-5, what = "value"): void =>
  assert.ok(
    Math.abs(actual - expected) <= tol * (1 + Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
