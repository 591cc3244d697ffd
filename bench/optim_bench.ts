/**
 * One Adam step over 3.9M parameters (the size of CPAH's networks at 4096/1386-d input and
 * 512 hidden units), three ways: the tensor-op form on the wasm backend (~10 passes over the
 * arrays, `Adam.onHost = false`), the wasm SIMD kernel writing new tensors (the default on
 * wasm; src/accel/simd.ts), and the JS loop used on the cpu backend (`adamUpdateArrays` on plain
 * Float32Arrays, in place). `deno bench -A bench/optim_bench.ts` (part of `deno task bench`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/accel/backend.ts";
import { Adam } from "../src/nn/optim.ts";
import { adamUpdateArrays } from "../src/accel/adam.ts";
import { Rng } from "../src/random.ts";

const N = 3_900_000;
await initBackend({ name: "wasm" });
const rng = new Rng(5);
const init = rng.normals(N), grad = rng.normals(N);

function wasmCase(onHost: boolean): () => void {
  let state: { v: tf.Variable; g: tf.Tensor; opt: Adam } | undefined;
  return () => {
    if (!state) {
      const v = tf.variable(tf.tensor1d(init), true, `optim_bench_${onHost}`);
      const opt = new Adam([v], { lr: 1e-4, weightDecay: 1e-5 });
      opt.onHost = onHost;
      state = { v, g: tf.tensor1d(grad), opt };
    }
    const { v, g, opt } = state;
    opt.apply({ [v.name]: tf.clone(g) }); // apply disposes the gradient it is given
  };
}

Deno.bench({
  name: "tensor ops (wasm)",
  group: "adam 3.9M",
  baseline: true,
  warmup: 2,
  fn: wasmCase(false),
});
Deno.bench({ name: "host SIMD kernel (wasm)", group: "adam 3.9M", warmup: 2, fn: wasmCase(true) });

const w = init.slice(), m = new Float32Array(N), s = new Float32Array(N);
let t = 0;
Deno.bench({
  name: "in place, JS loop (cpu path)",
  group: "adam 3.9M",
  warmup: 2,
  fn() {
    t++;
    adamUpdateArrays({ w, m, v: s, g: grad, wo: w, mo: m, vo: s }, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 1e-5,
      stepSize: 1e-4 / (1 - Math.pow(0.9, t)),
      sqrtC2: Math.sqrt(1 - Math.pow(0.999, t)),
    });
  },
});
