/**
 * Optional CBLAS-backed matrix-product kernels for TensorFlow.js.
 *
 * When the process may use FFI (`--allow-ffi`) and a CBLAS library is found, the
 * `BatchMatMul` and `_FusedMatMul` kernels of the active `wasm` or `cpu` backend are
 * replaced by kernels that call `cblas_sgemm` directly on the backend's tensor memory
 * (the wasm heap, or the cpu backend's Float32Arrays): no copies, transposes passed to BLAS,
 * batch dimensions broadcast. Fused bias and activation (linear, relu, relu6, elu,
 * leakyrelu, prelu, sigmoid) are applied in place after the product. Inputs the BLAS path
 * does not cover (non-float32 dtypes, unusual bias shapes, unknown activations) are handed
 * to the stock kernel, so results never change beyond float32 rounding.
 *
 * Library lookup: `opts.library`, else env `HASH_BLAS_LIB`, else a list of usual names
 * ({@link BLAS_CANDIDATES}). Threads: `opts.threads`, else env `HASH_BLAS_THREADS`, else the
 * library's default; set through `openblas_set_num_threads` when the library has it.
 *
 * The `tensorflow` backend is left alone (libtensorflow already uses a BLAS-class GEMM).
 * src/accel/backend.ts calls {@link installBlasKernels} from `initBackend({blas})` and records
 * {@link BlasInstallResult.description} in the backend info of every result file.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { readEnv } from "../io.ts";
import {
  cpuMemory,
  type HostMemory as MemoryAccess,
  shapeSize as size,
  wasmMemory,
} from "./host_memory.ts";
import { simdKernels, type WasmKernels } from "./simd.ts";

/** How `initBackend` treats the BLAS kernels: try (auto), require (on), or remove (off). */
export type BlasMode = "auto" | "on" | "off";

/** The names of {@link BlasMode}, for validating user input. */
export const BLAS_MODES: readonly BlasMode[] = ["auto", "on", "off"];

/** Kernel names replaced when the BLAS kernels are installed. */
export const BLAS_KERNEL_NAMES: readonly string[] = ["BatchMatMul", "_FusedMatMul"];

/** Backends the BLAS kernels support. */
export const BLAS_BACKENDS: readonly string[] = ["wasm", "cpu"];

/**
 * Library names tried in order when neither `opts.library` nor `HASH_BLAS_LIB` is given.
 * A candidate is used only when it exports `cblas_sgemm`.
 */
export const BLAS_CANDIDATES: readonly string[] = [
  "libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "libopenblas.so",
  "libcblas.so.3",
  "libblas.so.3",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
  "libopenblas.dll",
];

/** Options of {@link installBlasKernels}. */
export interface BlasOptions {
  /** Path or soname of the CBLAS library; default env HASH_BLAS_LIB, else {@link BLAS_CANDIDATES}. */
  library?: string;
  /** BLAS thread count; default env HASH_BLAS_THREADS, else the library's default. */
  threads?: number;
  /** Backend to install for; default the active backend (`tf.getBackend()`). */
  backend?: string;
  /**
   * Products whose left operand is mostly zeros (at most {@link SPARSE_MAX_DENSITY} nonzeros,
   * e.g. bag-of-words text features) run over its nonzeros instead of calling sgemm; default
   * env HASH_BLAS_SPARSE ("on"/"off"), else on. See {@link sparseEntries}.
   */
  sparse?: boolean;
}

/** Outcome of {@link installBlasKernels}. */
export interface BlasInstallResult {
  /** Whether the BLAS kernels are now registered for the backend. */
  installed: boolean;
  /** Why they are not installed (one line), when `installed` is false. */
  reason?: string;
  /** One-line description for result files, when installed. */
  description?: string;
  /** The library that was loaded, when installed. */
  library?: string;
  /** BLAS thread count as the library reports it (undefined when it cannot tell). */
  threads?: number;
}

// ---------------------------------------------------------------------------------------
// Library loading

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "pointer", // A
      "i32", // lda
      "pointer", // B
      "i32", // ldb
      "f32", // beta
      "pointer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
} as const;

type BlasLib = Deno.DynamicLibrary<typeof SYMBOLS>;

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

interface Loaded {
  lib: BlasLib;
  path: string;
  vendor: string;
}

const loadedLibs = new Map<string, Loaded>();
let active: Loaded | undefined;

/** Installed kernels per backend name, with the stock configs they replaced. */
const installed = new Map<string, { stock: Map<string, tf.KernelConfig>; description: string }>();

function ffiAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

function openLibrary(path: string): Loaded {
  const cached = loadedLibs.get(path);
  if (cached) return cached;
  const lib = Deno.dlopen(path, SYMBOLS);
  let vendor = "CBLAS";
  const cfg = lib.symbols.openblas_get_config?.();
  if (cfg) vendor = Deno.UnsafePointerView.getCString(cfg);
  const loaded = { lib, path, vendor };
  loadedLibs.set(path, loaded);
  return loaded;
}

/** Load the library named by the options/env, or the first usable candidate. */
function findLibrary(requested: string | undefined): Loaded | string {
  const list = requested ? [requested] : [...BLAS_CANDIDATES];
  const errors: string[] = [];
  for (const path of list) {
    try {
      return openLibrary(path);
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return requested
    ? `CBLAS library '${requested}' could not be loaded (${errors[0]})`
    : `no CBLAS library found (tried ${list.join(", ")}; set HASH_BLAS_LIB to a library ` +
      `exporting cblas_sgemm, e.g. apt-get install libopenblas0-pthread)`;
}

/**
 * Look for a usable CBLAS library without installing anything: `library`, else env
 * HASH_BLAS_LIB, else {@link BLAS_CANDIDATES}. Needs `--allow-ffi`.
 */
export function probeBlasLibrary(
  library?: string,
): { found: true; library: string; vendor: string } | { found: false; reason: string } {
  if (!ffiAllowed()) {
    return { found: false, reason: "FFI not permitted (run Deno with --allow-ffi)" };
  }
  const r = findLibrary(library ?? readEnv("HASH_BLAS_LIB"));
  return typeof r === "string"
    ? { found: false, reason: r }
    : { found: true, library: r.path, vendor: r.vendor };
}

/** Parse a positive integer thread count, with a one-line error naming the source. */
function parseThreads(value: string | number, source: string): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`src/accel/blas.ts: ${source} must be a positive integer, got '${value}'`);
  }
  return n;
}

function threadCount(lib: BlasLib): number | undefined {
  return lib.symbols.openblas_get_num_threads?.() ?? undefined;
}

/** What the loaded BLAS library reports now: see {@link blasRuntime}. */
export interface BlasRuntime {
  /** The kernel core OpenBLAS selected for this CPU (e.g. "Haswell", "Cooperlake"). */
  core?: string;
  /** Threads it uses now. */
  threads?: number;
}

/**
 * The core type and thread count of the BLAS library in use, read from the library at the time
 * of the call (a later {@link setBlasThreads} shows); undefined when no library is loaded. Either
 * field is absent when the library cannot report it (a CBLAS other than OpenBLAS).
 */
export function blasRuntime(): BlasRuntime | undefined {
  if (!active) return undefined;
  const out: BlasRuntime = {};
  const core = active.lib.symbols.openblas_get_corename?.();
  if (core) out.core = Deno.UnsafePointerView.getCString(core).trim();
  else {
    // Older libraries: the core is the word before MAX_THREADS in the config string.
    const m = active.vendor.match(/(\S+)\s+MAX_THREADS=/);
    if (m) out.core = m[1];
  }
  const threads = threadCount(active.lib);
  if (threads !== undefined) out.threads = threads;
  return out;
}

/** Parse a BLAS mode, with a one-line error naming the accepted values. */
export function parseBlasMode(value: string, source = "blas"): BlasMode {
  if ((BLAS_MODES as readonly string[]).includes(value)) return value as BlasMode;
  throw new Error(
    `${source}: unknown BLAS mode '${value}'; expected one of ${BLAS_MODES.join(", ")}`,
  );
}

/** The BLAS mode from env HASH_BLAS, when set. */
export function envBlasMode(): BlasMode | undefined {
  const v = readEnv("HASH_BLAS");
  return v ? parseBlasMode(v, "environment variable HASH_BLAS") : undefined;
}

// ---------------------------------------------------------------------------------------
// Install / uninstall

/**
 * Register the BLAS kernels for a backend. Never throws for a missing library, missing
 * permission or unsupported backend: it returns `{installed: false, reason}`, and the stock
 * kernels are (or, after an earlier install for that backend, again are) the ones in use.
 * Throws only on bad input (a thread count that is not a positive integer). Calling it again
 * re-applies the thread count and keeps the installed kernels.
 */
export async function installBlasKernels(opts: BlasOptions = {}): Promise<BlasInstallResult> {
  await Promise.resolve();
  return installBlasKernelsSync(opts);
}

/** Synchronous form of {@link installBlasKernels}. */
export function installBlasKernelsSync(opts: BlasOptions = {}): BlasInstallResult {
  const backendName = opts.backend ?? tf.getBackend();
  const result = tryInstall(backendName, opts);
  if (!result.installed) uninstallBlasKernels(backendName);
  return result;
}

/**
 * Apply a {@link BlasMode} to a backend (default: the active one): "auto" installs when
 * possible, "on" throws a one-line error when the kernels cannot be installed (except on the
 * `tensorflow` backend, which needs none), "off" puts the stock kernels back.
 */
export async function applyBlasMode(
  mode: BlasMode,
  opts: BlasOptions = {},
): Promise<BlasInstallResult> {
  const backendName = opts.backend ?? tf.getBackend();
  parseBlasMode(mode, "applyBlasMode");
  if (mode === "off") {
    uninstallBlasKernels(backendName);
    return { installed: false, reason: "BLAS kernels disabled (mode 'off')" };
  }
  const result = await installBlasKernels({ ...opts, backend: backendName });
  if (mode === "on" && !result.installed && backendName !== "tensorflow") {
    throw new Error(
      `src/accel/blas.ts: BLAS kernels required (mode 'on') but not installed: ${result.reason}`,
    );
  }
  return result;
}

function tryInstall(backendName: string, opts: BlasOptions): BlasInstallResult {
  const threadsValue = opts.threads ?? readEnv("HASH_BLAS_THREADS");
  const threads = threadsValue === undefined
    ? undefined
    : parseThreads(threadsValue, opts.threads !== undefined ? "threads" : "HASH_BLAS_THREADS");
  if (backendName === "tensorflow") {
    return { installed: false, reason: "backend 'tensorflow' already uses a BLAS-class GEMM" };
  }
  if (!BLAS_BACKENDS.includes(backendName)) {
    return {
      installed: false,
      reason: `backend '${backendName}' is not supported (BLAS kernels exist for ${
        BLAS_BACKENDS.join(", ")
      })`,
    };
  }
  if (!ffiAllowed()) {
    return { installed: false, reason: "FFI not permitted (run Deno with --allow-ffi)" };
  }
  const found = findLibrary(opts.library ?? readEnv("HASH_BLAS_LIB"));
  if (typeof found === "string") return { installed: false, reason: found };
  if (threads !== undefined) found.lib.symbols.openblas_set_num_threads?.(threads);
  active = found;
  const sparseValue = opts.sparse ?? readEnv("HASH_BLAS_SPARSE");
  if (
    sparseValue !== undefined && typeof sparseValue !== "boolean" && !/^(on|off)$/.test(sparseValue)
  ) {
    return { installed: false, reason: `HASH_BLAS_SPARSE is '${sparseValue}', expected on or off` };
  }
  sparseEnabled = sparseValue === undefined || sparseValue === true || sparseValue === "on";

  const reported = threadCount(found.lib);
  const settable = !!found.lib.symbols.openblas_set_num_threads;
  const threadText = reported ??
    (threads !== undefined && !settable ? "library default (not settable)" : "library default");
  const description = `cblas_sgemm via ${found.path} (${found.vendor}), threads=${threadText}, ` +
    `kernels=${BLAS_KERNEL_NAMES.join("+")}, sparse A ${
      sparseEnabled ? `<= ${SPARSE_MAX_DENSITY * 100}% nonzeros by rows` : "off"
    }`;
  const prior = installed.get(backendName);
  if (!prior) {
    const stock = new Map<string, tf.KernelConfig>();
    for (const kernelName of BLAS_KERNEL_NAMES) {
      const config = tf.getKernel(kernelName, backendName);
      if (!config) {
        return {
          installed: false,
          reason: `backend '${backendName}' has no stock '${kernelName}' kernel to replace`,
        };
      }
      stock.set(kernelName, config);
    }
    const memory = backendName === "wasm" ? wasmMemory : cpuMemory;
    replaceKernel(backendName, "BatchMatMul", makeBatchMatMul(memory, stock.get("BatchMatMul")!));
    replaceKernel(
      backendName,
      "_FusedMatMul",
      makeFusedMatMul(memory, stock.get("_FusedMatMul")!),
    );
    installed.set(backendName, { stock, description });
  } else {
    prior.description = description;
  }
  return { installed: true, description, library: found.path, threads: reported };
}

/** Put the stock kernels back for a backend (default: the active one). Returns whether any were removed. */
export function uninstallBlasKernels(backendName: string = tf.getBackend()): boolean {
  const entry = installed.get(backendName);
  if (!entry) return false;
  for (const [kernelName, config] of entry.stock) {
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel(config);
  }
  installed.delete(backendName);
  return true;
}

/** Whether the BLAS kernels are registered for a backend (default: the active one). */
export function blasKernelsInstalled(backendName: string = tf.getBackend()): boolean {
  return installed.has(backendName);
}

/** Description of the installed BLAS kernels for a backend, or undefined. */
export function blasDescription(backendName: string = tf.getBackend()): string | undefined {
  return installed.get(backendName)?.description;
}

/**
 * Set the BLAS thread count of the loaded library. Returns the count the library reports,
 * or undefined when no library is loaded or it cannot set threads.
 */
export function setBlasThreads(threads: number): number | undefined {
  const n = parseThreads(threads, "threads");
  if (!active?.lib.symbols.openblas_set_num_threads) return undefined;
  active.lib.symbols.openblas_set_num_threads(n);
  return threadCount(active.lib);
}

function replaceKernel(backendName: string, kernelName: string, kernelFunc: tf.KernelFunc): void {
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

// ---------------------------------------------------------------------------------------
// Shapes

/** Broadcast two shapes (numpy rules), or undefined when they are incompatible. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For each flat index over `outShape`, the flat index into a tensor of shape `shape`
 * broadcast to it (right-aligned; dimensions of size 1 repeat).
 */
function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = size(outShape);
  const idx = new Int32Array(n);
  const r = outShape.length;
  const strides = new Array<number>(r).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const j = r - shape.length + i;
    strides[j] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let off = 0;
    for (let j = r - 1; j >= 0; j--) {
      const d = outShape[j];
      off += (rem % d) * strides[j];
      rem = Math.floor(rem / d);
    }
    idx[flat] = off;
  }
  return idx;
}

/** Geometry of one (batched, broadcast) matrix product. */
interface MatMulPlan {
  outShape: number[];
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aBatch: Int32Array;
  bBatch: Int32Array;
}

function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transA: boolean,
  transB: boolean,
): MatMulPlan {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) {
    throw new Error(`matMul (BLAS): inputs must have rank >= 2, got ${ra} and ${rb}`);
  }
  const m = transA ? aShape[ra - 1] : aShape[ra - 2];
  const ka = transA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transB ? bShape[rb - 2] : bShape[rb - 1];
  if (ka !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${aShape} and ` +
        `${bShape} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const aLead = aShape.slice(0, -2);
  const bLead = bShape.slice(0, -2);
  const lead = broadcastShapes(aLead, bLead);
  if (!lead) {
    throw new Error(
      `Operands could not be broadcast together with shapes ${aLead} and ${bLead}.`,
    );
  }
  return {
    outShape: [...lead, m, n],
    batch: size(lead),
    m,
    n,
    k: ka,
    transA,
    transB,
    aBatch: broadcastIndex(aLead, lead),
    bBatch: broadcastIndex(bLead, lead),
  };
}

// ---------------------------------------------------------------------------------------
// Sparse left operand

/** Largest fraction of nonzeros in A for which a product runs over A's nonzeros. */
export const SPARSE_MAX_DENSITY = 0.05;

/** Products with fewer multiply-adds than this (m k n) always call sgemm. */
const SPARSE_MIN_WORK = 1 << 20;

/** Whether the sparse path is enabled (set at install). */
let sparseEnabled = true;

/**
 * The nonzeros of a row-major rows x cols matrix as flat indices and values, or undefined when
 * there are more than `maxCount` (the scan stops there; a first look at up to 4096 entries
 * rejects clearly dense matrices at once).
 */
export function sparseEntries(
  a: Float32Array,
  maxCount: number,
): { index: Int32Array; value: Float32Array; count: number } | undefined {
  const probe = Math.min(a.length, 4096);
  let seen = 0;
  for (let i = 0; i < probe; i++) if (a[i] !== 0) seen++;
  if (seen > 2 * maxCount * (probe / a.length) + 8) return undefined;
  const index = new Int32Array(maxCount), value = new Float32Array(maxCount);
  const bits = new Int32Array(a.buffer, a.byteOffset, a.length);
  let count = 0, i = 0;
  const end8 = a.length & ~7;
  for (; i < a.length; i += 8) {
    // Skip 8 entries at once when all their bits are zero (-0 is visited: harmless).
    if (
      i < end8 &&
      (bits[i] | bits[i + 1] | bits[i + 2] | bits[i + 3] | bits[i + 4] | bits[i + 5] |
          bits[i + 6] | bits[i + 7]) === 0
    ) continue;
    for (let j = i, to = Math.min(i + 8, a.length); j < to; j++) {
      const v = a[j];
      if (v === 0) continue;
      if (count === maxCount) return undefined;
      index[count] = j;
      value[count++] = v;
    }
  }
  return { index, value, count };
}

/**
 * C (m x n) = op(A) B (+ C when accumulate) from A's nonzeros: each nonzero A[r, q] adds
 * A[r, q] times a row of B to a row of C — row q of B into row r of C (A is m x k), or row r
 * of B into row q of C (transposed: A is stored k x m). B must not be transposed. On the wasm
 * heap the row update is the `axpy` SIMD kernel; elsewhere a JS loop.
 */
function sparseGemm(
  plan: MatMulPlan,
  entries: { index: Int32Array; value: Float32Array; count: number },
  b: Float32Array,
  c: Float32Array,
  accumulate: boolean,
  simd: WasmKernels | undefined,
): void {
  const { n, k, m, transA } = plan;
  if (!accumulate) c.fill(0);
  const cols = transA ? m : k; // columns of A as stored
  const vectors = n >> 2, tail = 4 * vectors;
  for (let e = 0; e < entries.count; e++) {
    const flat = entries.index[e], v = entries.value[e];
    const r = Math.floor(flat / cols), q = flat - r * cols;
    const outRow = (transA ? q : r) * n, inRow = (transA ? r : q) * n;
    let j = 0;
    if (simd && vectors > 0) {
      simd.axpy(c.byteOffset + 4 * outRow, b.byteOffset + 4 * inRow, v, vectors);
      j = tail;
    }
    for (; j < n; j++) c[outRow + j] += v * b[inRow + j];
  }
}

// ---------------------------------------------------------------------------------------
// GEMM

/**
 * C[batch] = A[batch] op B[batch] (+ C when accumulate), on float32 views. A single product
 * whose A is at most {@link SPARSE_MAX_DENSITY} nonzeros runs over them ({@link sparseGemm});
 * `simd`: the wasm kernels when the views are on the wasm heap.
 */
function gemm(
  plan: MatMulPlan,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  accumulate: boolean,
  simd?: WasmKernels,
) {
  const { batch, m, n, k, transA, transB, aBatch, bBatch } = plan;
  if (m === 0 || n === 0 || batch === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0);
    return;
  }
  if (sparseEnabled && batch === 1 && !transB && m * n * k >= SPARSE_MIN_WORK) {
    const entries = sparseEntries(
      a.length === m * k ? a : a.subarray(aBatch[0] * m * k, (aBatch[0] + 1) * m * k),
      Math.floor(SPARSE_MAX_DENSITY * m * k),
    );
    if (entries) {
      const bView = b.length === k * n ? b : b.subarray(bBatch[0] * k * n, (bBatch[0] + 1) * k * n);
      sparseGemm(plan, entries, bView, c, accumulate, simd);
      return;
    }
  }
  const sgemm = active!.lib.symbols.cblas_sgemm;
  const pa = Deno.UnsafePointer.of(a);
  const pb = Deno.UnsafePointer.of(b);
  const pc = Deno.UnsafePointer.of(c);
  const ta = transA ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const tb = transB ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const beta = accumulate ? 1 : 0;
  // One product for all batches when B is shared and A's batches are stacked rows.
  let stacked = !transA && batch > 1;
  for (let i = 0; stacked && i < batch; i++) stacked = bBatch[i] === bBatch[0] && aBatch[i] === i;
  if (stacked || batch === 1) {
    const rows = stacked ? batch * m : m;
    const pA = Deno.UnsafePointer.offset(pa!, aBatch[0] * m * k * 4);
    const pB = Deno.UnsafePointer.offset(pb!, bBatch[0] * k * n * 4);
    sgemm(CBLAS_ROW_MAJOR, ta, tb, rows, n, k, 1, pA, lda, pB, ldb, beta, pc, n);
    return;
  }
  for (let i = 0; i < batch; i++) {
    const pA = Deno.UnsafePointer.offset(pa!, aBatch[i] * m * k * 4);
    const pB = Deno.UnsafePointer.offset(pb!, bBatch[i] * k * n * 4);
    const pC = Deno.UnsafePointer.offset(pc!, i * m * n * 4);
    sgemm(CBLAS_ROW_MAJOR, ta, tb, m, n, k, 1, pA, lda, pB, ldb, beta, pC, n);
  }
}

// ---------------------------------------------------------------------------------------
// Kernels

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

function makeBatchMatMul(memory: MemoryAccess, stock: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32" || !active) {
      return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const plan = planMatMul(a.shape, b.shape, !!args.attrs?.transposeA, !!args.attrs?.transposeB);
    const out = memory.alloc(args.backend, plan.outShape);
    const [va, vb, vc] = memory.views(args.backend, [a, b, out]);
    gemm(plan, va, vb, vc, false, memory === wasmMemory ? simdKernels() : undefined);
    return out;
  }) as unknown as tf.KernelFunc;
}

const ACTIVATIONS = new Set(["linear", "relu", "relu6", "elu", "leakyrelu", "prelu", "sigmoid"]);

/** Whether `shape` broadcasts into `outShape` without growing it. */
function broadcastsInto(shape: readonly number[], outShape: readonly number[]): boolean {
  if (shape.length > outShape.length) {
    const extra = shape.slice(0, shape.length - outShape.length);
    if (extra.some((d) => d !== 1)) return false;
    shape = shape.slice(shape.length - outShape.length);
  }
  const b = broadcastShapes(shape, outShape);
  return !!b && b.every((d, i) => d === outShape[i]);
}

/** Fill `dst` (shape outShape) with `src` broadcast to it. */
function broadcastFill(
  dst: Float32Array,
  outShape: readonly number[],
  src: Float32Array,
  shape: readonly number[],
): void {
  const n = outShape[outShape.length - 1];
  const srcSize = size(shape);
  if (srcSize === 1) {
    dst.fill(src[0]);
  } else if (srcSize === n && shape[shape.length - 1] === n) {
    for (let off = 0; off < dst.length; off += n) dst.set(src, off);
  } else {
    const trimmed = shape.length > outShape.length
      ? shape.slice(shape.length - outShape.length)
      : shape;
    const idx = broadcastIndex(trimmed, outShape);
    for (let i = 0; i < dst.length; i++) dst[i] = src[idx[i]];
  }
}

function applyActivation(
  y: Float32Array,
  activation: string,
  leakyAlpha: number,
  prelu: Float32Array | undefined,
): void {
  const len = y.length;
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < len; i++) if (y[i] < 0) y[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < len; i++) {
        const v = y[i];
        y[i] = v < 0 ? 0 : v > 6 ? 6 : v;
      }
      return;
    case "elu":
      for (let i = 0; i < len; i++) {
        const v = y[i];
        if (v < 0) y[i] = Math.expm1(v);
      }
      return;
    case "leakyrelu":
      for (let i = 0; i < len; i++) if (y[i] < 0) y[i] *= leakyAlpha;
      return;
    case "prelu":
      for (let i = 0; i < len; i++) if (y[i] < 0) y[i] *= prelu![i];
      return;
    case "sigmoid":
      for (let i = 0; i < len; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return;
  }
}

function makeFusedMatMul(memory: MemoryAccess, stock: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const { a, b, bias, preluActivationWeights: prelu } = args.inputs;
    const attrs = args.attrs ?? {};
    const activation = (attrs.activation as string | undefined) ?? "linear";
    const transA = !!attrs.transposeA;
    const transB = !!attrs.transposeB;
    const useStock = () => stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32" || !active) return useStock();
    if (!ACTIVATIONS.has(activation)) return useStock();
    const plan = planMatMul(a.shape, b.shape, transA, transB);
    const outShape = plan.outShape;
    if (bias && (bias.dtype !== "float32" || !broadcastsInto(bias.shape, outShape))) {
      return useStock();
    }
    if (activation === "prelu") {
      if (!prelu || prelu.dtype !== "float32" || !broadcastsInto(prelu.shape, outShape)) {
        return useStock();
      }
    }
    const out = memory.alloc(args.backend, outShape);
    const infos = [a, b, out];
    if (bias) infos.push(bias);
    if (activation === "prelu") infos.push(prelu!);
    const views = memory.views(args.backend, infos);
    const [va, vb, vc] = views;
    if (bias) broadcastFill(vc, outShape, views[3], bias.shape);
    gemm(plan, va, vb, vc, !!bias, memory === wasmMemory ? simdKernels() : undefined);
    let alpha: Float32Array | undefined;
    if (activation === "prelu") {
      const pv = views[bias ? 4 : 3];
      alpha = pv.length === vc.length ? pv : new Float32Array(vc.length);
      if (alpha !== pv) broadcastFill(alpha, outShape, pv, prelu!.shape);
    }
    const leaky = typeof attrs.leakyreluAlpha === "number" ? attrs.leakyreluAlpha : 0.2;
    applyActivation(vc, activation, leaky, alpha);
    return out;
  }) as unknown as tf.KernelFunc;
}
