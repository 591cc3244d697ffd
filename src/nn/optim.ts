/**
 * Adam with PyTorch semantics (L2 weight decay added to the gradient, bias-corrected moments),
 * a settable learning rate for schedules, and serialisable state for exact resume.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { NamedTensorMap, Scalar, Tensor, Variable } from "../tensor_types.ts";
import type { NamedArrays } from "./params.ts";
import { type AdamStep, adamUpdateOnHost } from "./ops.ts";

export type { AdamStep } from "./ops.ts";

/**
 * One Adam step (PyTorch semantics) as tensor ops, on any backend:
 * g' = g + wd w; m' = b1 m + (1-b1) g'; v' = b2 v + (1-b2) g'^2;
 * w' = w - stepSize m' / (sqrt(v') / sqrtC2 + eps).
 */
export function adamUpdateOps(
  w: Variable,
  m: Variable,
  v: Variable,
  grad: Tensor,
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
  /** Learning rate. */
  lr: number;
  /** First-moment decay β1 (default 0.9). */
  beta1?: number;
  /** Second-moment decay β2 (default 0.999). */
  beta2?: number;
  /** Denominator ε (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (PyTorch `weight_decay`). */
  weightDecay?: number;
}

/** Adam over a fixed list of variables. */
export class Adam {
  /** Learning rate (the schedule may change it between epochs). */
  lr: number;
  /** First-moment decay β1. */
  readonly beta1: number;
  /** Second-moment decay β2. */
  readonly beta2: number;
  /** Denominator ε. */
  readonly eps: number;
  /** L2 penalty added to the gradient. */
  readonly weightDecay: number;
  /**
   * Compute the update on the host on backends that keep tensors in this process (default
   * true); false forces the tensor-op path (used by tests and benchmarks to compare the two).
   */
  onHost = true;
  #t = 0;
  readonly #m: Variable[];
  readonly #v: Variable[];

  /** Create for `vars` (the variables this optimiser updates). */
  constructor(readonly vars: Variable[], cfg: AdamConfig) {
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
  minimize(loss: () => Scalar): number {
    const { value, grads } = tf.variableGrads(loss, this.vars);
    const lossValue = value.dataSync()[0];
    value.dispose();
    this.apply(grads);
    return lossValue;
  }

  /**
   * Apply gradients keyed by variable name (as returned by tf.variableGrads); disposes them.
   * On the wasm backend the update is one SIMD pass per variable, on cpu one JS pass
   * (src/accel/adam.ts); both write new tensors that the variables take over
   * (src/accel/host_memory.ts, replaceOnHost: never into the memory a kernel may have cached).
   * Elsewhere it runs as tensor ops with the same formula ({@link adamUpdateOps}).
   */
  apply(grads: NamedTensorMap): void {
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
    this.vars.forEach((v, i) => {
      const g = grads[v.name] as Tensor | undefined;
      if (!g) return;
      const m = this.#m[i], s = this.#v[i];
      const done = this.onHost && adamUpdateOnHost(v, m, s, g, h);
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
