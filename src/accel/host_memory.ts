/**
 * Direct access to the float32 memory of tensors on the backends that keep it in this
 * process: `wasm` (the module's heap) and `cpu` (Float32Arrays). Used by the BLAS kernels
 * (src/accel/blas.ts), the fused ops, and the host-side optimiser and BatchNorm statistics updates
 * ({@link replaceOnHost}). Other backends
 * (`tensorflow`, `webgl`) have no host view: {@link hostMemory} returns undefined and callers
 * take their tensor-op path.
 *
 * Views of the wasm heap are invalidated by any later allocation (the heap can grow and move):
 * take them after the last allocation and use them before the next one.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";

/** How code reaches a backend's tensor memory. */
export interface HostMemory {
  /** Allocate a float32 output tensor (a TensorInfo owned by the backend, refCount 1). */
  alloc(backend: unknown, shape: number[]): tf.TensorInfo;
  /**
   * Views of the given tensors' float32 data (in order). Must be taken after the last
   * allocation, since allocating can move the wasm heap.
   */
  views(backend: unknown, infos: tf.TensorInfo[]): Float32Array[];
  /** How many tensors share the data of `info` (1 = it owns its memory alone). */
  refCount(backend: unknown, info: tf.TensorInfo): number;
}

interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: unknown): { memoryOffset: number; refCount: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

interface CpuBackendLike {
  data: { get(id: unknown): { values: unknown; refCount: number } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Host memory access of the wasm backend (views into the module heap). */
export const wasmMemory: HostMemory = {
  alloc(backend, shape) {
    return (backend as WasmBackendLike).makeOutput(shape, "float32");
  },
  views(backend, infos) {
    const be = backend as WasmBackendLike;
    const buffer = be.wasm.HEAPU8.buffer;
    return infos.map((t) =>
      new Float32Array(buffer, be.dataIdMap.get(t.dataId).memoryOffset, shapeSize(t.shape))
    );
  },
  refCount(backend, info) {
    return (backend as WasmBackendLike).dataIdMap.get(info.dataId).refCount;
  },
};

/** Host memory access of the cpu backend (its Float32Arrays). */
export const cpuMemory: HostMemory = {
  alloc(backend, shape) {
    return (backend as CpuBackendLike).makeTensorInfo(
      shape,
      "float32",
      new Float32Array(shapeSize(shape)),
    );
  },
  views(backend, infos) {
    return infos.map((t) => {
      const values = (backend as CpuBackendLike).data.get(t.dataId).values;
      if (!(values instanceof Float32Array)) {
        throw new Error("src/accel/host_memory.ts: cpu tensor data is not a Float32Array");
      }
      const n = shapeSize(t.shape);
      return values.length === n ? values : values.subarray(0, n);
    });
  },
  refCount(backend, info) {
    return (backend as CpuBackendLike).data.get(info.dataId).refCount;
  },
};

/** The host memory access of a backend (default: the active one), or undefined if it has none. */
export function hostMemory(backendName: string = tf.getBackend()): HostMemory | undefined {
  if (backendName === "wasm") return wasmMemory;
  if (backendName === "cpu") return cpuMemory;
  return undefined;
}

/**
 * Replace float32 variables by new values computed on the host: each variable gets a new
 * tensor (fresh memory, a new identity) that `write(old, fresh, readOnly)` fills from views
 * of the current values, then the variable takes it over and its old data is released.
 *
 * Never writing into a live tensor's memory is what makes this safe: the stock wasm matmul
 * (XNNPACK) packs its right-hand operand once and caches the packed copy by tensor identity,
 * so a weight changed in place would keep being multiplied with its old values (measured:
 * models trained on wasm without the BLAS kernels did not learn at all). Memory shared with
 * another tensor (shared-memory Identity, saved gradient inputs) is never touched either.
 *
 * Returns false, doing nothing, when the backend keeps its memory elsewhere or a tensor is not
 * float32: the caller then takes its tensor-op path. The views are valid only inside `write`.
 */
export function replaceOnHost(
  vars: tf.Variable[],
  readOnly: tf.Tensor[],
  write: (old: Float32Array[], fresh: Float32Array[], readOnly: Float32Array[]) => void,
): boolean {
  const memory = hostMemory();
  if (!memory) return false;
  if ([...vars, ...readOnly].some((t) => t.dtype !== "float32")) return false;
  const backend = tf.backend();
  const outs = vars.map((v) => memory.alloc(backend, [...v.shape]));
  // Views after the last allocation (an allocation can move the wasm heap).
  const views = memory.views(backend, [...vars, ...outs, ...readOnly]);
  const n = vars.length;
  try {
    write(views.slice(0, n), views.slice(n, 2 * n), views.slice(2 * n));
  } catch (e) {
    for (const o of outs) tf.backend().disposeData(o.dataId);
    throw e;
  }
  vars.forEach((v, i) => {
    const t = tf.engine().makeTensorFromTensorInfo(outs[i]);
    v.assign(t);
    t.dispose();
  });
  return true;
}
