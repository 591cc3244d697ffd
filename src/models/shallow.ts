/**
 * Helpers shared by the shallow closed-form baselines (SCM in src/models/scm.ts, CMFH in
 * src/models/cmfh.ts): input checks with one-line errors, reading state entries, and the
 * linear test-time encoder sign((x - mean) W - threshold).
 *
 * @module
 */
import type { NamedArrays } from "../nn/mod.ts";
import { packSigns } from "../retrieval/codes.ts";
import { centeredProjection } from "../linalg.ts";
import type { Matrix, PackedCodes } from "../types.ts";
import type { TrainingSetInfo } from "./model.ts";

/** Check the feature dimensions of a model's training-set info (`file` names the caller). */
export function checkDims(file: string, info: Pick<TrainingSetInfo, "imageDim" | "textDim">): void {
  for (const [name, v] of [["imageDim", info.imageDim], ["textDim", info.textDim]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${file}: info.${name} is ${v}, expected an integer >= 1`);
    }
  }
}

/** Check that a matrix has `d` columns. */
export function checkCols(file: string, x: Matrix, d: number, what: string): void {
  if (x.cols !== d) throw new Error(`${file}: ${what} has ${x.cols} columns, expected ${d}`);
}

/** Check that image / text / label rows pair up (n rows, n >= 2) and the feature widths. */
export function checkPairs(
  file: string,
  image: Matrix,
  text: Matrix,
  n: number,
  dx: number,
  dy: number,
): void {
  if (image.rows !== text.rows || image.rows !== n) {
    throw new Error(
      `${file}: fit: image has ${image.rows} rows, text ${text.rows}, labels ${n}; they must agree`,
    );
  }
  if (n < 2) throw new Error(`${file}: fit: ${n} training pairs, need at least 2`);
  checkCols(file, image, dx, "image");
  checkCols(file, text, dy, "text");
}

/** Read one state entry with the expected shape (a copy), or throw naming `source`. */
export function readEntry(
  state: NamedArrays,
  key: string,
  shape: number[],
  source: string,
  what: string,
): Float32Array {
  const s = state[key];
  if (!s) throw new Error(`${source}: entry '${key}' is missing (${what} state)`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (s.shape.join("x") !== shape.join("x") || s.data.length !== size) {
    throw new Error(
      `${source}: entry '${key}' has shape ${s.shape.join("x")}, expected ${shape.join("x")}`,
    );
  }
  return s.data.slice();
}

/**
 * Codes sign((x_i - mean) W - threshold) of every row (W is d x k row-major; sign(0) = +1),
 * computed in Float64, packed.
 */
export function encodeLinear(
  x: Matrix,
  mean: ArrayLike<number>,
  w: ArrayLike<number>,
  k: number,
  threshold?: ArrayLike<number>,
): PackedCodes {
  const v = centeredProjection(x, mean, w, k);
  if (threshold) {
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < k; j++) v[i * k + j] -= threshold[j];
  }
  return packSigns(v, x.rows, k);
}
