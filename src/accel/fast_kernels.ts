/**
 * Faster replacements for a few stock `wasm` backend kernels that dominate a training step
 * after the matrix products (measured with bench/profile_step.ts; see docs/benchmarks.md):
 *
 * - `Identity`, and `Cast` to the same dtype: the stock kernels copy the data; these share it
 *   (reference count + 1), exactly as the stock `Reshape` kernel and the `cpu` backend's
 *   Identity do. tfjs calls them for every `clone` and for the casts inside many gradients.
 * - `Sum` and `Mean` over leading axes of a float32 tensor (the batch axis of bias and
 *   BatchNorm gradients): the stock kernels transpose the input first; these add whole rows
 *   with the `colsum` SIMD kernel of src/accel/simd.ts. Sums run in row order in float32, as the
 *   stock kernel's do after its transpose; the mean divides the sum by the row count.
 *
 * - `Softplus` on float32: the `softplus` SIMD kernel of src/accel/simd.ts (max(x, 0) +
 *   log1p(exp(-|x|)) by polynomials, within a few float32 ulps; for x < -87.3 the result is
 *   exp(-87.3) ~ 1.2e-38 instead of a smaller subnormal). It carries the pairwise likelihood
 *   over m x n pairs.
 *
 * - `SplitV` of float32 along an axis with only size-1 dimensions before it (e.g. axis 0, the
 *   gradient of a row-wise concat): each piece is a contiguous block, copied with one memcpy
 *   (the stock kernel slices element by element).
 *
 * Every other case (other dtypes, other axes) goes to the stock kernel unchanged.
 *
 * The SIMD paths of the library code outside the kernels (the Adam step in src/nn/optim.ts, the
 * pair likelihood in src/nn/losses.ts, BatchNorm in src/nn/layers.ts, the sparse products in
 * src/accel/blas.ts) follow the same switch: uninstalling the fast kernels from wasm turns them off
 * (src/accel/simd.ts `setSimdEnabled`), installing turns them on.
 *
 * One change to the engine's bookkeeping comes with them: the tensors a kernel saves for its
 * gradient. tfjs saves each one with `clone`, which runs the Identity kernel and records a
 * tape node for it — about a third of all tape nodes in a training step (354 of 609 in a
 * CPAH step). While the fast kernels are installed and the wasm backend is active, a tensor
 * saved under a single gradient tape is instead a new handle on the same memory (reference
 * count + 1, which is all the shared-memory Identity does) with no kernel call and no tape
 * node. Under nested tapes (a gradient of a gradient) tfjs's clone is kept, because there the
 * clone's tape node links the saved tensor to the outer gradient. Values are unchanged;
 * in-place writers (the Adam step) copy any variable whose memory is shared before writing.
 * `initBackend({fastKernels})` installs them (default on; src/accel/backend.ts), and
 * {@link fastKernelsDescription} is recorded with the backend in result files.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { shapeSize, wasmMemory } from "./host_memory.ts";
import { setSimdEnabled, wasmKernels } from "./simd.ts";

/** Kernel names replaced by {@link installFastKernels}. */
export const FAST_KERNEL_NAMES: readonly string[] = [
  "Identity",
  "Cast",
  "Sum",
  "Mean",
  "Softplus",
  "SplitV",
];

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

interface RefCounting {
  incRef(dataId: unknown): void;
}

const installed = new Map<string, Map<string, tf.KernelConfig>>();

/** Share the input's memory (no copy). */
function shareInput(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * When `axis` names exactly the first k dimensions of `shape` (any order, negatives allowed,
 * k < rank): k and the number of rows they span; else undefined (also for a null `axis`,
 * which means all axes).
 */
export function leadingAxes(
  shape: readonly number[],
  axis: unknown,
): { count: number; rows: number } | undefined {
  const r = shape.length;
  if (axis === null || axis === undefined) return undefined; // all axes
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => Number(a));
  if (!list.length || list.some((a) => !Number.isInteger(a) || a < -r || a >= r)) return undefined;
  const sorted = [...new Set(list.map((a) => (a + r) % r))].sort((a, b) => a - b);
  if (sorted.length === r || sorted.some((a, i) => a !== i)) return undefined;
  return { count: sorted.length, rows: shapeSize(shape.slice(0, sorted.length)) };
}

/** A Sum (mean = false) or Mean kernel over leading axes of float32 input, else `stock`. */
function reduceLeading(stock: tf.KernelConfig, mean: boolean): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x;
    const kernels = wasmKernels();
    const lead = x.dtype === "float32" ? leadingAxes(x.shape, attrs?.axis) : undefined;
    if (!kernels || !lead || lead.rows === 0) return stock.kernelFunc(args);
    const rest = x.shape.slice(lead.count);
    const outShape = attrs?.keepDims ? [...new Array<number>(lead.count).fill(1), ...rest] : rest;
    const out = wasmMemory.alloc(backend, outShape);
    const [xv, ov] = wasmMemory.views(backend, [x, out]);
    kernels.colsum(xv.byteOffset, ov.byteOffset, lead.rows, ov.length);
    if (mean) { for (let j = 0; j < ov.length; j++) ov[j] /= lead.rows; }
    return out;
  };
}

function replacements(stock: Map<string, tf.KernelConfig>): Record<string, tf.KernelFunc> {
  return {
    Identity: (args) => {
      const { inputs, backend } = args as unknown as KernelArgs;
      return inputs.x.dtype === "string"
        ? stock.get("Identity")!.kernelFunc(args)
        : shareInput(inputs.x, backend);
    },
    Cast: (args) => {
      const { inputs, backend, attrs } = args as unknown as KernelArgs;
      return inputs.x.dtype === attrs?.dtype && inputs.x.dtype !== "string"
        ? shareInput(inputs.x, backend)
        : stock.get("Cast")!.kernelFunc(args);
    },
    Sum: reduceLeading(stock.get("Sum")!, false),
    Mean: reduceLeading(stock.get("Mean")!, true),
    SplitV: splitContiguous(stock.get("SplitV")!),
    Softplus: (args) => {
      const { inputs, backend } = args as unknown as KernelArgs;
      const x = inputs.x, kernels = wasmKernels();
      if (!kernels || x.dtype !== "float32") return stock.get("Softplus")!.kernelFunc(args);
      const out = wasmMemory.alloc(backend, [...x.shape]);
      const [xv, ov] = wasmMemory.views(backend, [x, out]);
      const vectors = xv.length >> 2;
      kernels.softplus(xv.byteOffset, ov.byteOffset, vectors);
      for (let i = 4 * vectors; i < xv.length; i++) {
        const t = xv[i];
        ov[i] = Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
      }
      return out;
    },
  };
}

interface EngineLike {
  backendName: string;
  state: { gradientDepth: number };
  backend: { incRef(dataId: unknown): void };
  keep<T extends tf.Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
  saveTensorsForBackwardMode?: (tensors: tf.Tensor[]) => tf.Tensor[];
}

let stockSave: ((tensors: tf.Tensor[]) => tf.Tensor[]) | undefined;

/** Make the engine save gradient tensors as shared handles on wasm (see the module doc). */
function installSharedSaves(): void {
  const engine = tf.engine() as unknown as EngineLike;
  const stock = engine.saveTensorsForBackwardMode;
  if (stockSave || typeof stock !== "function") return;
  stockSave = stock;
  engine.saveTensorsForBackwardMode = function (tensors: tf.Tensor[]): tf.Tensor[] {
    // Depth 1: this tape's backward pass runs with no tape recording, so nothing will ever
    // need a path from a saved tensor back to its source. Deeper (a gradient inside a
    // gradient), the inner backward pass is recorded on the outer tape and the clone's tape
    // node is that path: keep tfjs's clone there.
    if (
      engine.backendName !== "wasm" || !installed.has("wasm") || engine.state.gradientDepth !== 1
    ) {
      return stock.call(engine, tensors);
    }
    return tensors.map((t) => {
      if (t.dtype === "string") return stock.call(engine, [t])[0];
      const handle = engine.makeTensorFromTensorInfo({
        dataId: t.dataId,
        shape: t.shape,
        dtype: t.dtype,
      });
      engine.backend.incRef(t.dataId);
      return engine.keep(handle);
    });
  };
}

function uninstallSharedSaves(): void {
  if (!stockSave) return;
  (tf.engine() as unknown as EngineLike).saveTensorsForBackwardMode = stockSave;
  stockSave = undefined;
}

/**
 * Sizes of the pieces of a SplitV along a dimension of length `dim` (`numOrSizeSplits`: a count
 * of equal pieces, or sizes with at most one -1 for the rest); undefined when they do not fit.
 */
export function splitSizes(dim: number, numOrSizeSplits: unknown): number[] | undefined {
  if (typeof numOrSizeSplits === "number") {
    const n = numOrSizeSplits;
    return Number.isInteger(n) && n > 0 && dim % n === 0 ? new Array(n).fill(dim / n) : undefined;
  }
  if (!Array.isArray(numOrSizeSplits)) return undefined;
  const sizes = numOrSizeSplits.map(Number);
  const free = sizes.filter((v) => v === -1).length;
  if (free > 1 || sizes.some((v) => !Number.isInteger(v) || v < -1)) return undefined;
  const fixed = sizes.reduce((a, v) => (v === -1 ? a : a + v), 0);
  const out = sizes.map((v) => (v === -1 ? dim - fixed : v));
  return out.every((v) => v >= 0) && out.reduce((a, v) => a + v, 0) === dim ? out : undefined;
}

/** SplitV along an axis preceded by size-1 dimensions only: contiguous copies, else `stock`. */
function splitContiguous(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const x = inputs.x, r = x.shape.length;
    const axis = Number(attrs?.axis ?? 0);
    const ax = axis < 0 ? axis + r : axis;
    const sizes = x.dtype === "float32" && ax >= 0 && ax < r &&
        x.shape.slice(0, ax).every((d) => d === 1)
      ? splitSizes(x.shape[ax], attrs?.numOrSizeSplits)
      : undefined;
    if (!sizes) return stock.kernelFunc(args);
    const inner = shapeSize(x.shape.slice(ax + 1));
    const outs = sizes.map((size) => {
      const shape = [...x.shape];
      shape[ax] = size;
      return wasmMemory.alloc(backend, shape);
    });
    const [xv, ...ov] = wasmMemory.views(backend, [x, ...outs]);
    let at = 0;
    ov.forEach((v, i) => {
      v.set(xv.subarray(at, at + sizes[i] * inner));
      at += sizes[i] * inner;
    });
    return outs;
  };
}

/**
 * Install the fast kernels on the `wasm` backend (default: the active backend). Returns a
 * description, or undefined when the backend is not `wasm` or lacks WebAssembly SIMD
 * (nothing is changed then).
 */
export function installFastKernels(backendName: string = tf.getBackend()): string | undefined {
  if (backendName !== "wasm") return undefined;
  if (tf.getBackend() === "wasm" && !wasmKernels()) return undefined;
  if (!installed.has(backendName)) {
    const stock = new Map<string, tf.KernelConfig>();
    for (const name of FAST_KERNEL_NAMES) {
      const config = tf.getKernel(name, backendName);
      if (!config) return undefined;
      stock.set(name, config);
    }
    for (const [name, kernelFunc] of Object.entries(replacements(stock))) {
      tf.unregisterKernel(name, backendName);
      tf.registerKernel({ kernelName: name, backendName, kernelFunc });
    }
    installed.set(backendName, stock);
  }
  installSharedSaves();
  setSimdEnabled(true);
  return fastKernelsDescription(backendName);
}

/** Put the stock kernels back. Returns whether any were replaced. */
export function uninstallFastKernels(backendName: string = tf.getBackend()): boolean {
  if (backendName === "wasm") setSimdEnabled(false);
  const stock = installed.get(backendName);
  if (!stock) return false;
  for (const [name, config] of stock) {
    tf.unregisterKernel(name, backendName);
    tf.registerKernel(config);
  }
  installed.delete(backendName);
  if (installed.size === 0) uninstallSharedSaves();
  return true;
}

/** "fast kernels Identity+Cast+Sum+Mean (wasm SIMD)" when installed on the backend. */
export function fastKernelsDescription(
  backendName: string = tf.getBackend(),
): string | undefined {
  return installed.has(backendName)
    ? `fast kernels ${FAST_KERNEL_NAMES.join("+")} (shared-memory Identity/Cast and ` +
      `gradient saves, SIMD leading-axis Sum/Mean, SIMD Softplus, contiguous SplitV); ` +
      `SIMD Adam, pair likelihood, BatchNorm, sparse-operand rows`
    : undefined;
}
