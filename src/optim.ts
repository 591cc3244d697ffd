/**
 * Adam with PyTorch semantics (L2 weight decay added to the gradient, bias-corrected moments),
 * a settable learning rate for schedules, and serialisable state for exact resume.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedArrays } from "./nn.ts";
import { exclusiveViews } from "./host_memory.ts";
import { simdKernels, type WasmKernels } from "./simd.ts";

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

/**
 * One Adam step over flat arrays, in place (PyTorch semantics):
 * g' = g + wd w; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 * w = w - stepSize m / (sqrt(v) / sqrtC2 + eps). Arithmetic in float64, stored as float32.
 */
export function adamUpdateInPlace(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  h: AdamStep,
): void {
  const { beta1, beta2, eps, weightDecay, stepSize, sqrtC2 } = h;
  const a1 = 1 - beta1, a2 = 1 - beta2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i] + weightDecay * w[i];
    const mi = beta1 * m[i] + a1 * gi;
    const vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
  }
}

/**
 * The step of {@link adamUpdateInPlace} by the wasm SIMD kernel (float32 arithmetic) on
 * views [w, m, v, g] of the wasm heap.
 */
export function adamUpdateSimd(kernels: WasmKernels, views: Float32Array[], h: AdamStep): void {
  const [w, m, v, g] = views;
  kernels.adam(
    w.byteOffset,
    m.byteOffset,
    v.byteOffset,
    g.byteOffset,
    w.length,
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

/** The same step as {@link adamUpdateInPlace} in tensor ops (any backend). */
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
   * Update variables in place on host-memory backends (default true); false forces the
   * tensor-op path (used by tests to compare the two).
   */
  inPlace = true;
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
   * On the wasm backend the update is one SIMD pass over each variable's memory
   * ({@link adamUpdateSimd}), on cpu one JS pass ({@link adamUpdateInPlace}); elsewhere it
   * runs as tensor ops with the same formula ({@link adamUpdateOps}).
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
    const simd = this.inPlace ? simdKernels() : undefined;
    this.vars.forEach((v, i) => {
      const g = grads[v.name] as tf.Tensor | undefined;
      if (!g) return;
      const m = this.#m[i], s = this.#v[i];
      const views = this.inPlace ? exclusiveViews([v, m, s], [g]) : undefined;
      if (!views) adamUpdateOps(v, m, s, g, h);
      else if (simd) adamUpdateSimd(simd, views, h);
      else adamUpdateInPlace(views[0], views[1], views[2], views[3], h);
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
