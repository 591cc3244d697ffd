/**
 * The shared loss pieces (src/nn/losses.ts) on inputs small enough to check by hand, on the wasm
 * backend (the default), including the second-order gradient the gradient penalty needs.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { bceWithLogits, bitBalance, gradientPenalty } from "../../src/nn/losses.ts";
import { labelSimilarity, pairLikelihood, pairLikelihoodOps } from "../../src/nn/losses.ts";
import { pairNll, quantization, softmaxCrossEntropy } from "../../src/nn/losses.ts";

import { close, softplus, t2, value } from "../test_utils.ts";
import { Mlp, ParamStore } from "../../src/nn/mod.ts";
import { Rng } from "../../src/random.ts";

await initBackend({ name: "wasm" });

Deno.test("labelSimilarity is 1 exactly where two label rows share a label", () => {
  const a = t2([[1, 0, 1], [0, 1, 0]]);
  const b = t2([[0, 0, 1], [1, 1, 0], [0, 0, 0]]);
  const s = labelSimilarity(a, b);
  assert.deepEqual(s.shape, [2, 3]);
  assert.deepEqual(Array.from(s.dataSync()), [1, 1, 0, 0, 1, 0]);
  tf.dispose([a, b, s]);
});

Deno.test("pairNll is log 2 for zero codes whatever the similarities", () => {
  const z = tf.zeros([3, 4]) as tf.Tensor2D;
  const s = t2([[1, 0, 1], [0, 0, 1], [1, 1, 1]]);
  close(value(pairNll(z, z, s)), Math.LN2);
  tf.dispose([z, s]);
});

Deno.test("pairNll averages softplus(theta) - S theta over pairs, theta = h_a . h_b / 2", () => {
  // theta = [[1, -1]] -> (softplus(1) - 1 + softplus(-1)) / 2 = softplus(-1)
  const ha = t2([[1, 1]]), hb = t2([[1, 1], [-1, -1]]), s = t2([[1, 0]]);
  close(value(pairNll(ha, hb, s)), softplus(-1));
  // Similar pair pushed apart costs more than a dissimilar one: theta = -1 with S = 1.
  const s2 = t2([[0, 1]]);
  close(value(pairNll(ha, hb, s2)), softplus(1));
  tf.dispose([ha, hb, s, s2]);
});

Deno.test("pairNll stays finite for large inner products (softplus form)", () => {
  const ha = t2([[20, 20]]), hb = t2([[20, 20]]); // theta = 400
  close(value(pairNll(ha, hb, t2([[1]]))), 0, 1e-5, "S = 1");
  close(value(pairNll(ha, hb, t2([[0]]))), 400, 1e-5, "S = 0");
  close(value(pairNll(ha, tf.neg(hb) as tf.Tensor2D, t2([[1]]))), 400, 1e-5, "theta = -400, S = 1");
  tf.dispose([ha, hb]);
});

Deno.test("quantization is the mean squared difference over entries", () => {
  const b = t2([[1, -1], [1, 1]]), h = t2([[0.5, 0], [1, -1]]);
  // (0.25 + 1 + 0 + 4) / 4
  close(value(quantization(b, h)), 5.25 / 4);
  tf.dispose([b, h]);
});

Deno.test("bitBalance is the mean over bits of the squared column means", () => {
  const h = t2([[1, 1], [1, -1]]); // column means 1, 0
  close(value(bitBalance(h)), 0.5);
  tf.dispose(h);
});

Deno.test("bceWithLogits matches -y log sigma(z) - (1-y) log(1 - sigma(z)) and is stable", () => {
  close(value(bceWithLogits(t2([[0, 0]]), t2([[1, 0]]))), Math.LN2);
  close(value(bceWithLogits(t2([[2]]), t2([[1]]))), softplus(-2));
  close(value(bceWithLogits(t2([[2]]), t2([[0]]))), softplus(2));
  close(value(bceWithLogits(t2([[100, -100]]), t2([[0, 1]]))), 100, 1e-6, "saturated logits");
  close(value(bceWithLogits(t2([[100, -100]]), t2([[1, 0]]))), 0, 1e-6, "right and confident");
});

Deno.test("softmaxCrossEntropy is -log softmax at the class, averaged over items", () => {
  const z = tf.zeros([2, 3]) as tf.Tensor2D;
  close(value(softmaxCrossEntropy(z, [0, 2])), Math.log(3));
  // softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]
  const l = t2([[0, Math.log(2), Math.log(3)], [0, Math.log(2), Math.log(3)]]);
  close(value(softmaxCrossEntropy(l, [2, 0])), (Math.log(2) + Math.log(6)) / 2);
  close(value(softmaxCrossEntropy(l, Int32Array.from([1, 1]))), Math.log(3));
  tf.dispose([z, l]);
});

Deno.test("gradientPenalty of a linear critic x.w is (|w| - 1)^2 wherever it is evaluated", () => {
  const w = t2([[3], [4]]);
  const critic = (x: tf.Tensor2D) => tf.matMul(x, w) as tf.Tensor2D;
  const a = t2([[1, 2], [-3, 0.5]]), b = t2([[0, 0], [7, 1]]), eps = t2([[0.25], [0.9]]);
  close(value(gradientPenalty(critic, a, b, eps)), 16);
  tf.dispose([w, a, b, eps]);
});

Deno.test("gradientPenalty interpolates eps a + (1 - eps) b, one eps per item", () => {
  // critic sum(x^2)/2 has gradient x; at x_hat = [1.5, 2] the norm is 2.5 -> (2.5 - 1)^2.
  const critic = (x: tf.Tensor2D) => tf.mul(tf.sum(tf.square(x), 1, true), 0.5) as tf.Tensor2D;
  const a = t2([[3, 4], [0, 0]]), b = t2([[0, 0], [0, 3]]), eps = t2([[0.5], [0]]);
  // item 2: x_hat = b = [0, 3], norm 3 -> 4
  close(value(gradientPenalty(critic, a, b, eps)), (2.25 + 4) / 2);
  tf.dispose([a, b, eps]);
});

Deno.test("gradientPenalty has the right second-order gradient w.r.t. the critic's weights (wasm)", () => {
  // d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w| = 2 * 4 * [3, 4] / 5 = [4.8, 6.4]
  const w = tf.variable(t2([[3], [4]]), true);
  const a = t2([[1, 2]]), b = t2([[-1, 5]]), eps = t2([[0.3]]);
  const { value: v, grads } = tf.variableGrads(
    () => gradientPenalty((x) => tf.matMul(x, w) as tf.Tensor2D, a, b, eps),
    [w],
  );
  close(value(v), 16);
  const g = grads[w.name].dataSync();
  close(g[0], 4.8, 1e-4, "dGP/dw0");
  close(g[1], 6.4, 1e-4, "dGP/dw1");
  tf.dispose([w, a, b, eps, grads[w.name]]);
});

Deno.test("gradientPenalty's gradient through a ReLU critic matches finite differences", () => {
  // critic: relu(x W1 + b1) W2, gradient w.r.t. W2 by central differences.
  const W1 = t2([[0.5, -1, 0.3], [1.2, 0.4, -0.7]]);
  const b1 = tf.tensor1d([0.1, 0.2, -0.1]);
  const w2 = [0.8, -0.6, 1.1];
  const a = t2([[1, 2], [0.5, -1]]), b = t2([[-1, 0.5], [2, 1]]), eps = t2([[0.3], [0.6]]);
  const gp = (W2: tf.Tensor2D) =>
    gradientPenalty(
      (x) => tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), W2) as tf.Tensor2D,
      a,
      b,
      eps,
    );
  const W2 = tf.variable(tf.tensor2d(w2, [3, 1]), true);
  const { value: v, grads } = tf.variableGrads(() => gp(W2), [W2]);
  v.dispose();
  const g = grads[W2.name].dataSync();
  const h = 1e-2;
  for (let i = 0; i < 3; i++) {
    const plus = [...w2], minus = [...w2];
    plus[i] += h;
    minus[i] -= h;
    const fp = value(gp(tf.tensor2d(plus, [3, 1])));
    const fm = value(gp(tf.tensor2d(minus, [3, 1])));
    close(g[i], (fp - fm) / (2 * h), 2e-3, `dGP/dW2[${i}]`);
  }
  tf.dispose([W1, b1, a, b, eps, W2, grads[W2.name]]);
});

Deno.test("pairNll's value and gradients equal softplus(theta) - S theta with theta = ha hb^T / 2", () => {
  const rng = new Rng(5);
  const ha = tf.tensor2d(rng.normals(6 * 4).map((x) => 3 * x), [6, 4]);
  const hb = tf.tensor2d(rng.normals(9 * 4).map((x) => 3 * x), [9, 4]);
  const s = tf.tensor2d(Float32Array.from({ length: 54 }, () => (rng.uniform() < 0.4 ? 1 : 0)), [
    6,
    9,
  ]);
  const reference = (a: tf.Tensor, b: tf.Tensor) => {
    const theta = tf.mul(tf.matMul(a, tf.transpose(b)), 0.5);
    return tf.mean(tf.sub(tf.softplus(theta), tf.mul(s, theta))) as tf.Scalar;
  };
  const fused = (a: tf.Tensor, b: tf.Tensor) => pairNll(a as tf.Tensor2D, b as tf.Tensor2D, s);
  const [want, got] = [reference, fused].map((f) => tf.valueAndGrads(f)([ha, hb]));
  close(got.value.dataSync()[0], want.value.dataSync()[0], 1e-5, "value");
  for (const k of [0, 1]) {
    const g = got.grads[k].dataSync(), w = want.grads[k].dataSync();
    assert.equal(g.length, w.length);
    let norm = 0;
    g.forEach((x, i) => {
      close(x, w[i], 1e-6, `grad ${k}[${i}]`);
      norm += Math.abs(w[i]);
    });
    assert.ok(norm > 0.01, `gradient ${k} is all but zero (${norm})`);
  }
  tf.dispose([ha, hb, s, want.value, got.value, ...want.grads, ...got.grads]);
});

Deno.test("labelSimilarity equals (a b^T > 0) for label sets wider than one 32-bit word", () => {
  const rng = new Rng(11);
  for (const c of [5, 32, 33, 70]) {
    const a = tf.tensor2d(
      Float32Array.from({ length: 7 * c }, () => (rng.uniform() < 0.05 ? 1 : 0)),
      [7, c],
    );
    const b = tf.tensor2d(
      Float32Array.from({ length: 13 * c }, () => (rng.uniform() < 0.05 ? 1 : 0)),
      [13, c],
    );
    const want = tf.tidy(() => tf.cast(tf.greater(tf.matMul(a, b, false, true), 0), "float32"));
    const got = labelSimilarity(a, b);
    assert.deepEqual(got.shape, [7, 13]);
    const w = want.dataSync(), g = got.dataSync();
    assert.deepEqual(Array.from(g), Array.from(w), `c = ${c}`);
    assert.ok(w.some((x) => x === 1) && w.some((x) => x === 0), `c = ${c}: both values occur`);
    tf.dispose([a, b, want, got]);
  }
  const a = tf.zeros([2, 3]) as tf.Tensor2D, b = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => labelSimilarity(a, b), /b has 4 label columns, expected 3/);
  tf.dispose([a, b]);
});

Deno.test("pairLikelihood's fused op equals the tensor-op formula on wasm and cpu, value and gradient", async () => {
  const rng = new Rng(12);
  try {
    for (const backend of ["wasm", "cpu"] as const) {
      await initBackend({ name: backend });
      for (const [m, n] of [[3, 8], [5, 11], [2, 3], [4, 2051]]) {
        // theta spans the saturated ranges too (|theta| up to ~60)
        const theta = tf.tensor2d(rng.normals(m * n).map((x) => 20 * x), [m, n]);
        const s = tf.tensor2d(
          Float32Array.from({ length: m * n }, () => (rng.uniform() < 0.3 ? 1 : 0)),
          [m, n],
        );
        const [want, got] = [pairLikelihoodOps, pairLikelihood].map((f) =>
          tf.valueAndGrad((t: tf.Tensor) => tf.mul(f(t as tf.Tensor2D, s), 3) as tf.Scalar)(theta)
        );
        const what = `${backend} ${m}x${n}`;
        close(got.value.dataSync()[0], want.value.dataSync()[0], 1e-5, `${what} value`);
        const g = got.grad.dataSync(), w = want.grad.dataSync();
        let norm = 0;
        g.forEach((x, i) => {
          assert.ok(
            Math.abs(x - w[i]) <= 1e-6 * (3 / (m * n)) + 1e-6 * Math.abs(w[i]),
            `${what} grad[${i}]: ${x} vs ${w[i]}`,
          );
          norm += Math.abs(w[i]);
        });
        assert.ok(norm > 0.1, `${what}: gradient all but zero (${norm})`);
        tf.dispose([theta, s, want.value, want.grad, got.value, got.grad]);
      }
    }
  } finally {
    await initBackend({ name: "wasm" });
  }
});

Deno.test("pairLikelihood rejects similarities of another shape", () => {
  const t = tf.zeros([2, 3]) as tf.Tensor2D, s = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.throws(() => pairLikelihood(t, s), /s has shape 3x2, expected 2x3/);
  tf.dispose([t, s]);
});

Deno.test("gradientPenalty with Mlp.inputGradient equals the tf.grad form, value and weight gradients", () => {
  const store = new ParamStore();
  for (const dims of [[6, 5, 1], [6, 4, 3, 1]]) {
    const D = new Mlp(store, `D${dims.length}`, dims, new Rng(dims.length), {
      batchNorm: false,
      lastActivation: "linear",
      group: `d${dims.length}`,
    });
    const rng = new Rng(13);
    const a = tf.tensor2d(rng.normals(9 * 6), [9, 6]), b = tf.tensor2d(rng.normals(9 * 6), [9, 6]);
    const eps = tf.tensor2d(Float32Array.from({ length: 9 }, () => rng.uniform()), [9, 1]);
    const vars = store.group(`d${dims.length}`);
    const critic = (x: tf.Tensor2D) => D.apply(x, true);
    const auto = tf.variableGrads(() => gradientPenalty(critic, a, b, eps), vars);
    const closed = tf.variableGrads(
      () => gradientPenalty(critic, a, b, eps, (x) => D.inputGradient(x)),
      vars,
    );
    close(closed.value.dataSync()[0], auto.value.dataSync()[0], 1e-5, `${dims} value`);
    assert.ok(auto.value.dataSync()[0] > 0.01, "penalty is not trivially zero");
    let compared = 0;
    for (const v of vars) {
      const want = Array.from(auto.grads[v.name]?.dataSync() ?? new Float32Array(v.size));
      const got = Array.from(closed.grads[v.name]?.dataSync() ?? new Float32Array(v.size));
      want.forEach((x, i) => close(got[i], x, 1e-4, `${dims} d/d${v.name}[${i}]`));
      compared += want.reduce((s, x) => s + Math.abs(x), 0);
    }
    assert.ok(compared > 0.01, "weight gradients are not all zero");
    tf.dispose([
      a,
      b,
      eps,
      auto.value,
      closed.value,
      ...Object.values(auto.grads),
      ...Object.values(closed.grads),
    ]);
  }
  const bn = new Mlp(store, "E", [4, 3, 1], new Rng(1), { lastActivation: "linear" });
  const x = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.throws(() => bn.inputGradient(x), /Mlp.inputGradient: expected a critic/);
  tf.dispose(x);
  store.dispose();
});
