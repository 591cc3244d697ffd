/**
 * Loss pieces shared by CPAH and DFAH (methods.md, "Shared loss pieces"). Each is one small
 * function named after its role. Normalisation (a choice of this project, documented in the
 * README): every term is a MEAN — the pairwise likelihood over the pairs it sees, the
 * quantisation and regression terms over code entries, cross-entropies over items — so the
 * weights (alpha, beta, gamma, ...) compare terms of comparable scale.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type HostMemory, hostMemory, wasmMemory } from "./accel/host_memory.ts";
import { matMulT } from "./accel/backend.ts";
import { simdKernels } from "./accel/simd.ts";

const FILE = "src/losses.ts";

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
    throw new Error(`${FILE}: labelSimilarity: b has ${cb} label columns, expected ${c} (as a)`);
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

/** One bit per label: bit k % 32 of word k / 32 of row r is set when x[r, k] > 0. */
function labelBits(t: tf.Tensor2D, words: number): Int32Array {
  const cached = labelBitCache.get(t);
  if (cached) return cached;
  const [rows, cols] = t.shape, x = t.dataSync();
  const bits = new Int32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      if (x[r * cols + k] > 0) bits[r * words + (k >>> 5)] |= 1 << (k & 31);
    }
  }
  if (!(t instanceof tf.Variable)) labelBitCache.set(t, bits);
  return bits;
}

/**
 * Pairwise negative log-likelihood (DCMH): Theta_ij = 0.5 h^a_i . h^b_j,
 * L = mean_ij( log(1 + exp(Theta_ij)) - S_ij Theta_ij ), computed stably with softplus.
 * `ha`: m x K, `hb`: n x K, `s`: m x n (a constant: no gradient flows to it). The 0.5 scales
 * the m x K side before the product; the elementwise part is {@link pairLikelihood}.
 */
export function pairNll(ha: tf.Tensor2D, hb: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => pairLikelihood(matMulT(tf.mul(ha, 0.5), hb, false, true) as tf.Tensor2D, s));
}

/**
 * mean_ij( softplus(Theta_ij) - S_ij Theta_ij ) for m x n `theta` and `s` (S a constant).
 * Where the backend keeps tensors in this process (wasm, cpu) this is one fused op: a single
 * pass computes the value and the gradient (sigmoid(Theta) - S) / (m n), which the backward
 * pass only scales (wasm: the `pairnll` SIMD kernel of src/accel/simd.ts; cpu: a JS loop). Other
 * backends, and non-float32 input, use the tensor-op formula {@link pairLikelihoodOps}.
 */
export function pairLikelihood(theta: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  if (!sameShape(theta.shape, s.shape)) {
    throw new Error(
      `${FILE}: pairLikelihood: s has shape ${s.shape.join("x")}, expected ${
        theta.shape.join("x")
      } (as theta)`,
    );
  }
  const memory = hostMemory();
  if (!memory || theta.dtype !== "float32" || s.dtype !== "float32" || theta.size === 0) {
    return pairLikelihoodOps(theta, s);
  }
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor2D, save = args[1] as tf.GradSaveFunc;
    const { value, grad } = pairLikelihoodForward(t, s, memory);
    save([grad]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  });
  return fused(theta) as tf.Scalar;
}

/** {@link pairLikelihood} as tensor ops: mean(softplus(theta) - s theta). */
export function pairLikelihoodOps(theta: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(tf.softplus(theta), tf.mul(s, theta))) as tf.Scalar);
}

/** Value and gradient tensor of {@link pairLikelihood}, computed in host memory. */
function pairLikelihoodForward(
  theta: tf.Tensor2D,
  s: tf.Tensor2D,
  memory: HostMemory,
): { value: tf.Scalar; grad: tf.Tensor2D } {
  const [m, n] = theta.shape;
  const scale = 1 / (m * n);
  const backend = tf.backend();
  const kernels = memory === wasmMemory ? simdKernels() : undefined;
  const gInfo = memory.alloc(backend, [m, n]);
  let sum = 0;
  if (kernels) {
    const acc = memory.alloc(backend, [4]);
    const [tv, sv, gv, av] = memory.views(backend, [theta, s, gInfo, acc]);
    const vectors = n >> 2, tail = 4 * vectors;
    for (let i = 0; i < m; i++) {
      const row = i * n;
      if (vectors > 0) {
        const at = 4 * row;
        kernels.pairnll(
          tv.byteOffset + at,
          sv.byteOffset + at,
          gv.byteOffset + at,
          vectors,
          scale,
          av.byteOffset,
        );
        sum += av[0] + av[1] + av[2] + av[3];
      }
      sum += pairLikelihoodRange(tv, sv, gv, scale, row + tail, row + n);
    }
    (backend as unknown as { disposeData(id: unknown): void }).disposeData(acc.dataId);
  } else {
    const [tv, sv, gv] = memory.views(backend, [theta, s, gInfo]);
    for (let i = 0; i < m; i++) sum += pairLikelihoodRange(tv, sv, gv, scale, i * n, (i + 1) * n);
  }
  const grad = tf.engine().makeTensorFromTensorInfo(gInfo) as tf.Tensor2D;
  return { value: tf.scalar(sum * scale), grad };
}

/**
 * Entries [from, to): g = (sigmoid(t) - s) scale; returns the float64 sum of softplus(t) - s t.
 * The scalar twin of the `pairnll` SIMD kernel.
 */
function pairLikelihoodRange(
  t: Float32Array,
  s: Float32Array,
  g: Float32Array,
  scale: number,
  from: number,
  to: number,
): number {
  let sum = 0;
  for (let k = from; k < to; k++) {
    const x = t[k], e = Math.exp(-Math.abs(x));
    sum += Math.max(x, 0) + Math.log1p(e) - s[k] * x;
    g[k] = ((x >= 0 ? 1 / (1 + e) : e / (1 + e)) - s[k]) * scale;
  }
  return sum;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
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
 * critic, `Mlp.inputGradient` in src/nn.ts).
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
