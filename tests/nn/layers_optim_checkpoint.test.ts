import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { BatchNorm1d, batchNormTraining, dense, denseOps, Linear, Mlp } from "../../src/nn/mod.ts";
import { ParamStore, withoutTape } from "../../src/nn/mod.ts";
import { Adam } from "../../src/nn/optim.ts";
import { wasmKernels } from "../../src/accel/simd.ts";
import { Rng } from "../../src/random.ts";
import { hasCheckpoint, readCheckpoint, writeCheckpoint } from "../../src/nn/checkpoint.ts";

await initBackend({ name: "wasm" });

Deno.test("Linear initialises within PyTorch's uniform bound and computes x W + b", () => {
  const store = new ParamStore();
  const lin = new Linear(store, "l", 4, 3, new Rng(1));
  const w = lin.W.dataSync();
  for (const v of w) assert.ok(Math.abs(v) <= 0.5, `weight ${v} outside ±1/sqrt(4)`);
  const x = tf.tensor2d([[1, 0, 0, 0], [0, 0, 0, 2]]);
  const y = lin.apply(x).arraySync();
  const b = lin.b.dataSync();
  for (let j = 0; j < 3; j++) {
    assert.ok(Math.abs(y[0][j] - (w[j] + b[j])) < 1e-6);
    assert.ok(Math.abs(y[1][j] - (2 * w[3 * 3 + j] + b[j])) < 1e-6);
  }
  store.dispose();
});

Deno.test("BatchNorm1d normalises with batch moments and tracks unbiased running variance", () => {
  const store = new ParamStore();
  const bn = new BatchNorm1d(store, "bn", 1);
  const x = tf.tensor2d([[1], [2], [3], [6]]); // mean 3, biased var 3.5, unbiased 14/3
  const y = bn.apply(x, true).dataSync();
  const expect = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
  expect.forEach((e, i) => assert.ok(Math.abs(y[i] - e) < 1e-5, `y[${i}] ${y[i]} vs ${e}`));
  assert.ok(Math.abs(bn.runningMean.dataSync()[0] - 0.3) < 1e-6); // 0.9*0 + 0.1*3
  assert.ok(Math.abs(bn.runningVar.dataSync()[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6);
  // Evaluation mode uses the running statistics.
  const z = bn.apply(tf.tensor2d([[0.3]]), false).dataSync()[0];
  assert.ok(Math.abs(z) < 1e-6);
  store.dispose();
});

Deno.test("ParamStore state round-trips and rejects a wrong shape naming the variable", () => {
  const store = new ParamStore();
  new Mlp(store, "E", [3, 4, 2], new Rng(2));
  const s = store.state();
  const other = new ParamStore();
  new Mlp(other, "E", [3, 4, 2], new Rng(99));
  other.load(s);
  assert.deepEqual(other.state(), s);
  const bad = { ...s, "E.0.W": { shape: [4, 3], data: s["E.0.W"].data } };
  assert.throws(
    () => other.load(bad, "ck/state.json"),
    /ck\/state.json: variable 'E.0.W' has shape 4x3, expected 3x4/,
  );
  store.dispose();
  other.dispose();
});

Deno.test("Adam's first step moves each weight by lr against the gradient sign, with L2 decay", () => {
  const v = tf.variable(tf.tensor1d([1, -2, 0.5]));
  const opt = new Adam([v], { lr: 0.1, weightDecay: 0.5 });
  // loss = sum(3 * v): grad = 3 + 0.5 * v -> all positive -> first Adam step = -lr each.
  opt.minimize(() => tf.sum(tf.mul(v, 3)) as tf.Scalar);
  const got = v.dataSync();
  [0.9, -2.1, 0.4].forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-5, `${got[i]} vs ${e}`));
  const st = opt.state("o");
  const opt2 = new Adam([v], { lr: 1 });
  opt2.load(st, "o");
  assert.equal(opt2.steps, 1);
  assert.equal(opt2.lr, st["o.lr"].data[0]);
  opt.dispose();
  opt2.dispose();
  v.dispose();
});

for (const backend of ["wasm", "cpu"] as const) {
  Deno.test(`Adam's host update equals its tensor-op form over 5 steps (${backend})`, async () => {
    await initBackend({ name: backend });
    // wasm: the SIMD kernel (315 entries: 78 vectors + a scalar tail); cpu: the JS loop
    assert.equal(!!wasmKernels(), backend === "wasm");
    try {
      const rng = new Rng(11);
      const init = rng.normals(315);
      const grads = Array.from({ length: 5 }, () => rng.normals(315));
      const run = (onHost: boolean) => {
        const v = tf.variable(tf.tensor2d(init, [21, 15]), true, `w${onHost}`);
        const opt = new Adam([v], { lr: 0.01, beta1: 0.8, beta2: 0.99, weightDecay: 0.1 });
        opt.onHost = onHost;
        for (const g of grads) opt.apply({ [v.name]: tf.tensor2d(g, [21, 15]) });
        const out = { w: v.dataSync().slice(), state: opt.state("o") };
        opt.dispose();
        v.dispose();
        return out;
      };
      const a = run(true), b = run(false);
      let moved = 0;
      for (let i = 0; i < 315; i++) {
        assert.ok(Math.abs(a.w[i] - b.w[i]) < 1e-6, `w[${i}]: ${a.w[i]} vs ${b.w[i]}`);
        moved = Math.max(moved, Math.abs(a.w[i] - init[i]));
      }
      assert.ok(moved > 0.02, `weights moved at most ${moved}`);
      for (const k of ["o.m0", "o.v0"]) {
        a.state[k].data.forEach((x, i) => {
          const y = b.state[k].data[i];
          assert.ok(Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y)), `${k}[${i}]: ${x} vs ${y}`);
        });
      }
    } finally {
      await initBackend({ name: "wasm" });
    }
  });
}

for (const backend of ["wasm", "cpu"] as const) {
  Deno.test(`Adam's host update never writes into memory the variable shares (${backend})`, async () => {
    await initBackend({ name: backend });
    try {
      const given = new Float32Array([1, 2, 3]);
      const init = tf.tensor1d(given); // the cpu backend keeps `given` itself as the data
      const v = tf.variable(init); // shares init's memory
      const alias = tf.reshape(v, [3, 1]);
      const opt = new Adam([v], { lr: 0.5 });
      opt.apply({ [v.name]: tf.tensor1d([1, 1, 1]) });
      const held = tf.reshape(v, [3]); // shares the updated memory from here on
      opt.apply({ [v.name]: tf.tensor1d([1, 1, 1]) });
      assert.deepEqual(Array.from(given), [1, 2, 3]);
      assert.deepEqual(Array.from(init.dataSync()), [1, 2, 3]);
      assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3]);
      assert.deepEqual(Array.from(held.dataSync()), [0.5, 1.5, 2.5]);
      v.dataSync().forEach((x, i) => assert.ok(Math.abs(x - i) < 1e-6, `v[${i}] = ${x}`));
      tf.dispose([init, v, alias, held]);
      opt.dispose();
    } finally {
      await initBackend({ name: "wasm" });
    }
  });
}

for (const backend of ["wasm", "cpu"] as const) {
  for (const blas of ["off", "auto"] as const) {
    // The regression test of a bug that stopped every model from learning on wasm without BLAS:
    // the stock wasm matmul caches its packed right operand by tensor identity, and Adam then
    // wrote new weights into the old memory, so products kept using the initial weights.
    Deno.test(`after an optimiser step, products see the new weights (${backend}, BLAS ${blas})`, async () => {
      await initBackend({ name: backend, blas });
      try {
        const rng = new Rng(3);
        const x = tf.tensor2d(rng.normals(6 * 5), [6, 5]);
        const w = tf.variable(
          tf.tensor2d(rng.normals(5 * 4), [5, 4]),
          true,
          `w-${backend}-${blas}`,
        );
        const opt = new Adam([w], { lr: 0.1 });
        for (let step = 0; step < 3; step++) {
          // The product with the variable (what a layer computes), then with a fresh copy.
          const viaVariable = tf.matMul(x, w).dataSync();
          const copy = tf.tensor2d(w.dataSync().slice(), [5, 4]);
          const viaCopy = tf.matMul(x, copy).dataSync();
          viaVariable.forEach((v, i) =>
            assert.ok(
              Math.abs(v - viaCopy[i]) < 1e-5,
              `step ${step}, entry ${i}: ${v} vs ${viaCopy[i]}`,
            )
          );
          copy.dispose();
          opt.apply({ [w.name]: tf.onesLike(w) });
        }
        tf.dispose([x, w]);
        opt.dispose();
      } finally {
        await initBackend({ name: "wasm" });
      }
    });
  }
}

Deno.test("checkpoints round-trip and a corrupted index is reported with its path", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await hasCheckpoint(dir), false);
  await writeCheckpoint(dir, { epoch: 3 }, { a: { shape: [2], data: new Float32Array([1, 2]) } });
  await writeCheckpoint(dir, { epoch: 4 }, {
    a: { shape: [2], data: new Float32Array([3, 4]) },
    b: { shape: [1, 1], data: new Float32Array([5]) },
  });
  const ck = await readCheckpoint(dir);
  assert.deepEqual(ck.meta, { epoch: 4 });
  assert.deepEqual([...ck.arrays.a.data], [3, 4]);
  assert.deepEqual(ck.arrays.b.shape, [1, 1]);
  // Only the newest binary is kept.
  const bins = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".bin"));
  assert.equal(bins.length, 1);
  await Deno.writeTextFile(`${dir}/state.json`, "{ not json");
  await assert.rejects(() => readCheckpoint(dir), new RegExp(`${dir}/state.json: not valid JSON`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("batchNormTraining (+ReLU) equals autodiff of the formula: SIMD (d % 4 = 0) and op paths", async () => {
  const rng = new Rng(21);
  try {
    for (const backend of ["wasm", "cpu"] as const) {
      await initBackend({ name: backend });
      for (const d of [6, 8]) {
        for (const relu of [false, true]) {
          const what = `${backend} d=${d} relu=${relu}`;
          const x = tf.tensor2d(rng.normals(16 * d).map((v, i) => 2 * v + (i % d)), [16, d]);
          const gamma = tf.tensor1d(rng.normals(d).map((v) => 1 + 0.3 * v));
          const beta = tf.tensor1d(rng.normals(d));
          const w = tf.tensor2d(rng.normals(16 * d), [16, d]); // a non-uniform upstream gradient
          const formula = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const { mean, variance } = tf.moments(a, 0);
            const y = tf.add(
              tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g),
              b,
            );
            return relu ? tf.relu(y) : y;
          };
          const loss = (f: typeof formula) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(f(a, g, b), w)) as tf.Scalar;
          let moments: number[][] = [];
          const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            batchNormTraining(a as tf.Tensor2D, g, b, 1e-5, (mean, variance) => {
              moments = [Array.from(mean.dataSync()), Array.from(variance.dataSync())];
            }, relu);
          const want = tf.grads(loss(formula))([x, gamma, beta]);
          const got = tf.grads(loss(fused))([x, gamma, beta]);
          const yw = formula(x, gamma, beta).dataSync(), yg = fused(x, gamma, beta).dataSync();
          yg.forEach((v, i) =>
            assert.ok(Math.abs(v - yw[i]) < 1e-5, `${what} y[${i}]: ${v} vs ${yw[i]}`)
          );
          const ref = tf.moments(x, 0);
          const [rm, rv] = [ref.mean.dataSync(), ref.variance.dataSync()];
          moments[0].forEach((v, j) => assert.ok(Math.abs(v - rm[j]) < 1e-5, `${what} mean[${j}]`));
          moments[1].forEach((v, j) =>
            assert.ok(Math.abs(v - rv[j]) < 1e-4 * (1 + rv[j]), `${what} var[${j}]`)
          );
          ["x", "gamma", "beta"].forEach((name, k) => {
            const g = got[k].dataSync(), e = want[k].dataSync();
            let norm = 0;
            g.forEach((v, i) => {
              assert.ok(
                Math.abs(v - e[i]) < 2e-5 * Math.max(1, Math.abs(e[i])),
                `${what} d${name}[${i}]: ${v} vs ${e[i]}`,
              );
              norm += Math.abs(e[i]);
            });
            assert.ok(norm > 0.01, `${what} d${name} is all but zero`);
          });
          if (relu) assert.ok(yg.some((v) => v === 0), `${what}: the ReLU clipped something`);
          tf.dispose([x, gamma, beta, w, ref.mean, ref.variance, ...want, ...got]);
        }
      }
    }
  } finally {
    await initBackend({ name: "wasm" });
  }
});

Deno.test("withoutTape keeps its ops off the enclosing tape and restores it, also on a throw", () => {
  const w = tf.variable(tf.tensor1d([2, 3]));
  const v = tf.variable(tf.tensor1d([1, 1]));
  const x = tf.tensor1d([5, 7]);
  const { value, grads } = tf.variableGrads(() => {
    const y = tf.sum(tf.mul(x, w));
    // Counted in the value, invisible to the gradient; an inner first-order gradient works.
    const off = withoutTape(() => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(t)))(v); // 2 v
      return tf.add(tf.sum(tf.mul(x, w)), tf.sum(g)); // 31 + 4
    });
    assert.throws(() =>
      withoutTape(() => {
        throw new Error("inner");
      }), /inner/);
    return tf.add(tf.add(y, off), tf.sum(tf.mul(x, w))) as tf.Scalar; // recorded again after
  }, [w, v]);
  assert.equal(value.dataSync()[0], 31 + 35 + 31);
  assert.deepEqual(
    Array.from(grads[w.name].dataSync()),
    [10, 14],
    "two recorded uses of w, not three",
  );
  assert.equal(grads[v.name], undefined, "v was only used off the tape");
  tf.dispose([w, v, x, value, grads[w.name]]);
});

Deno.test("dense equals the op composition for every activation, values and gradients (wasm, cpu)", async () => {
  const rng = new Rng(31);
  try {
    for (const backend of ["wasm", "cpu"] as const) {
      await initBackend({ name: backend });
      for (const act of ["linear", "relu", "sigmoid", "tanh"] as const) {
        const x = tf.tensor2d(rng.normals(5 * 7), [5, 7]);
        const W = tf.tensor2d(rng.normals(7 * 3), [7, 3]);
        const b = tf.tensor1d(rng.normals(3));
        const loss = (f: typeof dense) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(f(xx as tf.Tensor2D, ww, bb, act), tf.range(1, 16).reshape([5, 3])));
        const [want, got] = [denseOps, dense].map((f) => tf.valueAndGrads(loss(f))([x, W, b]));
        const what = `${backend} ${act}`;
        assert.ok(Math.abs(got.value.dataSync()[0] - want.value.dataSync()[0]) < 1e-4, what);
        for (const k of [0, 1, 2]) {
          const g = got.grads[k].dataSync(), w = want.grads[k].dataSync();
          assert.deepEqual(got.grads[k].shape, want.grads[k].shape, `${what} grad ${k} shape`);
          w.forEach((v, i) =>
            assert.ok(
              Math.abs(g[i] - v) <= 1e-4 * (1 + Math.abs(v)),
              `${what} grad ${k}[${i}]: ${g[i]} vs ${v}`,
            )
          );
        }
        tf.dispose([x, W, b, want.value, got.value, ...want.grads, ...got.grads]);
      }
    }
  } finally {
    await initBackend({ name: "wasm" });
  }
});
