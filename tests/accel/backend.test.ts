import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import {
  initBackend,
  parseBackendName,
  registerExplicitTransposeMatMulGradient,
  registerTransposeFlagMatMulGradient,
  restoreStockMatMulGradient,
} from "../../src/accel/backend.ts";
import { Rng } from "../../src/random.ts";

function rand(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape);
}

function gradsOf(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): Float32Array[] {
  // A non-trivial upstream gradient (weights w) so dy is not all ones.
  const f = (x: tf.Tensor, y: tf.Tensor) => {
    const p = tf.matMul(x, y, ta, tb);
    const w = tf.cos(tf.range(0, p.size).reshape(p.shape));
    return tf.sum(tf.mul(p, w));
  };
  const [ga, gb] = tf.grads(f)([a, b]);
  const out = [ga.dataSync() as Float32Array, gb.dataSync() as Float32Array];
  tf.dispose([ga, gb]);
  return out;
}

function assertClose(x: Float32Array, y: Float32Array, tol: number, what: string) {
  assert.equal(x.length, y.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
  }
  assert.ok(worst < tol, `${what}: max relative difference ${worst} >= ${tol}`);
}

Deno.test("explicit-transpose MatMul gradient equals the stock gradient for every transpose and batch shape, broadcasting included", async () => {
  await initBackend({ name: "wasm" });
  const rng = new Rng(7);
  const cases: { a: number[]; b: number[] }[] = [
    { a: [5, 7], b: [7, 3] }, // plain 2-D
    { a: [2, 5, 7], b: [2, 7, 3] }, // batched
    { a: [2, 5, 7], b: [1, 7, 3] }, // broadcast batch of b
    { a: [1, 5, 7], b: [4, 7, 3] }, // broadcast batch of a
  ];
  for (const c of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const sa = [...c.a], sb = [...c.b];
        if (ta) [sa[sa.length - 2], sa[sa.length - 1]] = [sa[sa.length - 1], sa[sa.length - 2]];
        if (tb) [sb[sb.length - 2], sb[sb.length - 1]] = [sb[sb.length - 1], sb[sb.length - 2]];
        const a = rand(sa, rng), b = rand(sb, rng);
        // Reference: the stock gradient on explicitly tiled inputs (the stock gradient does
        // not handle broadcast batch dimensions), summed back over the tiled axis.
        restoreStockMatMulGradient();
        const batch = Math.max(sa.length > 2 ? sa[0] : 1, sb.length > 2 ? sb[0] : 1);
        const tile = (x: tf.Tensor) =>
          x.rank > 2 && x.shape[0] !== batch ? tf.tile(x, [batch, 1, 1]) : x;
        const [at, bt] = [tile(a), tile(b)];
        const stockTiled = gradsOf(at, bt, ta, tb);
        const fold = (g: Float32Array, orig: number[], tiled: number[]) =>
          orig.join() === tiled.join()
            ? g
            : tf.tidy(() => tf.sum(tf.tensor(g, tiled), 0, true).dataSync() as Float32Array);
        const stock = [fold(stockTiled[0], sa, at.shape), fold(stockTiled[1], sb, bt.shape)];
        registerExplicitTransposeMatMulGradient();
        const ours = gradsOf(a, b, ta, tb);
        const what = `a ${sa} b ${sb} transposeA=${ta} transposeB=${tb}`;
        assertClose(ours[0], stock[0], 1e-5, `${what} dA`);
        assertClose(ours[1], stock[1], 1e-5, `${what} dB`);
        tf.dispose([a, b]);
      }
    }
  }
});

Deno.test("initBackend reports the backend, the tfjs version and the gradient choice (without BLAS kernels)", async () => {
  const info = await initBackend({ name: "cpu", blas: "off" });
  assert.equal(info.name, "cpu");
  assert.equal(info.tfjs, tf.version.tfjs);
  assert.equal(info.explicitTransposeGrad, false);
  const wasm = await initBackend({ name: "wasm", blas: "off" });
  assert.equal(wasm.name, "wasm");
  assert.equal(wasm.explicitTransposeGrad, true);
});

Deno.test("unknown backend names are rejected with the accepted values", () => {
  assert.throws(
    () => parseBackendName("gpu", "--backend"),
    /--backend: unknown backend 'gpu'; expected one of wasm, tensorflow, webgpu, cpu/,
  );
});

Deno.test("the tensorflow backend, when its package is absent, fails naming the install command", async () => {
  let installed = true;
  try {
    await import(["@tensorflow/tfjs-node-gpu"][0]);
  } catch {
    installed = false;
  }
  if (installed) {
    const info = await initBackend({ name: "tensorflow" });
    assert.equal(info.name, "tensorflow");
    await initBackend({ name: "wasm" });
    return;
  }
  await assert.rejects(
    () => initBackend({ name: "tensorflow" }),
    /deno add npm:@tensorflow\/tfjs-node-gpu@4\.22\.0 && deno install --allow-scripts=npm:@tensorflow\/tfjs-node-gpu/,
  );
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("the transpose-flag MatMul gradient handles broadcast batch dimensions like the explicit one", async () => {
  await initBackend({ name: "wasm", blas: "off" });
  const rng = new Rng(3);
  for (const [sa, sb] of [[[3, 4, 5], [5, 2]], [[4, 5], [3, 5, 2]], [[2, 1, 4, 5], [3, 5, 2]]]) {
    const a = rand(sa, rng), b = rand(sb, rng);
    registerExplicitTransposeMatMulGradient();
    const ref = gradsOf(a, b, false, false);
    registerTransposeFlagMatMulGradient();
    const got = gradsOf(a, b, false, false);
    assertClose(got[0], ref[0], 1e-5, `flags dA ${sa} x ${sb}`);
    assertClose(got[1], ref[1], 1e-5, `flags dB ${sa} x ${sb}`);
    assert.deepEqual(tf.tensor(got[1]).size, b.size);
    tf.dispose([a, b]);
  }
  await initBackend({ name: "wasm" });
});
