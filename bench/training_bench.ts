/**
 * Training throughput (training pairs per second) of CPAH and DFAH with the stock
 * TensorFlow.js matmul kernels against the CBLAS kernels of src/accel/blas.ts.
 *
 * Setup (both modes): n = 2048 seeded random training pairs shaped like MIRFlickr-25K with
 * VGG features — image 4096-d non-negative features, text 1386-d binary bag-of-words, 24-label
 * multi-hot labels; each model built with its "mirflickr25k-simimg" defaults, 32 bits,
 * batch 128 (stored-output pairwise term against all n rows). One measured step is one
 * `trainStep` (CPAH: forward, D step with gradient penalty, network step; DFAH: D step, network
 * step) on a batch of 128 built with `makeBatch` from src/train.ts; building and disposing the
 * batch tensors is outside the timed part. "stock" = `initBackend({blas: "off", fastKernels:
 * false})`: tfjs's own kernels (on wasm with the explicit-transpose MatMul gradient) and no
 * SIMD code of this project (Adam, pair likelihood and BatchNorm as tensor ops);
 * "blas" = `initBackend({blas: "on", fastKernels: true})`: the CBLAS matmul kernels
 * (transposes passed as flags, sparse left operands by rows) plus the wasm fast kernels and
 * SIMD paths of src/accel/fast_kernels.ts and src/accel/simd.ts — the accelerated set the project uses by
 * default. The model code is the same in both (one-op dense layers and BatchNorm, the fused
 * pair likelihood, the first-order gradient penalty: src/nn/layers.ts, src/nn/losses.ts).
 *
 * - `deno bench -A bench/training_bench.ts` (part of `deno task bench`): groups
 *   "cpah training" and "dfah training", stock = baseline; a pairs/s table at exit. Short on
 *   purpose: BENCH_TRAINING_STEPS timed iterations per case (default 3) after one warm-up.
 * - `deno run -A bench/training_bench.ts [--steps 5] [--warmup 2] [--threads 1]
 *   [--methods cpah,dfah] [--kernels stock,blas] [--backend wasm|cpu]`: the table only.
 *
 * BLAS threads: `--threads`, else env HASH_BLAS_THREADS, else 1 (the stock wasm kernels are
 * single-threaded, so 1 thread compares kernels on equal terms).
 * A PyTorch version of the same two steps for comparison: bench/pytorch_reference.py.
 *
 * @module
 */
import { positiveInt, readEnv, stringOptions } from "./bench_utils.ts";
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type BackendName, initBackend, parseBackendName } from "../src/accel/backend.ts";
import { probeBlasLibrary } from "../src/accel/blas.ts";
import { cpahConfig, createCpah } from "../src/models/cpah/mod.ts";
import { createDfah, dfahConfig } from "../src/models/dfah/mod.ts";
import type { HashModel, TrainingSetInfo } from "../src/models/model.ts";
import { makeBatch, type TrainData } from "../src/train.ts";
import { Rng } from "../src/random.ts";
import type { CrossModalDataset } from "../src/types.ts";
import { formatRows, type KernelSet, type ThroughputRow } from "./matmul_bench.ts";

/** Methods this benchmark trains. */
export type TrainingMethod = "cpah" | "dfah";

/** The methods, in table order. */
export const TRAINING_METHODS: readonly TrainingMethod[] = ["cpah", "dfah"];

/** Sizes of the benchmark's training set and step. */
export interface TrainingBenchShape {
  /** Training pairs n (rows of the stored outputs H^v, H^t and of B). */
  n: number;
  imageDim: number;
  textDim: number;
  classes: number;
  batchSize: number;
  bits: number;
}

/** MIRFlickr-25K-like sizes: 4096-d image, 1386-d text, 24 labels, batch 128, 32 bits. */
export const DEFAULT_SHAPE: Readonly<TrainingBenchShape> = Object.freeze({
  n: 2048,
  imageDim: 4096,
  textDim: 1386,
  classes: 24,
  batchSize: 128,
  bits: 32,
});

/**
 * Seeded random training data of `shape`: image features max(0, N(0,1)) (ReLU-like, as VGG
 * fc7 outputs), text 0/1 with 1% ones (bag-of-words), labels 0/1 with p = 0.15 and at least one
 * label per row. All rows are training rows (no validation).
 */
export function makeTrainingData(shape: TrainingBenchShape, seed = 1): TrainData {
  const { n, imageDim, textDim, classes } = shape;
  const rng = new Rng(seed);
  const ri = rng.fork(1), rt = rng.fork(2), rl = rng.fork(3);
  const image = new Float32Array(n * imageDim);
  for (let i = 0; i < image.length; i++) image[i] = Math.max(0, ri.normal());
  const text = new Float32Array(n * textDim);
  for (let i = 0; i < text.length; i++) text[i] = rt.uniform() < 0.01 ? 1 : 0;
  const labels = new Uint8Array(n * classes);
  for (let r = 0; r < n; r++) {
    let any = false;
    for (let c = 0; c < classes; c++) {
      const on = rl.uniform() < 0.15;
      labels[r * classes + c] = on ? 1 : 0;
      any ||= on;
    }
    if (!any) labels[r * classes + rl.int(classes)] = 1;
  }
  const dataset: CrossModalDataset = {
    name: "training-bench",
    image: { kind: "dense", rows: n, cols: imageDim, data: image },
    text: { kind: "dense", rows: n, cols: textDim, data: text },
    labels: { rows: n, classes, data: labels },
    labelNames: Array.from({ length: classes }, (_, c) => `label${c}`),
    provenance: `makeTrainingData(seed ${seed})`,
  };
  const train = new Int32Array(n);
  for (let i = 0; i < n; i++) train[i] = i;
  return { dataset, train, validation: new Int32Array(0) };
}

/** The model of `method` for `data`, with its "mirflickr25k-simimg" defaults at `shape`. */
export function makeModel(
  method: TrainingMethod,
  data: TrainData,
  shape: TrainingBenchShape,
): HashModel {
  const ds = data.dataset;
  const info: TrainingSetInfo = {
    n: data.train.length,
    imageDim: ds.image.cols,
    textDim: ds.text.cols,
    labels: ds.labels,
  };
  const overrides = { batchSize: shape.batchSize, seed: 1 };
  const model = method === "cpah"
    ? createCpah(info, cpahConfig("mirflickr25k-simimg", shape.bits, overrides))
    : createDfah(info, dfahConfig("mirflickr25k-simimg", shape.bits, overrides));
  model.beginEpoch(0);
  return model;
}

/**
 * Runs training steps of one model over a fixed seeded batch order (the epoch wraps around;
 * no discrete step is taken). `step()` returns the milliseconds of `trainStep` alone.
 */
export class StepRunner {
  readonly #order: Int32Array;
  readonly #rng = new Rng(7);
  #step = 0;

  /** Wrap `model` trained on `data` in batches of `batchSize`. */
  constructor(readonly model: HashModel, readonly data: TrainData, readonly batchSize: number) {
    if (!Number.isInteger(batchSize) || batchSize < 2 || batchSize > data.train.length) {
      throw new Error(
        `StepRunner: batchSize is ${batchSize}, expected an integer in 2..${data.train.length}`,
      );
    }
    this.#order = new Rng(3).permutation(data.train.length);
  }

  /**
   * One training step; returns the time of `trainStep` in ms (batch construction and disposal
   * not included). `timer` (e.g. Deno.bench's) is started and ended around `trainStep` only.
   */
  step(timer?: { start(): void; end(): void }): number {
    const per = Math.floor(this.#order.length / this.batchSize);
    const b = this.#step % per;
    const pos = this.#order.slice(b * this.batchSize, (b + 1) * this.batchSize);
    const batch = makeBatch(this.data, pos);
    const ctx = { epoch: 0, batch: b, rng: this.#rng.fork(this.#step) };
    this.#step++;
    try {
      timer?.start();
      const t = performance.now();
      const terms = this.model.trainStep(batch, ctx);
      const ms = performance.now() - t;
      timer?.end();
      if (!Number.isFinite(terms.total)) {
        throw new Error(
          `StepRunner: ${this.model.method} step ${this.#step}: loss is ${terms.total}`,
        );
      }
      return ms;
    } finally {
      tf.dispose([batch.image, batch.text, batch.labels]);
    }
  }
}

let activeKernels: KernelSet | undefined;

/**
 * Switch to a kernel set with the MatMul gradient the project pairs with it (initBackend with
 * blas "off" / "on"); a no-op when `set` is already active. Returns the backend description.
 */
export async function selectKernels(
  set: KernelSet,
  opts: { backend?: BackendName; threads?: number } = {},
): Promise<string> {
  const info = await initBackend({
    name: opts.backend,
    blas: set === "blas" ? "on" : "off",
    blasThreads: set === "blas" ? opts.threads : undefined,
    fastKernels: set === "blas",
  });
  activeKernels = set;
  return `backend ${info.name} (tfjs ${info.tfjs}, Deno ${info.deno}); kernels ${set}${
    info.accelerated ? `: ${info.accelerated}` : ""
  }${info.fastKernels ? `; ${info.fastKernels}` : ""}`;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One table row from step times (ms). */
export function trainingRow(
  method: TrainingMethod,
  set: KernelSet,
  times: readonly number[],
  shape: TrainingBenchShape,
): ThroughputRow {
  const ms = median(times);
  return {
    suite: "training",
    label: `${method} ${shape.imageDim}/${shape.textDim}-d b${shape.batchSize} ${shape.bits} bits`,
    kernels: set,
    backend: tf.getBackend(),
    ms,
    runs: times.length,
    rate: (shape.batchSize * 1000) / ms,
    unit: "pairs/s",
  };
}

/** Options of {@link trainingThroughput}. */
export interface TrainingBenchOptions {
  methods?: readonly TrainingMethod[];
  kernels?: readonly KernelSet[];
  /** Timed steps per case (median reported); default 5. */
  steps?: number;
  /** Untimed steps before timing; default 2. */
  warmup?: number;
  backend?: BackendName;
  /** BLAS threads; default 1. */
  threads?: number;
  shape?: TrainingBenchShape;
  /** Progress line sink; default none. */
  log?: (line: string) => void;
}

/**
 * Time `trainStep` of each method with each kernel set (fresh model per case, same data and
 * batch order). "blas" cases are skipped with a log line when no CBLAS library is found.
 */
export async function trainingThroughput(
  opts: TrainingBenchOptions = {},
): Promise<ThroughputRow[]> {
  const shape = opts.shape ?? DEFAULT_SHAPE;
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2;
  for (const [k, v, min] of [["steps", steps, 1], ["warmup", warmup, 0]] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new Error(`${k} is ${v}, expected an integer >= ${min}`);
    }
  }
  const log = opts.log ?? (() => {});
  const data = makeTrainingData(shape);
  const rows: ThroughputRow[] = [];
  const probe = probeBlasLibrary();
  for (const method of opts.methods ?? TRAINING_METHODS) {
    for (const set of opts.kernels ?? (["stock", "blas"] as KernelSet[])) {
      if (set === "blas" && !probe.found) {
        log(`${method} blas: skipped (${probe.reason})`);
        continue;
      }
      log(await selectKernels(set, { backend: opts.backend, threads: opts.threads ?? 1 }));
      const model = makeModel(method, data, shape);
      const runner = new StepRunner(model, data, shape.batchSize);
      try {
        for (let i = 0; i < warmup; i++) runner.step();
        const before = tf.memory().numTensors;
        const times: number[] = [];
        for (let i = 0; i < steps; i++) times.push(runner.step());
        const leaked = tf.memory().numTensors - before;
        if (leaked > 0) {
          log(`${method} ${set}: warning: ${leaked} tensors left after ${steps} steps`);
        }
        rows.push(trainingRow(method, set, times, shape));
        log(`${method} ${set}: ${times.map((t) => t.toFixed(0)).join(" ")} ms`);
      } finally {
        model.dispose();
      }
    }
  }
  return rows;
}

function parseList<T extends string>(value: string, allowed: readonly T[], source: string): T[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const s of items) {
    if (!(allowed as readonly string[]).includes(s)) {
      throw new Error(`${source} has '${s}', expected a list of ${allowed.join(", ")}`);
    }
  }
  if (!items.length) throw new Error(`${source} is empty`);
  return items as T[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ...stringOptions({ steps: "5", warmup: "2", methods: "cpah,dfah", kernels: "stock,blas" }),
      threads: { type: "string" },
      backend: { type: "string" },
    },
  });
  const threadsText = values.threads ?? readEnv("HASH_BLAS_THREADS") ?? "1";
  const threads = positiveInt(threadsText, values.threads ? "--threads" : "HASH_BLAS_THREADS");
  const backend = values.backend ? parseBackendName(values.backend, "--backend") : undefined;
  const s = DEFAULT_SHAPE;
  console.log(
    `training throughput: n ${s.n}, image ${s.imageDim}-d, text ${s.textDim}-d, ${s.classes} ` +
      `labels, batch ${s.batchSize}, ${s.bits} bits; BLAS threads ${threads}`,
  );
  const rows = await trainingThroughput({
    methods: parseList(values.methods, TRAINING_METHODS, "--methods"),
    kernels: parseList(values.kernels, ["stock", "blas"] as const, "--kernels"),
    steps: positiveInt(values.steps, "--steps"),
    warmup: positiveInt(values.warmup, "--warmup", 0),
    backend,
    threads,
    log: (l) => console.log(l),
  });
  console.log(formatRows(rows));
}

/** Register the Deno.bench cases (used under `deno bench`). */
function registerBenches(): void {
  const envBackend = readEnv("HASH_BACKEND");
  const backend = envBackend ? parseBackendName(envBackend, "HASH_BACKEND") : undefined;
  const threads = positiveInt(readEnv("HASH_BLAS_THREADS") ?? "1", "HASH_BLAS_THREADS");
  const n = positiveInt(readEnv("BENCH_TRAINING_STEPS") ?? "3", "BENCH_TRAINING_STEPS");
  const shape = DEFAULT_SHAPE;
  const data = makeTrainingData(shape);
  const blasOk = probeBlasLibrary().found;
  const headers = new Map<KernelSet, string>();
  const measured: { method: TrainingMethod; set: KernelSet; times: number[] }[] = [];
  let current: { key: string; runner: StepRunner } | undefined;
  for (const method of TRAINING_METHODS) {
    for (const set of ["stock", "blas"] as KernelSet[]) {
      const rec = { method, set, times: [] as number[] };
      measured.push(rec);
      Deno.bench({
        name: `${method} ${set}`,
        group: `${method} training`,
        baseline: set === "stock",
        ignore: set === "blas" && !blasOk,
        n,
        warmup: 1,
        async fn(b) {
          const key = `${method} ${set}`;
          if (activeKernels !== set || current?.key !== key) {
            headers.set(set, await selectKernels(set, { backend, threads }));
          }
          if (current?.key !== key) {
            current?.runner.model.dispose();
            current = {
              key,
              runner: new StepRunner(makeModel(method, data, shape), data, shape.batchSize),
            };
          }
          rec.times.push(current.runner.step(b));
        },
      });
    }
  }
  globalThis.addEventListener("unload", () => {
    const rows: ThroughputRow[] = [];
    for (const { method, set, times: all } of measured) {
      if (!all.length) continue;
      const times = all.length > 1 ? all.slice(1) : all; // the first call is deno's warm-up
      rows.push(trainingRow(method, set, times, shape));
    }
    console.log(
      `\n${[...headers.values()].join("\n")}\nBLAS threads ${threads}\n${formatRows(rows)}`,
    );
  });
}

if (import.meta.main) {
  await main();
} else if (Deno.mainModule === import.meta.url) {
  // loaded as a root by `deno bench` (a module importing this file has its own mainModule)
  registerBenches();
}
