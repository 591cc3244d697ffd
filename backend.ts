/**
 * `@cmh/hashing/backend`: the TensorFlow.js backend (wasm, cpu, or a native one when
 * installed), the optional OpenBLAS matrix products, and what a run used.
 *
 * @module
 */
export {
  BACKEND_NAMES,
  type BackendInfo,
  backendInfo,
  type BackendName,
  type BackendOptions,
  initBackend,
  parseBackendName,
} from "./src/accel/backend.ts";
export type { WebGpuAdapter } from "./src/accel/webgpu.ts";
export type { BlasMode } from "./src/accel/blas.ts";
