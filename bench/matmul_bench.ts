/**
 * Throughput of the stock TensorFlow.js matmul kernels against the CBLAS kernels of
 * src/accel/blas.ts, on the active backend (wasm by default).
 *
 * - `deno bench -A bench/matmul_bench.ts` (what `deno task bench` runs): one Deno.bench group
 *   per transpose combination (stock = baseline, blas), then a GFLOP/s table at exit.
 * - `deno run -A bench/matmul_bench.ts [--backend wasm|cpu] [--shape 128x4096x4096]
 *   [--threads N] [--min-ms 1000]`: the table only, timed by {@link timeIt}.
 *
 * Environment (both modes): HASH_BACKEND (wasm|cpu), HASH_BLAS_LIB, HASH_BLAS_THREADS,
 * BENCH_MATMUL_SHAPE (MxKxN, default 128x4096x4096: a batch of 128 through a 4096x4096 layer).
 *
 * Extension point: a `trainingThroughput(step, opts)` suite for the models can reuse
 * {@link useKernels} (switch stock/BLAS), {@link timeIt} (time a closure) and
 * {@link ThroughputRow} with `unit: "samples/s"`, and print with {@link formatRows}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type BackendName, initBackend, parseBackendName } from "../src/accel/backend.ts";
import {
  type BlasInstallResult,
  installBlasKernels,
  probeBlasLibrary,
  uninstallBlasKernels,
} from "../src/accel/blas.ts";

/** Which matmul kernels run: the stock tfjs ones or the CBLAS ones. */
export type KernelSet = "stock" | "blas";

/** One matmul shape: C[m,n] = op(A) op(B), with A stored transposed when `transposeA`. */
export interface MatmulCase {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** One measured line of a throughput table. */
export interface ThroughputRow {
  /** Suite name, e.g. "matmul" (later "training"). */
  suite: string;
  /** What was run, e.g. "128x4096x4096 NT". */
  label: string;
  kernels: KernelSet;
  backend: string;
  /** Time per run in ms (median of the runs). */
  ms: number;
  runs: number;
  /** Throughput in `unit`. */
  rate: number;
  unit: string;
}

/** Options of {@link timeIt}. */
export interface TimeOptions {
  /** Keep running until this much time is spent (ms); default 1000. */
  minMs?: number;
  /** A first run slower than this (ms) is the only run; default 1000. */
  slowMs?: number;
  /** Upper bound on runs; default 50. */
  maxRuns?: number;
}

/**
 * Time a synchronous closure: one run when it is slow, else a warm-up run and then runs
 * until `minMs` (at least 3). Returns the median time per run.
 */
export function timeIt(fn: () => void, opts: TimeOptions = {}): { ms: number; runs: number } {
  const minMs = opts.minMs ?? 1000;
  const slowMs = opts.slowMs ?? 1000;
  const maxRuns = opts.maxRuns ?? 50;
  let t = performance.now();
  fn();
  const first = performance.now() - t;
  if (first >= slowMs) return { ms: first, runs: 1 };
  const times: number[] = [];
  let total = 0;
  while ((total < minMs || times.length < 3) && times.length < maxRuns) {
    t = performance.now();
    fn();
    const dt = performance.now() - t;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], runs: times.length };
}

/**
 * Switch the active backend's matmul kernels. For "blas", returns the install result
 * (check `installed`); for "stock", undefined.
 */
export async function useKernels(set: KernelSet): Promise<BlasInstallResult | undefined> {
  if (set === "stock") {
    uninstallBlasKernels();
    return undefined;
  }
  return await installBlasKernels();
}

/** The four transpose combinations of an MxKxN product. */
export function matmulCases(m: number, k: number, n: number): MatmulCase[] {
  const out: MatmulCase[] = [];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) out.push({ m, k, n, transposeA, transposeB });
  }
  return out;
}

/** Label like "128x4096x4096 NT" (N = as stored, T = transposed). */
export function caseLabel(c: MatmulCase): string {
  return `${c.m}x${c.k}x${c.n} ${c.transposeA ? "T" : "N"}${c.transposeB ? "T" : "N"}`;
}

/** Parse "MxKxN" into numbers, with a one-line error naming the source. */
export function parseShape(value: string, source: string): [number, number, number] {
  const parts = value.split("x").map(Number);
  if (parts.length !== 3 || parts.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(
      `bench/matmul_bench.ts: ${source} must be MxKxN positive integers, got '${value}'`,
    );
  }
  return parts as [number, number, number];
}

/** Operands of a case (seeded), and a closure running the product once. */
export function makeMatmulRun(c: MatmulCase, seed = 1): { run: () => void; dispose: () => void } {
  const a = tf.randomNormal(c.transposeA ? [c.k, c.m] : [c.m, c.k], 0, 1, "float32", seed);
  const b = tf.randomNormal(c.transposeB ? [c.n, c.k] : [c.k, c.n], 0, 1, "float32", seed + 1);
  return {
    run: () => tf.matMul(a, b, c.transposeA, c.transposeB).dispose(),
    dispose: () => tf.dispose([a, b]),
  };
}

/** GFLOP/s of one product taking `ms`. */
export function gflops(c: MatmulCase, ms: number): number {
  return (2 * c.m * c.k * c.n) / (ms * 1e6);
}

/** Options of {@link matmulThroughput}. */
export interface MatmulBenchOptions {
  /** Product size; default 128x4096x4096. */
  shape?: [number, number, number];
  /** Kernel sets to measure; default both (blas skipped with a note when unavailable). */
  kernels?: KernelSet[];
  time?: TimeOptions;
}

/** Measure every transpose combination with each kernel set on the active backend. */
export async function matmulThroughput(opts: MatmulBenchOptions = {}): Promise<ThroughputRow[]> {
  const [m, k, n] = opts.shape ?? [128, 4096, 4096];
  const rows: ThroughputRow[] = [];
  for (const c of matmulCases(m, k, n)) {
    const { run, dispose } = makeMatmulRun(c);
    for (const set of opts.kernels ?? (["stock", "blas"] as KernelSet[])) {
      const r = await useKernels(set);
      if (r && !r.installed) continue;
      const t = timeIt(run, opts.time);
      rows.push({
        suite: "matmul",
        label: caseLabel(c),
        kernels: set,
        backend: tf.getBackend(),
        ms: t.ms,
        runs: t.runs,
        rate: gflops(c, t.ms),
        unit: "GFLOP/s",
      });
    }
    dispose();
  }
  return rows;
}

/** A plain-text table of rows, with the speed-up of "blas" over "stock" per label. */
export function formatRows(rows: ThroughputRow[]): string {
  const head = ["suite", "case", "backend", "kernels", "ms/run", "runs", "rate", "speed-up"];
  const lines = rows.map((r) => {
    const stock = rows.find((s) => s.label === r.label && s.kernels === "stock");
    const up = r.kernels === "blas" && stock ? `${(stock.ms / r.ms).toFixed(1)}x` : "";
    return [
      r.suite,
      r.label,
      r.backend,
      r.kernels,
      r.ms.toFixed(1),
      String(r.runs),
      `${r.rate.toFixed(r.rate < 10 ? 2 : 1)} ${r.unit}`,
      up,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((s, i) => s.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)].join("\n");
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

async function setup(backend?: BackendName, threads?: number): Promise<string> {
  // "auto": the BLAS kernels get installed when available; the cases switch them per run.
  const info = await initBackend({ name: backend, blas: "auto", blasThreads: threads });
  const probe = probeBlasLibrary();
  return `backend ${info.name} (tfjs ${info.tfjs}, Deno ${info.deno}); BLAS: ${
    info.accelerated ?? (probe.found ? "not installed" : probe.reason)
  }`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backend: { type: "string" },
      shape: { type: "string" },
      threads: { type: "string" },
      "min-ms": { type: "string", default: "1000" },
    },
  });
  const backend = values.backend ? parseBackendName(values.backend, "--backend") : undefined;
  const shapeText = values.shape ?? readEnv("BENCH_MATMUL_SHAPE") ?? "128x4096x4096";
  const shape = parseShape(shapeText, values.shape ? "--shape" : "BENCH_MATMUL_SHAPE");
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const minMs = Number(values["min-ms"]);
  if (!(minMs >= 0)) {
    throw new Error(
      `bench/matmul_bench.ts: --min-ms must be a number >= 0, got '${values["min-ms"]}'`,
    );
  }
  console.log(await setup(backend, threads));
  const rows = await matmulThroughput({ shape, time: { minMs } });
  console.log(formatRows(rows));
}

/** Register the Deno.bench cases (used under `deno bench`). */
async function registerBenches(): Promise<void> {
  const envBackend = readEnv("HASH_BACKEND");
  const backend = envBackend ? parseBackendName(envBackend, "HASH_BACKEND") : undefined;
  const shapeText = readEnv("BENCH_MATMUL_SHAPE") ?? "128x4096x4096";
  const [m, k, n] = parseShape(shapeText, "BENCH_MATMUL_SHAPE");
  const header = await setup(backend);
  const blasOk = probeBlasLibrary().found;
  const measured = new Map<string, { c: MatmulCase; set: KernelSet; times: number[] }>();
  for (const c of matmulCases(m, k, n)) {
    let ops: ReturnType<typeof makeMatmulRun> | undefined;
    for (const set of ["stock", "blas"] as KernelSet[]) {
      const key = `${caseLabel(c)} ${set}`;
      const rec = { c, set, times: [] as number[] };
      measured.set(key, rec);
      Deno.bench({
        name: key,
        group: caseLabel(c),
        baseline: set === "stock",
        ignore: set === "blas" && !blasOk,
        // slow cases (stock transposed on wasm: seconds) still run 3 times in all
        n: 1,
        warmup: 0,
        async fn(b) {
          await useKernels(set);
          ops ??= makeMatmulRun(c);
          b.start();
          const t = performance.now();
          ops.run();
          rec.times.push(performance.now() - t);
          b.end();
        },
      });
    }
  }
  globalThis.addEventListener("unload", () => {
    const rows: ThroughputRow[] = [];
    for (const { c, set, times: all } of measured.values()) {
      if (!all.length) continue;
      const times = all.length > 1 ? all.slice(1) : all; // the first call is deno's warm-up
      const sorted = [...times].sort((x, y) => x - y);
      const ms = sorted[Math.floor(sorted.length / 2)];
      rows.push({
        suite: "matmul",
        label: caseLabel(c),
        kernels: set,
        backend: tf.getBackend(),
        ms,
        runs: times.length,
        rate: gflops(c, ms),
        unit: "GFLOP/s",
      });
    }
    console.log(`\n${header}\n${formatRows(rows)}`);
  });
}

if (import.meta.main) {
  await main();
} else if (Deno.mainModule === import.meta.url) {
  // loaded as a root by `deno bench` (a module importing this file has its own mainModule)
  await registerBenches();
}
