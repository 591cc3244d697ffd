/**
 * The ops of the networks: the only door from src/nn/ and src/models/ into the kernels of
 * src/accel/. Each op is written here as its formula (the tensor-op form, which runs on every
 * backend); where src/accel/ has a fused or host-memory implementation for the active
 * backend, the op takes it, with the same values to float32 rounding (tests/accel/).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { type Activation, denseKernel } from "../accel/dense_kernel.ts";
import { batchNormFused } from "../accel/batch_norm.ts";
import { pairLikelihoodFused } from "../accel/pair_likelihood.ts";

export type { Activation } from "../accel/dense_kernel.ts";
export { matMulT } from "../accel/matmul_gradient.ts";
export { labelSimilarity } from "../accel/label_similarity.ts";
export { replaceOnHost } from "../accel/host_memory.ts";
export { type AdamStep, adamUpdateOnHost } from "../accel/adam.ts";

/**
 * y = act(x W + b) for x: m x in, W: in x out, b: out — one recorded op on the wasm and cpu
 * backends (kernel HashDense: matmul, bias and activation in one call; its gradient gives
 * dx = dz W^T, dW = x^T dz, db = sum(dz) with dz = dy act'(y), each computed only when
 * needed — so a first layer on constant data never computes dx). Other backends compose the
 * same from tensor ops. Values equal the op composition to float32 rounding.
 */
export function dense(
  x: tf.Tensor2D,
  W: tf.Tensor,
  b: tf.Tensor,
  activation: Activation = "linear",
): tf.Tensor2D {
  return denseKernel(x, W, b, activation) ?? denseOps(x, W, b, activation);
}

/** {@link dense} as tensor ops: act(add(matMul(x, W), b)). */
export function denseOps(
  x: tf.Tensor2D,
  W: tf.Tensor,
  b: tf.Tensor,
  activation: Activation = "linear",
): tf.Tensor2D {
  return tf.tidy(() => ACTIVATIONS[activation](tf.add(tf.matMul(x, W as tf.Tensor2D), b)));
}

/** The activations as tensor ops. */
const ACTIVATIONS: Record<Activation, (z: tf.Tensor) => tf.Tensor2D> = {
  linear: (z) => z as tf.Tensor2D,
  relu: (z) => tf.relu(z) as tf.Tensor2D,
  sigmoid: (z) => tf.sigmoid(z) as tf.Tensor2D,
  tanh: (z) => tf.tanh(z) as tf.Tensor2D,
};
/**
 * Training-mode batch normalisation y = gamma (x - mu) / sqrt(var + eps) + beta over the rows
 * of x (m x d; biased batch variance), followed by a ReLU when `relu`, with the closed-form
 * gradient dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(var + eps),
 * dxhat = g gamma; dgamma = sum(g xhat); dbeta = sum(g), where g = dy (masked by y > 0 under
 * the ReLU). One recorded op instead of ~10 (the autodiff of the formula takes ~3x the
 * kernels). On the wasm backend with d a multiple of 4 the forward and the backward pass are
 * the `bnmoments`/`bnforward`/`bnbackward` SIMD kernels of src/accel/simd.ts (2-3 passes over the
 * batch instead of ~20 elementwise kernels); elsewhere tensor ops. First-order only: a
 * gradient of this gradient would treat the saved xhat as constant, so it must not sit under
 * a second differentiation (the models' gradient penalties differentiate D twice, which has
 * no BatchNorm). `onMoments(mean, variance)` is called once with the batch moments (running
 * statistics).
 */
export function batchNormTraining(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  onMoments?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
  relu = false,
): tf.Tensor2D {
  const fused = batchNormFused(x, gamma, beta, eps, onMoments, relu);
  if (fused) return fused;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(xx, 0) as tf.Tensor1D;
    const xc = tf.sub(xx, mean);
    const variance = tf.mean(tf.square(xc), 0) as tf.Tensor1D;
    if (onMoments) tf.tidy(() => onMoments(mean, variance));
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, inv);
    const affine = tf.add(tf.mul(xhat, g), b);
    const y = relu ? tf.relu(affine) : affine;
    save([xhat, inv, g, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sinv, sg, sy] = saved;
        const gy = relu ? tf.mul(dy, tf.step(sy)) : dy;
        const dxhat = tf.mul(gy, sg);
        const dx = tf.mul(
          tf.sub(tf.sub(dxhat, tf.mean(dxhat, 0)), tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), 0))),
          sinv,
        );
        return [dx, tf.sum(tf.mul(gy, sxhat), 0), tf.sum(gy, 0)];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
}

/**
 * mean_ij( softplus(Theta_ij) - S_ij Theta_ij ) for m x n `theta` and `s` (S a constant).
 * Where the backend keeps tensors in this process (wasm, cpu) this is one fused op: a single
 * pass computes the value and the gradient (sigmoid(Theta) - S) / (m n), which the backward
 * pass only scales (wasm: the `pairnll` SIMD kernel; cpu: a JS loop; src/accel/pair_likelihood.ts). Other
 * backends, and non-float32 input, use the tensor-op formula {@link pairLikelihoodOps}.
 */
export function pairLikelihood(theta: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  if (!sameShape(theta.shape, s.shape)) {
    throw new Error(
      `pairLikelihood: s has shape ${s.shape.join("x")}, expected ${
        theta.shape.join("x")
      } (as theta)`,
    );
  }
  return pairLikelihoodFused(theta, s) ?? pairLikelihoodOps(theta, s);
}

/** {@link pairLikelihood} as tensor ops: mean(softplus(theta) - s theta). */
export function pairLikelihoodOps(theta: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(tf.softplus(theta), tf.mul(s, theta))) as tf.Scalar);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
