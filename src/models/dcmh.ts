/**
 * DCMH — Deep Cross-Modal Hashing (Qing-Yuan Jiang & Wu-Jun Li, CVPR 2017), on precomputed
 * features.
 *
 * Paper -> code:
 * - image net f(x): CNN-F ending in K linear outputs -> `Dcmh.image`, Mlp d_v -> imageLayers -> K
 *   (default [4096], CNN-F's fc width: one hidden ReLU layer, then K linear outputs)
 * - text net g(y): bag-of-words -> 8192 (ReLU) -> K linear -> `Dcmh.text` (textLayers [8192])
 * - F, G: continuous outputs (no tanh) over the n training items -> `Dcmh.F`, `Dcmh.G`
 * - J = -sum_ij (S_ij Theta_ij - log(1 + e^Theta_ij)) -> {@link pairwiseNll}
 *       + gamma (||B - F||^2 + ||B - G||^2)           -> {@link quantizationLoss}
 *       + eta (||F^T 1||^2 + ||G^T 1||^2)             -> {@link balanceLoss}
 *   Theta_ij = F_i . G_j / 2, S_ij = 1 iff i and j share a label, gamma = eta = 1
 * - network steps (other modality and B fixed) -> {@link batchObjective}, `Dcmh.trainStep`
 * - B-step B = sign(gamma (F + G)) = sign(F + G) -> {@link updateCodes}, `Dcmh.endEpoch`
 *
 * Per-batch scaling. The paper's gradient for item i of a batch b (m items) is dJ/dF_i =
 * 1/2 sum_{j <= n} (sigmoid(Theta_ij) - S_ij) G_j + 2 gamma (F_i - B_i) + 2 eta F^T 1. The
 * image step minimises J_x(b) / (m n) with J_x(b) = sum_{i in b, j <= n} (log(1 + e^Theta_ij) -
 * S_ij Theta_ij) + gamma sum_{i in b} ||B_i - F_i||^2 + eta (n/m) ||sum_{i in b} F_i||^2, whose
 * gradient in F_i is that formula with F^T 1 estimated as (n/m) sum_{i in b} F_i (checked in the
 * tests). One factor 1/(m n) for all three sums (as in the authors' releases), so gamma and eta
 * weigh them as in J. The text step swaps F and G. Reported terms: the sums / (m n).
 * The releases instead take F^T 1 from the stored rows of the other batches. With Adam that
 * failed here: those rows lag up to an epoch, Adam's sign-like steps move the column means by
 * about lr per weight, and the means oscillated with growing amplitude (Wikipedia, 32 bits:
 * balance term up to 1e4, validation MAP at chance); the batch estimate has no lag.
 *
 * Alternation. The paper runs, per epoch, the image net over all batches (G fixed), then the
 * text net over all batches (F fixed), then the B-step. Here each `trainStep` takes one batch
 * through an image step against the stored G (storing the batch's F rows: that step's forward
 * outputs, as in the releases), then a text step against the stored F (storing its G rows);
 * the B-step stays at the epoch's end. So the stored rows of the other modality are this
 * epoch's for the batches already visited and last epoch's for the others (the paper: all last
 * epoch's G for the image pass, all this epoch's F for the text pass). Both are block-coordinate
 * descent on J with B fixed per epoch; ours needs no second pass over the data.
 *
 * Other deviations (see {@link DcmhConfig}): Adam, not SGD, its rate decaying log-linearly by
 * `lrFinalFactor` over `epochs` (MATLAB release: SGD, logspace(-1.5, -3)); BatchNorm after
 * each hidden layer (without it the nets on Wikipedia's small-valued SIFT / LDA features stayed
 * near the saddle F = G = 0: pair term at log 2); no pretrained CNN (PyTorch-default init);
 * batches are the trainer's permutation (the releases draw a random batch per iteration); F, G
 * start as seeded N(0, 1) and B = sign(F + G) (the TensorFlow release); sign(0) = +1.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { Adam, labelSimilarity, Mlp, type NamedArrays, ParamStore } from "../nn/mod.ts";
import { pairNll } from "../nn/losses.ts";
import { Rng } from "../random.ts";
import { checkDatasetName, type DatasetName } from "../datasets/datasets.ts";
import type { Matrix, PackedCodes } from "../types.ts";
import type { Batch, HashModel, LossTerms, StepContext, TrainingSetInfo } from "./model.ts";
import { encodeInBatches } from "./model.ts";
import { type FieldRule, isBoolean, isCount, isInteger, isLayers } from "./config.ts";
import { isNonNegative, isPositive, validateFields } from "./config.ts";

const FILE = "DCMH";
/** The two modalities. */
type Modality = "image" | "text";
/** One modality's network, optimiser, stored outputs, the other's, and feature width. */
type Side = { net: Mlp; opt: Adam; own: Float32Array; other: Float32Array; cols: number };

/** Every hyper-parameter of DCMH, plain JSON-serialisable data. */
export interface DcmhConfig {
  /** Dataset the defaults were taken for (informational). */
  dataset: string;
  /** Code length K. */
  bits: number;
  /** Seed of the weights and of the initial stored F, G. */
  seed: number;
  /** Hidden widths of the image network between the features and the K outputs ([4096]). */
  imageLayers: number[];
  /** Hidden widths of the text network ([8192], the paper's). */
  textLayers: number[];
  /** BatchNorm after each hidden linear layer (true; see the file header). */
  batchNorm: boolean;
  /** Weight of the quantisation term (the paper: 1). */
  gamma: number;
  /** Weight of the bit-balance term (the paper: 1). */
  eta: number;
  /** Adam learning rate at the first epoch. */
  lr: number;
  /** Learning rate at the last epoch / lr (log-linear in between; 1 = constant). */
  lrFinalFactor: number;
  /** L2 weight decay added to the gradient (PyTorch style; the MATLAB release's 5e-4). */
  weightDecay: number;
  /** Mini-batch size (for the trainer). */
  batchSize: number;
  /** Epochs (for the trainer and the learning-rate schedule). */
  epochs: number;
}

/** Defaults shared by all datasets (before {@link PER_DATASET}). */
const BASE: Omit<DcmhConfig, "dataset" | "bits"> = {
  seed: 1,
  imageLayers: [4096],
  textLayers: [8192],
  batchNorm: true,
  gamma: 1,
  eta: 1,
  lr: 3e-4,
  lrFinalFactor: Math.pow(10, -1.5),
  weightDecay: 5e-4,
  batchSize: 128,
  epochs: 100,
};

/**
 * Per-dataset differences from {@link BASE}: batch 64 on Wikipedia (as CPAH); small fast runs on
 * synthetic data. lr, its decay and the 100 epochs were chosen on Wikipedia's validation slice
 * at 32 bits (MAP flat by epoch 100), never on a query set.
 */
const PER_DATASET: Partial<Record<DatasetName, Partial<DcmhConfig>>> = {
  synthetic: { batchSize: 64, epochs: 30, lr: 1e-3 },
  wikipedia: { batchSize: 64 },
};

/** DCMH defaults for a dataset and code length, with overrides; validated. */
export function dcmhConfig(
  dataset: string,
  bits: number,
  overrides: Partial<DcmhConfig> = {},
): DcmhConfig {
  const known = checkDatasetName(dataset, "dcmhConfig");
  const set = Object.entries(overrides).filter(([k, v]) => v !== undefined && k !== "bits");
  const per = PER_DATASET[known] ?? {};
  const cfg = { ...BASE, ...per, ...Object.fromEntries(set), dataset, bits } as DcmhConfig;
  return checkDcmhConfig(structuredClone(cfg));
}

/** The field rules of {@link DcmhConfig} (src/models/config.ts). */
const DCMH_RULES: readonly FieldRule[] = [
  [["dataset"], "a string", (v) => typeof v === "string"],
  [["seed"], "an integer", isInteger],
  [["batchNorm"], "a boolean", isBoolean],
  [["bits", "batchSize", "epochs"], "an integer >= 1", isCount],
  [["imageLayers", "textLayers"], "an array of integers >= 1", isLayers(0)],
  [["gamma", "eta", "weightDecay"], "a finite number >= 0", isNonNegative],
  [["lr", "lrFinalFactor"], "a finite number > 0", isPositive],
];

/**
 * Throw a one-line error naming the first invalid (or unknown) field of `c` (format of
 * src/models/config.ts); returns `c`.
 */
export function checkDcmhConfig(c: DcmhConfig): DcmhConfig {
  return validateFields(FILE, "DcmhConfig", c, DCMH_RULES);
}

/** Learning rate of `epoch` (0-based): lr * lrFinalFactor^(epoch / (epochs - 1)). */
export function learningRate(c: DcmhConfig, epoch: number): number {
  return c.lr * Math.pow(c.lrFinalFactor, c.epochs > 1 ? Math.min(1, epoch / (c.epochs - 1)) : 0);
}

/**
 * Negative log-likelihood of the similarities: sum_ij (log(1 + e^Theta_ij) - S_ij Theta_ij),
 * Theta_ij = h_i . other_j / 2, for batch outputs `h` (m x K) of one modality against the
 * stored outputs `other` (n x K) of the other; `s`: m x n (constant).
 */
export function pairwiseNll(h: tf.Tensor2D, other: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mul(pairNll(h, other, s), s.size) as tf.Scalar);
}

/** Quantisation: ||B_b - h||_F^2 over the batch rows `b` of B (m x K). */
export function quantizationLoss(b: tf.Tensor2D, h: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.squaredDifference(b, h)) as tf.Scalar);
}

/**
 * Bit balance, mini-batch estimate: (n / m) ||h^T 1||^2 for batch outputs `h` (m x K) of a
 * training set of n items. Its gradient in h_i is 2 (n/m) h^T 1 = 2 F^T 1 with F^T 1 estimated
 * as (n/m) times the batch sum: the paper's 2 F^T 1 from this step's outputs (see the header).
 */
export function balanceLoss(h: tf.Tensor2D, n: number): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.sum(tf.square(tf.sum(h, 0))), n / h.shape[0]) as tf.Scalar);
}

/**
 * J_x(b) / (m n) = (pair + gamma quant + eta balance) / (m n) for the batch outputs `h` (m x K)
 * of one modality, the stored outputs `other` of the other one (n x K), the similarities `s`
 * (m x n) and the batch rows `b` of B (m x K). Returns the scaled total and the unweighted sums.
 */
export function batchObjective(
  h: tf.Tensor2D,
  other: tf.Tensor2D,
  s: tf.Tensor2D,
  b: tf.Tensor2D,
  w: { gamma: number; eta: number },
): { total: tf.Scalar; pair: tf.Scalar; quant: tf.Scalar; balance: tf.Scalar } {
  const pair = pairwiseNll(h, other, s), quant = quantizationLoss(b, h);
  const balance = balanceLoss(h, s.shape[1]);
  const total = tf.tidy(() =>
    tf.div(tf.addN([pair, tf.mul(quant, w.gamma), tf.mul(balance, w.eta)]), s.size) as tf.Scalar
  );
  return { total, pair, quant, balance };
}

/**
 * The B-step: B = sign(gamma (F + G)) with sign(0) = +1 (for gamma > 0, sign(F + G)), in place
 * on `B`; F, G, B are n x K row-major. It minimises gamma (||B - F||^2 + ||B - G||^2) over
 * B in {-1, +1}: the term equals const - 2 gamma sum_ij B_ij (F_ij + G_ij). Returns the number
 * of bits that changed.
 */
export function updateCodes(B: Float32Array, F: Float32Array, G: Float32Array): number {
  let flipped = 0;
  for (let i = 0; i < B.length; i++) {
    const b = F[i] + G[i] >= 0 ? 1 : -1;
    if (b !== B[i]) flipped++;
    B[i] = b;
  }
  return flipped;
}

/** DCMH: the two networks, their optimisers, the stored outputs F, G and the codes B. */
export class Dcmh implements HashModel {
  /** Method name. */
  readonly method = "dcmh";
  /** Code length K. */
  readonly bits: number;
  /** The validated configuration (frozen copy). */
  readonly config: Readonly<DcmhConfig>;
  /** All variables: group "image" (image network), group "text" (text network). */
  readonly store: ParamStore = new ParamStore();
  /** Image network f: d_v -> imageLayers -> K (ReLU hidden, linear output). */
  readonly image: Mlp;
  /** Text network g: d_t -> textLayers -> K (ReLU hidden, linear output). */
  readonly text: Mlp;
  /** Stored image outputs F over the training set (n x K, row-major). */
  readonly F: Float32Array;
  /** Stored text outputs G over the training set (n x K, row-major). */
  readonly G: Float32Array;
  /** Training codes B (n x K of ±1). */
  readonly B: Float32Array;

  readonly #n: number;
  readonly #labels: tf.Tensor2D;
  readonly #side: Record<Modality, Side>;

  /** Build the networks for `info` with `config` (validated). */
  constructor(info: TrainingSetInfo, config: DcmhConfig) {
    checkDcmhConfig(config);
    const l = info.labels;
    if (!(info.n >= 1) || !l || l.rows !== info.n || l.data.length !== l.rows * l.classes) {
      throw new Error(`${FILE}: createDcmh: info.labels must be n x c with n = info.n = ${info.n}`);
    }
    this.config = Object.freeze(structuredClone(config));
    const K = this.bits = config.bits, n = this.#n = info.n;
    const rng = new Rng(config.seed), adam = { lr: config.lr, weightDecay: config.weightDecay };
    this.F = rng.fork(3).normals(n * K);
    this.G = rng.fork(4).normals(n * K);
    this.B = new Float32Array(n * K);
    updateCodes(this.B, this.F, this.G);
    const side = (group: Modality, cols: number, hidden: number[], tag: number): Side => {
      const dims = [cols, ...hidden, K];
      const net = new Mlp(this.store, group, dims, rng.fork(tag), {
        batchNorm: config.batchNorm,
        lastActivation: "linear",
        group,
      });
      const [own, other] = group === "image" ? [this.F, this.G] : [this.G, this.F];
      const opt = new Adam(this.store.group(group), adam);
      return { net, opt, own, other, cols };
    };
    this.#side = {
      image: side("image", info.imageDim, config.imageLayers, 1),
      text: side("text", info.textDim, config.textLayers, 2),
    };
    this.image = this.#side.image.net;
    this.text = this.#side.text.net;
    this.#labels = tf.tensor2d(Float32Array.from(l.data), [n, l.classes]);
  }

  /** Learning-rate schedule ({@link learningRate}) for both networks. */
  beginEpoch(epoch: number): void {
    this.#side.image.opt.lr = this.#side.text.opt.lr = learningRate(this.config, epoch);
  }

  /**
   * One batch: the image step (stored G fixed) stores the batch's F rows, then the text step
   * (stored F fixed, with those rows) stores its G rows. Returns each modality's pieces (sums /
   * (m n), unweighted) and `total`, the sum of both scaled objectives.
   */
  trainStep(batch: Batch, _ctx?: StepContext): LossTerms {
    const pos = batch.pos, n = this.#n;
    if (new Set(pos).size !== pos.length || pos.some((p) => !(p >= 0 && p < n))) {
      throw new Error(`${FILE}: trainStep: batch.pos must hold distinct positions 0..${n - 1}`);
    }
    const s = labelSimilarity(batch.labels, this.#labels);
    const out: LossTerms = { total: 0 };
    try {
      this.#step("image", batch, s, out);
      this.#step("text", batch, s, out);
    } finally {
      s.dispose();
    }
    return out;
  }

  /** The B-step B = sign(F + G); returns `flipped`, the fraction of bits that changed. */
  endEpoch(_epoch: number): LossTerms {
    return { flipped: updateCodes(this.B, this.F, this.G) / this.B.length };
  }

  /** Image codes: sign(f(x)) (sign(0) = +1). */
  encodeImage(x: Matrix): PackedCodes {
    return this.#encode("image", x);
  }

  /** Text codes: sign(g(y)) (sign(0) = +1). */
  encodeText(y: Matrix): PackedCodes {
    return this.#encode("text", y);
  }

  /** Weights, both optimisers ("opt.image.*", "opt.text.*"), "codes.F", "codes.G", "codes.B". */
  state(): NamedArrays {
    const shape = [this.#n, this.bits];
    return {
      ...this.store.state(),
      ...this.#side.image.opt.state("opt.image"),
      ...this.#side.text.opt.state("opt.text"),
      "codes.F": { shape, data: this.F.slice() },
      "codes.G": { shape, data: this.G.slice() },
      "codes.B": { shape, data: this.B.slice() },
    };
  }

  /** Restore from {@link state}; `source` names the file in errors. Checks before changing. */
  loadState(state: NamedArrays, source: string): void {
    const len = this.#n * this.bits;
    const codes = ["F", "G", "B"].map((k) => {
      const e = state[`codes.${k}`];
      if (e?.data.length === len) return e.data;
      const got = e ? `${e.data.length} values` : "missing";
      throw new Error(`${source}: entry 'codes.${k}' is ${got}, expected ${len} (DCMH state)`);
    });
    this.store.load(state, source);
    this.#side.image.opt.load(state, "opt.image", source);
    this.#side.text.opt.load(state, "opt.text", source);
    [this.F, this.G, this.B].forEach((a, i) => a.set(codes[i]));
  }

  /** Free all tensors (variables, optimiser moments, labels). */
  dispose(): void {
    for (const x of [this.store, this.#side.image.opt, this.#side.text.opt, this.#labels]) {
      x.dispose();
    }
  }

  /** One modality's step on J(b) / (m n); stores its F or G rows, adds its terms to `out`. */
  #step(which: Modality, batch: Batch, s: tf.Tensor2D, out: LossTerms): void {
    const { net, opt, own, other } = this.#side[which], x = batch[which];
    const K = this.bits, n = this.#n, pos = batch.pos, m = pos.length;
    const b = new Float32Array(m * K);
    for (let i = 0; i < m; i++) b.set(this.B.subarray(pos[i] * K, (pos[i] + 1) * K), i * K);
    const oT = tf.tensor2d(other, [n, K]), bT = tf.tensor2d(b, [m, K]);
    const tag = which === "image" ? "V" : "T";
    const { value, grads } = tf.variableGrads(() => {
      const h = net.apply(x, true);
      const hv = h.dataSync() as Float32Array;
      for (let i = 0; i < m; i++) own.set(hv.subarray(i * K, (i + 1) * K), pos[i] * K);
      const { total, ...parts } = batchObjective(h, oT, s, bT, this.config);
      for (const [k, t] of Object.entries(parts)) out[k + tag] = t.dataSync()[0] / s.size;
      return total;
    }, this.store.group(which));
    out.total += value.dataSync()[0];
    tf.dispose([value, oT, bT]);
    opt.apply(grads);
  }

  #encode(which: Modality, x: Matrix): PackedCodes {
    const cols = this.#side[which].cols;
    if (x.cols !== cols) {
      throw new Error(`${FILE}: ${which} features have ${x.cols} columns, expected ${cols}`);
    }
    return encodeInBatches(x, this.bits, (b) => this[which].apply(b, false));
  }
}

/** Build a DCMH model for a training set (the {@link HashModel} factory). */
export function createDcmh(info: TrainingSetInfo, config: DcmhConfig): HashModel {
  return new Dcmh(info, config);
}
