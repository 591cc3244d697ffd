/**
 * The label similarity S_ij = [l_i and l_j share a label] computed on the host with one bit per
 * label, written straight into backend memory where the backend keeps tensors in this process.
 * Used through `labelSimilarity` of src/nn/ops.ts.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { hostMemory } from "./host_memory.ts";
import { packRowBits } from "../retrieval/codes.ts";

/**
 * Similarity S_ij = 1 if labels l_i and l_j share at least one label, else 0.
 * `a`: m x c, `b`: n x c (0/1 floats; any value > 0 counts as a label) -> m x n of 0/1.
 * Computed on the host with one bit per label (32 labels per word): one pass over the m x n
 * pairs instead of an m x c x n product followed by a comparison and a cast. The bits of a
 * tensor are kept for its lifetime (tensors are immutable), so a fixed training-set label
 * matrix is read once; on wasm and cpu the result is written straight into the new tensor.
 */
export function labelSimilarity(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, c] = a.shape, [n, cb] = b.shape;
  if (cb !== c) {
    throw new Error(`labelSimilarity: b has ${cb} label columns, expected ${c} (as a)`);
  }
  const words = Math.max(1, Math.ceil(c / 32));
  const bitsA = labelBits(a, words), bitsB = labelBits(b, words);
  const memory = hostMemory();
  const backend = tf.backend();
  const info = memory?.alloc(backend, [m, n]);
  const out = info ? memory!.views(backend, [info])[0] : new Float32Array(m * n);
  const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
  const ONE = 0x3f800000; // the bits of 1.0f
  for (let i = 0; i < m; i++) {
    const row = i * n;
    if (words === 1) {
      const w = bitsA[i];
      for (let j = 0; j < n; j++) {
        const x = w & bitsB[j];
        bits[row + j] = ((x | -x) >> 31) & ONE; // x != 0 -> 1.0f, else 0
      }
      continue;
    }
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let k = 0; k < words; k++) x |= bitsA[i * words + k] & bitsB[j * words + k];
      bits[row + j] = ((x | -x) >> 31) & ONE;
    }
  }
  return info
    ? tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D
    : tf.tensor2d(out, [m, n]);
}

const labelBitCache = new WeakMap<tf.Tensor, Int32Array>();

/** One bit per label (packRowBits of src/retrieval/codes.ts), as int32 words. */
function labelBits(t: tf.Tensor2D, words: number): Int32Array {
  const cached = labelBitCache.get(t);
  if (cached) return cached;
  const [rows, cols] = t.shape;
  const packed = packRowBits(t.dataSync(), rows, cols, words);
  const bits = new Int32Array(packed.buffer, packed.byteOffset, packed.length);
  if (!(t instanceof tf.Variable)) labelBitCache.set(t, bits);
  return bits;
}
