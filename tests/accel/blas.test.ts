/**
 * Tests of src/accel/blas.ts: the CBLAS matmul kernels against the stock tfjs kernels.
 *
 * Tests that need the library are ignored (with a printed note) when no CBLAS library is
 * found; the fallback tests always run.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import assert from "node:assert/strict";
import {
  applyBlasMode,
  blasKernelsInstalled,
  installBlasKernels,
  probeBlasLibrary,
  sparseEntries,
  uninstallBlasKernels,
} from "../../src/accel/blas.ts";
import {
  initBackend,
  registerExplicitTransposeMatMulGradient,
  restoreStockMatMulGradient,
} from "../../src/accel/backend.ts";
import { Rng } from "../../src/random.ts";

const probe = probeBlasLibrary();
const noBlas = !probe.found;
if (!probe.found) {
  console.log(`tests/blas.test.ts: BLAS-dependent tests ignored — ${probe.reason}`);
}

const BACKENDS = ["wasm", "cpu"] as const;

async function useBackend(name: string): Promise<void> {
  assert.ok(await tf.setBackend(name), `backend ${name} failed to initialise`);
  await tf.ready();
}

/** A test that needs the BLAS library (ignored without it), run on `backend`. */
function blasTest(name: string, backend: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name,
    ignore: noBlas,
    async fn() {
      await useBackend(backend);
      await fn();
    },
  });
}

function rand(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape);
}

/** Swap the last two entries of a shape (the stored shape of a transposed operand). */
function swapped(shape: number[], yes: boolean): number[] {
  const s = [...shape];
  if (yes) [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

/** Max over elements of |x - y| / (1 + |y|); Infinity on a length mismatch. */
function maxRelDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i]));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

function assertClose(x: tf.Tensor, y: tf.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(x.shape, y.shape, `${what}: shape`);
  const d = maxRelDiff(x.dataSync(), y.dataSync());
  assert.ok(d < tol, `${what}: max relative difference ${d} >= ${tol}`);
}

/** Stock reference for a broadcast batched product: tile both operands to the full batch. */
function tiledMatMul(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): tf.Tensor {
  return tf.tidy(() => {
    const la = a.shape.slice(0, -2);
    const lb = b.shape.slice(0, -2);
    const r = Math.max(la.length, lb.length);
    const pad = (s: number[]) => [...Array(r - s.length).fill(1), ...s];
    const pa = pad(la), pb = pad(lb);
    const lead = pa.map((d, i) => Math.max(d, pb[i]));
    const full = (x: tf.Tensor, p: number[]) => {
      const y = tf.reshape(x, [...p, ...x.shape.slice(-2)]);
      return tf.tile(y, [...lead.map((d, i) => d / p[i]), 1, 1]);
    };
    const fa = full(a, pa), fb = full(b, pb);
    if (r === 0) return tf.matMul(a, b, ta, tb);
    const out = tf.matMul(
      tf.reshape(fa, [-1, ...fa.shape.slice(-2)]),
      tf.reshape(fb, [-1, ...fb.shape.slice(-2)]),
      ta,
      tb,
    );
    return tf.reshape(out, [...lead, ...out.shape.slice(-2)]);
  });
}

const MATMUL_CASES: { a: number[]; b: number[]; note: string }[] = [
  { a: [5, 7], b: [7, 3], note: "2-D" },
  { a: [1, 1], b: [1, 1], note: "1x1" },
  { a: [4, 5, 7], b: [4, 7, 3], note: "equal batch" },
  { a: [4, 5, 7], b: [7, 3], note: "batched a, 2-D b" },
  { a: [5, 7], b: [4, 7, 3], note: "2-D a, batched b" },
  { a: [4, 5, 7], b: [1, 7, 3], note: "b batch 1" },
  { a: [1, 5, 7], b: [4, 7, 3], note: "a batch 1" },
  { a: [2, 3, 5, 7], b: [3, 7, 3], note: "rank 4 x rank 3" },
  { a: [2, 1, 5, 7], b: [1, 3, 7, 3], note: "both broadcast" },
  { a: [6, 33], b: [33, 17], note: "odd sizes" },
];

// ---------------------------------------------------------------------------------------
// Fallback (always run)

Deno.test("HASH_BLAS_LIB naming a missing file: not installed, the reason names the path, stock kernels stay", async () => {
  await useBackend("wasm");
  uninstallBlasKernels("wasm");
  const stockKernel = tf.getKernel("BatchMatMul", "wasm");
  const stockFused = tf.getKernel("_FusedMatMul", "wasm");
  const old = Deno.env.get("HASH_BLAS_LIB");
  Deno.env.set("HASH_BLAS_LIB", "/nonexistent/libnoblas.so");
  try {
    const r = await installBlasKernels();
    assert.equal(r.installed, false);
    assert.match(r.reason ?? "", /\/nonexistent\/libnoblas\.so/);
    assert.equal(r.reason!.includes("\n"), false, "reason is one line");
    assert.equal(tf.getKernel("BatchMatMul", "wasm"), stockKernel);
    assert.equal(tf.getKernel("_FusedMatMul", "wasm"), stockFused);
    assert.equal(blasKernelsInstalled("wasm"), false);
    const y = tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1]));
    assert.deepEqual(Array.from(y.dataSync()), [11]);
  } finally {
    if (old === undefined) Deno.env.delete("HASH_BLAS_LIB");
    else Deno.env.set("HASH_BLAS_LIB", old);
  }
});

Deno.test("unsupported and native backends are declined with a reason; the tensorflow backend needs none", async () => {
  const tfn = await installBlasKernels({ backend: "tensorflow" });
  assert.equal(tfn.installed, false);
  assert.match(tfn.reason!, /already uses a BLAS-class GEMM/);
  const webgl = await installBlasKernels({ backend: "webgl" });
  assert.equal(webgl.installed, false);
  assert.match(webgl.reason!, /backend 'webgl' is not supported/);
  // mode "on" does not fail on the tensorflow backend
  assert.equal((await applyBlasMode("on", { backend: "tensorflow" })).installed, false);
});

Deno.test("bad thread counts and modes are rejected with a one-line error", async () => {
  await assert.rejects(
    () => installBlasKernels({ threads: 0 }),
    /threads must be a positive integer, got '0'/,
  );
  await assert.rejects(
    () => installBlasKernels({ threads: 1.5 }),
    /threads must be a positive integer/,
  );
  const old = Deno.env.get("HASH_BLAS_THREADS");
  Deno.env.set("HASH_BLAS_THREADS", "many");
  try {
    await assert.rejects(
      () => installBlasKernels(),
      /HASH_BLAS_THREADS must be a positive integer, got 'many'/,
    );
  } finally {
    if (old === undefined) Deno.env.delete("HASH_BLAS_THREADS");
    else Deno.env.set("HASH_BLAS_THREADS", old);
  }
  await assert.rejects(
    () => applyBlasMode("fast" as never),
    /unknown BLAS mode 'fast'; expected one of auto, on, off/,
  );
});

Deno.test("initBackend with blas 'on' and a missing library fails naming the path", async () => {
  const old = Deno.env.get("HASH_BLAS_LIB");
  Deno.env.set("HASH_BLAS_LIB", "/nonexistent/libnoblas.so");
  try {
    await assert.rejects(
      () => initBackend({ name: "wasm", blas: "on" }),
      /BLAS kernels required \(mode 'on'\) but not installed: .*\/nonexistent\/libnoblas\.so/,
    );
    const auto = await initBackend({ name: "wasm", blas: "auto" });
    assert.equal(auto.accelerated, undefined);
    assert.equal(auto.explicitTransposeGrad, true);
  } finally {
    if (old === undefined) Deno.env.delete("HASH_BLAS_LIB");
    else Deno.env.set("HASH_BLAS_LIB", old);
  }
});

// ---------------------------------------------------------------------------------------
// With the library

blasTest(
  "wasm: the output is right when allocating it grows the wasm heap (views re-derived)",
  "wasm",
  async () => {
    await installBlasKernels();
    // deno-lint-ignore no-explicit-any
    const heap = () => ((tf.backend() as any).wasm.HEAPU8 as Uint8Array).buffer.byteLength;
    const before = heap();
    const m = 2048;
    const n = Math.ceil((before / 4 + (1 << 20)) / m); // output bigger than the whole heap
    const rng = new Rng(11);
    const av = rng.normals(m), bv = rng.normals(n);
    const y = tf.matMul(tf.tensor2d(av, [m, 1]), tf.tensor2d(bv, [1, n]));
    assert.ok(heap() > before, "heap grew");
    const v = y.dataSync();
    let worst = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        worst = Math.max(worst, Math.abs(v[i * n + j] - av[i] * bv[j]));
      }
    }
    assert.ok(worst < 1e-6, `max abs error ${worst}`);
    y.dispose();
  },
);

for (const backend of BACKENDS) {
  blasTest(
    `${backend}: BLAS BatchMatMul equals the stock kernel for every transpose and batch shape`,
    backend,
    async () => {
      const rng = new Rng(1);
      for (const c of MATMUL_CASES) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const a = rand(swapped(c.a, ta), rng), b = rand(swapped(c.b, tb), rng);
            uninstallBlasKernels(backend);
            const ref = tiledMatMul(a, b, ta, tb);
            assert.equal((await installBlasKernels()).installed, true);
            const ours = tf.matMul(a, b, ta, tb);
            assertClose(ours, ref, `${c.note} a=${a.shape} b=${b.shape} tA=${ta} tB=${tb}`);
            tf.dispose([a, b, ref, ours]);
          }
        }
      }
    },
  );

  blasTest(
    `${backend}: an empty inner dimension gives zeros and empty outputs work`,
    backend,
    async () => {
      await installBlasKernels();
      const z = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
      assert.deepEqual(z.shape, [3, 4]);
      assert.deepEqual(Array.from(z.dataSync()), new Array(12).fill(0));
      const e = tf.matMul(tf.zeros([0, 5]), tf.ones([5, 2]));
      assert.deepEqual(e.shape, [0, 2]);
      tf.dispose([z, e]);
    },
  );

  blasTest(
    `${backend}: BLAS _FusedMatMul equals stock matMul+bias+activation for every activation, bias shape and transpose`,
    backend,
    async () => {
      const rng = new Rng(2);
      const acts = ["linear", "relu", "relu6", "elu", "leakyrelu", "prelu", "sigmoid"] as const;
      const shapes = [
        { a: [5, 7], b: [7, 3], biases: [null, [3], [5, 3], [1]] },
        { a: [3, 5, 7], b: [3, 7, 3], biases: [null, [3], [3, 5, 3]] },
        { a: [3, 5, 7], b: [7, 3], biases: [[3], [1, 5, 3]] },
      ];
      for (const s of shapes) {
        for (const biasShape of s.biases) {
          for (const activation of acts) {
            for (const ta of [false, true]) {
              for (const tb of [false, true]) {
                const a = rand(swapped(s.a, ta), rng), b = rand(swapped(s.b, tb), rng);
                // scale so that relu6 and sigmoid see both saturated and linear ranges
                const bias = biasShape ? tf.mul(rand(biasShape, rng), 3) : undefined;
                const prelu = activation === "prelu" ? rand([3], rng) : undefined;
                const args = {
                  a,
                  b,
                  transposeA: ta,
                  transposeB: tb,
                  bias,
                  activation,
                  preluActivationWeights: prelu,
                  leakyreluAlpha: 0.3,
                };
                uninstallBlasKernels(backend);
                const ref = tf.tidy(() => {
                  let y = tiledMatMul(a, b, ta, tb);
                  if (bias) y = tf.add(y, bias);
                  switch (activation) {
                    case "relu":
                      return tf.relu(y);
                    case "relu6":
                      return tf.relu6(y);
                    case "elu":
                      return tf.elu(y);
                    case "leakyrelu":
                      return tf.leakyRelu(y, 0.3);
                    case "prelu":
                      return tf.prelu(y, prelu!);
                    case "sigmoid":
                      return tf.sigmoid(y);
                    default:
                      return y;
                  }
                });
                // The stock fused kernel itself, where it is right: tfjs-backend-wasm 4.22's
                // _FusedMatMul drops or misplaces the bias when a transpose is set or the
                // batch is > 1 (checked against matMul+add on the same backend), and takes
                // only a bias of shape [N].
                const stockRight = backend === "cpu" || !bias ||
                  (s.a.length === 2 && s.b.length === 2 && !ta && !tb &&
                    biasShape!.join() === "3");
                const stockFused = stockRight ? tf.fused.matMul(args) : undefined;
                await installBlasKernels();
                const ours = tf.fused.matMul(args);
                const what = `a=${a.shape} b=${b.shape} bias=${biasShape} ${activation} ` +
                  `tA=${ta} tB=${tb}`;
                assertClose(ours, ref, what);
                if (stockFused) assertClose(ours, stockFused, `${what} (stock fused)`);
                tf.dispose([a, b, ref, ours]);
                tf.dispose([bias, prelu, stockFused].filter((t) => t) as tf.Tensor[]);
              }
            }
          }
        }
      }
    },
  );

  blasTest(
    `${backend}: gradients through matMul and fused matMul equal those with the stock kernels`,
    backend,
    async () => {
      restoreStockMatMulGradient();
      const rng = new Rng(3);
      const grads = (
        kind: "plain" | "linear" | "relu",
        a: tf.Tensor,
        b: tf.Tensor,
        bias: tf.Tensor,
        ta: boolean,
        tb: boolean,
      ) => {
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => {
          const p = kind === "plain" ? tf.add(tf.matMul(x, y, ta, tb), z) : tf.fused.matMul({
            a: x,
            b: y,
            bias: z,
            transposeA: ta,
            transposeB: tb,
            activation: kind,
          });
          const w = tf.cos(tf.reshape(tf.range(0, p.size), p.shape));
          return tf.sum(tf.mul(p, w));
        };
        return tf.grads(f)([a, b, bias]);
      };
      // [a, b, gradient]: the stock gradient needs equal batches; the explicit-transpose one
      // of src/accel/backend.ts also reduces broadcast batch dimensions.
      const shapes: [number[], number[], "stock" | "explicit"][] = [
        [[6, 9], [9, 4], "stock"],
        [[3, 6, 9], [3, 9, 4], "stock"],
        [[3, 6, 9], [9, 4], "explicit"],
        [[1, 6, 9], [2, 9, 4], "explicit"],
      ];
      for (const [sa, sb, gradient] of shapes) {
        if (gradient === "stock") restoreStockMatMulGradient();
        else registerExplicitTransposeMatMulGradient();
        // tfjs-core's fused matMul gradient does not reduce broadcast batches either
        const kinds = gradient === "stock"
          ? ["plain", "linear", "relu"] as const
          : ["plain"] as const;
        for (const kind of kinds) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const a = rand(swapped(sa, ta), rng), b = rand(swapped(sb, tb), rng);
              const bias = rand([4], rng);
              uninstallBlasKernels(backend);
              const ref = grads(kind, a, b, bias, ta, tb);
              await installBlasKernels();
              const ours = grads(kind, a, b, bias, ta, tb);
              for (let i = 0; i < 3; i++) {
                const what = `a=${a.shape} b=${b.shape} ${gradient} gradient ${kind} ` +
                  `tA=${ta} tB=${tb} d${["a", "b", "bias"][i]}`;
                assertClose(ours[i], ref[i], what);
              }
              tf.dispose([a, b, bias, ...ref, ...ours]);
            }
          }
        }
      }
      restoreStockMatMulGradient();
    },
  );

  blasTest(`${backend}: BLAS kernels leak no tensors or backend buffers`, backend, async () => {
    await installBlasKernels();
    const rng = new Rng(4);
    const a = rand([3, 5, 7], rng), b = rand([7, 4], rng), bias = rand([4], rng);
    const tensors = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.matMul(a, b);
      tf.matMul(a, tf.transpose(b), false, true);
      tf.fused.matMul({ a, b, bias, activation: "relu" });
    });
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.backend().numDataIds(), ids);
    tf.dispose([a, b, bias]);
  });
}

for (const backend of BACKENDS) {
  blasTest(
    `${backend}: a mostly-zero left operand runs over its nonzeros and equals the stock product (plain, transposed, fused bias)`,
    backend,
    async () => {
      const rng = new Rng(41);
      // 1% nonzeros, like bag-of-words text; n = 203 leaves a tail after the 4-lane kernel.
      const sparse = (rows: number, cols: number) =>
        tf.tensor2d(
          Float32Array.from(
            { length: rows * cols },
            () => (rng.uniform() < 0.01 ? rng.uniform() + 0.5 : 0),
          ),
          [rows, cols],
        );
      const x = sparse(96, 1386), xt = sparse(1386, 96);
      const W = rand([1386, 203], rng) as tf.Tensor2D, bias = rand([203], rng);
      const cases: [string, () => tf.Tensor][] = [
        ["x W", () => tf.matMul(x, W)],
        ["xt^T W", () => tf.matMul(xt, W, true, false)],
        ["x W + b, relu", () => tf.fused.matMul({ a: x, b: W, bias, activation: "relu" })],
      ];
      for (const [what, f] of cases) {
        uninstallBlasKernels(backend);
        const ref = f();
        const on = await installBlasKernels({ sparse: true });
        assert.match(on.description!, /sparse A <= 5% nonzeros/);
        const ours = f();
        assertClose(ours, ref, `${backend} ${what}`, 1e-5);
        const off = await installBlasKernels({ sparse: false });
        assert.match(off.description!, /sparse A off/);
        const dense = f();
        assertClose(dense, ref, `${backend} ${what} (sgemm)`, 1e-5);
        tf.dispose([ref, ours, dense]);
      }
      await installBlasKernels();
      tf.dispose([x, xt, W, bias]);
    },
  );
}

Deno.test("sparseEntries lists the nonzeros of a sparse matrix and declines a dense one", () => {
  const a = new Float32Array(10000);
  a[3] = 2;
  a[9999] = -1;
  const e = sparseEntries(a, 500)!;
  assert.equal(e.count, 2);
  assert.deepEqual(Array.from(e.index.subarray(0, 2)), [3, 9999]);
  assert.deepEqual(Array.from(e.value.subarray(0, 2)), [2, -1]);
  const dense = Float32Array.from({ length: 10000 }, (_, i) => (i % 3 === 0 ? 0 : 1));
  assert.equal(sparseEntries(dense, 500), undefined, "dense everywhere");
  const late = new Float32Array(10000).fill(1, 5000); // sparse start, dense end
  assert.equal(sparseEntries(late, 500), undefined, "too many nonzeros after the probe");
});

blasTest("cpu: non-float32 products are handed to the stock kernel", "cpu", async () => {
  const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], "int32");
  const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2], "int32");
  uninstallBlasKernels("cpu");
  const ref = tf.matMul(a, b);
  await installBlasKernels();
  const ours = tf.matMul(a, b);
  assert.equal(ours.dtype, "int32");
  assert.deepEqual(Array.from(ours.dataSync()), Array.from(ref.dataSync()));
  tf.dispose([a, b, ref, ours]);
});

blasTest(
  "uninstall puts the stock kernels back; a failed reinstall leaves them stock",
  "wasm",
  async () => {
    uninstallBlasKernels("wasm");
    const stock = tf.getKernel("BatchMatMul", "wasm");
    assert.equal((await installBlasKernels()).installed, true);
    assert.notEqual(tf.getKernel("BatchMatMul", "wasm"), stock);
    assert.equal(uninstallBlasKernels("wasm"), true);
    assert.equal(tf.getKernel("BatchMatMul", "wasm"), stock);
    await installBlasKernels();
    const failed = await installBlasKernels({ library: "/nonexistent/libnoblas.so" });
    assert.equal(failed.installed, false);
    assert.equal(tf.getKernel("BatchMatMul", "wasm"), stock);
  },
);

Deno.test({
  name: "the thread count is applied and reported (OpenBLAS)",
  ignore: noBlas || !probe.found || !/OpenBLAS/.test(probe.vendor),
  async fn() {
    await useBackend("wasm");
    const base = await installBlasKernels();
    const one = await installBlasKernels({ threads: 1 });
    assert.equal(one.threads, 1);
    assert.match(one.description!, /threads=1/);
    await installBlasKernels({ threads: base.threads ?? 1 });
  },
});

Deno.test({
  name:
    "initBackend reports the BLAS kernels in BackendInfo and drops the explicit-transpose gradient; 'off' restores both",
  ignore: noBlas,
  async fn() {
    const on = await initBackend({ name: "wasm", blas: "on" });
    assert.match(
      on.accelerated ?? "",
      /^cblas_sgemm via .*kernels=BatchMatMul\+_FusedMatMul, sparse A /,
    );
    assert.equal(on.explicitTransposeGrad, false);
    const cpu = await initBackend({ name: "cpu", blas: "on" });
    assert.match(cpu.accelerated ?? "", /^cblas_sgemm via /);
    const off = await initBackend({ name: "wasm", blas: "off" });
    assert.equal(off.accelerated, undefined);
    assert.equal(off.explicitTransposeGrad, true);
    assert.equal(blasKernelsInstalled("wasm"), false);
    uninstallBlasKernels("cpu");
  },
});
