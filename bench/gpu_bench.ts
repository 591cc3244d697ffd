/**
 * Training throughput on the `webgpu` backend next to wasm with the BLAS kernels: training
 * pairs per second of CPAH and DFAH, shaped like MIRFlickr-25K (4096-d image, 1386-d text,
 * 24 labels, n = 2048 training pairs, 32 bits) at batch 128 and 512. Same models, data and
 * batch order as bench/training_bench.ts (its `trainingThroughput`); one measured step is one
 * `trainStep`, and the median is reported.
 *
 *   deno run -A bench/gpu_bench.ts [--quick] [--steps 3] [--warmup 1] [--batches 128,512]
 *                                  [--methods cpah,dfah] [--backends webgpu,wasm+blas]
 *
 * `--quick`: one warm-up and one timed step per case, batch 128 only (a check that the path
 * runs; minutes on a software adapter). The first steps on webgpu compile the shaders, so the
 * warm-up matters there.
 *
 * Every webgpu row names its adapter. On a software adapter (Mesa's llvmpipe/lavapipe, marked
 * `isFallbackAdapter` by WebGPU) the row says "software adapter, not a GPU": such figures show
 * that the path works and what it costs on the CPU, not what a GPU does.
 *
 * MAP@all is not timed here: the ranking (src/retrieval/metrics.ts, the WebAssembly Hamming
 * scan) runs on the host whatever the backend; only encoding runs on the GPU. Its time at
 * NUS-WIDE size is bench/eval_scale.ts's.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend } from "../src/accel/backend.ts";
import { probeBlasLibrary } from "../src/accel/blas.ts";
import { positiveInt, stringOptions } from "./bench_utils.ts";
import {
  DEFAULT_SHAPE,
  median,
  TRAINING_METHODS,
  type TrainingMethod,
  trainingThroughput,
} from "./training_bench.ts";

/** The configurations compared. */
export type GpuBenchBackend = "webgpu" | "wasm+blas";

/** One measured case. */
export interface GpuBenchRow {
  method: TrainingMethod;
  batch: number;
  backend: GpuBenchBackend;
  /** What ran: the adapter (webgpu) or the BLAS library (wasm+blas). */
  device: string;
  /** Median ms per training step. */
  ms: number;
  pairsPerSecond: number;
  steps: number;
  /** "software adapter, not a GPU" for a fallback adapter; else empty. */
  note: string;
}

function list<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const s of items) {
    if (!(allowed as readonly string[]).includes(s)) {
      throw new Error(`${option} has '${s}', expected a list of ${allowed.join(", ")}`);
    }
  }
  if (!items.length) throw new Error(`${option} is empty`);
  return items as T[];
}

/**
 * Measure every (method, batch, backend) case, and on webgpu the main-thread/worker round trip;
 * progress lines go to `log`.
 */
export async function gpuBench(opts: {
  methods: readonly TrainingMethod[];
  batches: readonly number[];
  backends: readonly GpuBenchBackend[];
  steps: number;
  warmup: number;
  log: (line: string) => void;
}): Promise<{ rows: GpuBenchRow[]; roundTripMicros?: number }> {
  const rows: GpuBenchRow[] = [];
  let roundTrip: number | undefined;
  for (const backend of opts.backends) {
    let device: string, note = "";
    if (backend === "webgpu") {
      let info;
      try {
        info = await initBackend({ name: "webgpu" });
      } catch (e) {
        opts.log(`webgpu: skipped — ${(e as Error).message}`);
        continue;
      }
      const a = info.adapter!;
      device = a.description;
      if (a.isFallbackAdapter) note = "software adapter, not a GPU";
      roundTrip = roundTripMicros();
    } else {
      const probe = probeBlasLibrary();
      if (!probe.found) {
        opts.log(`wasm+blas: skipped — ${probe.reason}`);
        continue;
      }
      const lib = (await initBackend({ name: "wasm", blas: "on" })).accelerated ?? "BLAS";
      device = `${lib.split(" (")[0]}, 1 thread`; // trainingThroughput's BLAS thread count
    }
    for (const batch of opts.batches) {
      const shape = { ...DEFAULT_SHAPE, batchSize: batch, n: Math.max(DEFAULT_SHAPE.n, batch) };
      const got = await trainingThroughput({
        methods: opts.methods,
        kernels: [backend === "webgpu" ? "stock" : "blas"],
        backend: backend === "webgpu" ? "webgpu" : "wasm",
        steps: opts.steps,
        warmup: opts.warmup,
        shape,
        log: (line) => opts.log(`${backend} b${batch}: ${line}`),
      });
      for (const [i, r] of got.entries()) {
        rows.push({
          method: opts.methods[i],
          batch,
          backend,
          device,
          ms: r.ms,
          pairsPerSecond: r.rate,
          steps: r.runs,
          note,
        });
      }
    }
  }
  await initBackend({ name: "wasm" });
  return { rows, roundTripMicros: roundTrip };
}

/**
 * Microseconds of one request from the main thread to the worker that owns the WebGPU device and
 * back, with no GPU work (the backend's `memory()` query): the fixed cost each kernel call pays
 * on the `webgpu` backend. Median of 5 rounds of 500; the webgpu backend must be active.
 */
export function roundTripMicros(): number {
  const backend = tf.backend();
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < 500; i++) backend.memory();
    rounds.push(((performance.now() - t) * 1000) / 500);
  }
  return median(rounds);
}

/** The rows as a Markdown table. */
export function formatGpuRows(rows: readonly GpuBenchRow[]): string {
  const head = "| method | batch | backend | device | ms/step | pairs/s | steps | note |";
  const lines = rows.map((r) =>
    `| ${r.method} | ${r.batch} | ${r.backend} | ${r.device} | ${r.ms.toFixed(0)} | ` +
    `${r.pairsPerSecond.toFixed(r.pairsPerSecond < 10 ? 2 : 0)} | ${r.steps} | ${r.note} |`
  );
  return [head, "|---|---|---|---|---|---|---|---|", ...lines].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ...stringOptions({
        steps: "3",
        warmup: "1",
        batches: "128,512",
        methods: TRAINING_METHODS.join(","),
        backends: "webgpu,wasm+blas",
      }),
      quick: { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const steps = quick ? 1 : positiveInt(values.steps, "--steps");
  const warmup = quick ? 1 : positiveInt(values.warmup, "--warmup", 0);
  const batches = quick
    ? [128]
    : values.batches.split(",").map((b) => positiveInt(b, "--batches", 2));
  const { rows, roundTripMicros } = await gpuBench({
    methods: list(values.methods, TRAINING_METHODS, "--methods"),
    batches,
    backends: list(values.backends, ["webgpu", "wasm+blas"] as const, "--backends"),
    steps,
    warmup,
    log: (line) => console.error(line),
  });
  console.log(
    `Training throughput, ${DEFAULT_SHAPE.imageDim}-d image / ${DEFAULT_SHAPE.textDim}-d text, ` +
      `${DEFAULT_SHAPE.bits} bits, n ${DEFAULT_SHAPE.n}; median of ${steps} step(s) after ` +
      `${warmup} warm-up; Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
  );
  console.log(formatGpuRows(rows));
  if (roundTripMicros !== undefined) {
    console.log(
      `webgpu: one request main thread -> device worker -> main thread (no GPU work): ` +
        `${roundTripMicros.toFixed(1)} µs, the fixed cost of each kernel call`,
    );
  }
  if (rows.some((r) => r.note)) {
    console.log(
      "Rows marked 'software adapter' ran on Mesa's CPU rasteriser through WebGPU: they show " +
        "that the path works, not GPU speed.",
    );
  }
  console.log(
    "MAP@all: not timed here; the ranking runs on the host on every backend " +
      "(bench/eval_scale.ts times it at NUS-WIDE size).",
  );
}

if (import.meta.main) await main();
