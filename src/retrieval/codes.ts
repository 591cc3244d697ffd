/**
 * Binary codes and label bitsets packed 32 bits per Uint32 word.
 *
 * Conventions (see {@link PackedCodes} in src/types.ts):
 * - bit k of item i is 1 iff code_ik = +1, and sign(0) = +1 (so 0 and -0 pack to bit 1);
 * - bit k lives in word floor(k / 32) of the item, at position k mod 32;
 * - unused high bits of an item's last word are always 0, so popcount(a XOR b) over whole words
 *   is the Hamming distance, which equals (K - b_q . b_d) / 2 for the ±1 codes.
 *
 * This module has no TensorFlow.js dependency: pass it `await tensor.data()` and the shape.
 *
 * @module
 */
import type { DenseMatrix, LabelMatrix, PackedCodes } from "../types.ts";

/** Multi-hot labels packed as bitsets: bit c of row i is 1 iff row i carries label c. */
export interface PackedLabels {
  /** Number of rows (items). */
  readonly n: number;
  /** Number of label classes c. */
  readonly classes: number;
  /** Words per row = ceil(classes / 32). */
  readonly words: number;
  /** n * words packed words, row-major. Unused high bits of the last word are 0. */
  readonly data: Uint32Array;
}

/** Number of 1 bits in a 32-bit word (SWAR bit count). */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function checkCount(value: number, fn: string, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${fn}: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Pack real values into ±1 codes by sign, with sign(0) = +1 (bit 1 for values >= 0, bit 0 for
 * values < 0).
 *
 * @param values n * bits values, row-major (item i, bit k at i * bits + k), e.g. the network
 *   outputs from `await tensor.data()`.
 * @param n number of items.
 * @param bits code length K.
 * @throws if the length does not match or a value is NaN.
 */
export function packSigns(
  values: Float32Array | ArrayLike<number>,
  n: number,
  bits: number,
): PackedCodes {
  checkCount(n, "packSigns", "n", 0);
  checkCount(bits, "packSigns", "bits", 1);
  if (values.length !== n * bits) {
    throw new Error(
      `packSigns: values has length ${values.length}, expected n * bits = ${n * bits}`,
    );
  }
  const words = Math.ceil(bits / 32);
  const data = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) {
    const base = i * bits;
    for (let w = 0; w < words; w++) {
      const k0 = w * 32;
      const k1 = Math.min(bits, k0 + 32);
      let word = 0;
      for (let k = k0; k < k1; k++) {
        const v = values[base + k];
        if (v >= 0) word |= 1 << (k - k0);
        else if (!(v < 0)) {
          throw new Error(`packSigns: values[${base + k}] is NaN (item ${i}, bit ${k})`);
        }
      }
      data[i * words + w] = word >>> 0;
    }
  }
  return { n, bits, words, data };
}

/** Pack the rows of a dense matrix (n x K, e.g. network outputs) into ±1 codes by sign. */
export function packDense(m: DenseMatrix): PackedCodes {
  return packSigns(m.data, m.rows, m.cols);
}

/** Unpack codes to ±1 values: n * bits entries, row-major, +1 where the bit is 1. */
export function unpackCodes(c: PackedCodes): Int8Array {
  checkPackedCodes(c, "c", "unpackCodes");
  const { n, bits, words, data } = c;
  const out = new Int8Array(n * bits);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < bits; k++) {
      const word = data[i * words + (k >>> 5)];
      out[i * bits + k] = ((word >>> (k & 31)) & 1) === 1 ? 1 : -1;
    }
  }
  return out;
}

/**
 * Check that a value is a well-formed {@link PackedCodes}: consistent sizes and zero unused high
 * bits. Throws a one-line error naming `name` (and `fn`) otherwise.
 */
export function checkPackedCodes(c: PackedCodes, name: string, fn = "checkPackedCodes"): void {
  if (c === null || typeof c !== "object" || !(c.data instanceof Uint32Array)) {
    throw new Error(`${fn}: ${name} must be PackedCodes with a Uint32Array data`);
  }
  checkCount(c.n, fn, `${name}.n`, 0);
  checkCount(c.bits, fn, `${name}.bits`, 1);
  if (c.words !== Math.ceil(c.bits / 32)) {
    throw new Error(
      `${fn}: ${name}.words is ${c.words}, expected ceil(bits / 32) = ${Math.ceil(c.bits / 32)}`,
    );
  }
  if (c.data.length !== c.n * c.words) {
    throw new Error(
      `${fn}: ${name}.data has length ${c.data.length}, expected n * words = ${c.n * c.words}`,
    );
  }
  const used = c.bits & 31;
  if (used !== 0) {
    const mask = ~((1 << used) - 1);
    for (let i = 0; i < c.n; i++) {
      if ((c.data[i * c.words + c.words - 1] & mask) !== 0) {
        throw new Error(`${fn}: ${name} item ${i} has nonzero unused high bits`);
      }
    }
  }
}

/**
 * Hamming distance between item i of `a` and item j of `b`: popcount(a_i XOR b_j), which equals
 * (K - a_i . b_j) / 2 for the ±1 codes.
 */
export function hamming(a: PackedCodes, i: number, b: PackedCodes, j: number): number {
  if (a.bits !== b.bits) {
    throw new Error(`hamming: code lengths differ (a.bits=${a.bits}, b.bits=${b.bits})`);
  }
  if (!(i >= 0 && i < a.n && Number.isInteger(i))) {
    throw new Error(`hamming: i=${i} out of range [0, ${a.n})`);
  }
  if (!(j >= 0 && j < b.n && Number.isInteger(j))) {
    throw new Error(`hamming: j=${j} out of range [0, ${b.n})`);
  }
  const w = a.words;
  let d = 0;
  for (let t = 0; t < w; t++) d += popcount32(a.data[i * w + t] ^ b.data[j * w + t]);
  return d;
}

/** Check a {@link LabelMatrix}: sizes consistent and entries 0/1. */
export function checkLabelMatrix(l: LabelMatrix, name: string, fn = "checkLabelMatrix"): void {
  if (l === null || typeof l !== "object" || !(l.data instanceof Uint8Array)) {
    throw new Error(`${fn}: ${name} must be a LabelMatrix with a Uint8Array data`);
  }
  checkCount(l.rows, fn, `${name}.rows`, 0);
  checkCount(l.classes, fn, `${name}.classes`, 1);
  if (l.data.length !== l.rows * l.classes) {
    throw new Error(
      `${fn}: ${name}.data has length ${l.data.length}, expected rows * classes = ${
        l.rows * l.classes
      }`,
    );
  }
}

/**
 * Pack multi-hot labels into bitsets, so "shares at least one label" is a word-wise AND.
 *
 * @throws if sizes are inconsistent or an entry is not 0 or 1.
 */
export function packLabels(labels: LabelMatrix): PackedLabels {
  checkLabelMatrix(labels, "labels", "packLabels");
  const { rows: n, classes, data: src } = labels;
  for (let e = 0; e < src.length; e++) {
    const v = src[e];
    if (v !== 1 && v !== 0) {
      throw new Error(
        `packLabels: labels.data[${e}] is ${v} (row ${Math.floor(e / classes)}, class ${
          e % classes
        }), expected 0 or 1`,
      );
    }
  }
  const words = Math.ceil(classes / 32);
  return { n, classes, words, data: packRowBits(src, n, classes, words) };
}

/**
 * THE label packing: bit k % 32 of word floor(k / 32) of row r is set iff
 * values[r * cols + k] > 0, `words` words per row (default ceil(cols / 32)). Used for label
 * bitsets ({@link packLabels}) and for the label similarity of the losses
 * (src/accel/label_similarity.ts).
 */
export function packRowBits(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  words = Math.ceil(cols / 32),
): Uint32Array {
  const bits = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      if (values[r * cols + k] > 0) bits[r * words + (k >>> 5)] |= 1 << (k & 31);
    }
  }
  return bits;
}

/** Whether row i of `a` and row j of `b` share at least one label (the relevance rule). */
export function sharesLabel(a: PackedLabels, i: number, b: PackedLabels, j: number): boolean {
  if (a.classes !== b.classes) {
    throw new Error(
      `sharesLabel: class counts differ (a.classes=${a.classes}, b.classes=${b.classes})`,
    );
  }
  const w = a.words;
  for (let t = 0; t < w; t++) {
    if ((a.data[i * w + t] & b.data[j * w + t]) !== 0) return true;
  }
  return false;
}
