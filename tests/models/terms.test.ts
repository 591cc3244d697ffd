/**
 * The terms CPAH and DFAH share (src/models/terms.ts): the confusion-target adversary,
 * D's loss, the pairwise term and the sign step, on hand-checkable inputs and on a toy with a
 * known right answer (two Gaussians that the adversary must merge, not swap).
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import {
  adversarialTerm,
  discriminatorLoss,
  pairwiseTerm,
  signStep,
} from "../../src/models/terms.ts";
import * as cpah from "../../src/models/cpah/terms.ts";
import * as dfah from "../../src/models/dfah/terms.ts";
import { discriminatorAccuracy } from "../../src/models/diagnostics.ts";
import { Rng } from "../../src/random.ts";
import { close, softplus, t2, value } from "../test_utils.ts";

await initBackend();

Deno.test("CPAH and DFAH use the same pairwise, adversarial and discriminator terms", () => {
  assert.equal(cpah.pairwiseTerm, pairwiseTerm);
  assert.equal(dfah.pairwiseTerm, pairwiseTerm);
  assert.equal(cpah.adversarialTerm, adversarialTerm);
  assert.equal(dfah.adversarialTerm, adversarialTerm);
  assert.equal(cpah.discriminatorLoss, discriminatorLoss);
  assert.equal(dfah.discriminatorLoss, discriminatorLoss);
});

Deno.test("discriminatorLoss is the mean BCE with image = 1, text = 0 (no gradient penalty)", () => {
  const dv = t2([[0.3], [-1.2]]), dt = t2([[-0.4], [0.9]]);
  const want = (softplus(-0.3) + softplus(1.2) + softplus(-0.4) + softplus(0.9)) / 4;
  close(value(discriminatorLoss(dv, dt)), want);
  tf.dispose([dv, dt]);
});

Deno.test("adversarialTerm is minimal (log 2) only at chance, and a swap costs as much as D being right", () => {
  const z = t2([[0], [0]]);
  close(value(adversarialTerm(z, z)), Math.LN2, 1e-6, "chance");
  const big = 6;
  const right = value(adversarialTerm(t2([[big]]), t2([[-big]])));
  const swapped = value(adversarialTerm(t2([[-big]]), t2([[big]])));
  close(swapped, right, 1e-6, "swap and separation cost the same");
  assert.ok(right > Math.LN2 + 1, `separated logits cost ${right}`);
  // The gradient at a swapped item pulls its logit back to 0, never further across.
  const g = tf.grad((x: tf.Tensor) => adversarialTerm(x as tf.Tensor2D, t2([[0]])))(
    t2([[-big]]),
  ).dataSync()[0];
  assert.ok(g < 0, `d L_adv / d logit at an image scored as text is ${g}: descent raises it to 0`);
  tf.dispose(z);
});

Deno.test("signStep takes sign(0) = +1 and counts the flips", () => {
  const out = new Float32Array([1, 1, -1, -1]);
  const flipped = signStep([0.5, -0.1, 0, -3], out);
  assert.deepEqual([...out], [1, -1, 1, -1]);
  close(flipped, 0.5);
  assert.throws(() => signStep([1], out), /m has 1 entries, out has 4/);
});

Deno.test("pairwiseTerm averages its two directions", () => {
  const hv = t2([[1, 1]]), ht = t2([[1, 1]]), ov = t2([[-1, -1]]), ot = t2([[1, 1]]);
  close(value(pairwiseTerm(hv, ht, ov, ot, t2([[1]]))), (softplus(-1) + softplus(1)) / 2);
  tf.dispose([hv, ht, ov, ot]);
});

/**
 * Two Gaussians in 2-d, N(+2 e1, I) for "image" and N(−2 e1, I) for "text", each shifted by a
 * learned offset (the "extractors"); D is a small MLP. Alternating D and offset steps on the
 * shared terms, the offsets must bring the means together and D must end near chance.
 */
function twoGaussians(steps: number, seed: number) {
  const rng = new Rng(seed);
  const m = 128;
  const offV = tf.variable(tf.zeros([1, 2])), offT = tf.variable(tf.zeros([1, 2]));
  const init = (r: Rng, shape: [number, number]) =>
    tf.variable(tf.tensor2d(r.normals(shape[0] * shape[1]).map((x) => x * 0.5), shape));
  const W1 = init(rng.fork(1), [2, 16]), b1 = tf.variable(tf.zeros([16]));
  const W2 = init(rng.fork(2), [16, 1]), b2 = tf.variable(tf.zeros([1]));
  const D = (x: tf.Tensor2D) =>
    tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), W2), b2) as tf.Tensor2D;
  const dOpt = tf.train.adam(1e-2), gOpt = tf.train.adam(2e-2);
  const sample = (r: Rng, centre: number) => {
    const z = r.normals(2 * m);
    for (let i = 0; i < m; i++) z[2 * i] += centre;
    return tf.tensor2d(z, [m, 2]);
  };
  for (let s = 0; s < steps; s++) {
    const r = rng.fork(100 + s);
    const xv = sample(r.fork(1), 2), xt = sample(r.fork(2), -2);
    dOpt.minimize(
      () =>
        discriminatorLoss(D(tf.add(xv, offV) as tf.Tensor2D), D(tf.add(xt, offT) as tf.Tensor2D)),
      false,
      [W1, b1, W2, b2],
    );
    gOpt.minimize(
      () => adversarialTerm(D(tf.add(xv, offV) as tf.Tensor2D), D(tf.add(xt, offT) as tf.Tensor2D)),
      false,
      [offV, offT],
    );
    tf.dispose([xv, xt]);
  }
  const r = rng.fork(9999);
  const xv = sample(r.fork(1), 2), xt = sample(r.fork(2), -2);
  const acc = value(
    discriminatorAccuracy(D(tf.add(xv, offV) as tf.Tensor2D), D(tf.add(xt, offT) as tf.Tensor2D)),
  );
  const gap = Math.hypot(
    2 + offV.dataSync()[0] - (-2 + offT.dataSync()[0]),
    offV.dataSync()[1] - offT.dataSync()[1],
  );
  tf.dispose([xv, xt, offV, offT, W1, b1, W2, b2]);
  dOpt.dispose();
  gOpt.dispose();
  return { acc, gap };
}

Deno.test("two-Gaussian toy: the confusion adversary merges the modalities (D at 0.5 ± 0.1, means aligned)", () => {
  for (const seed of [1, 2]) {
    const { acc, gap } = twoGaussians(400, seed);
    assert.ok(Math.abs(acc - 0.5) <= 0.1, `seed ${seed}: D accuracy ${acc}`);
    assert.ok(gap < 0.5, `seed ${seed}: distance between the shifted means ${gap} (started at 4)`);
  }
});
