/**
 * DCMH (src/models/dcmh.ts): the B-step against brute force, the objective's pieces and their
 * gradient against a direct float64 computation of the paper's formulas, the config, the step
 * bookkeeping (stored F, G rows, tensor hygiene), learning on synthetic data, determinism and
 * the state round trip, the registry entry, and a real-data check on Wikipedia (skipped when
 * the data is absent) — wasm backend.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { defaultDataDir, loadDataset } from "../../src/datasets/datasets.ts";
import { makeSplit } from "../../src/datasets/split.ts";
import { gatherLabelRows } from "../../src/datasets/matrix.ts";
import { labelSimilarity } from "../../src/nn/losses.ts";
import { Rng } from "../../src/random.ts";
import { makeBatch, train, type TrainData } from "../../src/train.ts";
import type { CrossModalDataset, PackedCodes } from "../../src/types.ts";
import type { HashModel, TrainingSetInfo } from "../../src/models/model.ts";
import { loadModel, METHODS, saveModel } from "../../src/models/mod.ts";
import {
  balanceLoss,
  batchObjective,
  createDcmh,
  Dcmh,
  type DcmhConfig,
  dcmhConfig,
  learningRate,
  pairwiseNll,
  quantizationLoss,
  updateCodes,
} from "../../src/models/dcmh.ts";
import { close, crossModalMap, heldOutData, realDataMissing, value } from "../test_utils.ts";

await initBackend({ name: "wasm" });

// ---------------------------------------------------------------------------------------
// Helpers

function toyData(n = 200, seed = 5) {
  const ds = synthetic({ n, imageDim: 24, textDim: 12, classes: 5, labelsPerItem: 2, seed });
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const data: TrainData = { dataset: ds, train: rows, validation: new Int32Array(0) };
  const info: TrainingSetInfo = {
    n,
    imageDim: 24,
    textDim: 12,
    labels: gatherLabelRows(ds.labels, rows),
  };
  return { ds, data, info };
}

function smallConfig(o: Partial<DcmhConfig> = {}): DcmhConfig {
  return dcmhConfig("synthetic", 16, { imageLayers: [32], textLayers: [32], ...o });
}

/** The trainer's epoch loop (same batches for the same seed and epoch), without validation. */
function runEpoch(model: HashModel, data: TrainData, epoch: number, batchSize = 40) {
  model.beginEpoch(epoch);
  const order = new Rng(1).fork(1000 + epoch).permutation(data.train.length);
  for (let b = 0; b * batchSize < order.length; b++) {
    const batch = makeBatch(data, order.subarray(b * batchSize, (b + 1) * batchSize));
    try {
      model.trainStep(batch, { epoch, batch: b, rng: new Rng(b) });
    } finally {
      tf.dispose([batch.image, batch.text, batch.labels]);
    }
  }
  model.endEpoch(epoch);
}

function sameCodes(a: PackedCodes, b: PackedCodes): boolean {
  return a.n === b.n && a.bits === b.bits && a.data.every((w, i) => w === b.data[i]);
}

function codes(model: HashModel, ds: CrossModalDataset) {
  return [model.encodeImage(ds.image), model.encodeText(ds.text)];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

// ---------------------------------------------------------------------------------------
// The B-step

/** gamma (||B - F||^2 + ||B - G||^2) in float64. */
function codeObjective(B: ArrayLike<number>, F: Float32Array, G: Float32Array, gamma = 1) {
  let s = 0;
  for (let i = 0; i < F.length; i++) s += (B[i] - F[i]) ** 2 + (B[i] - G[i]) ** 2;
  return gamma * s;
}

Deno.test("B = sign(F + G) minimises gamma(||B - F||^2 + ||B - G||^2): brute force", () => {
  const r = new Rng(3);
  for (let trial = 0; trial < 5; trial++) {
    const F = r.normals(6), G = r.normals(6); // n = 2 items, K = 3 bits: 64 candidates
    const B = new Float32Array(6);
    updateCodes(B, F, G);
    let best = Infinity;
    for (let mask = 0; mask < 64; mask++) {
      const cand = Array.from({ length: 6 }, (_, i) => (mask >> i) & 1 ? 1 : -1);
      best = Math.min(best, codeObjective(cand, F, G, 0.7));
    }
    close(codeObjective(B, F, G, 0.7), best, 1e-9, `trial ${trial}`);
  }
});

Deno.test("after the B-step no single bit flip lowers the quantisation objective", () => {
  const r = new Rng(4);
  const F = r.normals(40 * 8), G = r.normals(40 * 8), B = new Float32Array(40 * 8);
  updateCodes(B, F, G);
  const base = codeObjective(B, F, G);
  for (let i = 0; i < B.length; i++) {
    B[i] = -B[i];
    assert.ok(codeObjective(B, F, G) >= base - 1e-9, `flip ${i}`);
    B[i] = -B[i];
  }
  F[0] = 0.25, G[0] = -0.25; // tie: sign(0) = +1, and it reports what changed
  const flipped = updateCodes(B, F, G);
  assert.equal(B[0], 1);
  assert.ok(flipped <= 1);
});

// ---------------------------------------------------------------------------------------
// The objective

Deno.test("the objective's pieces and their gradient equal the paper's formulas (float64)", () => {
  const r = new Rng(2);
  const m = 5, n = 7, K = 4, gamma = 0.7, eta = 0.3;
  const H = r.normals(m * K), O = r.normals(n * K);
  const Bb = r.normals(m * K).map((v) => v >= 0 ? 1 : -1);
  const lab = (k: number) =>
    tf.tensor2d(Float32Array.from({ length: k * 3 }, () => r.uniform() < 0.4 ? 1 : 0), [k, 3]);
  const [la, lb] = [lab(m), lab(n)];
  const s = labelSimilarity(la, lb), S = s.dataSync();
  const h = tf.tensor2d(H, [m, K]), other = tf.tensor2d(O, [n, K]), b = tf.tensor2d(Bb, [m, K]);

  // Direct float64 computation of the sums and of dJ/dF_i (batch estimate of F^T 1).
  let pair = 0, quant = 0;
  const colsum = new Float64Array(K);
  const theta = (i: number, j: number) => {
    let t = 0;
    for (let k = 0; k < K; k++) t += H[i * K + k] * O[j * K + k];
    return t / 2;
  };
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) pair += softplus(theta(i, j)) - S[i * n + j] * theta(i, j);
    for (let k = 0; k < K; k++) {
      quant += (Bb[i * K + k] - H[i * K + k]) ** 2;
      colsum[k] += H[i * K + k];
    }
  }
  const balance = (n / m) * colsum.reduce((a, v) => a + v * v, 0);
  close(value(pairwiseNll(h, other, s)), pair, 1e-5, "pair");
  close(value(quantizationLoss(b, h)), quant, 1e-6, "quant");
  close(value(balanceLoss(h, n)), balance, 1e-6, "balance");
  const parts = batchObjective(h, other, s, b, { gamma, eta });
  close(value(parts.total), (pair + gamma * quant + eta * balance) / (m * n), 1e-5, "total");
  tf.dispose([parts.pair, parts.quant, parts.balance]);

  const g = tf.grad((x: tf.Tensor) =>
    batchObjective(x as tf.Tensor2D, other, s, b, { gamma, eta }).total
  )(h);
  const got = g.dataSync();
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < K; k++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += 0.5 * (sigmoid(theta(i, j)) - S[i * n + j]) * O[j * K + k];
      d += 2 * gamma * (H[i * K + k] - Bb[i * K + k]) + 2 * eta * (n / m) * colsum[k];
      close(got[i * K + k], d / (m * n), 1e-5, `dJ/dF[${i},${k}]`);
    }
  }
  tf.dispose([g, h, other, b, s, la, lb]);
});

// ---------------------------------------------------------------------------------------
// Config

Deno.test("config: the paper's weights and nets, per-dataset batches, errors name the field", () => {
  const c = dcmhConfig("mirflickr25k", 32);
  assert.deepEqual([c.gamma, c.eta, c.textLayers, c.imageLayers], [1, 1, [8192], [4096]]);
  assert.equal(c.batchSize, 128);
  assert.equal(dcmhConfig("wikipedia", 16).batchSize, 64);
  assert.equal(dcmhConfig("wikipedia", 16, { bits: 99 } as Partial<DcmhConfig>).bits, 16);
  close(learningRate(c, 0), c.lr, 1e-12);
  close(learningRate(c, c.epochs - 1), c.lr * c.lrFinalFactor, 1e-9);
  assert.throws(() => dcmhConfig("nope", 16), /dcmhConfig: unknown dataset 'nope'/);
  assert.throws(
    () => dcmhConfig("synthetic", 16, { bogus: 1 } as Partial<DcmhConfig>),
    /config\.bogus is not a DcmhConfig field/,
  );
  assert.throws(() => dcmhConfig("synthetic", 16, { eta: -1 }), /config\.eta must be a finite/);
  assert.throws(() => dcmhConfig("synthetic", 0), /config\.bits must be an integer >= 1/);
  assert.throws(
    () => dcmhConfig("synthetic", 16, { textLayers: [0] }),
    /config\.textLayers must be an array/,
  );
});

// ---------------------------------------------------------------------------------------
// The step

Deno.test("a step stores exactly the batch's F and G rows, frees its tensors, reports terms", () => {
  const { data, info } = toyData();
  const model = new Dcmh(info, smallConfig());
  const [F0, G0] = [model.F.slice(), model.G.slice()];
  const pos = Int32Array.from([3, 17, 42, 99]);
  const batch = makeBatch(data, pos);
  model.trainStep(batch, { epoch: 0, batch: 0, rng: new Rng(1) }); // warm-up (kernels, caches)
  const before = tf.memory().numTensors;
  const terms = model.trainStep(batch, { epoch: 0, batch: 1, rng: new Rng(1) });
  assert.equal(tf.memory().numTensors, before);
  const K = 16, inBatch = new Set(pos);
  for (let i = 0; i < info.n; i++) {
    const moved = (A: Float32Array, A0: Float32Array) =>
      A.subarray(i * K, (i + 1) * K).some((v, k) => v !== A0[i * K + k]);
    assert.equal(moved(model.F, F0), inBatch.has(i), `F row ${i}`);
    assert.equal(moved(model.G, G0), inBatch.has(i), `G row ${i}`);
  }
  for (const k of ["pairV", "quantV", "balanceV", "pairT", "quantT", "balanceT", "total"]) {
    assert.ok(Number.isFinite(terms[k]), k);
  }
  assert.throws(
    () => model.trainStep({ ...batch, pos: Int32Array.from([0, 0, 1, 2]) }, {} as never),
    /DCMH: trainStep: batch\.pos must hold distinct positions/,
  );
  assert.throws(() => model.encodeImage(data.dataset.text), /image features have 12 columns/);
  tf.dispose([batch.image, batch.text, batch.labels]);
  const bFlip = model.endEpoch(0).flipped;
  assert.ok(bFlip >= 0 && bFlip <= 1);
  for (let i = 0; i < model.B.length; i++) {
    assert.equal(model.B[i], model.F[i] + model.G[i] >= 0 ? 1 : -1);
  }
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// Learning, determinism, state

Deno.test("training on synthetic data raises MAP well above the untrained model's", async () => {
  // Single-label synthetic data (10 classes), like Wikipedia: chance MAP is about 0.1.
  const { ds, data, query } = heldOutData();
  const info = {
    n: 700,
    imageDim: 48,
    textDim: 32,
    labels: gatherLabelRows(ds.labels, data.train),
  };
  const cfg = dcmhConfig("synthetic", 16, { imageLayers: [64], textLayers: [64] });
  const model = createDcmh(info, cfg);
  const score = () => crossModalMap(model, ds, query, data.train).mean;
  const untrained = score();
  await train(model, data, { epochs: cfg.epochs, batchSize: cfg.batchSize, seed: 1, log: null });
  const trained = score();
  // Held-out queries; the margin is absolute MAP, not tuned to the observed gain.
  assert.ok(trained > untrained + 0.1, `MAP untrained ${untrained} -> trained ${trained}`);
  model.dispose();
});

Deno.test("same seed -> same codes; the state round trip reproduces codes and training", () => {
  const { ds, data, info } = toyData();
  const a = new Dcmh(info, smallConfig({ seed: 9 })), b = new Dcmh(info, smallConfig({ seed: 9 }));
  for (let e = 0; e < 2; e++) [a, b].forEach((m) => runEpoch(m, data, e));
  assert.ok(codes(a, ds).every((c, i) => sameCodes(c, codes(b, ds)[i])), "same seed");
  const other = new Dcmh(info, smallConfig({ seed: 10 }));
  runEpoch(other, data, 0);
  runEpoch(other, data, 1);
  assert.ok(!sameCodes(codes(other, ds)[0], codes(a, ds)[0]), "another seed differs");

  const saved = a.state();
  const c = new Dcmh(info, smallConfig({ seed: 1 }));
  c.loadState(saved, "memory");
  assert.ok(codes(a, ds).every((x, i) => sameCodes(x, codes(c, ds)[i])), "loaded codes");
  assert.deepEqual([c.F, c.G, c.B], [a.F, a.G, a.B]);
  runEpoch(a, data, 2);
  runEpoch(c, data, 2); // weights, optimisers, F, G, B all restored: training continues alike
  assert.ok(codes(a, ds).every((x, i) => sameCodes(x, codes(c, ds)[i])), "continued training");
  assert.throws(
    () => c.loadState({ ...saved, "codes.G": undefined! }, "ck.json"),
    /ck\.json: entry 'codes\.G' is missing/,
  );
  for (const m of [a, b, c, other]) m.dispose();
});

Deno.test("registry: dcmh has no ablations and saves / loads through src/models/mod.ts", async () => {
  const entry = METHODS.dcmh;
  assert.deepEqual(entry.ablations, []);
  const { ds, data, info } = toyData();
  const model = entry.create(
    info,
    entry.config("synthetic", 16, { imageLayers: [16], textLayers: [16] }),
  );
  assert.equal(model.method, "dcmh");
  runEpoch(model, data, 0);
  const dir = await Deno.makeTempDir();
  try {
    await saveModel(model, info, dir);
    const loaded = (await loadModel(dir)).model;
    assert.ok(codes(model, ds).every((x, i) => sameCodes(x, codes(loaded, ds)[i])));
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
    model.dispose();
  }
});

// ---------------------------------------------------------------------------------------
// Real data: Wikipedia

const dataDir = defaultDataDir();
const hasWiki = !realDataMissing("tests/models/dcmh.test.ts", ["wikipedia/wikiData.mat"]);

Deno.test({
  name: "real wikipedia: DCMH 32 bits (validation-slice selection) is well above random",
  ignore: !hasWiki,
  fn: async () => {
    const wiki = await loadDataset("wikipedia", { dataDir });
    const split = makeSplit(wiki, { convention: "fixed" }); // validation: 10% of training rows
    const info = {
      n: split.train.length,
      imageDim: wiki.image.cols,
      textDim: wiki.text.cols,
      labels: gatherLabelRows(wiki.labels, split.train),
    };
    // 30 epochs (the default is 100) keep the suite short; the threshold is far below both.
    const cfg = dcmhConfig("wikipedia", 32, { epochs: 30 });
    const model = createDcmh(info, cfg);
    const res = await train(model, {
      dataset: wiki,
      train: split.train,
      validation: split.validation,
    }, { epochs: cfg.epochs, batchSize: cfg.batchSize, seed: 1, log: null });
    const { I2T: i2t, T2I: t2i } = crossModalMap(model, wiki, split.query, split.database);
    console.log(
      `DCMH wikipedia 32 bits: MAP@all I->T ${i2t.toFixed(4)} T->I ${t2i.toFixed(4)} ` +
        `(selected epoch ${res.selectedEpoch + 1}/${cfg.epochs})`,
    );
    // Random projection is ~0.12 here; nothing is tuned on the query set.
    assert.ok(i2t > 0.17 && t2i > 0.2, `I->T ${i2t}, T->I ${t2i}`);
    model.dispose();
  },
});
