/**
 * Adam with PyTorch semantics (L2 weight decay added to the gradient, bias-corrected moments),
 * a settable learning rate for schedules, and serialisable state for exact resume.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedArrays } from "./nn.ts";
import { replaceOnHost } from "./accel/host_memory.ts";
import { simdKernels, type WasmKernels } from "./accel/simd.ts";

/** The constants of one Adam step t: bias corrections folded into stepSize and sqrtC2. */
export interface AdamStep {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** sqrt(1 - beta2^t). */
  sqrtC2: number;
}

/** Flat arrays of one Adam update: current values, gradient, and where the new values go. */
export interface AdamArrays {
  /** Current weights, first and second moments. */
  w: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Gradient. */
  g: Float32Array;
  /** New weights and moments (may be the same arrays as w, m, v: in place). */
  wo: Float32Array;
  mo: Float32Array;
  vo: Float32Array;
}

/**
 * One Adam step over flat arrays (PyTorch semantics):
 * g' = g + wd w; m' = b1 m + (1-b1) g'; v' = b2 v + (1-b2) g'^2;
 * w' = w - stepSize m' / (sqrt(v') / sqrtC2 + eps). Arithmetic in float64, stored as float32.
 */
export function adamUpdateArrays(a: AdamArrays, h: AdamStep): void {
  const { beta1, beta2, eps, weightDecay, stepSize, sqrtC2 } = h;
  const { w, m, v, g, wo, mo, vo } = a;
  const a1 = 1 - beta1, a2 = 1 - beta2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    const gi = g[i] + weightDecay * wi;
    const mi = beta1 * m[i] + a1 * gi;
    const vi = beta2 * v[i] + a2 * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    wo[i] = wi - stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
  }
}

/**
 * The step of {@link adamUpdateArrays} by the wasm SIMD kernel (float32 arithmetic); every
 * array must be a view of the wasm heap.
 */
export function adamUpdateSimd(kernels: WasmKernels, a: AdamArrays, h: AdamStep): void {
  kernels.adam(
    a.w.byteOffset,
    a.m.byteOffset,
    a.v.byteOffset,
    a.g.byteOffset,
    a.wo.byteOffset,
    a.mo.byteOffset,
    a.vo.byteOffset,
    a.w.length,
    h.beta1,
    1 - h.beta1,
    h.beta2,
    1 - h.beta2,
    h.eps,
    h.weightDecay,
    h.stepSize,
    1 / h.sqrtC2,
  );
}

/** The same step as {@link adamUpdateArrays} in tensor ops (any backend). */
export function adamUpdateOps(
  w: tf.Variable,
  m: tf.Variable,
  v: tf.Variable,
  grad: tf.Tensor,
  h: AdamStep,
): void {
  tf.tidy(() => {
    const g = h.weightDecay > 0 ? tf.add(grad, tf.mul(w, h.weightDecay)) : grad;
    m.assign(tf.add(tf.mul(m, h.beta1), tf.mul(g, 1 - h.beta1)));
    v.assign(tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(g), 1 - h.beta2)));
    const denom = tf.add(tf.div(tf.sqrt(v), h.sqrtC2), h.eps);
    w.assign(tf.sub(w, tf.mul(tf.div(m, denom), h.stepSize)));
  });
}

/** Adam hyper-parameters. */
export interface AdamConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (PyTorch `weight_decay`). */
  weightDecay?: number;
}

/** Adam over a fixed list of variables. */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /**
   * Compute the update on the host on backends that keep tensors in this process (default
   * true); false forces the tensor-op path (used by tests and benchmarks to compare the two).
   */
  onHost = true;
  #t = 0;
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];

  /** Create for `vars` (the variables this optimiser updates). */
  constructor(readonly vars: tf.Variable[], cfg: AdamConfig) {
    this.lr = cfg.lr;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
    this.#m = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    this.#v = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#t;
  }

  /**
   * Minimise `loss` (a closure returning a scalar) over this optimiser's variables.
   * Returns the loss value. Variables not reached by the loss get no update.
   */
  minimize(loss: () => tf.Scalar): number {
    const { value, grads } = tf.variableGrads(loss, this.vars);
    const lossValue = value.dataSync()[0];
    value.dispose();
    this.apply(grads);
    return lossValue;
  }

  /**
   * Apply gradients keyed by variable name (as returned by tf.variableGrads); disposes them.
   * On the wasm backend the update is one SIMD pass per variable ({@link adamUpdateSimd}), on
   * cpu one JS pass ({@link adamUpdateArrays}); both write new tensors that the variables take
   * over (src/accel/host_memory.ts, replaceOnHost: never into the memory a kernel may have cached).
   * Elsewhere it runs as tensor ops with the same formula ({@link adamUpdateOps}).
   */
  apply(grads: tf.NamedTensorMap): void {
    this.#t++;
    const t = this.#t;
    const c1 = 1 - Math.pow(this.beta1, t), c2 = 1 - Math.pow(this.beta2, t);
    const h: AdamStep = {
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      stepSize: this.lr / c1,
      sqrtC2: Math.sqrt(c2),
    };
    const simd = this.onHost ? simdKernels() : undefined;
    this.vars.forEach((v, i) => {
      const g = grads[v.name] as tf.Tensor | undefined;
      if (!g) return;
      const m = this.#m[i], s = this.#v[i];
      const done = this.onHost &&
        replaceOnHost([v, m, s], [g], ([w0, m0, v0], [wo, mo, vo], [g0]) => {
          const arrays = { w: w0, m: m0, v: v0, g: g0, wo, mo, vo };
          if (simd) adamUpdateSimd(simd, arrays, h);
          else adamUpdateArrays(arrays, h);
        });
      if (!done) adamUpdateOps(v, m, s, g, h);
    });
    for (const k of Object.keys(grads)) grads[k].dispose();
  }

  /** Serialisable state (moments and step count), keyed by `prefix` + index. */
  state(prefix: string): NamedArrays {
    const out: NamedArrays = {};
    out[`${prefix}.t`] = { shape: [1], data: new Float32Array([this.#t]) };
    out[`${prefix}.lr`] = { shape: [1], data: new Float32Array([this.lr]) };
    this.vars.forEach((_, i) => {
      out[`${prefix}.m${i}`] = {
        shape: [...this.#m[i].shape],
        data: this.#m[i].dataSync() as Float32Array,
      };
      out[`${prefix}.v${i}`] = {
        shape: [...this.#v[i].shape],
        data: this.#v[i].dataSync() as Float32Array,
      };
    });
    return out;
  }

  /** Restore from {@link state} output. */
  load(state: NamedArrays, prefix: string, source = "checkpoint"): void {
    const get = (k: string) => {
      const s = state[k];
      if (!s) throw new Error(`${source}: optimiser entry '${k}' is missing`);
      return s;
    };
    this.#t = get(`${prefix}.t`).data[0];
    this.lr = get(`${prefix}.lr`).data[0];
    this.vars.forEach((_, i) => {
      tf.tidy(() => {
        this.#m[i].assign(tf.tensor(get(`${prefix}.m${i}`).data, this.#m[i].shape));
        this.#v[i].assign(tf.tensor(get(`${prefix}.v${i}`).data, this.#v[i].shape));
      });
    });
  }

  /** Free the moment buffers. */
  dispose(): void {
    for (const x of [...this.#m, ...this.#v]) x.dispose();
  }
}
