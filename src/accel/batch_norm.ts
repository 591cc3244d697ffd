/**
 * Training-mode batch normalisation (+ReLU) on the wasm heap with the `bnmoments`,
 * `bnforward`, `bnbackward` SIMD kernels of src/accel/simd.ts: 2-3 passes over the batch
 * instead of ~20 elementwise kernels. Used through `batchNormTraining` of src/nn/ops.ts, which
 * holds the formula.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { wasmMemory } from "./host_memory.ts";
import { simdKernels } from "./simd.ts";

/**
 * The fused batch normalisation, or undefined where the SIMD kernels do not apply (not wasm,
 * SIMD off, d not a multiple of 4, non-float32 input, empty input).
 */
export function batchNormFused(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  onMoments: ((mean: tf.Tensor1D, variance: tf.Tensor1D) => void) | undefined,
  relu: boolean,
): tf.Tensor2D | undefined {
  const [rows, cols] = x.shape;
  const kernels = simdKernels();
  if (
    !kernels || rows === 0 || cols === 0 || cols % 4 !== 0 ||
    ![x, gamma, beta].every((t) => t.dtype === "float32") || gamma.size !== cols ||
    beta.size !== cols
  ) return undefined;
  const floor = relu ? 0 : -Infinity;
  const make = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const backend = tf.backend();
    const [yI, hI] = [0, 1].map(() => wasmMemory.alloc(backend, [rows, cols]));
    const [mI, vI, iI] = [0, 1, 2].map(() => wasmMemory.alloc(backend, [cols]));
    const [xv, gv, bv, yv, hv, mv, vv, iv] = wasmMemory.views(backend, [
      xx,
      g,
      b,
      yI,
      hI,
      mI,
      vI,
      iI,
    ]);
    kernels.bnmoments(xv.byteOffset, rows, cols, mv.byteOffset, vv.byteOffset, 1 / rows);
    for (let j = 0; j < cols; j++) iv[j] = 1 / Math.sqrt(vv[j] + eps);
    kernels.bnforward(
      xv.byteOffset,
      yv.byteOffset,
      hv.byteOffset,
      rows,
      cols,
      mv.byteOffset,
      iv.byteOffset,
      gv.byteOffset,
      bv.byteOffset,
      floor,
    );
    const [y, xhat, mean, variance, inv] = [yI, hI, mI, vI, iI].map(make);
    if (onMoments) tf.tidy(() => onMoments(mean as tf.Tensor1D, variance as tf.Tensor1D));
    save([xhat, inv, g, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sinv, sg, sy] = saved;
        const be = tf.backend();
        const dxI = wasmMemory.alloc(be, [rows, cols]);
        const [dgI, dbI] = [0, 1].map(() => wasmMemory.alloc(be, [cols]));
        const tmp = wasmMemory.alloc(be, [2 * cols]);
        const [dyv, syv, shv, sgv, siv, dxv, dgv, dbv, tv] = wasmMemory.views(be, [
          dy,
          sy,
          sxhat,
          sg,
          sinv,
          dxI,
          dgI,
          dbI,
          tmp,
        ]);
        kernels.bnbackward(
          dyv.byteOffset,
          syv.byteOffset,
          shv.byteOffset,
          rows,
          cols,
          sgv.byteOffset,
          siv.byteOffset,
          dxv.byteOffset,
          dgv.byteOffset,
          dbv.byteOffset,
          tv.byteOffset,
          floor,
          1 / rows,
        );
        (be as unknown as { disposeData(id: unknown): void }).disposeData(tmp.dataId);
        return [make(dxI), make(dgI), make(dbI)];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
}
