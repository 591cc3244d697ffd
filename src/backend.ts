/**
 * Selection and initialisation of the TensorFlow.js backend.
 *
 * Three backends are supported:
 * - `wasm` (default): `@tensorflow/tfjs-backend-wasm`, SIMD, single thread. On this backend
 *   the stock MatMul gradient calls the transposed matmul kernels, which run ~10x slower
 *   than the plain kernel; {@link registerExplicitTransposeMatMulGradient} replaces that
 *   gradient with one that transposes explicitly (same values, much faster).
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`,
 *   dynamically imported, so the project runs without them. When asked for and absent, a
 *   clear error names the install command.
 * - `cpu`: the pure-JS reference backend (slow; a fallback).
 *
 * The choice comes from the `name` argument, else the `HASH_BACKEND` environment variable,
 * else `wasm`. The returned {@link BackendInfo} is written into every result file.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
// --- BLAS kernels (src/blas.ts) ---
import { applyBlasMode, type BlasMode, envBlasMode } from "./blas.ts";
// --- end BLAS kernels ---

/** Backend names accepted by {@link initBackend}. */
export type BackendName = "wasm" | "tensorflow" | "cpu";

/** The names of {@link BackendName}, for validating user input. */
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "tensorflow", "cpu"];

/** What is running: recorded in every result file. */
export interface BackendInfo {
  /** Backend name as tf.getBackend() reports it. */
  name: string;
  /** TensorFlow.js version. */
  tfjs: string;
  /** Which npm package provided the `tensorflow` backend, when that one is active. */
  nativePackage?: string;
  /** Whether the explicit-transpose MatMul gradient is registered. */
  explicitTransposeGrad: boolean;
  /** Accelerated matmul kernels (e.g. CBLAS), when installed; see src/blas.ts. */
  accelerated?: string;
  /** Deno version. */
  deno: string;
}

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /** Backend to use; default: env HASH_BACKEND, else "wasm". */
  name?: BackendName;
  /**
   * Register the explicit-transpose MatMul gradient (default: true on wasm, where it
   * matters; false elsewhere).
   */
  explicitTransposeGrad?: boolean;
  // --- BLAS kernels (src/blas.ts) ---
  /**
   * CBLAS matmul kernels for wasm/cpu (src/blas.ts): "auto" installs them when FFI is
   * permitted and a library is found, "on" requires them, "off" removes them.
   * Default: env HASH_BLAS, else "auto". When installed, the explicit-transpose gradient
   * defaults to off (BLAS transposes are free; stock gradient measured faster).
   */
  blas?: BlasMode;
  /** BLAS thread count; default env HASH_BLAS_THREADS, else the library default. */
  blasThreads?: number;
  // --- end BLAS kernels ---
}

let current: BackendInfo | undefined;

/** Parse a backend name, with a one-line error naming the accepted values. */
export function parseBackendName(value: string, source = "backend"): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${source}: unknown backend '${value}'; expected one of ${BACKEND_NAMES.join(", ")}`);
}

function envBackend(): BackendName | undefined {
  let v: string | undefined;
  try {
    v = Deno.env.get("HASH_BACKEND");
  } catch {
    return undefined; // no --allow-env
  }
  return v ? parseBackendName(v, "environment variable HASH_BACKEND") : undefined;
}

/** Import the native TensorFlow binding, or fail with the install command. */
async function importNative(): Promise<string> {
  const tried: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      // A computed specifier keeps Deno from resolving (and downloading) it eagerly.
      const spec = `npm:${pkg}@${tf.version.tfjs}`;
      await import(spec);
      return pkg;
    } catch (e) {
      tried.push(`${pkg}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(
    `backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node ` +
      `(install: deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu ` +
      `npm:@tensorflow/tfjs-node-gpu@${tf.version.tfjs}; GPU needs CUDA 11.2 + cuDNN 8.1) — ` +
      tried.join("; "),
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
  const ok = await tf.setBackend(name);
  if (!ok) {
    throw new Error(`backend '${name}' failed to initialise (tf.setBackend returned false)`);
  }
  await tf.ready();
  // --- BLAS kernels (src/blas.ts) ---
  const blas = await applyBlasMode(opts.blas ?? envBlasMode() ?? "auto", {
    threads: opts.blasThreads,
  });
  // --- end BLAS kernels (and `&& !blas.installed` below) ---
  const wantGrad = opts.explicitTransposeGrad ?? (name === "wasm" && !blas.installed);
  if (wantGrad) registerExplicitTransposeMatMulGradient();
  else restoreStockMatMulGradient();
  current = {
    name: tf.getBackend(),
    tfjs: tf.version.tfjs,
    nativePackage,
    explicitTransposeGrad: wantGrad,
    deno: Deno.version.deno,
    accelerated: current?.accelerated,
  };
  setAccelerated(blas.description); // BLAS kernels (src/blas.ts)
  return { ...current };
}

/** The active backend's description (initialises the default backend when none is set). */
export async function backendInfo(): Promise<BackendInfo> {
  if (!current) return await initBackend();
  return { ...current };
}

/** Record an accelerated kernel set (called by src/blas.ts when it installs kernels). */
export function setAccelerated(description: string | undefined): void {
  if (current) current.accelerated = description;
}

// ---------------------------------------------------------------------------------------
// MatMul gradient with explicit transposes

const stockGradient = tf.getGradient("BatchMatMul");
let explicitRegistered = false;

/** Transpose the last two axes of a rank >= 2 tensor. */
function swapLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** Sum a gradient back down to the (broadcast) shape of the input it belongs to. */
function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    const s = i - lead;
    if (s < 0 || shape[s] === 1) axes.push(i);
  }
  const summed = axes.length ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

/**
 * Replace the BatchMatMul gradient by one that materialises transposes and calls the
 * plain (non-transposed) matmul kernel. Mathematically identical to the stock gradient.
 */
export function registerExplicitTransposeMatMulGradient(): void {
  if (explicitRegistered) return;
  const quiet = silenceOverrideWarning();
  try {
    tf.registerGradient({
      kernelName: "BatchMatMul",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved;
        const { transposeA, transposeB } = attrs as unknown as {
          transposeA: boolean;
          transposeB: boolean;
        };
        const d = dy as tf.Tensor;
        const T = swapLast2;
        let da: () => tf.Tensor;
        let db: () => tf.Tensor;
        if (!transposeA && !transposeB) {
          da = () => tf.matMul(d, T(b));
          db = () => tf.matMul(T(a), d);
        } else if (!transposeA && transposeB) {
          da = () => tf.matMul(d, b);
          db = () => tf.matMul(T(d), a);
        } else if (transposeA && !transposeB) {
          da = () => tf.matMul(b, T(d));
          db = () => tf.matMul(a, d);
        } else {
          da = () => tf.matMul(T(b), T(d));
          db = () => tf.matMul(T(d), T(a));
        }
        return {
          a: () => reduceToShape(da(), a.shape),
          b: () => reduceToShape(db(), b.shape),
        };
      },
    });
  } finally {
    quiet();
  }
  explicitRegistered = true;
}

/** Put the stock BatchMatMul gradient back (used by tests and non-wasm backends). */
export function restoreStockMatMulGradient(): void {
  if (!explicitRegistered || !stockGradient) return;
  const quiet = silenceOverrideWarning();
  try {
    tf.registerGradient(stockGradient);
  } finally {
    quiet();
  }
  explicitRegistered = false;
}

/** tfjs warns on every gradient override; we override on purpose. */
function silenceOverrideWarning(): () => void {
  const orig = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("Overriding the gradient")) return;
    orig(...args);
  };
  return () => {
    console.warn = orig;
  };
}
