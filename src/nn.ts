/**
 * Small composable network building blocks on raw TensorFlow.js ops: a parameter store,
 * Linear, BatchNorm1d and an MLP. Written on `tf.matMul` (not tf.layers) so that every dense
 * product goes through the BatchMatMul kernel and its gradient, which src/accel/backend.ts and
 * src/accel/blas.ts accelerate.
 *
 * Initialisation follows PyTorch's defaults (the public implementations of both methods are
 * PyTorch code): Linear weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm
 * gamma = 1, beta = 0, momentum 0.1, eps 1e-5, running variance unbiased.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "./random.ts";
import { replaceOnHost, wasmMemory } from "./accel/host_memory.ts";
import { matMulT } from "./accel/backend.ts";
import { simdKernels, type WasmKernels } from "./accel/simd.ts";

let storeCounter = 0;

/** Named numeric arrays: the serialisable state of a model (weights, codes, optimiser). */
export type NamedArrays = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * Owns every variable of one model. Variables have a stable local name (used in checkpoints)
 * and a group (e.g. "net", "disc") that selects which optimiser updates them.
 */
export class ParamStore {
  readonly #prefix = `m${storeCounter++}`;
  readonly #vars = new Map<string, { v: tf.Variable; group: string; trainable: boolean }>();

  /** Create a variable from initial values. */
  create(
    name: string,
    shape: number[],
    values: Float32Array,
    group: string,
    trainable = true,
  ): tf.Variable {
    if (this.#vars.has(name)) throw new Error(`ParamStore: duplicate variable name '${name}'`);
    // tidy disposes the initial tensor (a variable shares its data and would leave it counted).
    const v = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, "float32"), trainable, `${this.#prefix}/${name}`)
    );
    this.#vars.set(name, { v, group, trainable });
    return v;
  }

  /** Trainable variables of a group, in creation order. */
  group(group: string): tf.Variable[] {
    return [...this.#vars.values()].filter((e) => e.group === group && e.trainable).map((e) => e.v);
  }

  /** Trainable variables whose local name starts with one of the prefixes. */
  byPrefix(...prefixes: string[]): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const [name, e] of this.#vars) {
      if (e.trainable && prefixes.some((p) => name.startsWith(p))) out.push(e.v);
    }
    return out;
  }

  /** Local name of a variable created here. */
  localName(v: tf.Variable): string {
    return v.name.slice(this.#prefix.length + 1);
  }

  /** All variables' values, keyed by local name. */
  state(): NamedArrays {
    const out: NamedArrays = {};
    for (const [name, e] of this.#vars) {
      out[name] = { shape: [...e.v.shape], data: e.v.dataSync() as Float32Array };
    }
    return out;
  }

  /** Restore variables from {@link state} output; every variable must be present. */
  load(state: NamedArrays, source = "state"): void {
    for (const [name, e] of this.#vars) {
      const s = state[name];
      if (!s) throw new Error(`${source}: variable '${name}' is missing`);
      if (s.shape.join("x") !== e.v.shape.join("x")) {
        throw new Error(
          `${source}: variable '${name}' has shape ${s.shape.join("x")}, expected ${
            e.v.shape.join("x")
          }`,
        );
      }
      tf.tidy(() => e.v.assign(tf.tensor(s.data, s.shape, "float32")));
    }
  }

  /** Number of trainable scalar parameters. */
  countParams(): number {
    let n = 0;
    for (const e of this.#vars.values()) if (e.trainable) n += e.v.size;
    return n;
  }

  /** Dispose every variable. */
  dispose(): void {
    for (const e of this.#vars.values()) e.v.dispose();
    this.#vars.clear();
  }
}

/** Activations {@link dense} applies after x W + b. */
export type Activation = "linear" | "relu" | "sigmoid" | "tanh";

const DENSE_KERNEL = "HashDense";
const DENSE_BACKENDS = ["wasm", "cpu"];
const denseRegistered = new Set<string>();

interface DenseBackend {
  disposeData(dataId: unknown): void;
}

/**
 * The HashDense kernel of one backend: y = act(x W + b) by the backend's own `_FusedMatMul`
 * kernel (the BLAS one when installed, src/accel/blas.ts) with the bias, and ReLU fused; sigmoid and
 * tanh by the backend's Sigmoid / Tanh kernel on the product. Kernels are looked up at each
 * call, so installing or removing kernel sets later is respected. Shapes are passed as 3-D
 * views of the same memory (the stock wasm `_FusedMatMul` expects batch dimensions).
 */
function denseKernelFor(backendName: string): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { x: tf.TensorInfo; W: tf.TensorInfo; b: tf.TensorInfo };
      backend: DenseBackend;
      attrs: { activation: Activation };
    };
    const { x, W, b } = inputs;
    const [m, k] = x.shape, n = W.shape[1];
    const act = attrs.activation;
    const out3 = tf.getKernel("_FusedMatMul", backendName)!.kernelFunc({
      inputs: {
        a: { dataId: x.dataId, shape: [1, m, k], dtype: x.dtype },
        b: { dataId: W.dataId, shape: [1, k, n], dtype: W.dtype },
        bias: b,
      },
      attrs: {
        transposeA: false,
        transposeB: false,
        activation: act === "relu" ? "relu" : "linear",
        leakyreluAlpha: 0,
      },
      backend: backend as unknown as tf.KernelBackend,
    }) as tf.TensorInfo;
    const z: tf.TensorInfo = { dataId: out3.dataId, shape: [m, n], dtype: "float32" };
    if (act !== "sigmoid" && act !== "tanh") return z;
    const y = tf.getKernel(act === "sigmoid" ? "Sigmoid" : "Tanh", backendName)!.kernelFunc({
      inputs: { x: z },
      attrs: {},
      backend: backend as unknown as tf.KernelBackend,
    }) as tf.TensorInfo;
    backend.disposeData(z.dataId);
    return y;
  };
}

/** dy times the activation's derivative, from the saved output y. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case "linear":
      return dy;
    case "relu":
      return tf.mul(dy, tf.step(y)); // y > 0 exactly where x W + b > 0
    case "sigmoid":
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(y)));
  }
}

function ensureDenseKernel(backendName: string): boolean {
  if (!DENSE_BACKENDS.includes(backendName)) return false;
  if (denseRegistered.has(backendName)) return true;
  if (!tf.getKernel("_FusedMatMul", backendName)) return false;
  if (denseRegistered.size === 0) {
    tf.registerGradient({
      kernelName: DENSE_KERNEL,
      inputsToSave: ["x", "W"],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, W, y] = saved;
        const dz = activationGrad(
          dy as tf.Tensor,
          y,
          (attrs as { activation: Activation }).activation,
        );
        return {
          x: () => matMulT(dz, W, false, true),
          W: () => matMulT(x, dz, true, false),
          b: () => tf.sum(dz, 0),
        };
      },
    });
  }
  tf.registerKernel({
    kernelName: DENSE_KERNEL,
    backendName,
    kernelFunc: denseKernelFor(backendName),
  });
  denseRegistered.add(backendName);
  return true;
}

/**
 * y = act(x W + b) for x: m x in, W: in x out, b: out — one recorded op on the wasm and cpu
 * backends (kernel HashDense: matmul, bias and activation in one call; its gradient gives
 * dx = dz W^T, dW = x^T dz, db = sum(dz) with dz = dy act'(y), each computed only when
 * needed — so a first layer on constant data never computes dx). Other backends compose the
 * same from tensor ops. Values equal the op composition to float32 rounding.
 */
export function dense(
  x: tf.Tensor2D,
  W: tf.Tensor,
  b: tf.Tensor,
  activation: Activation = "linear",
): tf.Tensor2D {
  if (
    x.dtype === "float32" && W.dtype === "float32" && b.dtype === "float32" &&
    ensureDenseKernel(tf.getBackend())
  ) {
    return tf.engine().runKernel(DENSE_KERNEL, { x, W, b }, { activation }) as tf.Tensor2D;
  }
  return denseOps(x, W, b, activation);
}

/** {@link dense} as tensor ops: act(add(matMul(x, W), b)). */
export function denseOps(
  x: tf.Tensor2D,
  W: tf.Tensor,
  b: tf.Tensor,
  activation: Activation = "linear",
): tf.Tensor2D {
  return tf.tidy(() => {
    const z = tf.add(tf.matMul(x, W as tf.Tensor2D), b) as tf.Tensor2D;
    switch (activation) {
      case "linear":
        return z;
      case "relu":
        return tf.relu(z);
      case "sigmoid":
        return tf.sigmoid(z);
      case "tanh":
        return tf.tanh(z);
    }
  });
}

/** Fully connected layer y = x W + b (W: in x out). */
export class Linear {
  readonly W: tf.Variable;
  readonly b: tf.Variable;

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
  apply(x: tf.Tensor2D, activation: Activation = "linear"): tf.Tensor2D {
    return dense(x, this.W, this.b, activation);
  }
}

/** 1-D batch normalisation over the batch axis, with running statistics for evaluation. */
export class BatchNorm1d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

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
  apply(x: tf.Tensor2D, training: boolean, relu = false): tf.Tensor2D {
    if (!training) {
      return tf.tidy(() => {
        const y = tf.add(
          tf.mul(
            tf.div(tf.sub(x, this.runningMean), tf.sqrt(tf.add(this.runningVar, this.eps))),
            this.gamma,
          ),
          this.beta,
        ) as tf.Tensor2D;
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

/**
 * Training-mode batch normalisation y = gamma (x - mu) / sqrt(var + eps) + beta over the rows
 * of x (m x d; biased batch variance), followed by a ReLU when `relu`, with the closed-form
 * gradient dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(var + eps),
 * dxhat = g gamma; dgamma = sum(g xhat); dbeta = sum(g), where g = dy (masked by y > 0 under
 * the ReLU). One recorded op instead of ~10 (the autodiff of the formula takes ~3x the
 * kernels). On the wasm backend with d a multiple of 4 the forward and the backward pass are
 * the `bnmoments`/`bnforward`/`bnbackward` SIMD kernels of src/accel/simd.ts (2-3 passes over the
 * batch instead of ~20 elementwise kernels); elsewhere tensor ops. First-order only: a
 * gradient of this gradient would treat the saved xhat as constant, so it must not sit under
 * a second differentiation (the models' gradient penalties differentiate D twice, which has
 * no BatchNorm). `onMoments(mean, variance)` is called once with the batch moments (running
 * statistics).
 */
export function batchNormTraining(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  onMoments?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
  relu = false,
): tf.Tensor2D {
  const [rows, cols] = x.shape;
  const kernels = simdKernels();
  if (
    kernels && rows > 0 && cols > 0 && cols % 4 === 0 &&
    [x, gamma, beta].every((t) => t.dtype === "float32") && gamma.size === cols &&
    beta.size === cols
  ) {
    return batchNormWasm(kernels, x, gamma, beta, eps, onMoments, relu);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(xx, 0) as tf.Tensor1D;
    const xc = tf.sub(xx, mean);
    const variance = tf.mean(tf.square(xc), 0) as tf.Tensor1D;
    if (onMoments) tf.tidy(() => onMoments(mean, variance));
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, inv);
    const affine = tf.add(tf.mul(xhat, g), b);
    const y = relu ? tf.relu(affine) : affine;
    save([xhat, inv, g, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sinv, sg, sy] = saved;
        const gy = relu ? tf.mul(dy, tf.step(sy)) : dy;
        const dxhat = tf.mul(gy, sg);
        const dx = tf.mul(
          tf.sub(tf.sub(dxhat, tf.mean(dxhat, 0)), tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), 0))),
          sinv,
        );
        return [dx, tf.sum(tf.mul(gy, sxhat), 0), tf.sum(gy, 0)];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
}

/** {@link batchNormTraining} on the wasm heap with the SIMD kernels. */
function batchNormWasm(
  kernels: WasmKernels,
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  onMoments: ((mean: tf.Tensor1D, variance: tf.Tensor1D) => void) | undefined,
  relu: boolean,
): tf.Tensor2D {
  const [rows, cols] = x.shape;
  const floor = relu ? 0 : -Infinity;
  const make = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const backend = tf.backend();
    const [yI, hI] = [0, 1].map(() => wasmMemory.alloc(backend, [rows, cols]));
    const [mI, vI, iI] = [0, 1, 2].map(() => wasmMemory.alloc(backend, [cols]));
    const [xv, gv, bv, yv, hv, mv, vv, iv] = wasmMemory.views(backend, [
      xx,
      g,
      b,
      yI,
      hI,
      mI,
      vI,
      iI,
    ]);
    kernels.bnmoments(xv.byteOffset, rows, cols, mv.byteOffset, vv.byteOffset, 1 / rows);
    for (let j = 0; j < cols; j++) iv[j] = 1 / Math.sqrt(vv[j] + eps);
    kernels.bnforward(
      xv.byteOffset,
      yv.byteOffset,
      hv.byteOffset,
      rows,
      cols,
      mv.byteOffset,
      iv.byteOffset,
      gv.byteOffset,
      bv.byteOffset,
      floor,
    );
    const [y, xhat, mean, variance, inv] = [yI, hI, mI, vI, iI].map(make);
    if (onMoments) tf.tidy(() => onMoments(mean as tf.Tensor1D, variance as tf.Tensor1D));
    save([xhat, inv, g, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sinv, sg, sy] = saved;
        const be = tf.backend();
        const dxI = wasmMemory.alloc(be, [rows, cols]);
        const [dgI, dbI] = [0, 1].map(() => wasmMemory.alloc(be, [cols]));
        const tmp = wasmMemory.alloc(be, [2 * cols]);
        const [dyv, syv, shv, sgv, siv, dxv, dgv, dbv, tv] = wasmMemory.views(be, [
          dy,
          sy,
          sxhat,
          sg,
          sinv,
          dxI,
          dgI,
          dbI,
          tmp,
        ]);
        kernels.bnbackward(
          dyv.byteOffset,
          syv.byteOffset,
          shv.byteOffset,
          rows,
          cols,
          sgv.byteOffset,
          siv.byteOffset,
          dxv.byteOffset,
          dgv.byteOffset,
          dbv.byteOffset,
          tv.byteOffset,
          floor,
          1 / rows,
        );
        (be as unknown as { disposeData(id: unknown): void }).disposeData(tmp.dataId);
        return [make(dxI), make(dgI), make(dbI)];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
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
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
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
   * The masks are computed off the tape ({@link constantOf}): ReLU's second derivative is zero
   * wherever it exists, and tfjs's ReLU gradient uses the same step(z) (0 at z = 0), so
   * differentiating g w.r.t. the weights gives exactly what tf.grad inside a gradient gives
   * (the WGAN-GP penalty's second-order gradient), with a fraction of the kernels.
   */
  inputGradient(x: tf.Tensor2D): tf.Tensor2D {
    const L = this.layers.length, last = this.layers[L - 1].lin;
    if (
      this.layers.some((l) => l.bn) || (this.opts.lastActivation ?? "relu") !== "linear" ||
      last.outDim !== 1
    ) {
      throw new Error(
        "src/nn.ts: Mlp.inputGradient: expected a critic (no BatchNorm, linear last layer with " +
          `1 output), got dims ${this.dims.join("-")}, batchNorm ${this.opts.batchNorm ?? true}, ` +
          `lastActivation ${this.opts.lastActivation ?? "relu"}`,
      );
    }
    const masks = constantOf(x, () => {
      const out: tf.Tensor[] = [];
      let h: tf.Tensor = x;
      for (let i = 0; i + 1 < L; i++) {
        const z = this.layers[i].lin.apply(h as tf.Tensor2D);
        out.push(tf.step(z));
        h = tf.relu(z);
      }
      return out;
    });
    const g = tf.tidy(() => {
      const w = tf.reshape(last.W, [1, last.inDim]);
      if (L === 1) return tf.tile(w, [x.shape[0], 1]) as tf.Tensor2D;
      let d: tf.Tensor = tf.mul(masks[L - 2], w);
      for (let i = L - 2; i >= 0; i--) {
        d = matMulT(d, this.layers[i].lin.W, false, true);
        if (i > 0) d = tf.mul(d, masks[i - 1]);
      }
      return d as tf.Tensor2D;
    });
    tf.dispose(masks);
    return g;
  }
}

/**
 * Run `f` as if no gradient were being recorded, inside an enclosing `tf.variableGrads` (or
 * `tf.grad`): its ops are not added to the enclosing tape, any gradient `f` itself takes gets a
 * tape of its own (first-order, as at the top level), and tensors it reads from the enclosing
 * computation act as constants there. The enclosing tape is restored afterwards, also when `f`
 * throws. tfjs has no public API for this; the helper sets the engine's gradient depth to 0
 * for the duration (checked in tests/nn_optim_checkpoint.test.ts against tfjs 4.22).
 */
export function withoutTape<T>(f: () => T): T {
  const state = (tf.engine() as unknown as {
    state: { gradientDepth: number; activeTape: unknown[] | null };
  }).state;
  const depth = state.gradientDepth, tape = state.activeTape;
  if (depth === 0) return f();
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = depth;
    state.activeTape = tape;
  }
}

/**
 * Tensors computed by `f` that the gradient tape treats as constants: `f` runs inside the
 * forward pass of a custom op whose only input is `anchor` and whose gradient is zero, so none
 * of its kernels is recorded or differentiated (tfjs has no stop-gradient op). The caller owns
 * (and disposes) the returned tensors.
 */
export function constantOf(anchor: tf.Tensor, f: () => tf.Tensor[]): tf.Tensor[] {
  let outputs: tf.Tensor[] = [];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const shape = (args[0] as tf.Tensor).shape;
    outputs = f().map((t) => tf.keep(t));
    return { value: tf.scalar(0), gradFunc: () => tf.zeros(shape) };
  });
  tf.dispose(op(anchor));
  return outputs;
}
