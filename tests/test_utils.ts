/**
 * The helpers shared by the tests: small tensors, tolerant comparisons, digests for bit-for-bit
 * checks, tests that get a fresh temporary directory, the tiny experiment grid, and the held-out
 * data and cross-modal MAP of the learning checks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { defaultDataDir } from "../src/datasets/datasets.ts";
import type { GridParams } from "../src/experiments/spec.ts";
import { gatherLabelRows, gatherRows } from "../src/datasets/matrix.ts";
import { synthetic } from "../src/datasets/synthetic.ts";
import type { HashModel } from "../src/models/model.ts";
import { mapAll } from "../src/retrieval/metrics.ts";
import type { TrainData } from "../src/train.ts";
import type { CrossModalDataset } from "../src/types.ts";
import { type Mat, mat } from "../src/linalg.ts";
import type { Rng } from "../src/random.ts";
import type { NamedArrays } from "../src/nn/mod.ts";

/** A 2-D tensor from nested rows. */
export const t2 = (rows: number[][]): tf.Tensor2D => tf.tensor2d(rows);

/** The first value of a tensor, disposing it. */
export const value = (x: tf.Tensor): number => {
  const v = x.dataSync()[0];
  x.dispose();
  return v;
};

/** Assert |actual - expected| <= tol (1 + |expected|). */
export const close = (actual: number, expected: number, tol = 1e-5, what = "value"): void =>
  assert.ok(
    Math.abs(actual - expected) <= tol * (1 + Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );

/** SHA-256 of the bytes of a typed array, in hex (bit-for-bit regression checks). */
export async function sha256(a: ArrayBufferView): Promise<string> {
  const bytes = new Uint8Array(a.byteLength);
  bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A `Deno.test` maker whose tests each get a fresh temporary directory (prefix `prefix`),
 * handed to `onDir` before the test body runs and removed afterwards.
 */
export function tmpDirTest(
  prefix: string,
  onDir: (dir: string) => void,
): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    Deno.test(name, async () => {
      const dir = await Deno.makeTempDir({ prefix });
      onDir(dir);
      try {
        await fn();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  };
}

/**
 * The smallest grid the experiment tests run: CPAH's full model on synthetic data (permutation
 * split), 16 bits, seed 1, one epoch on wasm. Spread it and change what a test needs.
 */
export const TINY_GRID: Readonly<GridParams> = {
  datasets: ["synthetic"],
  split: "permutation",
  methods: ["cpah"],
  ablations: ["full"],
  bits: [16],
  seeds: [1],
  epochs: 1,
  backend: "wasm",
};

/**
 * The data of the "training raises MAP" checks: single-label synthetic pairs (10 classes, so
 * chance MAP is about 0.1), the first 700 for training (no validation slice), the last 200 as
 * held-out queries.
 */
export function heldOutData(): { ds: CrossModalDataset; data: TrainData; query: Int32Array } {
  const ds = synthetic({ n: 900, imageDim: 48, textDim: 32, labelsPerItem: 1, seed: 7 });
  const all = Int32Array.from({ length: 900 }, (_, i) => i);
  const data: TrainData = { dataset: ds, train: all.slice(0, 700), validation: new Int32Array(0) };
  return { ds, data, query: all.slice(700) };
}

/**
 * MAP@all of a model's codes: image queries against the text codes of the database rows (I2T),
 * text queries against the image codes (T2I), and their mean.
 */
export function crossModalMap(
  model: HashModel,
  ds: CrossModalDataset,
  query: Int32Array,
  database: Int32Array,
): { I2T: number; T2I: number; mean: number } {
  const ql = gatherLabelRows(ds.labels, query), dl = gatherLabelRows(ds.labels, database);
  const I2T = mapAll(
    model.encodeImage(gatherRows(ds.image, query)),
    ql,
    model.encodeText(gatherRows(ds.text, database)),
    dl,
  );
  const T2I = mapAll(
    model.encodeText(gatherRows(ds.text, query)),
    ql,
    model.encodeImage(gatherRows(ds.image, database)),
    dl,
  );
  return { I2T, T2I, mean: (I2T + T2I) / 2 };
}

/** softplus(x) = log(1 + e^x), the plain-JS reference of the losses' tests. */
export const softplus = (x: number): number => Math.log1p(Math.exp(x));

/** Whether a path exists (real-data tests are skipped, with a reason, when it does not). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a real-data test cannot run here: undefined when every file (relative to the data
 * directory, env HASH_DATA_DIR or the repository's data/) exists, else a one-line reason, which
 * is also printed once for the test file `who`.
 */
export function realDataMissing(who: string, files: string[]): string | undefined {
  const dir = defaultDataDir();
  const absent = files.filter((f) => {
    try {
      return !Deno.statSync(`${dir}/${f}`).isFile;
    } catch {
      return true;
    }
  });
  if (!absent.length) return undefined;
  const reason = `${absent.join(", ")} not found under ${dir} (set HASH_DATA_DIR)`;
  console.log(`${who}: real-data tests ignored — ${reason}`);
  return reason;
}

/** A rows x cols Float64 matrix of standard normal draws. */
export function randn(rows: number, cols: number, rng: Rng): Mat {
  const m = mat(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

/** What one training step recorded: Adam's first moments after it, and each step's losses. */
export interface StepRecord {
  /** Adam's first moments after the first step: (1 - beta1) times each gradient. */
  grads: NamedArrays;
  /** Loss terms of each step. */
  losses: Record<string, number>[];
}

/**
 * Assert that two runs of the same training steps on different kernels agree: every variable's
 * gradient within a relative 5e-3 of the reference (float32 sums in another order give ~5e-4; a
 * wrong product or a missing term is off by O(1)), and every loss term of every step within
 * 2e-3 (relative, floor 1). A variable whose true gradient is ~0 (a bias ahead of BatchNorm) is
 * measured against a thousandth of the whole gradient's norm, not against its own rounding
 * noise, which large loss weights (CPAH's gamma) scale up with everything else. `label` names
 * the kernel configuration in messages.
 */
export function assertSameSteps(got: StepRecord, ref: StepRecord, label: string): void {
  const names = Object.keys(ref.grads);
  assert.ok(names.length >= 8, `only ${names.length} gradients recorded`);
  assert.deepEqual(Object.keys(got.grads), names);
  let total = 0;
  for (const k of names) for (const x of ref.grads[k].data) total += x * x;
  const floor = 1e-3 * Math.sqrt(total);
  for (const k of names) {
    const a = got.grads[k].data, b = ref.grads[k].data;
    let diff = 0, norm = 0;
    for (let i = 0; i < b.length; i++) {
      diff += (a[i] - b[i]) ** 2;
      norm += b[i] ** 2;
    }
    const rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), floor, 1e-12);
    assert.ok(
      rel < 5e-3 || Math.sqrt(diff) < 1e-7,
      `${k} on ${label}: relative difference ${rel.toExponential(2)} (|ref| ${Math.sqrt(norm)})`,
    );
  }
  ref.losses.forEach((terms, step) => {
    for (const [k, v] of Object.entries(terms)) {
      const w = got.losses[step][k];
      assert.ok(
        Math.abs(w - v) <= 2e-3 * Math.max(1, Math.abs(v)),
        `step ${step + 1}, loss term ${k}: ${w} on ${label}, ${v} on the reference`,
      );
    }
  });
}

/**
 * Run the reproduce CLI (`src/experiments/reproduce.ts`) in the repository with `args`, without
 * colours and on the no-BLAS path; its exit code and its stdout and stderr together.
 */
export async function reproduce(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/experiments/reproduce.ts", ...args],
    cwd: new URL("../", import.meta.url).pathname,
    env: { NO_COLOR: "1", HASH_BLAS: "off" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}
