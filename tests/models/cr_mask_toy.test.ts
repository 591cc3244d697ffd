/**
 * CPAH's consistency-refined (CR) module on a toy with a known right answer: features whose
 * first half carries the pair's label in both modalities (common) and whose second half carries
 * only which modality the item comes from (private). Trained with CPAH's own forward
 * (`branchForward`, identity extractors so that mask units are input dimensions), pairwise,
 * consistency and adversarial terms (D in its own step, as in the model), the mask must route
 * the private dimensions to the private part.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { type Branch, branchForward, consistencyInput } from "../../src/models/cpah/model.ts";
import {
  adversarialTerm,
  consistencyTerm,
  discriminatorLoss,
} from "../../src/models/cpah/terms.ts";
import { pairwiseTerm } from "../../src/models/cpah/terms.ts";
import { labelSimilarity } from "../../src/nn/losses.ts";
import { Adam, Linear, Mlp, ParamStore } from "../../src/nn/mod.ts";
import { Rng } from "../../src/random.ts";

await initBackend();

const COMMON = 4, PRIVATE = 4, D = COMMON + PRIVATE, CLASSES = 4, K = 8;

/** A batch of m pairs: one-hot class signal on the common dims, ±2 modality signal on the rest. */
function toyBatch(rng: Rng, m: number) {
  const image = new Float32Array(m * D), text = new Float32Array(m * D);
  const labels = new Float32Array(m * CLASSES);
  const noise = rng.normals(2 * m * D, 0.3);
  for (let i = 0; i < m; i++) {
    const k = Math.floor(rng.uniform() * CLASSES);
    labels[i * CLASSES + k] = 1;
    for (let j = 0; j < D; j++) {
      const common = j < COMMON ? (j === k ? 2 : 0) : 0;
      image[i * D + j] = common + (j >= COMMON ? 2 : 0) + noise[2 * (i * D + j)];
      text[i * D + j] = common + (j >= COMMON ? -2 : 0) + noise[2 * (i * D + j) + 1];
    }
  }
  return {
    image: tf.tensor2d(image, [m, D]),
    text: tf.tensor2d(text, [m, D]),
    labels: tf.tensor2d(labels, [m, CLASSES]),
  };
}

/** Train the CR module, hash layers and C on the toy; returns the mean mask per dimension. */
function trainToy(seed: number, steps: number): { image: number[]; text: number[] } {
  const rng = new Rng(seed);
  const store = new ParamStore();
  const branch = (name: string, r: Rng): Branch => ({
    E: new Mlp(store, `${name}.E`, [D], r.fork(1)), // no layers: f = x
    mask: new Linear(store, `${name}.mask`, D, D, r.fork(2)),
    hash: new Linear(store, `${name}.hash`, D, K, r.fork(3)),
  });
  const image = branch("image", rng.fork(1)), text = branch("text", rng.fork(2));
  const C = new Mlp(store, "C", [D, 16, 3], rng.fork(3), {
    batchNorm: false,
    lastActivation: "linear",
  });
  const Dnet = new Mlp(store, "D", [D, 16, 1], rng.fork(4), {
    batchNorm: false,
    lastActivation: "linear",
    group: "disc",
  });
  const opt = new Adam(store.group("net"), { lr: 1e-2 });
  const dOpt = new Adam(store.group("disc"), { lr: 1e-2 });
  for (let s = 0; s < steps; s++) {
    const b = toyBatch(rng.fork(100 + s), 64);
    dOpt.minimize(() =>
      tf.tidy(() => {
        const v = branchForward(image, b.image, true), t = branchForward(text, b.text, true);
        return discriminatorLoss(Dnet.apply(v.c, true), Dnet.apply(t.c, true));
      })
    );
    opt.minimize(() => {
      const v = branchForward(image, b.image, true), t = branchForward(text, b.text, true);
      const s = labelSimilarity(b.labels, b.labels);
      const pair = pairwiseTerm(v.h, t.h, v.h, t.h, s);
      const cons = consistencyTerm(C.apply(consistencyInput(v, t), true));
      const adv = adversarialTerm(Dnet.apply(v.c, true), Dnet.apply(t.c, true));
      return tf.addN([tf.mul(pair, 10), cons, adv]) as tf.Scalar;
    });
    tf.dispose([b.image, b.text, b.labels]);
  }
  const b = toyBatch(rng.fork(9999), 256);
  const means = (br: Branch, x: tf.Tensor2D) =>
    tf.tidy(() => Array.from(tf.mean(branchForward(br, x, false).m!, 0).dataSync()));
  const out = { image: means(image, b.image), text: means(text, b.text) };
  tf.dispose([b.image, b.text, b.labels]);
  store.dispose();
  opt.dispose();
  dOpt.dispose();
  return out;
}

Deno.test("CR toy: the mask routes modality-private dimensions to the private part (mean mask < 0.2)", () => {
  const m = trainToy(1, 400);
  for (const side of ["image", "text"] as const) {
    const priv = m[side].slice(COMMON), common = m[side].slice(0, COMMON);
    const fmt = (x: number[]) => x.map((v) => v.toFixed(2)).join(" ");
    assert.ok(priv.every((x) => x < 0.2), `${side}: mask on private dims ${fmt(priv)}`);
    // The label-carrying dimensions keep a clearly larger share in the common part.
    const meanCommon = common.reduce((a, b) => a + b, 0) / COMMON;
    assert.ok(
      meanCommon > Math.max(...priv) + 0.2,
      `${side}: mask on common dims ${fmt(common)}, on private dims ${fmt(priv)}`,
    );
  }
});
