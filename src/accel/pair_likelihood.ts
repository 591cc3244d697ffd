/**
 * The pair likelihood's elementwise part as one fused op in host memory: a single pass computes
 * mean(softplus(theta) - S theta) and its gradient (sigmoid(theta) - S) / (m n), which the
 * backward pass only scales (wasm: the `pairnll` SIMD kernel of src/accel/simd.ts; cpu: a JS
 * loop). Used through `pairLikelihood` of src/nn/ops.ts, which holds the formula.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { type HostMemory, hostMemory, wasmMemory } from "./host_memory.ts";
import { simdKernels } from "./simd.ts";

/**
 * mean_ij( softplus(theta_ij) - s_ij theta_ij ) as one fused op, or undefined where the backend
 * keeps tensors elsewhere or the input is not float32 (the caller then uses tensor ops).
 * `theta` and `s` have the same shape (checked by the caller).
 */
export function pairLikelihoodFused(theta: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar | undefined {
  const memory = hostMemory();
  if (!memory || theta.dtype !== "float32" || s.dtype !== "float32" || theta.size === 0) {
    return undefined;
  }
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor2D, save = args[1] as tf.GradSaveFunc;
    const { value, grad } = pairLikelihoodForward(t, s, memory);
    save([grad]);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]) };
  });
  return fused(theta) as tf.Scalar;
}

/** Value and gradient tensor of the fused pair likelihood, computed in host memory. */
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
