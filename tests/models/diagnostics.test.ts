/**
 * Per-epoch diagnostics (src/models/diagnostics.ts, src/models/cpah/diagnostics.ts,
 * src/models/dfah/diagnostics.ts): each function on hand-checkable inputs, that reading them
 * inside a gradient closure changes neither the gradients nor the tensor count, that
 * `epochDiagnostics` only reads the model, and that training records the expected fields per
 * epoch for every ablation of both models.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { gatherLabelRows } from "../../src/datasets/matrix.ts";
import { train, type TrainData } from "../../src/train.ts";
import type { HashModel, TrainingSetInfo } from "../../src/models/model.ts";
import {
  discriminatorAccuracy,
  EpochMeans,
  quantisationStats,
  readScalars,
} from "../../src/models/diagnostics.ts";
import { consistencyAccuracy, maskMagnitudes } from "../../src/models/cpah/mod.ts";
import {
  codeSignDistance,
  type DiscreteProblem,
  fusionContribution,
} from "../../src/models/dfah/mod.ts";
import { close, t2, value } from "../test_utils.ts";
import { METHODS } from "../../src/models/mod.ts";

await initBackend({ name: "wasm" });

// ---------------------------------------------------------------------------------------
// The functions

Deno.test("EpochMeans averages each name over the batches that reported it, skips non-finite", () => {
  const m = new EpochMeans();
  m.add({ a: 1, b: 4 });
  m.add({ a: 3, c: NaN });
  m.add({ a: Infinity });
  assert.deepEqual(m.means(), { a: 2, b: 4 });
  m.reset();
  assert.deepEqual(m.means(), {});
});

Deno.test("discriminatorAccuracy: image right when logit > 0, text right when logit <= 0", () => {
  // Image logits: 2 of 3 right (0 counts as text); text logits: 1 of 3 right (0 is right).
  const acc = discriminatorAccuracy(t2([[1], [0], [2]]), t2([[0], [3], [0.5]]));
  close(value(acc), 3 / 6);
  close(value(discriminatorAccuracy(t2([[1], [1]]), t2([[-1], [-1]]))), 1);
});

Deno.test("quantisationStats: mean |h|, gap mean ||h| − 1| and (h − sign h)² with sign(0) = +1", () => {
  const hv = Float32Array.from([0.5, -1, 0, 0.9]), ht = Float32Array.from([-0.5, 1, 0.2, -0.1]);
  const q = quantisationStats(hv, ht);
  const abs = [0.5, 1, 0, 0.9, 0.5, 1, 0.2, 0.1];
  close(q.meanAbsH, abs.reduce((a, b) => a + b) / 8, 1e-6);
  // Every |h| <= 1 here, so the gap is 1 − mean |h|.
  close(q.quantGap, 1 - q.meanAbsH, 1e-6);
  close(q.signDistance, [0.25, 0, 1, 0.01, 0.25, 0, 0.64, 0.81].reduce((a, b) => a + b) / 8, 1e-6);
  // Beyond ±1 (a real-valued code) the gap still measures the distance to 1.
  close(quantisationStats(Float32Array.from([2, -3])).quantGap, (1 + 2) / 2, 1e-6);
});

Deno.test("consistencyAccuracy: argmax against common, common, image-private, text-private", () => {
  // m = 1: rows c^v, c^t, p^v, p^t; right: row 0 (class 0), row 2 (class 1); wrong: rows 1, 3.
  const logits = t2([[5, 0, 0], [0, 5, 0], [0, 5, 0], [0, 5, 0]]);
  close(value(consistencyAccuracy(logits)), 0.5);
  assert.throws(() => consistencyAccuracy(t2([[1, 0, 0]])), /expected 4m/);
  logits.dispose();
});

Deno.test("maskMagnitudes: mean m, mean |c| and mean |p| of one modality; nothing without a mask", () => {
  const f = t2([[2, 4]]), m = t2([[0.25, 0.5]]);
  const c = tf.mul(f, m) as tf.Tensor2D, p = tf.mul(f, tf.sub(1, m)) as tf.Tensor2D;
  const out = maskMagnitudes({ f, m, c, p, h: f }, "Image");
  assert.deepEqual(Object.keys(out), ["maskImage", "commonImage", "privateImage"]);
  close(value(out.maskImage), 0.375);
  close(value(out.commonImage), (0.5 + 2) / 2);
  close(value(out.privateImage), (1.5 + 2) / 2);
  assert.deepEqual(maskMagnitudes({ f, c: f, h: f }, "Text"), {});
  tf.dispose([f, m, c, p]);
});

Deno.test("fusionContribution: U's share of M, sign agreement with B, entries U decides", () => {
  // n = 2, K = 2, one class (both items labelled), P = [0.5, -0.5]: L P = [[0.5, -0.5], ...].
  const p: DiscreteProblem = {
    n: 2,
    bits: 2,
    classes: 1,
    U: Float32Array.from([1, -0.2, -1, 0.1]),
    Hv: Float32Array.from([0.1, -0.1, 0.1, -0.1]),
    Ht: Float32Array.from([0.1, -0.1, 0.1, -0.1]),
    L: Float32Array.from([1, 1]),
    lambda: 1,
    mu: 1,
    rho: 1,
  };
  const P = Float64Array.from([0.5, -0.5]);
  // M = U + (Hv + Ht) + L P = [1.7, −0.9, −0.3, −0.6]; B = sign(M).
  const B = Float32Array.from([1, -1, -1, -1]);
  const r = fusionContribution(p, B, P);
  close(r.fusionShare, 2.3 / (2.3 + 0.8 + 2));
  close(r.fusionAgree, 3 / 4); // sign(U) = [+, −, −, +]
  close(r.fusionDecisive, 1 / 4); // without U: [0.7, −0.7, 0.7, −0.7]: entry 2 changes sign
});

Deno.test("codeSignDistance is 0 for binary codes and (b − sign b)² otherwise", () => {
  assert.equal(codeSignDistance(Float32Array.from([1, -1, 1])), 0);
  close(codeSignDistance(Float32Array.from([0.5, -0.25])), (0.25 + 0.5625) / 2);
});

Deno.test("readScalars inside a gradient closure changes neither the gradients nor the tensor count", () => {
  const w = tf.variable(tf.tensor2d([[0.3, -0.2], [0.1, 0.4]]), true, "diag.w");
  const x = t2([[1, 2], [3, -1]]);
  const loss = (withDiagnostics: boolean) => () => {
    const h = tf.tanh(tf.matMul(x, w));
    const l = tf.mean(tf.square(h)) as tf.Scalar;
    if (withDiagnostics) {
      const d = readScalars(() => ({ mean: tf.mean(h), abs: tf.mean(tf.abs(h)) }));
      assert.equal(Object.keys(d).length, 2);
    }
    return l;
  };
  const plain = tf.variableGrads(loss(false), [w]);
  const before = tf.memory().numTensors;
  const diag = tf.variableGrads(loss(true), [w]);
  assert.equal(tf.memory().numTensors, before + 2, "value and one gradient, nothing else");
  assert.deepEqual(diag.grads[w.name].dataSync(), plain.grads[w.name].dataSync());
  assert.equal(diag.value.dataSync()[0], plain.value.dataSync()[0]);
  tf.dispose([
    plain.value,
    diag.value,
    ...Object.values(plain.grads),
    ...Object.values(diag.grads),
  ]);
  tf.dispose([w, x]);
});

// ---------------------------------------------------------------------------------------
// The models: fields per ablation, read-only

const ds = synthetic({ n: 160, imageDim: 20, textDim: 10, classes: 4, labelsPerItem: 1, seed: 3 });
const trainRows = Int32Array.from({ length: 120 }, (_, i) => i);
const data: TrainData = { dataset: ds, train: trainRows, validation: new Int32Array(0) };
const info: TrainingSetInfo = {
  n: trainRows.length,
  imageDim: ds.image.cols,
  textDim: ds.text.cols,
  labels: gatherLabelRows(ds.labels, trainRows),
};
/** Small layer sizes per method, so that a model trains in milliseconds. */
const SMALL = {
  cpah: { bits: 16, layers: { imageLayers: [16, 16], textLayers: [16, 16], consLayers: [8] } },
  dfah: { bits: 8, layers: { imageLayers: [16, 8], textLayers: [12, 8], fusionLayers: [8] } },
} as const;
/** A small CPAH or DFAH model (batch 40, a 6/8-unit discriminator) with ablation `flags`. */
function small(method: keyof typeof SMALL, flags: Record<string, boolean> = {}): HashModel {
  const e = METHODS[method];
  const { bits, layers } = SMALL[method];
  const discLayers = method === "cpah" ? [8] : [6];
  return e.create(
    info,
    e.config("synthetic", bits, {
      ...structuredClone(layers),
      discLayers,
      batchSize: 40,
      ...flags,
    }),
  );
}
const smallCpah = (flags: Record<string, boolean> = {}) => small("cpah", flags);
const smallDfah = (flags: Record<string, boolean> = {}) => small("dfah", flags);

/** Train two epochs; the diagnostics' field names of each epoch, and the last values. */
async function recorded(
  model: HashModel,
): Promise<{ keys: string[][]; last: Record<string, number> }> {
  const r = await train(model, data, { epochs: 2, seed: 1, log: null });
  const keys = r.history.map((h) => Object.keys(h.diagnostics ?? {}).sort());
  const last = r.history.at(-1)!.diagnostics ?? {};
  model.dispose();
  return { keys, last };
}

const CPAH_MASK = [
  "maskImage",
  "maskText",
  "commonImage",
  "commonText",
  "privateImage",
  "privateText",
];
const QUANT = ["quantGap", "signDistance"];
/** The gradient-share diagnostics of the named terms (relative to L_pair's). */
const g = (...terms: string[]) => terms.map((t) => `gradShare.${t}`);

Deno.test("CPAH records its diagnostics every epoch, only those of the modules each ablation keeps", async () => {
  const cases: [Record<string, boolean>, string[]][] = [
    [{}, [...CPAH_MASK, "consAcc", "discAcc", ...QUANT, ...g("cons", "label", "adv", "quant")]],
    [{ noCR: true }, ["discAcc", ...QUANT, ...g("label", "adv", "quant")]],
    [{ noAdversary: true }, [...CPAH_MASK, "consAcc", ...QUANT, ...g("cons", "label", "quant")]],
    [{ noMultiTask: true }, [...CPAH_MASK, "discAcc", ...QUANT, ...g("adv", "quant")]],
    [{ relaxed: true }, [
      ...CPAH_MASK,
      "consAcc",
      "discAcc",
      ...QUANT,
      ...g("cons", "label", "adv"),
    ]],
  ];
  for (const [flags, want] of cases) {
    const { keys, last } = await recorded(smallCpah(flags));
    // Epoch 1 has no B yet (bInit "outputs"): its gradient shares have no quantisation term.
    const first = want.filter((k) => k !== "gradShare.quant");
    assert.deepEqual(keys[0], [...first].sort(), JSON.stringify(flags));
    for (const k of keys.slice(1)) assert.deepEqual(k, [...want].sort(), JSON.stringify(flags));
    for (const k of ["discAcc", "consAcc", "maskImage", "maskText"]) {
      if (k in last) assert.ok(last[k] >= 0 && last[k] <= 1, `${k} = ${last[k]}`);
    }
    assert.ok(last.quantGap > 0 && last.quantGap < 1, `quantGap ${last.quantGap}`);
    if (!flags.noCR) assert.ok(last.commonImage > 0 && last.privateImage > 0, "part magnitudes");
  }
});

Deno.test("DFAH records its diagnostics every epoch; fusion ones only with the Fusion Learner", async () => {
  const FUSION = ["fusionAgree", "fusionDecisive", "fusionShare"];
  const FUSED = ["fusionPair", "labelEmbed"];
  const cases: [Record<string, boolean>, string[]][] = [
    [{}, ["bSignDistance", "discAcc", ...FUSION, ...QUANT, ...g(...FUSED, "quant", "adv")]],
    [{ noFusion: true }, ["bSignDistance", "discAcc", ...QUANT, ...g("quant", "adv")]],
    [{ noAdversary: true }, ["bSignDistance", ...FUSION, ...QUANT, ...g(...FUSED, "quant")]],
    [{ relaxed: true }, [
      "bSignDistance",
      "discAcc",
      ...FUSION,
      ...QUANT,
      ...g(...FUSED, "quant", "adv"),
    ]],
  ];
  for (const [flags, want] of cases) {
    const { keys, last } = await recorded(smallDfah(flags));
    for (const k of keys) assert.deepEqual(k, [...want].sort(), JSON.stringify(flags));
    if (flags.relaxed) assert.ok(last.bSignDistance > 0, "relaxed B is not binary");
    else assert.equal(last.bSignDistance, 0);
    if (!flags.noFusion) assert.ok(last.fusionShare > 0 && last.fusionShare < 1);
  }
});

Deno.test("epochDiagnostics only reads: the model's state is unchanged and a second call agrees", async () => {
  for (const model of [smallCpah(), smallDfah()]) {
    await train(model, data, { epochs: 1, seed: 2, log: null });
    const before = model.state();
    const a = model.epochDiagnostics!(0), b = model.epochDiagnostics!(0);
    assert.deepEqual(a, b);
    const after = model.state();
    for (const [k, v] of Object.entries(before)) {
      assert.deepEqual(after[k].data, v.data, `state entry ${k} changed`);
    }
    model.dispose();
  }
});

Deno.test("the trainer keeps finite diagnostics only, and none for a model without them", async () => {
  const model = smallCpah();
  const wrapped: HashModel = {
    method: model.method,
    bits: model.bits,
    config: model.config,
    beginEpoch: (e) => model.beginEpoch(e),
    trainStep: (b, c) => model.trainStep(b, c),
    endEpoch: (e) => model.endEpoch(e),
    epochDiagnostics: () => ({ ok: 0.5, bad: NaN, worse: -Infinity }),
    encodeImage: (x) => model.encodeImage(x),
    encodeText: (y) => model.encodeText(y),
    state: () => model.state(),
    loadState: (s, src) => model.loadState(s, src),
    dispose: () => model.dispose(),
  };
  const r = await train(wrapped, data, { epochs: 1, seed: 1, log: null });
  assert.deepEqual(r.history[0].diagnostics, { ok: 0.5 });
  const { epochDiagnostics: _, ...plain } = wrapped;
  const r2 = await train(plain as HashModel, data, { epochs: 1, seed: 1, log: null });
  assert.equal(r2.history[0].diagnostics, undefined);
  model.dispose();
});
