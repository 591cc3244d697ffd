/**
 * The `webgpu` backend (src/accel/webgpu.ts) against wasm on the same code: tiny CPAH, DFAH and
 * DCMH runs reach wasm's held-out MAP, one training step's gradients agree, the same seed gives
 * the same codes, and tensors (on both threads) do not pile up across epochs.
 *
 * They need a WebGPU adapter: a GPU, or Mesa's software adapter (Debian: mesa-vulkan-drivers,
 * or libegl1 + libgl1-mesa-dri). Without one they are ignored with the reason, unless
 * HASH_WEBGPU=required (set by .ci/run, which installs the software adapter): then the
 * adapter test fails with the install hint. HASH_WEBGPU=off ignores them (.ci/run's suite with
 * HASH_BLAS=off: the webgpu backend does not use BLAS, so they run once per CI run).
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { type BackendOptions, initBackend } from "../../src/accel/backend.ts";
import {
  NO_ADAPTER_MESSAGE,
  type WebGpuAdapter,
  type WebGpuProxyBackend,
} from "../../src/accel/webgpu.ts";
import { gatherLabelRows, gatherRows } from "../../src/datasets/matrix.ts";
import { readEnv } from "../../src/io.ts";
import { type MethodName, METHODS } from "../../src/models/mod.ts";
import type { HashModel, TrainingSetInfo } from "../../src/models/model.ts";
import type { NamedArrays } from "../../src/nn/mod.ts";
import { Rng } from "../../src/random.ts";
import { makeBatch, train } from "../../src/train.ts";
import { assertSameSteps, crossModalMap, heldOutData } from "../test_utils.ts";

const required = readEnv("HASH_WEBGPU") === "required";
// HASH_WEBGPU=off: not in this run (.ci/run's second suite: the webgpu backend never uses BLAS,
// so the suite with HASH_BLAS=off would repeat the first suite's webgpu runs exactly).
const off = readEnv("HASH_WEBGPU") === "off";
let adapter: WebGpuAdapter | undefined;
let why = "HASH_WEBGPU=off";
if (!off) {
  try {
    adapter = (await initBackend({ name: "webgpu" })).adapter;
  } catch (e) {
    why = (e as Error).message;
  } finally {
    await initBackend({ name: "wasm" });
  }
}
if (!adapter && !required) {
  console.log(`tests/accel/webgpu.test.ts: webgpu tests ignored — ${why}`);
} else if (adapter) {
  console.log(
    `tests/accel/webgpu.test.ts: adapter ${adapter.description}` +
      (adapter.isFallbackAdapter ? " (software adapter)" : ""),
  );
}
const ignore = !adapter;

const WASM: BackendOptions = { name: "wasm" };
const WEBGPU: BackendOptions = { name: "webgpu" };

Deno.test({
  name: "webgpu: an adapter is found where the tests are required (HASH_WEBGPU=required)",
  ignore: !required,
  fn() {
    assert.ok(adapter, why);
  },
});

Deno.test({
  name: "webgpu: without an adapter, initBackend fails with one line naming what to install",
  // DENO_WEBGPU_BACKEND=dx12 leaves Linux with no adapter at all.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const code = `import { initBackend } from "${
      new URL("../../src/accel/backend.ts", import.meta.url).href
    }";
try { await initBackend({ name: "webgpu" }); console.log("no error"); }
catch (e) { console.log("ERROR " + e.message); }`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      env: { DENO_WEBGPU_BACKEND: "dx12", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.equal(text, `ERROR ${NO_ADAPTER_MESSAGE}`, new TextDecoder().decode(out.stderr));
    assert.ok(!NO_ADAPTER_MESSAGE.includes("\n"));
    assert.match(NO_ADAPTER_MESSAGE, /libegl1 libgl1-mesa-dri/);
    assert.match(NO_ADAPTER_MESSAGE, /mesa-vulkan-drivers/);
  },
});

/** Run `f` on a backend, then go back to wasm whatever happens. */
async function on<T>(opts: BackendOptions, f: () => T | Promise<T>): Promise<T> {
  await initBackend(opts);
  try {
    return await f();
  } finally {
    await initBackend(WASM);
  }
}

Deno.test({
  name: "webgpu: kernels, shared buffers, reads and disposal behave as on wasm",
  ignore,
  async fn() {
    const run = () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(5);
      const a = tf.tensor2d(rng.normals(6 * 4), [6, 4]);
      const b = tf.tensor2d(rng.normals(4 * 3), [4, 3]);
      const r = tf.tidy(() => {
        const p = tf.matMul(a, b, false, false);
        const q = tf.reshape(p, [3, 6]); // shares p's buffer
        return [
          tf.softplus(q),
          tf.matMul(a, a, true, false),
          tf.cast(tf.greater(p, 0), "int32"),
          tf.sum(p, 0),
        ];
      });
      const out = r.map((t) => Array.from(t.dataSync()));
      tf.dispose([a, b, ...r]);
      assert.equal(tf.memory().numTensors, before, "tensors left behind");
      return out;
    };
    const want = await on(WASM, run);
    const got = await on(WEBGPU, () => {
      const be = tf.backend();
      const ids = be.numDataIds();
      const worker = (tf.memory() as { workerDataIds?: number }).workerDataIds;
      const out = run();
      assert.equal(be.numDataIds(), ids, "data ids left behind on the main thread");
      const after = (tf.memory() as { workerDataIds?: number }).workerDataIds;
      assert.equal(after, worker, "buffers left behind in the worker");
      // An error inside the worker comes back as an error naming the kernel.
      assert.throws(
        () => (be as WebGpuProxyBackend).runKernel("NoSuchKernel", [], {}),
        /^Error: backend 'webgpu': kernel NoSuchKernel: kernel 'NoSuchKernel' is not registered/,
      );
      return out;
    });
    want.forEach((w, i) => {
      assert.equal(got[i].length, w.length);
      w.forEach((x, j) =>
        assert.ok(Math.abs(got[i][j] - x) <= 1e-4 * (1 + Math.abs(x)), `output ${i}[${j}]`)
      );
    });
  },
});

// ---------------------------------------------------------------------------------------
// Tiny training runs on the same code: MAP, codes, memory

const learn = heldOutData();

function infoOf(rows: Int32Array): TrainingSetInfo {
  const ds = learn.ds;
  return {
    n: rows.length,
    imageDim: ds.image.cols,
    textDim: ds.text.cols,
    labels: gatherLabelRows(ds.labels, rows),
  };
}

/** Small networks, as in tests/accel/backend_parity.test.ts: seconds per run on wasm. */
const SMALL: Partial<Record<MethodName, object>> = {
  cpah: {
    imageLayers: [64, 64],
    textLayers: [64, 64],
    discLayers: [16],
    consLayers: [16],
    lr: 1e-3,
    discLr: 1e-3,
  },
  dfah: { imageLayers: [64, 32], textLayers: [64, 32], fusionLayers: [32], discLayers: [16] },
  dcmh: { imageLayers: [64], textLayers: [64] },
};

interface Run {
  map: number;
  /** Query image codes (packed), to compare runs. */
  codes: unknown;
  /** After each epoch: live tensors, and buffers held by the backend (worker side on webgpu). */
  memory: { tensors: number; buffers: number }[];
}

function trainTiny(method: MethodName, epochs: number): Promise<Run> {
  return (async () => {
    const entry = METHODS[method];
    const cfg = entry.config("synthetic", 16, { ...SMALL[method], batchSize: 64 });
    const model: HashModel = entry.create(infoOf(learn.data.train), cfg);
    const memory: Run["memory"] = [];
    try {
      await train(model, learn.data, {
        epochs,
        batchSize: 64,
        seed: 1,
        log: () => {
          const m = tf.memory() as { numTensors: number; workerDataIds?: number };
          memory.push({
            tensors: m.numTensors,
            buffers: m.workerDataIds ?? tf.backend().numDataIds(),
          });
        },
      });
      const map = crossModalMap(model, learn.ds, learn.query, learn.data.train).mean;
      const codes = model.encodeImage(gatherRows(learn.ds.image, learn.query));
      return { map, codes, memory };
    } finally {
      model.dispose();
    }
  })();
}

const EPOCHS = 3;
const webgpuRuns: Partial<Record<MethodName, Run>> = {};

for (const method of ["cpah", "dfah", "dcmh"] as const) {
  Deno.test({
    name: `webgpu: ${method} trained on webgpu reaches the wasm backend's MAP (within 0.05)`,
    ignore,
    async fn() {
      const wasm = await on(WASM, () => trainTiny(method, EPOCHS));
      const gpu = await on(WEBGPU, () => trainTiny(method, EPOCHS));
      webgpuRuns[method] = gpu;
      assert.ok(
        Math.abs(gpu.map - wasm.map) <= 0.05,
        `${method}: MAP wasm ${wasm.map.toFixed(4)}, webgpu ${gpu.map.toFixed(4)}`,
      );
    },
  });
}

Deno.test({
  name: "webgpu: tensors and GPU buffers stay level across epochs (no leak)",
  ignore,
  fn() {
    const runs = Object.entries(webgpuRuns);
    assert.ok(runs.length > 0, "the training tests above recorded no run");
    for (const [method, run] of runs) {
      assert.equal(run.memory.length, EPOCHS, `${method}: epochs logged`);
      const [first, ...rest] = run.memory;
      for (const [i, m] of rest.entries()) {
        assert.ok(
          m.tensors <= first.tensors && m.buffers <= first.buffers,
          `${method}, epoch ${i + 2}: ${m.tensors} tensors / ${m.buffers} buffers, ` +
            `after epoch 1: ${first.tensors} / ${first.buffers}`,
        );
      }
    }
  },
});

Deno.test({
  name: "webgpu: the same seed gives the same codes on the same adapter",
  ignore,
  async fn() {
    const a = await on(WEBGPU, () => trainTiny("cpah", 1));
    const b = await on(WEBGPU, () => trainTiny("cpah", 1));
    assert.deepEqual(b.codes, a.codes);
    assert.equal(b.map, a.map);
  },
});

// ---------------------------------------------------------------------------------------
// One training step: gradients against wasm

async function firstStep(
  method: MethodName,
  opts: BackendOptions,
): Promise<{ grads: NamedArrays; losses: Record<string, number>[] }> {
  return await on(opts, () => {
    const entry = METHODS[method];
    const cfg = entry.config("synthetic", 32, { ...SMALL[method], batchSize: 64 });
    const model = entry.create(infoOf(learn.data.train), cfg);
    const order = new Rng(9).permutation(learn.data.train.length);
    const losses: Record<string, number>[] = [];
    let grads: NamedArrays = {};
    try {
      model.beginEpoch(0);
      for (let b = 0; b < 2; b++) {
        const batch = makeBatch(learn.data, order.subarray(b * 64, (b + 1) * 64));
        try {
          losses.push(model.trainStep(batch, { epoch: 0, batch: b, rng: new Rng(4).fork(b) }));
        } finally {
          tf.dispose([batch.image, batch.text, batch.labels]);
        }
        // Adam's first moments after step 1 are (1 - beta1) times the gradients.
        if (b === 0) {
          grads = Object.fromEntries(
            Object.entries(model.state()).filter(([k]) => /^opt\.(net|disc)\.m\d+$/.test(k)),
          );
        }
      }
    } finally {
      model.dispose();
    }
    return { grads, losses };
  });
}

for (const method of ["cpah", "dfah"] as const) {
  Deno.test({
    name: `webgpu: ${method}'s gradients of one training step agree with wasm's`,
    ignore,
    async fn() {
      const ref = await firstStep(method, { ...WASM, blas: "off" });
      const got = await firstStep(method, WEBGPU);
      assertSameSteps(got, ref, "webgpu");
    },
  });
}
