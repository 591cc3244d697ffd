/**
 * Finite-difference checks of every custom op and every gradient this project registers, on
 * the shapes the models use, on every available kernel configuration (src/accel/backend.ts,
 * kernelConfigurations): the fused dense layer (HashDense), fused BatchNorm (+ReLU), the fused
 * pair likelihood, matMulT, the MatMul gradients (explicit transposes and transpose flags,
 * broadcast batch dimensions included), the sparse-operand BLAS path, and the critic's
 * first-order input gradient.
 *
 * Each check compares the analytic gradient of a scalar probe sum(R * f(inputs)) (R fixed and
 * random) with central differences at a sample of entries, in float32: step h = 1e-2 (0.1-0.3
 * for the mean-reduced losses, whose per-entry gradients are ~1/(m n) and would drown in the
 * rounding of a float32 difference quotient at a small step), tolerance 2e-2 relative plus
 * 2e-3 of the input's largest gradient entry. For functions with ReLUs, entries that sit on a
 * kink (the one-sided quotients disagree by more than the tolerance) are skipped, and at least
 * half of the sampled entries must be checked. A gradient 5% off fails these checks.
 */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import {
  type BackendOptions,
  initBackend,
  kernelConfigurations,
  matMulT,
  registerExplicitTransposeMatMulGradient,
  registerTransposeFlagMatMulGradient,
} from "../../src/accel/backend.ts";
import { batchNormTraining, dense, Mlp, ParamStore } from "../../src/nn/mod.ts";
import { pairLikelihood } from "../../src/nn/losses.ts";
import { Rng } from "../../src/random.ts";

const CONFIGS = (await kernelConfigurations()).filter((c) => c.label !== "tensorflow");

interface Input {
  shape: number[];
  values: Float32Array;
  /** Differentiate with respect to this input (default true). */
  check?: boolean;
}

/**
 * Central-difference check of d/d(inputs) sum(R * f(inputs)) at `samples` entries per input.
 */
function gradcheck(
  what: string,
  f: (xs: tf.Tensor[]) => tf.Tensor,
  inputs: Input[],
  seed: number,
  { h = 1e-2, samples = 10, kinks = false }: { h?: number; samples?: number; kinks?: boolean } = {},
): void {
  const rng = new Rng(seed);
  const tensors = inputs.map((x) => tf.tensor(x.values, x.shape, "float32"));
  const out0 = tf.tidy(() => f(tensors));
  const R = tf.tensor(rng.normals(out0.size), out0.shape, "float32");
  out0.dispose();
  const probe = (xs: tf.Tensor[]) => tf.sum(tf.mul(f(xs), R)) as tf.Scalar;
  const which = inputs.map((x, i) => (x.check ?? true) ? i : -1).filter((i) => i >= 0);
  const analytic = tf.tidy(() =>
    tf.grads((...xs: tf.Tensor[]) => {
      const all = tensors.slice();
      which.forEach((i, k) => (all[i] = xs[k]));
      return probe(all);
    })(which.map((i) => tensors[i]))
  ).map((g) => g.dataSync().slice() as Float32Array);
  const at = (i: number, values: Float32Array) =>
    tf.tidy(() => {
      const all = tensors.slice();
      all[i] = tf.tensor(values, inputs[i].shape, "float32");
      return probe(all).dataSync()[0];
    });
  which.forEach((i, k) => {
    const g = analytic[k];
    const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let checked = 0;
    const picks = rng.permutation(g.length).subarray(0, Math.min(samples, g.length));
    for (const j of picks) {
      const x = inputs[i].values.slice();
      const x0 = x[j];
      const f0 = at(i, x);
      x[j] = x0 + h;
      const fp = at(i, x);
      x[j] = x0 - h;
      const fm = at(i, x);
      const up = (fp - f0) / h, down = (f0 - fm) / h;
      const tol = 2e-2 * Math.abs(g[j]) + 2e-3 * scale;
      if (kinks && Math.abs(up - down) > tol) continue; // a ReLU kink between x0 -+ h
      const fd = (fp - fm) / (2 * h);
      assert.ok(
        Math.abs(fd - g[j]) <= tol,
        `${what}: d/d input ${i} [${j}]: analytic ${g[j]}, central difference ${fd}`,
      );
      checked++;
    }
    assert.ok(checked >= picks.length / 2, `${what}: only ${checked} of ${picks.length} checked`);
  });
  tf.dispose([...tensors, R]);
}

const rand = (rng: Rng, shape: number[], scale = 1): Input => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: rng.normals(n).map((v) => v * scale) };
};

/** A bag-of-words-like matrix: ~2% of entries 1, the rest 0 (the BLAS sparse path). */
function sparseRows(rng: Rng, rows: number, cols: number): Input {
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i++) if (rng.uniform() < 0.02) v[i] = 1;
  return { shape: [rows, cols], values: v };
}

async function onConfig(options: BackendOptions, body: () => void): Promise<void> {
  await initBackend(options);
  try {
    body();
  } finally {
    await initBackend({ name: "wasm" });
  }
}

for (const c of CONFIGS) {
  const t = (name: string, body: () => void) =>
    Deno.test({
      name: `gradcheck on ${c.label}: ${name}`,
      ignore: !c.available,
      fn: () => onConfig(c.options, body),
    });

  t("dense (HashDense) for every activation, 64 x 256 -> 96", () => {
    const rng = new Rng(1);
    for (const act of ["linear", "relu", "sigmoid", "tanh"] as const) {
      gradcheck(
        `dense ${act}`,
        ([x, W, b]) => dense(x as tf.Tensor2D, W, b, act),
        [rand(rng, [64, 256]), rand(rng, [256, 96], 0.06), rand(rng, [96], 0.1)],
        10 + act.length,
        { kinks: act === "relu" },
      );
    }
  });

  t("fused BatchNorm, plain and with ReLU, 64 x 128 and 64 x 30", () => {
    const rng = new Rng(2);
    for (const d of [128, 30]) { // d % 4 = 0: SIMD kernels on wasm; otherwise tensor ops
      for (const relu of [false, true]) {
        gradcheck(
          `batchNorm d=${d} relu=${relu}`,
          ([x, g, b]) =>
            batchNormTraining(
              x as tf.Tensor2D,
              g as tf.Tensor1D,
              b as tf.Tensor1D,
              1e-5,
              () => {},
              relu,
            ),
          [rand(rng, [64, d], 2), rand(rng, [d]), rand(rng, [d], 0.5)],
          20 + d + (relu ? 1 : 0),
          { kinks: relu },
        );
      }
    }
  });

  t("pair likelihood (fused), 64 x 600", () => {
    const rng = new Rng(3);
    const s = new Float32Array(64 * 600).map(() => (rng.uniform() < 0.3 ? 1 : 0));
    // The fused op is a mean over 38,400 entries: one entry moves its float32 value by a few
    // ulps, too few for a difference quotient. Its value is checked against the float64
    // formula, and its gradient against central differences of that formula.
    const theta = rng.normals(64 * 600).map((v) => 3 * v);
    const formula = (t: Float32Array | Float64Array) => {
      let sum = 0;
      for (let i = 0; i < t.length; i++) {
        const x = t[i];
        sum += Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))) - s[i] * x;
      }
      return sum / t.length;
    };
    const th = tf.tensor2d(theta, [64, 600]), S = tf.tensor2d(s, [64, 600]);
    const value = tf.tidy(() => pairLikelihood(th, S).dataSync()[0]);
    const exact = formula(theta);
    assert.ok(Math.abs(value - exact) <= 1e-6 * Math.abs(exact), `value ${value} vs ${exact}`);
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => pairLikelihood(t as tf.Tensor2D, S))(th))
      .dataSync();
    const x64 = Float64Array.from(theta), h = 1e-3;
    for (const j of rng.permutation(theta.length).subarray(0, 20)) {
      x64[j] = theta[j] + h;
      const fp = formula(x64);
      x64[j] = theta[j] - h;
      const fm = formula(x64);
      x64[j] = theta[j];
      const fd = (fp - fm) / (2 * h);
      assert.ok(
        Math.abs(g[j] - fd) <= 1e-3 * Math.abs(fd) + 1e-12,
        `d/dtheta[${j}]: ${g[j]} vs ${fd}`,
      );
    }
    tf.dispose([th, S]);
  });

  t("matMulT for every transpose pair, non-square", () => {
    const rng = new Rng(4);
    for (const [tx, ty] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = tx ? [48, 64] : [64, 48], b = ty ? [80, 48] : [48, 80];
      gradcheck(
        `matMulT tx=${tx} ty=${ty}`,
        ([x, y]) => matMulT(x, y, tx, ty),
        [rand(rng, a), rand(rng, b)],
        40 + (tx ? 2 : 0) + (ty ? 1 : 0),
      );
    }
  });

  for (const explicit of [true, false]) {
    t(
      `MatMul gradient with ${
        explicit ? "explicit transposes" : "transpose flags"
      }, broadcast batch dims`,
      () => {
        if (explicit) registerExplicitTransposeMatMulGradient();
        else registerTransposeFlagMatMulGradient();
        const rng = new Rng(5);
        try {
          for (const [tx, ty] of [[false, false], [true, false], [false, true], [true, true]]) {
            const a = tx ? [1, 24, 32] : [1, 32, 24], b = ty ? [3, 40, 24] : [3, 24, 40];
            gradcheck(
              `batch matMul tx=${tx} ty=${ty}`,
              ([x, y]) => tf.matMul(x, y, tx, ty),
              [rand(rng, a), rand(rng, b)],
              50 + (tx ? 2 : 0) + (ty ? 1 : 0),
            );
          }
          gradcheck(
            "2-d matMul 64 x 256 -> 96",
            ([x, y]) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
            [rand(rng, [64, 256]), rand(rng, [256, 96])],
            59,
          );
        } finally {
          // Back to what initBackend chose for this configuration.
        }
      },
    );
  }

  t("a sparse left operand (bag-of-words text layer, 64 x 1386 -> 128)", () => {
    const rng = new Rng(6);
    gradcheck(
      "sparse x W + b",
      ([x, W, b]) => dense(x as tf.Tensor2D, W, b, "relu"),
      [
        { ...sparseRows(rng, 64, 1386), check: false },
        rand(rng, [1386, 128], 0.1),
        rand(rng, [128], 0.1),
      ],
      61,
      { kinks: true },
    );
    gradcheck(
      "sparse matMul",
      ([x, W]) => tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D),
      [{ ...sparseRows(rng, 64, 1386), check: false }, rand(rng, [1386, 128], 0.1)],
      62,
    );
  });

  t("the critic's first-order input gradient (Mlp.inputGradient), 64 x 512 -> 64 -> 1", () => {
    const rng = new Rng(7);
    const store = new ParamStore();
    const critic = new Mlp(store, "D", [512, 64, 1], rng, {
      batchNorm: false,
      lastActivation: "linear",
    });
    // Row i of d critic(x_i) / d x_i, against central differences of the critic itself.
    gradcheck(
      "critic",
      ([x]) => critic.apply(x as tf.Tensor2D, true),
      [rand(rng, [64, 512])],
      71,
      { kinks: true },
    );
    const x = tf.tensor2d(rng.normals(64 * 512), [64, 512]);
    const viaTape = tf.grad((z: tf.Tensor) => tf.sum(critic.apply(z as tf.Tensor2D, true)))(x);
    const first = critic.inputGradient(x);
    const a = first.dataSync(), b = viaTape.dataSync();
    let diff = 0, norm = 0;
    for (let i = 0; i < b.length; i++) {
      diff += (a[i] - b[i]) ** 2;
      norm += b[i] ** 2;
    }
    assert.ok(Math.sqrt(diff) <= 1e-5 * Math.sqrt(norm), `inputGradient differs: ${diff}`);
    tf.dispose([x, viaTape, first]);
    store.dispose();
  });
}
