/**
 * The HashDense kernel: y = act(x W + b) as one recorded op on the wasm and cpu backends,
 * matmul, bias and activation in one call (the backend's own `_FusedMatMul`, the BLAS one when
 * installed), with its gradient. Used through `dense` of src/nn/ops.ts.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { matMulT } from "./matmul_gradient.ts";

/** Activations the dense op applies after x W + b. */
export type Activation = "linear" | "relu" | "sigmoid" | "tanh";

const DENSE_KERNEL = "HashDense";
const DENSE_BACKENDS = ["wasm", "cpu"];
const denseRegistered = new Set<string>();

interface DenseBackend {
  disposeData(dataId: unknown): void;
}

/**
 * The HashDense kernel of one backend: y = act(x W + b) by the backend's own `_FusedMatMul`
 * kernel (the BLAS one when installed, src/accel/blas.ts) with the bias, and ReLU fused; sigmoid and
 * tanh by the backend's Sigmoid / Tanh kernel on the product. Kernels are looked up at each
 * call, so installing or removing kernel sets later is respected. Shapes are passed as 3-D
 * views of the same memory (the stock wasm `_FusedMatMul` expects batch dimensions).
 */
function denseKernelFor(backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { x: tf.TensorInfo; W: tf.TensorInfo; b: tf.TensorInfo };
      backend: DenseBackend;
      attrs: { activation: Activation };
    };
    const { x, W, b } = inputs;
    const [m, k] = x.shape, n = W.shape[1];
    const act = attrs.activation;
    const out3 = tf.getKernel("_FusedMatMul", backendName)!.kernelFunc({
      inputs: {
        a: { dataId: x.dataId, shape: [1, m, k], dtype: x.dtype },
        b: { dataId: W.dataId, shape: [1, k, n], dtype: W.dtype },
        bias: b,
      },
      attrs: {
        transposeA: false,
        transposeB: false,
        activation: act === "relu" ? "relu" : "linear",
        leakyreluAlpha: 0,
      },
      backend: backend as unknown as tf.KernelBackend,
    }) as tf.TensorInfo;
    const z: tf.TensorInfo = { dataId: out3.dataId, shape: [m, n], dtype: "float32" };
    if (act !== "sigmoid" && act !== "tanh") return z;
    const y = tf.getKernel(act === "sigmoid" ? "Sigmoid" : "Tanh", backendName)!.kernelFunc({
      inputs: { x: z },
      attrs: {},
      backend: backend as unknown as tf.KernelBackend,
    }) as tf.TensorInfo;
    backend.disposeData(z.dataId);
    return y;
  };
}

/** dy times the activation's derivative, from the saved output y. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case "linear":
      return dy;
    case "relu":
      return tf.mul(dy, tf.step(y)); // y > 0 exactly where x W + b > 0
    case "sigmoid":
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(y)));
  }
}

function ensureDenseKernel(backendName: string): boolean {
  if (!DENSE_BACKENDS.includes(backendName)) return false;
  if (denseRegistered.has(backendName)) return true;
  if (!tf.getKernel("_FusedMatMul", backendName)) return false;
  if (denseRegistered.size === 0) {
    tf.registerGradient({
      kernelName: DENSE_KERNEL,
      inputsToSave: ["x", "W"],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, W, y] = saved;
        const dz = activationGrad(
          dy as tf.Tensor,
          y,
          (attrs as { activation: Activation }).activation,
        );
        return {
          x: () => matMulT(dz, W, false, true),
          W: () => matMulT(x, dz, true, false),
          b: () => tf.sum(dz, 0),
        };
      },
    });
  }
  tf.registerKernel({
    kernelName: DENSE_KERNEL,
    backendName,
    kernelFunc: denseKernelFor(backendName),
  });
  denseRegistered.add(backendName);
  return true;
}

/**
 * y = act(x W + b) by the HashDense kernel, or undefined when this backend (or dtype) has no
 * such kernel; the caller then composes tensor ops.
 */
export function denseKernel(
  x: tf.Tensor2D,
  W: tf.Tensor,
  b: tf.Tensor,
  activation: Activation,
): tf.Tensor2D | undefined {
  if (
    x.dtype === "float32" && W.dtype === "float32" && b.dtype === "float32" &&
    ensureDenseKernel(tf.getBackend())
  ) {
    return tf.engine().runKernel(DENSE_KERNEL, { x, W, b }, { activation }) as tf.Tensor2D;
  }
  return undefined;
}
