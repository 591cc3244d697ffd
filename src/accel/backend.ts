/**
 * Selection and initialisation of the TensorFlow.js backend.
 *
 * Four backends are supported:
 * - `wasm` (default): `@tensorflow/tfjs-backend-wasm`, SIMD, single thread. On this backend
 *   the stock MatMul gradient calls the transposed matmul kernels, which run ~10x slower
 *   than the plain kernel; {@link registerExplicitTransposeMatMulGradient} replaces that
 *   gradient with one that transposes explicitly (same values, much faster).
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`,
 *   dynamically imported, so the project runs without them. When asked for and absent, a
 *   clear error names the install command.
 * - `webgpu`: TensorFlow.js's WebGPU kernels on Deno's WebGPU (src/accel/webgpu.ts): a GPU
 *   through Vulkan, Metal or D3D12, or Mesa's software adapter. The project's host-memory
 *   kernels (BLAS, fast kernels, fused ops, host Adam) do not apply; every op takes its stock
 *   tfjs path. The adapter is recorded in {@link BackendInfo}.
 * - `cpu`: the pure-JS reference backend (slow; a fallback).
 *
 * The choice comes from the `name` argument, else the `HASH_BACKEND` environment variable,
 * else `wasm`. The returned {@link BackendInfo} is written into every result file.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
import { readEnv } from "../io.ts";
// --- BLAS kernels (src/accel/blas.ts) ---
import {
  applyBlasMode,
  type BlasMode,
  blasRuntime,
  envBlasMode,
  probeBlasLibrary,
} from "./blas.ts";
// --- end BLAS kernels ---
import { installFastKernels, uninstallFastKernels } from "./fast_kernels.ts";
import { ensureWebGpuBackend, type WebGpuAdapter } from "./webgpu.ts";
import {
  registerExplicitTransposeMatMulGradient,
  registerTransposeFlagMatMulGradient,
} from "./matmul_gradient.ts";

export {
  matMulT,
  registerExplicitTransposeMatMulGradient,
  registerTransposeFlagMatMulGradient,
  restoreStockMatMulGradient,
} from "./matmul_gradient.ts";

/** Backend names accepted by {@link initBackend}. */
export type BackendName = "wasm" | "tensorflow" | "webgpu" | "cpu";

/** The names of {@link BackendName}, for validating user input. */
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "tensorflow", "webgpu", "cpu"];

/** What is running: recorded in every result file. */
export interface BackendInfo {
  /** Backend name as tf.getBackend() reports it. */
  name: string;
  /** TensorFlow.js version. */
  tfjs: string;
  /** Which npm package provided the `tensorflow` backend, when that one is active. */
  nativePackage?: string;
  /** Whether the explicit-transpose MatMul gradient is registered (else the flag variant). */
  explicitTransposeGrad: boolean;
  /** Accelerated matmul kernels (e.g. CBLAS), when installed; see src/accel/blas.ts. */
  accelerated?: string;
  /**
   * With BLAS kernels: the kernel core OpenBLAS selected for this CPU (e.g. "Haswell"), read
   * from the library when the info is taken. Float32 sums differ between cores, so two runs
   * agree to the last bit only on the same core type and thread count.
   */
  blasCore?: string;
  /** With BLAS kernels: the library's thread count when the info is taken. */
  blasThreads?: number;
  /** The wasm fast kernels (src/accel/fast_kernels.ts), when installed. */
  fastKernels?: string;
  /** The WebGPU adapter, when the `webgpu` backend is active (a software one says so). */
  adapter?: WebGpuAdapter;
  /** Deno version. */
  deno: string;
}

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /** Backend to use; default: env HASH_BACKEND, else "wasm". */
  name?: BackendName;
  /**
   * Use the explicit-transpose MatMul gradient (default: true on wasm without BLAS kernels,
   * where it matters). Otherwise a gradient passing transposes as flags is registered; both
   * handle broadcast batch dimensions, unlike the stock one.
   */
  explicitTransposeGrad?: boolean;
  // --- BLAS kernels (src/accel/blas.ts) ---
  /**
   * CBLAS matmul kernels for wasm/cpu (src/accel/blas.ts): "auto" installs them when FFI is
   * permitted and a library is found, "on" requires them, "off" removes them.
   * Default: env HASH_BLAS, else "auto". When installed, the explicit-transpose gradient
   * defaults to off (BLAS transposes are free; stock gradient measured faster).
   */
  blas?: BlasMode;
  /** BLAS thread count; default env HASH_BLAS_THREADS, else the library default. */
  blasThreads?: number;
  // --- end BLAS kernels ---
  /**
   * The wasm fast kernels of src/accel/fast_kernels.ts (shared-memory Identity/Cast, SIMD Sum/Mean
   * over leading axes). Default: env HASH_FAST_KERNELS ("on"/"off"), else on. False puts the
   * stock kernels back.
   */
  fastKernels?: boolean;
}

let current: BackendInfo | undefined;

function envFastKernels(): boolean | undefined {
  const v = readEnv("HASH_FAST_KERNELS");
  if (!v) return undefined;
  if (v === "on" || v === "off") return v === "on";
  throw new Error(`environment variable HASH_FAST_KERNELS is '${v}', expected 'on' or 'off'`);
}

/** Parse a backend name, with a one-line error naming the accepted values. */
export function parseBackendName(value: string, source = "backend"): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(
    `${source}: unknown backend '${value}'; expected one of ${BACKEND_NAMES.join(", ")}`,
  );
}

function envBackend(): BackendName | undefined {
  const v = readEnv("HASH_BACKEND");
  return v ? parseBackendName(v, "environment variable HASH_BACKEND") : undefined;
}

/**
 * Import the native TensorFlow binding, or fail with the install command. The packages are
 * imported by bare name, so they are used only when the user added them to deno.json
 * (`deno add`); nothing is downloaded implicitly.
 */
async function importNative(): Promise<string> {
  const tried: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      // A computed specifier keeps Deno from resolving it when the module graph is built.
      await import([pkg][0]);
      return pkg;
    } catch (e) {
      tried.push(`${pkg}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(
    `backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node; install with ` +
      `'deno add npm:@tensorflow/tfjs-node-gpu@${tf.version.tfjs} && ` +
      `deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu' (GPU: CUDA 11.2 + cuDNN 8.1; ` +
      `CPU only: the same with tfjs-node) — ${tried.join("; ")}`,
  );
}

/**
 * Select and initialise the backend. Idempotent for the same name; switching backends
 * within one process is allowed (tests do it) and re-reports.
 */
export async function initBackend(opts: BackendOptions = {}): Promise<BackendInfo> {
  const name = opts.name ?? envBackend() ?? "wasm";
  let nativePackage: string | undefined;
  if (name === "tensorflow") {
    nativePackage = await importNative();
  }
  const adapter = name === "webgpu" ? await ensureWebGpuBackend() : undefined;
  const ok = await tf.setBackend(name);
  if (!ok) {
    throw new Error(`backend '${name}' failed to initialise (tf.setBackend returned false)`);
  }
  await tf.ready();
  // --- BLAS kernels (src/accel/blas.ts) ---
  // BLAS kernels work on host memory: never on webgpu, whatever HASH_BLAS says.
  const blasMode = name === "webgpu" ? "off" : opts.blas ?? envBlasMode() ?? "auto";
  const blas = await applyBlasMode(blasMode, { threads: opts.blasThreads });
  if (blasMode === "auto" && !blas.installed && (name === "wasm" || name === "cpu")) {
    noteMissingBlas(blas.reason ?? "");
  }
  // --- end BLAS kernels (and `&& !blas.installed` below) ---
  const fast = (opts.fastKernels ?? envFastKernels() ?? true)
    ? installFastKernels(name)
    : (uninstallFastKernels(name), undefined);
  const wantGrad = opts.explicitTransposeGrad ?? (name === "wasm" && !blas.installed);
  if (wantGrad) registerExplicitTransposeMatMulGradient();
  else registerTransposeFlagMatMulGradient();
  current = {
    name: tf.getBackend(),
    tfjs: tf.version.tfjs,
    nativePackage,
    explicitTransposeGrad: wantGrad,
    deno: Deno.version.deno,
    accelerated: current?.accelerated,
    fastKernels: fast,
    adapter,
  };
  setAccelerated(blas.description); // BLAS kernels (src/accel/blas.ts)
  return { ...current };
}

let blasNoteShown = false;

/**
 * The one line printed (to stderr, once per process) when BLAS kernels were wanted ("auto")
 * but no CBLAS library was found: what to install and what it costs to go without.
 */
export const MISSING_BLAS_NOTE =
  "note: no OpenBLAS found, so matrix products run on the stock wasm kernels, several times " +
  "slower (the built-in default experiment, 2-core machine: 3 min 23 s with OpenBLAS; " +
  "12 min 31 s without, measured beside another job). " +
  "Install it: " +
  "Debian/Ubuntu 'apt-get install libopenblas0-pthread', macOS 'brew install openblas' " +
  "(or point HASH_BLAS_LIB at a CBLAS library); HASH_BLAS=off silences this note.";

function noteMissingBlas(reason: string): void {
  if (blasNoteShown || !reason.startsWith("no CBLAS library found")) return;
  blasNoteShown = true;
  console.error(MISSING_BLAS_NOTE);
}

/** One kernel configuration a user can select: a backend with its kernel switches. */
export interface KernelConfiguration {
  /** Short name, e.g. "wasm+blas". */
  label: string;
  /** What to pass to {@link initBackend}. */
  options: BackendOptions;
}

/**
 * Every kernel configuration the toolkit can select, each with whether it can run here (and
 * why not): wasm with stock kernels only, wasm with the fast kernels, wasm with the fast and
 * BLAS kernels, cpu, cpu with BLAS kernels, and the native `tensorflow` backend. BLAS
 * configurations count as available when a CBLAS library is found and the environment does
 * not switch BLAS off (HASH_BLAS=off); `tensorflow` when its package can be imported. The
 * test suite trains both methods on every available one. `webgpu` is not listed: on a software
 * adapter these runs would take minutes, so tests/accel/webgpu.test.ts compares it with wasm on
 * smaller ones.
 */
export async function kernelConfigurations(): Promise<
  (KernelConfiguration & { available: boolean; reason?: string })[]
> {
  const probe = probeBlasLibrary();
  let env: BlasMode | undefined;
  try {
    env = envBlasMode();
  } catch {
    env = undefined;
  }
  const blasWhy = !probe.found
    ? probe.reason
    : env === "off"
    ? "BLAS switched off by HASH_BLAS=off"
    : undefined;
  let nativeWhy: string | undefined;
  try {
    await importNative();
  } catch (e) {
    nativeWhy = (e as Error).message;
  }
  const all: (KernelConfiguration & { why?: string })[] = [
    { label: "wasm-stock", options: { name: "wasm", blas: "off", fastKernels: false } },
    { label: "wasm-fast", options: { name: "wasm", blas: "off", fastKernels: true } },
    { label: "wasm+blas", options: { name: "wasm", blas: "on", fastKernels: true }, why: blasWhy },
    { label: "cpu", options: { name: "cpu", blas: "off" } },
    { label: "cpu+blas", options: { name: "cpu", blas: "on" }, why: blasWhy },
    { label: "tensorflow", options: { name: "tensorflow", blas: "off" }, why: nativeWhy },
  ];
  return all.map(({ why, ...c }) => ({ ...c, available: why === undefined, reason: why }));
}

/**
 * The active backend's description (initialises the default backend when none is set), with
 * the BLAS library's core type and thread count as they are now.
 */
export async function backendInfo(): Promise<BackendInfo> {
  if (!current) await initBackend();
  const info = { ...current! };
  const blas = info.accelerated ? blasRuntime() : undefined;
  if (blas?.core !== undefined) info.blasCore = blas.core;
  if (blas?.threads !== undefined) info.blasThreads = blas.threads;
  return info;
}

/**
 * A backend's kernel path, the part of its description that changes the numbers: the backend
 * name, with "+BLAS" when OpenBLAS (or another CBLAS) computes its matrix products.
 */
export function kernelPath(info: Pick<BackendInfo, "name" | "accelerated">): string {
  return info.accelerated ? `${info.name}+BLAS` : info.name;
}

/**
 * What decides a run's float32 rounding: the kernel path ({@link kernelPath}), the fast
 * kernels, and with BLAS the OpenBLAS core type and thread count. Read from a recorded
 * {@link BackendInfo}; results recorded before `blasCore`/`blasThreads` existed have them
 * parsed from the BLAS description ("... Haswell MAX_THREADS=64), threads=1, ...").
 */
export interface NumericConfiguration {
  /** {@link kernelPath}. */
  path: string;
  /** Whether the wasm fast kernels were installed. */
  fastKernels: boolean;
  /** OpenBLAS core type (BLAS only; undefined when not reported). */
  core?: string;
  /** BLAS thread count (BLAS only; undefined when not reported). */
  threads?: number;
}

/** The {@link NumericConfiguration} of a recorded backend description. */
export function numericConfiguration(info: BackendInfo): NumericConfiguration {
  const out: NumericConfiguration = { path: kernelPath(info), fastKernels: !!info.fastKernels };
  if (!info.accelerated) return out;
  const core = info.blasCore ?? info.accelerated.match(/(\S+)\s+MAX_THREADS=/)?.[1];
  const t = info.blasThreads ?? Number(info.accelerated.match(/threads=(\d+)/)?.[1]);
  if (core) out.core = core;
  if (Number.isInteger(t) && t > 0) out.threads = t;
  return out;
}

/** "wasm+BLAS (OpenBLAS core Haswell, 1 thread), fast kernels". */
export function describeConfiguration(c: NumericConfiguration): string {
  const blas = c.path.endsWith("+BLAS")
    ? ` (OpenBLAS core ${c.core ?? "unknown"}, ${c.threads ?? "unknown"} thread${
      c.threads === 1 ? "" : "s"
    })`
    : "";
  return `${c.path}${blas}, ${c.fastKernels ? "fast kernels" : "stock kernels"}`;
}

/**
 * How two configurations differ in what decides the rounding (kernel path, fast kernels,
 * OpenBLAS core type, thread count), in words; undefined when they agree, so the same seed
 * gives the same numbers.
 */
export function configurationDifference(
  here: NumericConfiguration,
  there: NumericConfiguration,
): string | undefined {
  const diffs: string[] = [];
  if (here.path !== there.path) diffs.push(`kernels ${here.path} vs ${there.path}`);
  if (here.fastKernels !== there.fastKernels) diffs.push("fast kernels differ");
  if (here.path === there.path && here.path.endsWith("+BLAS")) {
    if (here.core !== there.core) diffs.push(`OpenBLAS core ${here.core} vs ${there.core}`);
    if (here.threads !== there.threads) {
      diffs.push(`BLAS threads ${here.threads} vs ${there.threads}`);
    }
  }
  return diffs.length ? diffs.join(", ") : undefined;
}

/**
 * The kernel path {@link initBackend} will take for `name` in this process (environment
 * variable HASH_BLAS, else "auto": BLAS when a library is found), without initialising
 * anything; see {@link kernelPath}.
 */
export function plannedKernelPath(name: BackendName): string {
  if (name !== "wasm" && name !== "cpu") return name;
  const mode = envBlasMode() ?? "auto";
  if (mode === "off") return name;
  if (mode === "on" || probeBlasLibrary().found) return `${name}+BLAS`;
  return name;
}

/** Record an accelerated kernel set (called by src/accel/blas.ts when it installs kernels). */
export function setAccelerated(description: string | undefined): void {
  if (current) current.accelerated = description;
}
