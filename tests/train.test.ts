/**
 * The training core, driven with a deliberately small model defined here (one linear hash
 * layer per modality, DCMH pair term + quantisation, B = sign(H^v + H^t) per epoch), so the
 * trainer's own behaviour is tested apart from CPAH and DFAH.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../src/accel/backend.ts";
import { Linear, type NamedArrays, ParamStore } from "../src/nn/mod.ts";
import { Adam } from "../src/nn/optim.ts";
import { labelSimilarity, pairNll, quantization } from "../src/nn/losses.ts";
import { Rng } from "../src/random.ts";
import {
  type Batch,
  encodeInBatches,
  type HashModel,
  type LossTerms,
  signPlus,
  type TrainingSetInfo,
} from "../src/models/model.ts";
import { train, type TrainData } from "../src/train.ts";
import type { CrossModalDataset, Matrix } from "../src/types.ts";

await initBackend({ name: "wasm" });

class TinyHash implements HashModel {
  readonly method = "tiny";
  readonly config = {};
  readonly store = new ParamStore();
  readonly fv: Linear;
  readonly ft: Linear;
  readonly opt: Adam;
  readonly B: Float32Array;
  readonly Hv: Float32Array;
  readonly Ht: Float32Array;
  poison = false;

  constructor(readonly info: TrainingSetInfo, readonly bits: number, seed: number) {
    const rng = new Rng(seed);
    this.fv = new Linear(this.store, "fv", info.imageDim, bits, rng);
    this.ft = new Linear(this.store, "ft", info.textDim, bits, rng);
    this.opt = new Adam(this.store.group("net"), { lr: 0.01 });
    this.B = this.store.create("B", [info.n, bits], rng.normals(info.n * bits), "codes", false)
      .dataSync() as Float32Array;
    this.Hv = new Float32Array(info.n * bits);
    this.Ht = new Float32Array(info.n * bits);
  }
  beginEpoch(): void {}
  trainStep(batch: Batch): LossTerms {
    const K = this.bits;
    const terms: LossTerms = {};
    const B = tf.tensor2d(Array.from(batch.pos, (p) => [...this.B.subarray(p * K, p * K + K)]));
    this.opt.minimize(() => {
      const hv = tf.tanh(this.fv.apply(batch.image));
      const ht = tf.tanh(this.ft.apply(batch.text));
      const s = labelSimilarity(batch.labels, batch.labels);
      const pair = pairNll(hv, ht, s);
      const q = tf.add(quantization(B, hv), quantization(B, ht));
      terms.pair = pair.dataSync()[0];
      terms.quant = this.poison ? NaN : q.dataSync()[0];
      const hvData = hv.dataSync(), htData = ht.dataSync();
      batch.pos.forEach((p, i) => {
        this.Hv.set(hvData.subarray(i * K, i * K + K), p * K);
        this.Ht.set(htData.subarray(i * K, i * K + K), p * K);
      });
      return tf.add(pair, q) as tf.Scalar;
    });
    B.dispose();
    return terms;
  }
  endEpoch(): LossTerms {
    let flipped = 0;
    for (let i = 0; i < this.B.length; i++) {
      const b = this.Hv[i] + this.Ht[i] >= 0 ? 1 : -1;
      if (b !== this.B[i]) flipped++;
      this.B[i] = b;
    }
    return { flipped: flipped / this.B.length };
  }
  encodeImage(x: Matrix) {
    return encodeInBatches(x, this.bits, (t) => signPlus(this.fv.apply(t)) as tf.Tensor2D);
  }
  encodeText(y: Matrix) {
    return encodeInBatches(y, this.bits, (t) => signPlus(this.ft.apply(t)) as tf.Tensor2D);
  }
  state(): NamedArrays {
    return {
      ...this.store.state(),
      B: { shape: [this.info.n, this.bits], data: this.B.slice() },
      ...this.opt.state("opt"),
    };
  }
  loadState(s: NamedArrays, source: string) {
    this.store.load(s, source);
    this.B.set(s.B.data);
    this.opt.load(s, "opt", source);
  }
  dispose() {
    this.opt.dispose();
    this.store.dispose();
  }
}

/** Two well-separated classes; image and text are different noisy views. */
function toyData(n: number, seed: number): TrainData {
  const rng = new Rng(seed);
  const dv = 6, dt = 5, c = 2;
  const img = new Float32Array(n * dv), txt = new Float32Array(n * dt), lab = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    lab[i * c + k] = 1;
    for (let j = 0; j < dv; j++) img[i * dv + j] = (j % 2 === k ? 2 : 0) + rng.normal() * 0.3;
    for (let j = 0; j < dt; j++) {
      txt[i * dt + j] = (j < 2 === (k === 0) ? 2 : 0) + rng.normal() * 0.3;
    }
  }
  const dataset: CrossModalDataset = {
    name: "toy",
    image: { kind: "dense", rows: n, cols: dv, data: img },
    text: { kind: "dense", rows: n, cols: dt, data: txt },
    labels: { rows: n, classes: c, data: lab },
    labelNames: ["a", "b"],
    provenance: "tests/train.test.ts toyData",
  };
  const all = new Rng(seed + 1).permutation(n);
  return { dataset, train: all.slice(0, n - 20), validation: all.slice(n - 20) };
}

function infoOf(d: TrainData): TrainingSetInfo {
  const c = d.dataset.labels.classes;
  const labels = new Uint8Array(d.train.length * c);
  d.train.forEach((r, i) => labels.set(d.dataset.labels.data.subarray(r * c, r * c + c), i * c));
  return {
    n: d.train.length,
    imageDim: d.dataset.image.cols,
    textDim: d.dataset.text.cols,
    labels: { rows: d.train.length, classes: c, data: labels },
  };
}

Deno.test("training lowers the loss, validates every epoch and keeps the tensor count stable", async () => {
  const data = toyData(120, 1);
  const model = new TinyHash(infoOf(data), 8, 3);
  const lines: string[] = [];
  const res = await train(model, data, {
    epochs: 6,
    batchSize: 32,
    seed: 5,
    log: (l) => lines.push(l),
  });
  assert.equal(res.history.length, 6);
  assert.ok(res.history[5].losses.pair < res.history[0].losses.pair, "pair loss did not fall");
  assert.ok(res.history.every((r) => r.validation !== undefined));
  const v = res.history[res.selectedEpoch].validation!;
  assert.ok(
    v.I2T > 0.9 && v.T2I > 0.9,
    `validation MAP ${JSON.stringify(v)} on separable toy data`,
  );
  assert.equal(lines.length, 6);
  assert.match(lines[5], /epoch 6\/6 .*pair .*val I2T .* ETA /);
  model.dispose();
});

Deno.test("the NaN guard stops training naming the epoch, batch and loss term", async () => {
  const data = toyData(80, 2);
  const model = new TinyHash(infoOf(data), 8, 3);
  model.poison = true;
  await assert.rejects(
    () => train(model, data, { epochs: 2, batchSize: 32, seed: 1, log: null }),
    /NaN guard: loss term 'quant' is NaN at epoch 1, batch 1/,
  );
  model.dispose();
});

Deno.test("resuming from a checkpoint reproduces uninterrupted training exactly", async () => {
  const data = toyData(100, 3);
  const full = new TinyHash(infoOf(data), 8, 4);
  await train(full, data, { epochs: 4, batchSize: 32, seed: 9, log: null, selectBest: false });
  const dir = await Deno.makeTempDir();
  const first = new TinyHash(infoOf(data), 8, 4);
  await train(first, data, {
    epochs: 2,
    batchSize: 32,
    seed: 9,
    log: null,
    checkpointDir: dir,
    selectBest: false,
  });
  first.dispose();
  const second = new TinyHash(infoOf(data), 8, 4);
  const res = await train(second, data, {
    epochs: 4,
    batchSize: 32,
    seed: 9,
    log: null,
    checkpointDir: dir,
    selectBest: false,
  });
  assert.equal(res.resumedFrom, 1);
  assert.equal(res.history.length, 4);
  const a = full.encodeImage(data.dataset.image), b = second.encodeImage(data.dataset.image);
  assert.deepEqual(b.data, a.data);
  assert.deepEqual(second.state().B.data, full.state().B.data);
  full.dispose();
  second.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the same seed gives the same codes; another seed gives other weights", async () => {
  const data = toyData(80, 4);
  const run = async (seed: number) => {
    const m = new TinyHash(infoOf(data), 16, seed);
    await train(m, data, { epochs: 2, batchSize: 16, seed, log: null });
    const codes = m.encodeText(data.dataset.text);
    const w = m.state()["ft.W"].data;
    m.dispose();
    return { codes, w };
  };
  const a = await run(11), b = await run(11), c = await run(12);
  assert.deepEqual(a.codes.data, b.codes.data);
  assert.notDeepEqual(a.w, c.w);
});

Deno.test("epochs, batch size and seed default to the model config's; options win", async () => {
  const data = toyData(120, 1);
  const withConfig = () => {
    const m = new TinyHash(infoOf(data), 8, 3);
    Object.assign(m.config, { epochs: 2, batchSize: 50, seed: 5 });
    return m;
  };
  const a = withConfig(), b = new TinyHash(infoOf(data), 8, 3);
  const fromConfig = await train(a, data, { log: null });
  const explicit = await train(b, data, { epochs: 2, batchSize: 50, seed: 5, log: null });
  assert.equal(fromConfig.history.length, 2);
  assert.deepEqual(
    fromConfig.history.map((h) => h.losses),
    explicit.history.map((h) => h.losses),
  );
  const c = withConfig();
  assert.equal((await train(c, data, { epochs: 1, log: null })).history.length, 1);
  const d = new TinyHash(infoOf(data), 8, 3); // config {}: nothing to default from
  await assert.rejects(
    () => train(d, data, { log: null }),
    /train: epochs is undefined, expected an integer >= 0 \(opts\.epochs, else the model config's epochs\)/,
  );
  for (const m of [a, b, c, d]) m.dispose();
});
