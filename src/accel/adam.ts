/**
 * The Adam step on the host: over flat arrays in JS (cpu) or by the `adam` SIMD kernel
 * (wasm), writing NEW tensors that the variables take over (replaceOnHost). Used through
 * `adamUpdateOnHost` of src/nn/ops.ts; src/nn/optim.ts holds the formula as tensor ops.
 *
 * @module
 */
import type * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { replaceOnHost } from "./host_memory.ts";
import { simdKernels, type WasmKernels } from "./simd.ts";

/** The constants of one Adam step t: bias corrections folded into stepSize and sqrtC2. */
export interface AdamStep {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** sqrt(1 - beta2^t). */
  sqrtC2: number;
}

/** Flat arrays of one Adam update: current values, gradient, and where the new values go. */
export interface AdamArrays {
  /** Current weights, first and second moments. */
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Gradient. */
  g: Float32Array;
  /** New weights and moments (may be the same arrays as w, m, v: in place). */
  wo: Float32Array;
  mo: Float32Array;
  vo: Float32Array;
}

/**
 * One Adam step over flat arrays (PyTorch semantics):
 * g' = g + wd w; m' = b1 m + (1-b1) g'; v' = b2 v + (1-b2) g'^2;
 * w' = w - stepSize m' / (sqrt(v') / sqrtC2 + eps). Arithmetic in float64, stored as float32.
 */
export function adamUpdateArrays(a: AdamArrays, h: AdamStep): void {
  const { beta1, beta2, eps, weightDecay, stepSize, sqrtC2 } = h;
  const { w, m, v, g, wo, mo, vo } = a;
  const a1 = 1 - beta1, a2 = 1 - beta2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    const gi = g[i] + weightDecay * wi;
    const mi = beta1 * m[i] + a1 * gi;
    const vi = beta2 * v[i] + a2 * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    wo[i] = wi - stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
  }
}

/**
 * The step of {@link adamUpdateArrays} by the wasm SIMD kernel (float32 arithmetic); every
 * array must be a view of the wasm heap.
 */
export function adamUpdateSimd(kernels: WasmKernels, a: AdamArrays, h: AdamStep): void {
  kernels.adam(
    a.w.byteOffset,
    a.m.byteOffset,
    a.v.byteOffset,
    a.g.byteOffset,
    a.wo.byteOffset,
    a.mo.byteOffset,
    a.vo.byteOffset,
    a.w.length,
    h.beta1,
    1 - h.beta1,
    h.beta2,
    1 - h.beta2,
    h.eps,
    h.weightDecay,
    h.stepSize,
    1 / h.sqrtC2,
  );
}

/**
 * One Adam step of variable `w` with moments `m`, `v` and gradient `grad` on the host: one SIMD
 * pass on wasm ({@link adamUpdateSimd}), one JS pass on cpu ({@link adamUpdateArrays}); the
 * variables take over new tensors (src/accel/host_memory.ts, replaceOnHost: never written in
 * place). Returns false, doing nothing, where the backend keeps its memory elsewhere.
 */
export function adamUpdateOnHost(
  w: tf.Variable,
  m: tf.Variable,
  v: tf.Variable,
  grad: tf.Tensor,
  h: AdamStep,
): boolean {
  const simd = simdKernels();
  return replaceOnHost([w, m, v], [grad], ([w0, m0, v0], [wo, mo, vo], [g0]) => {
    const arrays = { w: w0, m: m0, v: v0, g: g0, wo, mo, vo };
    if (simd) adamUpdateSimd(simd, arrays, h);
    else adamUpdateArrays(arrays, h);
  });
}
