/**
 * Direct access to the float32 memory of tensors on the backends that keep it in this
 * process: `wasm` (the module's heap) and `cpu` (Float32Arrays). Used by the BLAS kernels
 * (src/blas.ts) and by the in-place optimiser update (src/optim.ts). Other backends
 * (`tensorflow`, `webgl`) have no host view: {@link hostMemory} returns undefined and callers
 * take their tensor-op path.
 *
 * Views of the wasm heap are invalidated by any later allocation (the heap can grow and move):
 * take them after the last allocation and use them before the next one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

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
        throw new Error("src/host_memory.ts: cpu tensor data is not a Float32Array");
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

/** Data ids whose memory {@link exclusiveViews} allocated itself (never a caller's array). */
const privatized = new WeakSet<object>();

/**
 * Writable views of float32 variables (and read-only views of `readOnly` tensors) on the active
 * backend, or undefined when the backend keeps its memory elsewhere or a tensor is not float32.
 * A variable gets a private copy of its data first unless its memory was made private here
 * before and no other tensor shares it: so an in-place write can never reach another tensor,
 * nor an array a caller handed to `tf.tensor` (the cpu backend keeps such arrays as they are).
 * Nothing is allocated after the copies, so the views stay valid until the caller's next
 * tensor allocation.
 */
export function exclusiveViews(
  vars: tf.Variable[],
  readOnly: tf.Tensor[] = [],
): Float32Array[] | undefined {
  const memory = hostMemory();
  if (!memory) return undefined;
  if ([...vars, ...readOnly].some((t) => t.dtype !== "float32")) return undefined;
  const backend = tf.backend();
  for (const v of vars) {
    if (!privatized.has(v.dataId) || memory.refCount(backend, v) > 1) {
      const copy = tf.tensor((v.dataSync() as Float32Array).slice(), v.shape, "float32");
      v.assign(copy);
      copy.dispose();
      privatized.add(v.dataId);
    }
  }
  return memory.views(backend, [...vars, ...readOnly]);
}
