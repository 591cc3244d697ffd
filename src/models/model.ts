/**
 * The interface every hashing method implements (CPAH, DFAH), and the pieces they share:
 * the training-set description a model is built for, a mini-batch, and batched encoding of a
 * feature matrix into packed codes.
 *
 * A model owns its networks, its optimisers and its training codes B. The trainer
 * (src/train.ts) drives it: `beginEpoch` -> `trainStep` per batch -> `endEpoch` (the discrete
 * step). Encoding maps a modality's features to packed codes with the model's test-time path.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Tensor, Tensor2D } from "../tensor_types.ts";
import type { CrossModalDataset, LabelMatrix, Matrix, PackedCodes, Split } from "../types.ts";
import type { NamedArrays } from "../nn/mod.ts";
import type { Manipulation } from "./manipulation.ts";
import type { Rng } from "../random.ts";
import { gatherLabelRows, gatherRows } from "../datasets/matrix.ts";
import { packSigns } from "../retrieval/codes.ts";

/**
 * The optimisation fields every trained method's config shares, under one name each: Adam for
 * the networks and for the discriminator D, the step learning-rate schedule, and what the
 * trainer reads (batch size, epochs). Each method documents its defaults.
 */
export interface OptimisationConfig {
  /** Adam learning rate of the networks. */
  lr: number;
  /** L2 weight decay (PyTorch style) of the networks' Adam. */
  weightDecay: number;
  /** Learning-rate factor applied every `lrDecayEvery` epochs (never at epoch 0). */
  lrDecay: number;
  /** Epochs between learning-rate decays. */
  lrDecayEvery: number;
  /** Adam learning rate of D (decayed with the same schedule). */
  discLr: number;
  /** Adam beta1 of D. */
  discBeta1: number;
  /** Adam beta2 of D. */
  discBeta2: number;
  /** Mini-batch size (for the trainer). */
  batchSize: number;
  /** Epochs (for the trainer): the most it trains. */
  epochs: number;
  /**
   * Early stopping (for the trainer): stop when the validation MAP has not improved for this
   * many epochs; the weights of the best validation epoch are kept either way.
   */
  patience: number;
}

/** The optimisation defaults both trained methods use (Adam 1e-4, decay x0.2 every 30 epochs). */
export const OPTIMISATION_DEFAULTS: Omit<OptimisationConfig, "batchSize" | "epochs"> = {
  patience: 10,
  lr: 1e-4,
  weightDecay: 5e-4,
  lrDecay: 0.2,
  lrDecayEvery: 30,
  discLr: 1e-4,
  discBeta1: 0.5,
  discBeta2: 0.9,
};

/** Learning-rate factor at `epoch` (0-based): lrDecay^floor(epoch / lrDecayEvery); 1 at epoch 0. */
export function learningRateFactor(
  c: Pick<OptimisationConfig, "lrDecay" | "lrDecayEvery">,
  epoch: number,
): number {
  return Math.pow(c.lrDecay, Math.floor(epoch / c.lrDecayEvery));
}

/** What a model needs to know about its training set when it is built. */
export interface TrainingSetInfo {
  /** Number of training pairs n (B, H^v, H^t have n rows). */
  n: number;
  /** Image feature dimension d_v. */
  imageDim: number;
  /** Text feature dimension d_t. */
  textDim: number;
  /** Labels of the training pairs, in training order (row i = training item i). */
  labels: LabelMatrix;
}

/** One mini-batch of training pairs. */
export interface Batch {
  /** Positions of the batch items within the training set (0..n-1). */
  pos: Int32Array;
  /** batch x d_v image features. */
  image: Tensor2D;
  /** batch x d_t text features. */
  text: Tensor2D;
  /** batch x c labels as 0/1 floats. */
  labels: Tensor2D;
}

/** Per-step context supplied by the trainer. */
export interface StepContext {
  /** Epoch (0-based). */
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Generator for this step's random choices (derived from seed, epoch and batch). */
  rng: Rng;
}

/** Named scalar loss terms reported by a step (and summed up per epoch by the trainer). */
export type LossTerms = Record<string, number>;

/** A trainable cross-modal hashing model. */
export interface HashModel {
  /** Method name ("cpah", "dfah"). */
  readonly method: string;
  /** Code length K. */
  readonly bits: number;
  /** The full typed config (hyper-parameters and ablation flags), JSON-serialisable. */
  readonly config: Readonly<object>;
  /**
   * The manipulation checks of the modules the model's ablations switch off
   * (src/models/manipulation.ts), on held-out pairs (`image`, `text`: the same rows of each
   * modality; the runner passes the validation slice), from the weights and codes the model
   * holds. Models without such modules leave it out.
   */
  manipulationCheck?(image: Matrix, text: Matrix): Manipulation;
  /** Called before the first batch of each epoch (learning-rate schedule). */
  beginEpoch(epoch: number): void;
  /** One optimisation step on a batch (all of the model's per-batch updates). */
  trainStep(batch: Batch, ctx: StepContext): LossTerms;
  /** After the last batch of an epoch: the discrete step (update of B); returns its terms. */
  endEpoch(epoch: number): LossTerms;
  /**
   * Optional: after {@link endEpoch}, named numbers that show what the model's components did
   * during the epoch (e.g. a discriminator's accuracy; src/models/diagnostics.ts), recorded in
   * the epoch's history entry. Must not change the model: no random draws, no updates.
   */
  epochDiagnostics?(epoch: number): Record<string, number>;
  /** Encode image features with the test-time path. */
  encodeImage(x: Matrix): PackedCodes;
  /** Encode text features with the test-time path. */
  encodeText(y: Matrix): PackedCodes;
  /**
   * Methods whose database items get one unified code from both modalities (e.g. CMFH): the
   * codes of the database pairs, used for both directions' database. Absent: each modality's
   * database side is encoded on its own.
   */
  encodeDatabase?(image: Matrix, text: Matrix): PackedCodes;
  /** Everything needed to resume or reuse: weights, running stats, B, optimiser state. */
  state(): NamedArrays;
  /** Restore from {@link state}; `source` names the file in error messages. */
  loadState(state: NamedArrays, source: string): void;
  /** Free all tensors. */
  dispose(): void;
}

/** A forward pass over one batch of rows: batch x d -> batch x K. */
export type Forward = (batch: Tensor2D) => Tensor2D;

/**
 * Encode rows of `x` in batches: `forward` maps a batch x d tensor to batch x K continuous
 * outputs (e.g. tanh of the hash layer, in evaluation mode); codes are their signs
 * (sign(0) = +1), packed.
 */
export function encodeInBatches(
  x: Matrix,
  bits: number,
  forward: Forward,
  batchSize = 1024,
): PackedCodes {
  const codes: PackedCodes = packSigns(forwardInBatches(x, bits, forward, batchSize), x.rows, bits);
  return codes;
}

/** Continuous outputs of `forward` over all rows of `x`, in batches (n x K, row-major). */
export function forwardInBatches(x: Matrix, width: number, forward: Forward, batchSize = 1024) {
  const out = new Float32Array(x.rows * width);
  for (let start = 0; start < x.rows; start += batchSize) {
    const end = Math.min(x.rows, start + batchSize);
    const rows = new Int32Array(end - start);
    for (let i = 0; i < rows.length; i++) rows[i] = start + i;
    const dense = gatherRows(x, rows);
    const h = tf.tidy(() => forward(tf.tensor2d(dense.data, [dense.rows, dense.cols])));
    out.set(h.dataSync() as Float32Array, start * width);
    h.dispose();
  }
  return out;
}

/** Sign with sign(0) = +1, elementwise, as a ±1 tensor. */
export function signPlus(x: Tensor): Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greaterEqual(x, 0), "float32"), 2), 1));
}

/** What a model needs to know about the training rows of a split (the data -> model step). */
export function trainingSetInfo(ds: CrossModalDataset, split: Split): TrainingSetInfo {
  return {
    n: split.train.length,
    imageDim: ds.image.cols,
    textDim: ds.text.cols,
    labels: gatherLabelRows(ds.labels, split.train),
  };
}

// ---------------------------------------------------------------------------------------
// Batch and row bookkeeping shared by the methods

/** Rows `pos` of an n x width row-major array, gathered into a new pos.length x width array. */
export function gatherCodeRows(src: Float32Array, pos: Int32Array, width: number): Float32Array {
  const out = new Float32Array(pos.length * width);
  for (let i = 0; i < pos.length; i++) {
    out.set(src.subarray(pos[i] * width, (pos[i] + 1) * width), i * width);
  }
  return out;
}

/** Write the rows of a pos.length x width tensor into rows `pos` of `dst` (n x width). */
export function scatterCodeRows(
  dst: Float32Array,
  rows: Tensor,
  pos: Int32Array,
  width: number,
): void {
  const d = rows.dataSync() as Float32Array;
  for (let i = 0; i < pos.length; i++) {
    dst.set(d.subarray(i * width, (i + 1) * width), pos[i] * width);
  }
}

/** Check a training-set description; `fn` (e.g. "createCpah") names the caller in errors. */
export function checkTrainingSetInfo(info: TrainingSetInfo, fn: string): void {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!info || typeof info !== "object") {
    throw new Error(`${fn}: info must be a TrainingSetInfo`);
  }
  for (const k of ["n", "imageDim", "textDim"] as const) {
    if (!posInt(info[k])) {
      throw new Error(`${fn}: info.${k} is ${info[k]}, expected an integer >= 1`);
    }
  }
  const l = info.labels;
  if (!l || !(l.data instanceof Uint8Array) || l.rows !== info.n || !posInt(l.classes)) {
    throw new Error(`${fn}: info.labels must be a LabelMatrix with n=${info.n} rows`);
  }
  if (l.data.length !== l.rows * l.classes) {
    throw new Error(
      `${fn}: info.labels.data has length ${l.data.length}, expected ${l.rows * l.classes}`,
    );
  }
}

/** Check a batch against the training set: tensor shapes and positions 0..n-1. */
export function checkBatch(batch: Batch, info: TrainingSetInfo, fn = "trainStep"): void {
  const m = batch.pos.length;
  const want: [string, Tensor2D, number][] = [
    ["batch.image", batch.image, info.imageDim],
    ["batch.text", batch.text, info.textDim],
    ["batch.labels", batch.labels, info.labels.classes],
  ];
  for (const [name, x, cols] of want) {
    if (x.rank !== 2 || x.shape[0] !== m || x.shape[1] !== cols) {
      throw new Error(`${fn}: ${name} has shape ${x.shape.join("x")}, expected ${m}x${cols}`);
    }
  }
  for (let i = 0; i < m; i++) {
    const p = batch.pos[i];
    if (!(p >= 0 && p < info.n)) {
      throw new Error(`${fn}: batch.pos[${i}] = ${p}, expected 0 <= pos < n=${info.n}`);
    }
  }
}

/** Check that a feature matrix has the columns the model was built for. */
export function checkFeatureCols(x: Matrix, cols: number, fn: string, name: string): void {
  if (x.cols !== cols) {
    throw new Error(`${fn}: ${name} has ${x.cols} columns, expected ${cols}`);
  }
}

/**
 * The trainer's per-epoch hooks of a model whose parameters are not learned by gradient steps
 * (closed-form or random methods): nothing to schedule, no per-batch update, no discrete step.
 */
export abstract class NoTrainingSteps {
  /** Nothing to schedule. */
  beginEpoch(_epoch: number): void {}
  /** No per-batch update. */
  trainStep(_batch?: Batch, _ctx?: StepContext): LossTerms {
    return {};
  }
  /** No discrete step. */
  endEpoch(_epoch: number): LossTerms {
    return {};
  }
}

/**
 * The base of the shallow closed-form models: no training steps (they are fitted in closed
 * form), parameters that exist once fit() or loadState() has run, and nothing to dispose.
 */
export abstract class ClosedFormModel<P> extends NoTrainingSteps {
  readonly #file: string;
  #params: P | null = null;

  /** `file` names the model in errors (e.g. "SCM"). */
  constructor(file: string) {
    super();
    this.#file = file;
  }

  /** The fitted parameters; a one-line error naming the model before fit() or loadState(). */
  protected get params(): P {
    if (!this.#params) {
      throw new Error(`${this.#file}: the model is not trained: call fit() or loadState()`);
    }
    return this.#params;
  }

  /** Set by fit() and loadState(). */
  protected set params(p: P) {
    this.#params = p;
  }

  /** Nothing to free (no tensors). */
  dispose(): void {}
}
