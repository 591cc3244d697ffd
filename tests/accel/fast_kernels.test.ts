/**
 * The wasm fast kernels (src/accel/fast_kernels.ts) and the SIMD module behind them (src/accel/simd.ts):
 * each replacement gives the stock kernel's values (to float32 rounding), shares memory only
 * where that is safe, and leaves the cases it does not cover to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import {
  fastKernelsDescription,
  installFastKernels,
  leadingAxes,
  splitSizes,
  uninstallFastKernels,
} from "../../src/accel/fast_kernels.ts";
import { simdKernels, simdModuleBytes, wasmKernels } from "../../src/accel/simd.ts";
import { Rng } from "../../src/random.ts";
import { close } from "../test_utils.ts";

await initBackend({ name: "wasm" });

/** Values of `f()` with the stock kernels and with the fast ones. */
function stockAndFast(
  f: () => tf.Tensor,
): { stock: Float32Array; fast: Float32Array; shape: number[] } {
  uninstallFastKernels("wasm");
  const a = f();
  const stock = a.dataSync() as Float32Array;
  const shape = a.shape;
  a.dispose();
  assert.ok(installFastKernels("wasm"), "fast kernels should install on wasm");
  const b = f();
  assert.deepEqual(b.shape, shape);
  const fast = b.dataSync() as Float32Array;
  b.dispose();
  return { stock, fast, shape };
}

function assertClose(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  a.forEach((x, i) =>
    assert.ok(
      Math.abs(x - b[i]) <= tol * Math.max(1, Math.abs(b[i])),
      `${what}[${i}]: ${x} vs ${b[i]}`,
    )
  );
}

Deno.test("the SIMD module validates and binds to the wasm backend's memory", () => {
  assert.ok(WebAssembly.validate(simdModuleBytes() as BufferSource));
  const k = wasmKernels();
  assert.ok(k && typeof k.adam === "function" && typeof k.colsum === "function");
  assert.match(fastKernelsDescription("wasm") ?? "", /Identity\+Cast\+Sum\+Mean\+Softplus/);
});

Deno.test("leadingAxes accepts exactly the leading axes, in any order or negative", () => {
  assert.deepEqual(leadingAxes([4, 5, 6], [0]), { count: 1, rows: 4 });
  assert.deepEqual(leadingAxes([4, 5, 6], [1, 0]), { count: 2, rows: 20 });
  assert.deepEqual(leadingAxes([4, 5, 6], -3), { count: 1, rows: 4 });
  assert.equal(leadingAxes([4, 5, 6], [1]), undefined);
  assert.equal(leadingAxes([4, 5, 6], [0, 2]), undefined);
  assert.equal(leadingAxes([4, 5, 6], [0, 1, 2]), undefined, "all axes: stock kernel");
  assert.equal(leadingAxes([4, 5, 6], null), undefined, "null means all axes");
  assert.equal(leadingAxes([4, 5], [3]), undefined);
});

Deno.test("Sum and Mean over leading axes equal the stock kernels (vector body and tail)", () => {
  const rng = new Rng(3);
  const x = tf.tensor3d(rng.normals(7 * 3 * 13), [7, 3, 13]);
  const m = tf.tensor2d(rng.normals(128 * 37), [128, 37]);
  const cases: [string, () => tf.Tensor][] = [
    ["sum axis 0", () => tf.sum(m, 0)],
    ["mean axis 0", () => tf.mean(m, 0)],
    ["sum axis 0 keepDims", () => tf.sum(m, 0, true)],
    ["sum axes 0,1 of 3-d", () => tf.sum(x, [1, 0])],
    ["mean axis -3 keepDims", () => tf.mean(x, -3, true)],
    ["sum axis 1 (stock path)", () => tf.sum(m, 1)],
    ["mean of all (stock path)", () => tf.mean(m)],
  ];
  for (const [what, f] of cases) {
    const { stock, fast } = stockAndFast(f);
    assertClose(fast, stock, 1e-5, what);
  }
  tf.dispose([x, m]);
});

Deno.test("Identity and same-dtype Cast share memory; the copy survives the original", () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const c = tf.clone(x);
  const k = tf.cast(x, "float32");
  assert.equal(c.dataId, x.dataId, "clone shares the data");
  assert.equal(k.dataId, x.dataId, "same-dtype cast shares the data");
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(k.dataSync()), [1, 2, 3, 4]);
  const i = tf.cast(c, "int32");
  assert.equal(i.dtype, "int32");
  assert.deepEqual(Array.from(i.dataSync()), [1, 2, 3, 4]);
  tf.dispose([c, k, i]);
});

Deno.test("Softplus stays within a few float32 ulps of log1p(exp(x)) over [-100, 100]", () => {
  const n = 100_003; // not a multiple of 4: the tail goes through the JS path
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = -100 + (200 * i) / (n - 1);
  xs.set([0, 1e-8, -1e-8, -87, 30, 16.5, 1e-30, -5.5]);
  const x = tf.tensor1d(xs);
  const y = tf.softplus(x);
  const got = y.dataSync();
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const t = xs[i];
    if (t < -87) continue; // result below float32's normal range (documented)
    const exact = Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
    worst = Math.max(worst, Math.abs(got[i] - exact) / exact);
  }
  assert.ok(worst < 5e-7, `max relative error ${worst}`);
  tf.dispose([x, y]);
});

Deno.test("Softplus and its gradient equal the stock kernel's", () => {
  const rng = new Rng(9);
  const z = tf.tensor2d(rng.normals(33 * 17).map((v) => 8 * v), [33, 17]);
  const value = stockAndFast(() => tf.softplus(z));
  assertClose(value.fast, value.stock, 1e-6, "softplus");
  const grad = stockAndFast(() => tf.grad((t: tf.Tensor) => tf.sum(tf.softplus(t)))(z));
  assertClose(grad.fast, grad.stock, 1e-6, "d softplus");
  z.dispose();
});

Deno.test("initBackend({fastKernels: false}) restores the stock kernels and reports none", async () => {
  try {
    const off = await initBackend({ name: "wasm", fastKernels: false });
    assert.equal(off.fastKernels, undefined);
    assert.equal(fastKernelsDescription("wasm"), undefined);
    assert.equal(simdKernels(), undefined, "no SIMD path runs with the fast kernels off");
    assert.ok(wasmKernels(), "the module itself is still available");
    const on = await initBackend({ name: "wasm" });
    assert.match(on.fastKernels ?? "", /fast kernels/);
    assert.ok(simdKernels(), "SIMD paths back on");
    const cpu = await initBackend({ name: "cpu" });
    assert.equal(cpu.fastKernels, undefined, "the cpu backend has no fast kernels");
  } finally {
    await initBackend({ name: "wasm" });
  }
});

Deno.test("gradient saves share memory under one tape (fewer tape nodes, same gradients, no leak)", () => {
  const rng = new Rng(21);
  const w = tf.variable(tf.tensor2d(rng.normals(6 * 5), [6, 5]));
  const x = tf.tensor2d(rng.normals(4 * 6), [4, 6]);
  const run = () => {
    let nodes = 0;
    const { value, grads } = tf.variableGrads(() => {
      const y = tf.sum(tf.square(tf.relu(tf.matMul(x, w)))) as tf.Scalar;
      nodes = (tf.engine() as unknown as { state: { activeTape: unknown[] } }).state.activeTape
        .length;
      return y;
    }, [w]);
    const out = {
      value: value.dataSync()[0],
      grad: grads[w.name].dataSync() as Float32Array,
      nodes,
    };
    tf.dispose([value, grads[w.name]]);
    return out;
  };
  uninstallFastKernels("wasm");
  const stock = run();
  assert.ok(installFastKernels("wasm"));
  const before = tf.memory().numTensors;
  const fast = run();
  assert.equal(tf.memory().numTensors, before, "saved handles are all released");
  close(fast.value, stock.value);
  assertClose(fast.grad, stock.grad, 1e-6, "dW");
  assert.ok(fast.nodes < stock.nodes, `tape nodes ${fast.nodes} vs stock ${stock.nodes}`);
  // Under nested tapes the clones stay: a second-order gradient still finds its path.
  const g2 = tf.variableGrads(() => {
    const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.matMul(t as tf.Tensor2D, w))))(x);
    return tf.sum(tf.square(gx)) as tf.Scalar;
  }, [w]);
  assert.ok(g2.grads[w.name].dataSync().some((v) => v !== 0), "second-order gradient reaches w");
  tf.dispose([w, x, g2.value, g2.grads[w.name]]);
});

Deno.test("SplitV along a leading axis equals the stock kernel (sizes, counts, -1; other axes stock)", () => {
  const rng = new Rng(22);
  const m = tf.tensor2d(rng.normals(12 * 5), [12, 5]);
  const x3 = tf.tensor3d(rng.normals(1 * 6 * 3), [1, 6, 3]);
  const cases: [string, () => tf.Tensor[]][] = [
    ["axis 0, sizes", () => tf.split(m, [3, 0, 9], 0)],
    ["axis 0, count", () => tf.split(m, 4, 0)],
    ["axis 0, -1", () => tf.split(m, [5, -1], 0)],
    ["axis 1 after a size-1 dim", () => tf.split(x3, [2, 4], 1)],
    ["axis 1 of 2-d (stock path)", () => tf.split(m, [2, 3], 1)],
    [
      "concat gradient",
      () => [tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.concat([t, t], 0))))(m)],
    ],
  ];
  for (const [what, f] of cases) {
    uninstallFastKernels("wasm");
    const stock = f();
    assert.ok(installFastKernels("wasm"));
    const fast = f();
    assert.equal(fast.length, stock.length, what);
    fast.forEach((t, i) => {
      assert.deepEqual(t.shape, stock[i].shape, `${what} piece ${i}`);
      assert.deepEqual(
        Array.from(t.dataSync()),
        Array.from(stock[i].dataSync()),
        `${what} piece ${i}`,
      );
    });
    tf.dispose([...stock, ...fast]);
  }
  assert.deepEqual(splitSizes(12, [3, -1]), [3, 9]);
  assert.equal(splitSizes(12, 5), undefined);
  assert.equal(splitSizes(12, [3, 3]), undefined);
  assert.equal(splitSizes(12, [-1, -1]), undefined);
  tf.dispose([m, x3]);
});
