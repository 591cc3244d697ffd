/**
 * Small composable network building blocks on the ops of src/nn/ops.ts: Linear, BatchNorm1d
 * and an MLP. Written on `dense` (not tf.layers) so that every dense product goes through the
 * BatchMatMul kernel and its gradient, which src/accel/ accelerates.
 *
 * Initialisation follows PyTorch's defaults (the public implementations of both methods are
 * PyTorch code): Linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm
 * gamma = 1, beta = 0, momentum 0.1, eps 1e-5, running variance unbiased.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Tensor, Tensor2D, Variable } from "../tensor_types.ts";
import type { Rng } from "../random.ts";
import { type Activation, batchNormTraining, dense, matMulT, replaceOnHost } from "./ops.ts";
import type { ParamStore } from "./params.ts";
import { withoutTape } from "./tape.ts";

/** Fully connected layer y = x W + b (W: in x out). */
export class Linear {
  /** Weights W (in x out). */
  readonly W: Variable;
  /** Bias b (out). */
  readonly b: Variable;

  /** Create with PyTorch-default uniform initialisation drawn from `rng`. */
  constructor(
    store: ParamStore,
    name: string,
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    group = "net",
  ) {
    const bound = 1 / Math.sqrt(inDim);
    const w = new Float32Array(inDim * outDim);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
    const b = new Float32Array(outDim);
    for (let i = 0; i < b.length; i++) b[i] = (2 * rng.uniform() - 1) * bound;
    this.W = store.create(`${name}.W`, [inDim, outDim], w, group);
    this.b = store.create(`${name}.b`, [outDim], b, group);
  }

  /** x: batch x in -> batch x out, act(x W + b) ({@link dense}; default linear). */
  apply(x: Tensor2D, activation: Activation = "linear"): Tensor2D {
    return dense(x, this.W, this.b, activation);
  }
}

/** 1-D batch normalisation over the batch axis, with running statistics for evaluation. */
export class BatchNorm1d {
  /** Scale γ (dim). */
  readonly gamma: Variable;
  /** Shift β (dim). */
  readonly beta: Variable;
  /** Running mean of the batches (dim), used in evaluation. */
  readonly runningMean: Variable;
  /** Running (unbiased) variance of the batches (dim), used in evaluation. */
  readonly runningVar: Variable;

  /** Create for `dim` features. */
  constructor(
    store: ParamStore,
    name: string,
    readonly dim: number,
    group = "net",
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    this.gamma = store.create(`${name}.gamma`, [dim], new Float32Array(dim).fill(1), group);
    this.beta = store.create(`${name}.beta`, [dim], new Float32Array(dim), group);
    this.runningMean = store.create(`${name}.mean`, [dim], new Float32Array(dim), group, false);
    this.runningVar = store.create(
      `${name}.var`,
      [dim],
      new Float32Array(dim).fill(1),
      group,
      false,
    );
  }

  /**
   * Normalise (then a ReLU when `relu`). In training mode uses batch moments and updates the
   * running statistics (PyTorch semantics: running variance uses the unbiased batch variance).
   */
  apply(x: Tensor2D, training: boolean, relu = false): Tensor2D {
    if (!training) {
      return tf.tidy(() => {
        const y = tf.add(
          tf.mul(
            tf.div(tf.sub(x, this.runningMean), tf.sqrt(tf.add(this.runningVar, this.eps))),
            this.gamma,
          ),
          this.beta,
        ) as Tensor2D;
        return relu ? tf.relu(y) : y;
      });
    }
    return batchNormTraining(x, this.gamma, this.beta, this.eps, (mean, variance) => {
      const n = x.shape[0], m = this.momentum, unbias = n > 1 ? n / (n - 1) : 1;
      // On the host where the backend allows it (one loop instead of ~9 kernels).
      const onHost = replaceOnHost(
        [this.runningMean, this.runningVar],
        [mean, variance],
        ([rm, rv], [nm, nv], [bm, bv]) => {
          for (let j = 0; j < rm.length; j++) {
            nm[j] = (1 - m) * rm[j] + m * bm[j];
            nv[j] = (1 - m) * rv[j] + m * unbias * bv[j];
          }
        },
      );
      if (onHost) return;
      const unbiased = tf.mul(variance, unbias);
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    }, relu);
  }
}
/** Options of {@link Mlp}. */
export interface MlpOptions {
  /** Batch normalisation after each hidden linear layer (default true). */
  batchNorm?: boolean;
  /** Activation of the last layer: "relu" (feature extractor) or "linear". Default "relu". */
  lastActivation?: "relu" | "linear";
  /** Optimiser group of the variables (default "net"). */
  group?: string;
}

/**
 * Multi-layer perceptron: dims[0] -> dims[1] -> ... with Linear (+BatchNorm) + ReLU per layer.
 * Example: `new Mlp(store, "Ev", [4096, 512, 512], rng)` is CPAH's image extractor.
 */
export class Mlp {
  /** The layers: a Linear and, unless disabled, its BatchNorm. */
  readonly layers: { lin: Linear; bn?: BatchNorm1d }[] = [];

  /** Build the layers. */
  constructor(
    store: ParamStore,
    name: string,
    readonly dims: number[],
    rng: Rng,
    readonly opts: MlpOptions = {},
  ) {
    const group = opts.group ?? "net";
    for (let i = 0; i + 1 < dims.length; i++) {
      const lin = new Linear(store, `${name}.${i}`, dims[i], dims[i + 1], rng, group);
      const isLast = i + 2 === dims.length;
      const useBn = (opts.batchNorm ?? true) && !(isLast && opts.lastActivation === "linear");
      const bn = useBn ? new BatchNorm1d(store, `${name}.${i}.bn`, dims[i + 1], group) : undefined;
      this.layers.push({ lin, bn });
    }
  }

  /** Forward pass. */
  apply(x: Tensor2D, training: boolean): Tensor2D {
    let h = x;
    this.layers.forEach(({ lin, bn }, i) => {
      const isLast = i + 1 === this.layers.length;
      const relu = !isLast || (this.opts.lastActivation ?? "relu") === "relu";
      if (bn) {
        h = bn.apply(lin.apply(h), training, relu);
      } else {
        h = lin.apply(h, relu ? "relu" : "linear");
      }
    });
    return h;
  }

  /**
   * The critic's input gradient d sum(apply(x)) / dx (m x dims[0]) as first-order ops, for an
   * Mlp shaped like a critic: no BatchNorm, ReLU hidden layers, a linear last layer with one
   * output. With the ReLU masks M_l = step(z_l) of the hidden pre-activations,
   *   g = ((w_L^T * M_{L-1}) W_{L-1}^T * M_{L-2}) ... W_1^T.
   * The masks are computed off the tape ({@link withoutTape}): ReLU's second derivative is zero
   * wherever it exists, and tfjs's ReLU gradient uses the same step(z) (0 at z = 0), so
   * differentiating g w.r.t. the weights gives exactly what tf.grad inside a gradient gives
   * (the WGAN-GP penalty's second-order gradient), with a fraction of the kernels.
   */
  inputGradient(x: Tensor2D): Tensor2D {
    const L = this.layers.length, last = this.layers[L - 1].lin;
    if (
      this.layers.some((l) => l.bn) || (this.opts.lastActivation ?? "relu") !== "linear" ||
      last.outDim !== 1
    ) {
      throw new Error(
        "Mlp.inputGradient: expected a critic (no BatchNorm, linear last layer with " +
          `1 output), got dims ${this.dims.join("-")}, batchNorm ${this.opts.batchNorm ?? true}, ` +
          `lastActivation ${this.opts.lastActivation ?? "relu"}`,
      );
    }
    const masks = withoutTape(() =>
      tf.tidy(() => {
        const out: Tensor[] = [];
        let h: Tensor = x;
        for (let i = 0; i + 1 < L; i++) {
          const z = this.layers[i].lin.apply(h as Tensor2D);
          out.push(tf.step(z));
          h = tf.relu(z);
        }
        return out;
      })
    );
    const g = tf.tidy(() => {
      const w = tf.reshape(last.W, [1, last.inDim]);
      if (L === 1) return tf.tile(w, [x.shape[0], 1]) as Tensor2D;
      let d: Tensor = tf.mul(masks[L - 2], w);
      for (let i = L - 2; i >= 0; i--) {
        d = matMulT(d, this.layers[i].lin.W, false, true);
        if (i > 0) d = tf.mul(d, masks[i - 1]);
      }
      return d as Tensor2D;
    });
    tf.dispose(masks);
    return g;
  }
}
