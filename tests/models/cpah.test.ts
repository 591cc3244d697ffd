/**
 * CPAH (src/models/cpah/mod.ts): each loss term on hand-checkable inputs, the config and its
 * ablation flags, the learning-rate schedule, the discrete step, the test-time path, save/load,
 * determinism, tensor hygiene, and that training really improves retrieval — all on small
 * synthetic data (seconds), wasm backend.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { gatherLabelRows, gatherRows } from "../../src/datasets/matrix.ts";
import { Rng } from "../../src/random.ts";
import { makeBatch, train, type TrainData } from "../../src/train.ts";
import type { NamedArrays } from "../../src/nn/mod.ts";
import type { PackedCodes } from "../../src/types.ts";
import type { TrainingSetInfo } from "../../src/models/model.ts";
import {
  activeParts,
  consistencyTerm,
  CPAH_BITS,
  CPAH_DATASETS,
  type CpahConfig,
  cpahConfig,
  CpahModel,
  createCpah,
  gradientPenaltyTerm,
  labelTerm,
  learningRateFactor,
  networkObjective,
  pairwiseTerm,
  quantizationTerm,
  termScales,
} from "../../src/models/cpah/mod.ts";
import { createRandomProjection } from "../../src/models/random_projection.ts";

import { close, crossModalMap, softplus, t2, value } from "../test_utils.ts";

await initBackend({ name: "wasm" });

// ---------------------------------------------------------------------------------------
// Helpers

/** Small, easy synthetic data: train rows 0..nTrain-1, query rows after. */
function smallData(n = 240, nTrain = 200, seed = 5) {
  const ds = synthetic({
    n,
    imageDim: 24,
    textDim: 12,
    classes: 5,
    labelsPerItem: 1,
    noise: 0.2,
    nuisance: 0.5,
    seed,
  });
  const trainRows = Int32Array.from({ length: nTrain }, (_, i) => i);
  const query = Int32Array.from({ length: n - nTrain }, (_, i) => nTrain + i);
  const info: TrainingSetInfo = {
    n: nTrain,
    imageDim: ds.image.cols,
    textDim: ds.text.cols,
    labels: gatherLabelRows(ds.labels, trainRows),
  };
  const data: TrainData = { dataset: ds, train: trainRows, validation: new Int32Array(0) };
  return { ds, trainRows, query, info, data };
}

/** A small network so every test runs in well under a second per step. */
function smallConfig(overrides: Partial<CpahConfig> = {}): CpahConfig {
  return cpahConfig("synthetic", 16, {
    ...{ imageLayers: [16, 16], textLayers: [16, 16], discLayers: [8], consLayers: [8] },
    lr: 3e-3,
    discLr: 3e-3,
    batchSize: 40,
    ...overrides,
  });
}

function oneStep(model: CpahModel, data: TrainData, seed = 1, size = 40) {
  const pos = new Rng(seed).permutation(data.train.length).subarray(0, size);
  const batch = makeBatch(data, pos);
  try {
    return model.trainStep(batch, { epoch: 0, batch: 0, rng: new Rng(seed).fork(7) });
  } finally {
    tf.dispose([batch.image, batch.text, batch.labels]);
  }
}

/** Trainable-variable names whose values differ between two states. */
function changed(before: NamedArrays, after: NamedArrays, names: string[]): string[] {
  return names.filter((k) => before[k].data.some((v, i) => v !== after[k].data[i]));
}

function trainableNames(model: CpahModel): string[] {
  return [...model.store.group("net"), ...model.store.group("disc")].map((v) =>
    model.store.localName(v)
  );
}

function sameCodes(a: PackedCodes, b: PackedCodes): boolean {
  return a.n === b.n && a.bits === b.bits && a.data.every((w, i) => w === b.data[i]);
}

// ---------------------------------------------------------------------------------------
// Loss terms on hand-checkable inputs

Deno.test("pairwiseTerm averages both directions: log 2 for zero outputs", () => {
  const z = tf.zeros([2, 3]) as tf.Tensor2D, s = t2([[1, 0], [0, 1]]);
  close(value(pairwiseTerm(z, z, z, z, s)), Math.LN2);
  tf.dispose([z, s]);
});

Deno.test("pairwiseTerm pairs image rows with text partners and text rows with image partners", () => {
  // hv . otherT / 2 = 1 (S = 1 -> softplus(-1)); ht . otherV / 2 = -1 (S = 1 -> softplus(1))
  const hv = t2([[1, 1]]), otherT = t2([[1, 1]]);
  const ht = t2([[1, 1]]), otherV = t2([[-1, -1]]);
  close(
    value(pairwiseTerm(hv, ht, otherV, otherT, t2([[1]]))),
    (softplus(-1) + softplus(1)) / 2,
  );
  tf.dispose([hv, otherT, ht, otherV]);
});

Deno.test("quantizationTerm adds the mean squared gap of each modality to B", () => {
  const b = t2([[1, -1]]), hv = t2([[1, -1]]), ht = t2([[0, 0]]);
  close(value(quantizationTerm(b, hv, ht)), 0 + 1);
  close(value(quantizationTerm(b, ht, ht)), 2);
  tf.dispose([b, hv, ht]);
});

Deno.test("consistencyTerm: common parts are class 0, image-private 1, text-private 2", () => {
  const stacked = (...parts: tf.Tensor2D[]) => consistencyTerm(tf.concat(parts, 0) as tf.Tensor2D);
  const z = tf.zeros([2, 3]) as tf.Tensor2D;
  close(value(stacked(z, z, z, z)), Math.log(3), 1e-5, "uniform logits");
  const big = 30;
  const at = (c: number) => t2([0, 1].map(() => [0, 1, 2].map((k) => (k === c ? big : 0))));
  const [c0, c1, c2] = [at(0), at(1), at(2)];
  close(value(stacked(c0, c0, c1, c2)), 0, 1e-6, "all right");
  // Swapping the private parts' classes costs ~big on half of the items.
  close(value(stacked(c0, c0, c2, c1)), big / 2, 1e-4, "privates swapped");
  // Calling a common part private costs ~big on a quarter of the items.
  close(value(stacked(c0, c1, c1, c2)), big / 4, 1e-4, "text-common called private");
  assert.throws(() => consistencyTerm(tf.zeros([6, 3]) as tf.Tensor2D), /6 rows, expected 4m/);
  tf.dispose([z, c0, c1, c2]);
});

Deno.test("labelTerm adds the two modalities' label BCEs", () => {
  const z = t2([[0, 0, 0]]), l = t2([[1, 0, 1]]);
  close(value(labelTerm(z, z, l)), 2 * Math.LN2);
  const right = t2([[40, -40, 40]]);
  close(value(labelTerm(right, z, l)), Math.LN2, 1e-5, "image head right");
  tf.dispose([z, l, right]);
});

Deno.test("gradientPenaltyTerm of a linear critic is (|w| - 1)^2", () => {
  const w = t2([[0.6], [0.8], [2]]); // |w|^2 = 5
  const cv = t2([[1, 2, 3]]), ct = t2([[0, -1, 4]]), eps = t2([[0.4]]);
  close(
    value(gradientPenaltyTerm((x) => tf.matMul(x, w) as tf.Tensor2D, cv, ct, eps)),
    (Math.sqrt(5) - 1) ** 2,
  );
  tf.dispose([w, cv, ct, eps]);
});

Deno.test("networkObjective sums each term times its factor", () => {
  const s = (x: number) => tf.scalar(x);
  const terms = { pair: s(1), quant: s(2), cons: s(3), label: s(4), adv: s(5) };
  const f = (pair: number, quant: number, cons: number, label: number, adv: number) => ({
    pair,
    quant,
    cons,
    label,
    adv,
  });
  close(value(networkObjective(terms, f(1, 1, 0.1, 0.1, 1))), 1 + 2 + 0.7 + 5);
  close(value(networkObjective(terms, f(2, 0.5, 0, 0, 2))), 2 + 1 + 0 + 10);
  tf.dispose(Object.values(terms));
});

Deno.test("termScales: reference, perItem and mean factors", () => {
  const c = cpahConfig("synthetic", 32);
  const n = { batch: 64, partners: 500, classes: 7 };
  assert.deepEqual(termScales({ ...c, normalization: "reference" }, n), {
    pair: 64,
    quant: 32,
    cons: 4,
    label: 7,
    adv: 1 / 64,
  });
  assert.deepEqual(termScales({ ...c, normalization: "perItem" }, n), {
    pair: 1000,
    quant: 32,
    cons: 4,
    label: 7,
    adv: 2,
  });
  assert.deepEqual(termScales({ ...c, normalization: "mean" }, n), {
    pair: 1,
    quant: 1,
    cons: 1,
    label: 1,
    adv: 1,
  });
});

Deno.test("reference normalisation: term magnitudes at initialisation stand in the public code's ratios", () => {
  // At initialisation every output is near 0, so each likelihood term is near its value at 0:
  // per batch item, the public code's sums are m log 2 (L_pair, m partners), 2K (L_q against
  // random B), 4 log 3 (L_cons), 2c log 2 (L_label) and log 2 / m (L_adv, a batch mean).
  const { data, info } = smallData();
  const model = createCpah(
    info,
    smallConfig({ normalization: "reference", bInit: "random", pairMode: "batch" }),
  );
  const m = 40, K = 16, c = info.labels.classes;
  const t = oneStep(model, data, 3, m);
  const scale = termScales(model.config, { batch: m, partners: m, classes: c });
  const intended = {
    pair: m * Math.LN2,
    quant: 2 * K,
    cons: 4 * Math.log(3),
    label: 2 * c * Math.LN2,
    adv: Math.LN2 / m,
  };
  for (const [k, v] of Object.entries(intended)) {
    const got = t[k] * scale[k as keyof typeof scale];
    // 25%: the outputs are small but not zero at initialisation (measured within ~10%).
    assert.ok(Math.abs(got / v - 1) < 0.25, `${k}: ${got}, intended ${v}`);
  }
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// Config, flags, schedule

Deno.test("cpahConfig has the same defaults for every dataset and code length", () => {
  for (const d of CPAH_DATASETS) {
    for (const bits of CPAH_BITS) {
      const c = cpahConfig(d, bits);
      assert.equal(c.bits, bits);
      assert.equal(c.dataset, d);
      assert.equal(c.alpha, 30);
      assert.equal(c.beta, 1);
      assert.equal(c.gamma, 5000);
      assert.equal(c.gpWeight, 10);
      assert.equal(c.lr, 1e-4);
      assert.equal(c.weightDecay, 5e-4);
      assert.equal(c.lrDecay, 0.2);
      assert.equal(c.lrDecayEvery, 30);
      assert.deepEqual([c.discBeta1, c.discBeta2], [0.5, 0.9]);
      assert.deepEqual([c.imageLayers, c.textLayers], [[512, 512], [512, 512]]);
      assert.deepEqual(c.discLayers, [64]);
      assert.deepEqual(c.consLayers, [64]);
      assert.equal(c.pairMode, "stored");
      assert.deepEqual([c.noCR, c.noAdversary, c.noMultiTask, c.relaxed], [
        false,
        false,
        false,
        false,
      ]);
    }
  }
  assert.equal(cpahConfig("mirflickr25k", 64).epochs, 100);
  assert.equal(cpahConfig("wikipedia", 16, { gamma: 0.5, pairMode: "batch" }).gamma, 0.5);
});

Deno.test("cpahConfig rejects other code lengths, unknown datasets and bad values clearly", () => {
  assert.throws(
    () => cpahConfig("wikipedia", 24),
    /cpahConfig: config\.bits must be one of 16, 32, 64, 128 \(or anyBits: true\), got 24/,
  );
  assert.equal(cpahConfig("wikipedia", 24, { anyBits: true }).bits, 24);
  assert.throws(() => cpahConfig("imagenet", 16), /dataset 'imagenet' has no defaults/);
  assert.equal(cpahConfig("imagenet", 16, { batchSize: 32, epochs: 5 }).batchSize, 32);
  assert.throws(
    () => cpahConfig("wikipedia", 16, { alpha: -1 }),
    /config\.alpha must be a finite number >= 0, got -1/,
  );
  assert.throws(
    () => cpahConfig("wikipedia", 16, { lr: 0 }),
    /config\.lr must be a finite number > 0, got 0/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => cpahConfig("wikipedia", 16, { pairMode: "all" as any }),
    /config\.pairMode must be "stored" or "batch", got "all"/,
  );
  assert.throws(() => cpahConfig("wikipedia", 16, { discBeta2: 1 }), /discBeta2/);
  assert.throws(
    () => cpahConfig("wikipedia", 16, { gama: 1 } as never),
    /cpahConfig: overrides\.gama is not a CpahConfig field/,
  );
});

Deno.test("activeParts reads each ablation flag into the modules and weights it removes", () => {
  const base = cpahConfig("synthetic", 16);
  assert.deepEqual(activeParts(base), {
    mask: true,
    consistency: true,
    label: true,
    adversary: true,
    discrete: true,
    alpha: 30,
    beta: 1,
    gamma: 5000,
  });
  const noCR = activeParts({ ...base, noCR: true });
  assert.deepEqual([noCR.mask, noCR.consistency, noCR.label, noCR.alpha], [
    false,
    false,
    true,
    30,
  ]);
  const noAdv = activeParts({ ...base, noAdversary: true });
  assert.deepEqual([noAdv.adversary, noAdv.gamma], [false, 0]);
  const noMT = activeParts({ ...base, noMultiTask: true });
  assert.deepEqual([noMT.mask, noMT.consistency, noMT.label, noMT.alpha], [true, false, false, 0]);
  const relaxed = activeParts({ ...base, relaxed: true });
  assert.deepEqual([relaxed.discrete, relaxed.beta], [false, 0]);
});

Deno.test("learning rate: 1e-4 for epochs 0-29, 2e-5 for 30-59, 4e-6 from 60 (never decayed at epoch 0)", () => {
  const c = cpahConfig("mirflickr25k", 32);
  for (let e = 0; e < 30; e++) close(c.lr * learningRateFactor(c, e), 1e-4, 1e-9, `epoch ${e}`);
  for (let e = 30; e < 60; e++) close(c.lr * learningRateFactor(c, e), 2e-5, 1e-9, `epoch ${e}`);
  for (let e = 60; e < 90; e++) close(c.lr * learningRateFactor(c, e), 4e-6, 1e-9, `epoch ${e}`);
  // The model applies the schedule to both optimisers in beginEpoch.
  const { info } = smallData();
  const model = new CpahModel(info, smallConfig({ lr: 1e-4, discLr: 1e-4 }));
  model.beginEpoch(0);
  close(model.learningRates.net, 1e-4, 1e-9, "net lr at epoch 0");
  close(model.learningRates.disc!, 1e-4, 1e-9, "disc lr at epoch 0");
  model.beginEpoch(29);
  close(model.learningRates.net, 1e-4, 1e-9, "net lr at epoch 29");
  model.beginEpoch(30);
  close(model.learningRates.net, 2e-5, 1e-9, "net lr at epoch 30");
  close(model.learningRates.disc!, 2e-5, 1e-9, "disc lr at epoch 30");
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// What each flag changes in a real step

Deno.test("full CPAH: every module receives gradients and every term is non-zero", () => {
  const { info, data } = smallData();
  const model = new CpahModel(info, smallConfig({ bInit: "random" }));
  const names = trainableNames(model);
  const before = model.state();
  const terms = oneStep(model, data);
  const moved = changed(before, model.state(), names);
  for (
    const prefix of [
      "image.mask",
      "text.mask",
      "C.",
      "image.cls",
      "text.cls",
      "D.",
      "image.E",
      "text.hash",
    ]
  ) {
    assert.ok(moved.some((k) => k.startsWith(prefix)), `${prefix} received no update`);
  }
  for (const k of ["pair", "quant", "cons", "label", "adv", "disc", "gp"]) {
    assert.ok(terms[k] > 0, `term ${k} is ${terms[k]}`);
  }
  model.dispose();
});

Deno.test("noCR: no mask and no consistency classifier; labels and D work on f", () => {
  const { info, data } = smallData();
  const model = new CpahModel(info, smallConfig({ noCR: true, bInit: "random" }));
  const names = trainableNames(model);
  assert.ok(!names.some((k) => k.includes("mask") || k.startsWith("C.")), names.join(" "));
  const before = model.state();
  const terms = oneStep(model, data);
  const moved = changed(before, model.state(), names);
  assert.ok(moved.some((k) => k.startsWith("image.cls")) && moved.some((k) => k.startsWith("D.")));
  assert.equal(terms.cons, 0);
  assert.ok(terms.label > 0 && terms.adv > 0 && terms.quant > 0);
  model.dispose();
});

Deno.test("noAdversary: no discriminator, no D step, L_adv = 0", () => {
  const { info, data } = smallData();
  const model = new CpahModel(info, smallConfig({ noAdversary: true }));
  const names = trainableNames(model);
  assert.equal(model.store.group("disc").length, 0);
  assert.ok(!names.some((k) => k.startsWith("D.")));
  const terms = oneStep(model, data);
  assert.deepEqual([terms.adv, terms.disc, terms.gp], [0, 0, 0]);
  assert.ok(terms.cons > 0 && terms.label > 0);
  assert.equal(model.learningRates.disc, undefined);
  model.dispose();
});

Deno.test("noMultiTask: no consistency or label heads (no gradients), mask still trained", () => {
  const { info, data } = smallData();
  const model = new CpahModel(info, smallConfig({ noMultiTask: true }));
  const names = trainableNames(model);
  assert.ok(!names.some((k) => k.startsWith("C.") || k.includes(".cls")), names.join(" "));
  const before = model.state();
  const terms = oneStep(model, data);
  const moved = changed(before, model.state(), names);
  assert.ok(moved.some((k) => k.startsWith("image.mask")), "mask not trained");
  assert.deepEqual([terms.cons, terms.label], [0, 0]);
  assert.ok(terms.adv > 0);
  model.dispose();
});

Deno.test("relaxed: no B, L_q = 0 even after a discrete step, codes still binary at test", () => {
  const { info, data, ds, query } = smallData();
  const model = new CpahModel(info, smallConfig({ relaxed: true, bInit: "random" }));
  assert.equal(model.B, undefined);
  assert.equal(model.state()["codes.B"], undefined);
  oneStep(model, data);
  assert.deepEqual(model.endEpoch(0), {});
  const terms = oneStep(model, data, 2);
  assert.equal(terms.quant, 0);
  assert.equal(model.encodeImage(gatherRows(ds.image, query)).bits, 16);
  model.dispose();
});

Deno.test("bInit 'outputs': L_q is off until the first discrete step makes B, then on", () => {
  const { info, data } = smallData();
  const model = new CpahModel(info, smallConfig());
  assert.equal(model.bReady, false);
  assert.equal(oneStep(model, data).quant, 0);
  assert.deepEqual(model.endEpoch(0), {}); // no previous B: no flip fraction
  assert.equal(model.bReady, true);
  assert.ok(oneStep(model, data, 2).quant > 0);
  model.dispose();
});

Deno.test("pairMode 'stored' pairs the batch with the stored outputs of all rows; 'batch' does not", () => {
  const { info, data } = smallData();
  const pairWith = (mode: "stored" | "batch", fill: number) => {
    const model = new CpahModel(info, smallConfig({ pairMode: mode }));
    model.Hv.fill(fill);
    model.Ht.fill(fill);
    const pair = oneStep(model, data).pair;
    model.dispose();
    return pair;
  };
  // Stored: rows outside the batch keep the filled values and change the term (x n partners).
  assert.notEqual(pairWith("stored", 0), pairWith("stored", 0.9));
  // Batch: stored rows are irrelevant.
  assert.equal(pairWith("batch", 0), pairWith("batch", 0.9));
});

// ---------------------------------------------------------------------------------------
// Discrete step and test-time path

Deno.test("endEpoch sets B = sign(H^v + H^t) with sign(0) = +1 and reports the flipped fraction", () => {
  const info: TrainingSetInfo = {
    n: 2,
    imageDim: 3,
    textDim: 3,
    labels: { rows: 2, classes: 2, data: Uint8Array.from([1, 0, 0, 1]) },
  };
  const model = new CpahModel(
    info,
    cpahConfig("synthetic", 4, {
      anyBits: true,
      imageLayers: [4, 4],
      textLayers: [4, 4],
      discLayers: [2],
      consLayers: [2],
    }),
  );
  model.Hv.set([0.5, -0.5, 0, -0.2, 0.1, 0.1, -0.3, 0.3]);
  model.Ht.set([0.1, 0.2, 0, 0.2, -0.3, 0.1, 0.3, -0.4]);
  assert.deepEqual(model.endEpoch(0), {});
  assert.deepEqual(Array.from(model.B!), [1, -1, 1, 1, -1, 1, 1, -1]);
  model.Hv.set([-1, -1, -1, -1], 0); // flips bits 0 and 2 and 3 of item 0
  assert.deepEqual(model.endEpoch(1), { flipped: 3 / 8 });
  assert.deepEqual(Array.from(model.B!.subarray(0, 4)), [-1, -1, -1, -1]);
  model.dispose();
});

Deno.test("test-time codes come from the common part c = f * m, not from f", () => {
  const { info, ds, query } = smallData();
  const model = new CpahModel(info, smallConfig());
  const x = gatherRows(ds.image, query), y = gatherRows(ds.text, query);
  const codes = model.encodeImage(x);
  // Encoding equals sign(tanh(hash(f * m))) computed by hand in evaluation mode.
  const byHand = tf.tidy(() => {
    const f = model.image.E.apply(tf.tensor2d(x.data, [x.rows, x.cols]), false);
    const m = tf.sigmoid(model.image.mask!.apply(f));
    return tf.tanh(model.image.hash.apply(tf.mul(f, m) as tf.Tensor2D));
  });
  const h = byHand.dataSync();
  byHand.dispose();
  const k = codes.bits;
  for (let i = 0; i < codes.n; i++) {
    for (let b = 0; b < k; b++) {
      const bit = (codes.data[i * codes.words + (b >>> 5)] >>> (b & 31)) & 1;
      assert.equal(bit, h[i * k + b] >= 0 ? 1 : 0, `item ${i} bit ${b}`);
    }
  }
  // Closing the mask (m -> 0, so c -> 0) gives every item the same code sign(tanh(b_h)):
  // impossible if the unmasked f were hashed.
  const s = model.state();
  for (const side of ["image", "text"]) s[`${side}.mask.b`].data.fill(-1e4);
  model.loadState(s, "closed-mask state");
  for (const c of [model.encodeImage(x), model.encodeText(y)]) {
    for (let i = 1; i < c.n; i++) assert.equal(c.data[i], c.data[0], `item ${i} differs`);
  }
  model.dispose();
});

Deno.test("the private-part path (consistency classifier) does not change codes; the mask does", () => {
  const { info, ds, query } = smallData();
  const model = new CpahModel(info, smallConfig());
  const x = gatherRows(ds.image, query);
  const codes = model.encodeImage(x);
  const s = model.state();
  for (const k of Object.keys(s)) if (k.startsWith("C.")) s[k].data.fill(3);
  model.loadState(s, "perturbed C");
  assert.ok(sameCodes(codes, model.encodeImage(x)), "changing C changed the codes");
  const rng = new Rng(4);
  s["image.mask.W"].data.set(rng.normals(s["image.mask.W"].data.length, 3));
  model.loadState(s, "perturbed mask");
  assert.ok(!sameCodes(codes, model.encodeImage(x)), "changing the mask left the codes unchanged");
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// Training: determinism, save/load, tensors, retrieval

Deno.test("same seed, same backend -> identical codes after training", async () => {
  const { info, data, ds, query } = smallData();
  const run = async () => {
    const model = createCpah(info, smallConfig({ seed: 3 }));
    await train(model, data, { epochs: 2, batchSize: 40, seed: 9, log: null });
    const x = gatherRows(ds.image, query), y = gatherRows(ds.text, query);
    const out = [model.encodeImage(x), model.encodeText(y)];
    model.dispose();
    return out;
  };
  const [a, b] = [await run(), await run()];
  assert.ok(sameCodes(a[0], b[0]) && sameCodes(a[1], b[1]));
  // ... and a different weight seed gives different codes (the test can fail).
  const other = createCpah(info, smallConfig({ seed: 4 }));
  assert.ok(!sameCodes(a[0], other.encodeImage(gatherRows(ds.image, query))));
  other.dispose();
});

Deno.test("save -> load gives identical codes and an identical next training step", async () => {
  const { info, data, ds, query } = smallData();
  const a = new CpahModel(info, smallConfig({ seed: 1 }));
  await train(a, data, { epochs: 2, batchSize: 40, seed: 2, log: null });
  const saved = a.state();
  const b = new CpahModel(info, smallConfig({ seed: 77 })); // different initial weights
  b.loadState(saved, "saved state");
  const x = gatherRows(ds.image, query), y = gatherRows(ds.text, query);
  assert.ok(sameCodes(a.encodeImage(x), b.encodeImage(x)));
  assert.ok(sameCodes(a.encodeText(y), b.encodeText(y)));
  assert.deepEqual(b.B, a.B);
  // Optimiser moments, H and B were restored too: the next step is the same.
  a.beginEpoch(2);
  b.beginEpoch(2);
  assert.deepEqual(oneStep(a, data, 5), oneStep(b, data, 5));
  assert.ok(sameCodes(a.encodeImage(x), b.encodeImage(x)));
  const missing = { ...saved };
  delete missing["stored.Hv"];
  assert.throws(
    () => b.loadState(missing, "broken.json"),
    /broken\.json: entry 'stored\.Hv' is missing/,
  );
  a.dispose();
  b.dispose();
});

Deno.test("no tensor leak: the tensor count is stable across epochs and restored by dispose", async () => {
  const { info, data } = smallData();
  const start = tf.memory().numTensors;
  const model = createCpah(info, smallConfig());
  const counts: number[] = [];
  await train(model, data, {
    epochs: 3,
    batchSize: 40,
    seed: 1,
    log: (line) => {
      if (line.includes("epoch")) counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(counts.length, 3);
  assert.ok(counts.every((c) => c === counts[0]), `tensor counts per epoch: ${counts.join(", ")}`);
  model.dispose();
  assert.equal(tf.memory().numTensors, start, "tensors left after dispose");
});

Deno.test("bad inputs fail with one clear line", () => {
  const { info, data, ds } = smallData();
  const model = new CpahModel(info, smallConfig());
  assert.throws(
    () => model.encodeImage(gatherRows(ds.text, [0, 1])),
    /encodeImage: x has 12 columns, expected 24/,
  );
  const batch = makeBatch(data, Int32Array.from([0, 1, 2]));
  const wrong = { ...batch, text: batch.image };
  assert.throws(
    () => model.trainStep(wrong, { epoch: 0, batch: 0, rng: new Rng(1) }),
    /trainStep: batch\.text has shape 3x24, expected 3x12/,
  );
  tf.dispose([batch.image, batch.text, batch.labels]);
  assert.throws(() => createCpah({ ...info, n: 0 }, smallConfig()), /info\.n is 0/);
  model.dispose();
});

Deno.test("training raises cross-modal MAP well above the untrained model and random projection", async () => {
  const { info, data, ds, query, trainRows } = smallData(500, 400, 5);
  const model = createCpah(
    info,
    smallConfig({ imageLayers: [32, 32], textLayers: [32, 32], seed: 1 }),
  );
  const untrained = crossModalMap(model, ds, query, trainRows);
  await train(model, data, { epochs: 6, batchSize: 50, seed: 1, log: null });
  const trained = crossModalMap(model, ds, query, trainRows);
  const rp = createRandomProjection(info, { bits: 16, seed: 1 });
  const baseline = crossModalMap(rp, ds, query, trainRows);
  // Five single-label classes: chance MAP is about 0.2. Observed gains are ~0.5; require 0.25.
  for (const d of ["I2T", "T2I"] as const) {
    assert.ok(
      trained[d] >= untrained[d] + 0.25,
      `${d}: trained ${trained[d].toFixed(3)} vs untrained ${untrained[d].toFixed(3)}`,
    );
    assert.ok(
      trained[d] >= baseline[d] + 0.25,
      `${d}: trained ${trained[d].toFixed(3)} vs random projection ${baseline[d].toFixed(3)}`,
    );
  }
  model.dispose();
  rp.dispose();
});

// ---------------------------------------------------------------------------------------
// Random-projection baseline (src/models/random_projection.ts)

Deno.test("random projection: codes are sign(x W), fixed by the seed, and survive save/load", () => {
  const { info, ds, query } = smallData();
  const x = gatherRows(ds.image, query), y = gatherRows(ds.text, query);
  const a = createRandomProjection(info, { bits: 40, seed: 3 });
  const s = a.state();
  const codes = a.encodeImage(x);
  assert.equal(codes.words, 2);
  // sign(x W_v) by hand, sign(0) = +1.
  const W = s["rp.Wv"].data, K = 40;
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < K; k++) {
      let dot = 0;
      for (let d = 0; d < x.cols; d++) dot += x.data[i * x.cols + d] * W[d * K + k];
      const bit: number = (codes.data[i * codes.words + (k >>> 5)] >>> (k & 31)) & 1;
      if (Math.abs(dot) > 1e-4) assert.equal(bit, dot >= 0 ? 1 : 0, `item ${i} bit ${k}`);
    }
  }
  const same = createRandomProjection(info, { bits: 40, seed: 3 });
  const other = createRandomProjection(info, { bits: 40, seed: 4 });
  assert.ok(sameCodes(codes, same.encodeImage(x)));
  assert.ok(!sameCodes(codes, other.encodeImage(x)));
  other.loadState(s, "rp state");
  assert.ok(sameCodes(codes, other.encodeImage(x)));
  assert.ok(sameCodes(a.encodeText(y), other.encodeText(y)));
  assert.deepEqual(a.trainStep({} as never, {} as never), {});
  assert.throws(() => other.loadState({}, "empty.json"), /empty\.json: entry 'rp\.Wv' is missing/);
  assert.throws(
    () => createRandomProjection(info, { bits: 0, seed: 1 }),
    /RandomProjection: config\.bits is 0/,
  );
  for (const m of [a, same, other]) m.dispose();
});
