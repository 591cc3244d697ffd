/**
 * Adam with PyTorch semantics (L2 weight decay added to the gradient, bias-corrected moments),
 * a settable learning rate for schedules, and serialisable state for exact resume.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { NamedArrays } from "./nn.ts";

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

  /** Apply gradients keyed by variable name (as returned by tf.variableGrads); disposes them. */
  apply(grads: tf.NamedTensorMap): void {
    this.#t++;
    const t = this.#t;
    const b1 = this.beta1, b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
    const stepSize = this.lr / c1;
    tf.tidy(() => {
      this.vars.forEach((v, i) => {
        let g = grads[v.name] as tf.Tensor | undefined;
        if (!g) return;
        if (this.weightDecay > 0) g = tf.add(g, tf.mul(v, this.weightDecay));
        const m = this.#m[i], s = this.#v[i];
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        s.assign(tf.add(tf.mul(s, b2), tf.mul(tf.square(g), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(s), Math.sqrt(c2)), this.eps);
        v.assign(tf.sub(v, tf.mul(tf.div(m, denom), stepSize)));
      });
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
