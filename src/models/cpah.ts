/**
 * CPAH — Multi-Task Consistency-Preserving Adversarial Hashing
 * (Xie, Deng, Li, Liu, Tao; IEEE TIP 29, 2020, 3626-3637).
 *
 * The paper's full text is not available to this project. This file implements the reading of
 * the paper that its one public re-implementation encodes (docs: methods.md, section CPAH),
 * with that code's defects fixed. Equation numbers in brackets are the ones the public
 * re-implementation's comments cite; they are not checked against the paper.
 *
 * Paper module / equation                         -> code
 * ----------------------------------------------------------------------------------------
 * feature extractors E_v, E_t (d -> 512 -> 512)   -> `Branch.E` (Mlp, Linear+BN+ReLU twice)
 * consistency-refined (CR) mask m = sigmoid(W f+b) -> `Branch.mask`, {@link branchForward}
 *   modality-common  c = f * m, private p = f * (1 - m)
 * hash layers h = tanh(W_h c + b_h), K outputs     -> `Branch.hash`
 * modality discriminator D (512 -> 64 -> 1)        -> `Cpah.D`
 *   D's loss: image-common = 1, text-common = 0 [5] -> {@link discriminatorLoss}
 *   WGAN-GP penalty on interpolates, weight 10      -> {@link gradientPenaltyTerm}
 *   extractors fool D (labels flipped) [6]          -> {@link adversarialTerm}
 * consistency classifier C (512 -> 64 -> 3) [7]     -> `Cpah.C`, {@link consistencyTerm}
 *   classes: 0 = common (either modality), 1 = image-private, 2 = text-private
 * label classifiers sigmoid(W c) per modality [8]   -> `Branch.cls`, {@link labelTerm}
 * pairwise likelihood L_pair [10]                   -> {@link pairwiseTerm}
 * quantisation L_q = |B - h^v|^2 + |B - h^t|^2 [11] -> {@link quantizationTerm}
 * network objective L = L_pair + beta L_q + alpha (L_cons + L_label) + gamma L_adv
 *                                                   -> {@link networkObjective}
 * discrete step B = sign(H^v + H^t), per epoch      -> {@link Cpah.endEpoch}
 * Adam lr 1e-4, wd 5e-4, lr x0.2 every 30 epochs    -> {@link learningRateFactor}
 *
 * Defects of the public implementation that this one does NOT have:
 * 1. The consistency classifier is really applied: L_cons is the cross-entropy of C's logits
 *    on [c^v; c^t; p^v; p^t] (the public code applied the cross-entropy to the raw 512-d
 *    features and never called C).
 * 2. Test-time codes come from the modality-common part: sign(tanh(W_h (f * m) + b_h)) (the
 *    public code hashed the unmasked features f at test time).
 * 3. The learning-rate decay does not fire at epoch 0: the factor is 0.2^floor(epoch / 30)
 *    (the public code's `epoch % k == 0` test decayed before the first epoch).
 *
 * Choices this project made where the description leaves room (all in {@link CpahConfig}):
 * - Loss normalisation, `normalization`: "perItem" (default) — each term is methods.md's sum
 *   divided by the batch size, i.e. per training pair: L_pair summed over all its partners,
 *   L_q over the K bits, L_label over the c labels, L_cons over its 4 items, L_adv over its 2
 *   items ({@link termScales} applied to the mean-form pieces of src/nn/losses.ts). The paper's
 *   alpha = 0.1 and beta = 1 were chosen for sums, and they keep that meaning here. "mean" —
 *   plain means (the src/nn/losses.ts convention), which weakens L_pair by the number of
 *   partners relative to L_q; on Wikipedia (16 bits, 20 epochs) it reached MAP I->T 0.26 /
 *   T->I 0.34 against 0.29 / 0.56 for "perItem" (validation-selected, query set reported).
 * - `pairMode`: "stored" (default, DCMH style) pairs each modality's batch outputs with the
 *   stored outputs of the other modality over the whole training set (the batch's own rows
 *   refreshed with this step's outputs, treated as constants); "batch" pairs the batch's
 *   image outputs with the same batch's text outputs. Both modes sum the two directions
 *   (image rows vs text columns + text rows vs image columns), so their scales match.
 *   Stored outputs start at 0: rows not yet visited add a constant log 2 and no gradient.
 * - `bInit`: "outputs" (default) — B is first made by the discrete step at the end of epoch
 *   0 from the first epoch's outputs, and L_q is inactive during epoch 0; "random" — B is the
 *   sign of seeded normal noise (what the public code does), L_q active from the first step.
 * - Step order per batch (as in the public code): one forward pass of the networks; the
 *   discriminator step on this batch's common parts, detached; then the network step, whose
 *   adversarial term uses the just-updated D. The D step runs inside the network step's
 *   gradient closure, after the forward pass, so the networks are run (and their BatchNorm
 *   statistics updated) once per batch; the D step runs off that closure's tape
 *   (`withoutTape`, src/nn/layers.ts), so c^v and c^t are constants for it and no gradient of the D
 *   step reaches the networks.
 * - The gradient penalty needs D's input gradient, differentiated once more w.r.t. D's weights.
 *   D = Linear-ReLU-Linear, so the input gradient is written as first-order ops
 *   (`Mlp.inputGradient`, src/nn/layers.ts: ReLU masks held constant), which gives the same values
 *   and weight gradients as tf.grad inside tf.variableGrads with far fewer kernels (both
 *   checked in tests/losses.test.ts and tests/nn_optim_checkpoint.test.ts).
 * - The consistency classifier and the label classifiers are trained with the networks (group
 *   "net"): they cooperate with the extractors; only D is adversarial (group "disc").
 *   D's weight decay 1e-4 is the public code's value (the description gives none).
 * - gamma (weight of L_adv) is not known from the paper: default 1.
 *
 * Ablations (one flag each, read in ONE place: {@link activeTerms}):
 * - noCR: c = f, no mask, no private part, no consistency classifier.
 * - noAdversary: no D, gamma = 0.
 * - noMultiTask: no consistency and no label heads, alpha = 0.
 * - relaxed: no B and no discrete step, L_q dropped; codes binarised only at test time.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Linear, Mlp, type NamedArrays, ParamStore, withoutTape } from "../nn/mod.ts";
import { Adam } from "../nn/optim.ts";
import {
  bceWithLogits,
  gradientPenalty,
  labelSimilarity,
  pairNll,
  quantization,
  softmaxCrossEntropy,
} from "../nn/losses.ts";
import { Rng } from "../random.ts";
import { DATASET_NAMES, type DatasetName } from "../datasets/datasets.ts";
import type { Matrix, PackedCodes } from "../types.ts";
import {
  type Batch,
  encodeInBatches,
  type HashModel,
  type LossTerms,
  type StepContext,
  type TrainingSetInfo,
} from "./model.ts";

const FILE = "src/models/cpah.ts";

// =========================================================================================
// Configuration
// =========================================================================================

/** Datasets with CPAH defaults: every dataset the loader knows. */
export const CPAH_DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** A dataset with CPAH defaults. */
export type CpahDataset = DatasetName;

/** Code lengths of the papers' tables. */
export const CPAH_BITS: readonly number[] = [16, 32, 64, 128];

/** Every hyper-parameter of CPAH, plain JSON-serialisable data. */
export interface CpahConfig {
  /** Dataset the defaults were taken for (recorded in results). */
  dataset: string;
  /** Code length K. */
  bits: number;
  /** Accept a code length outside {@link CPAH_BITS}. */
  anyBits: boolean;
  /** Seed of the weight initialisation and of the random B (bInit "random"). */
  seed: number;
  /** Width of the extractors d -> hidden -> hidden; the mask is hidden -> hidden (512). */
  hidden: number;
  /** Hidden width of the discriminator D: hidden -> discHidden -> 1 (64). */
  discHidden: number;
  /** Hidden width of the consistency classifier C: hidden -> consHidden -> 3 (64). */
  consHidden: number;
  /** Weight of the multi-task terms L_cons + L_label (0.1). */
  alpha: number;
  /** Weight of the quantisation term L_q (1). */
  beta: number;
  /** Weight of the adversarial term L_adv (1; not known from the paper). */
  gamma: number;
  /** Weight of the gradient penalty in D's loss (10). */
  gpWeight: number;
  /** Learning rate of the networks (1e-4). */
  lr: number;
  /** L2 weight decay of the networks' Adam (5e-4). */
  weightDecay: number;
  /** Learning-rate factor applied every `lrDecayEvery` epochs (0.2). */
  lrDecay: number;
  /** Epochs between learning-rate decays (30); never at epoch 0. */
  lrDecayEvery: number;
  /** Learning rate of D (1e-4; decayed with the same schedule). */
  discLr: number;
  /** Adam betas of D ([0.5, 0.9]). */
  discBetas: [number, number];
  /** L2 weight decay of D's Adam (1e-4, the public code's value). */
  discWeightDecay: number;
  /** Mini-batch size (for the trainer). */
  batchSize: number;
  /** Epochs (for the trainer). */
  epochs: number;
  /** Cross-modal pairs: batch vs stored outputs of the other modality, or batch vs batch. */
  pairMode: "stored" | "batch";
  /**
   * Scale of the terms: "perItem" — each term is the description's sum over one training
   * pair's contributions (all its partners, all K bits, all c labels, its 4 consistency
   * items, its 2 adversarial items), averaged over the batch (= the sums of methods.md divided
   * by the batch size, so alpha and beta keep the meaning they have for sums); "mean" — every
   * term a plain mean (src/nn/losses.ts convention), which shrinks L_pair by the number of
   * partners and L_q by K relative to the sums.
   */
  normalization: "perItem" | "mean";
  /** Initial B: from the first epoch's outputs, or the sign of seeded normal noise. */
  bInit: "outputs" | "random";
  /** Ablation: no consistency-refined module (c = f, no private part, no C). */
  noCR: boolean;
  /** Ablation: no modality discriminator (gamma = 0). */
  noAdversary: boolean;
  /** Ablation: no consistency and label heads (alpha = 0). */
  noMultiTask: boolean;
  /** Ablation: no B, no L_q; binarise only at test time. */
  relaxed: boolean;
}

/**
 * Per-dataset defaults. Only MIRFlickr's are documented (100 epochs, batch 128-256); the other
 * entries are this project's choices, with the same optimiser everywhere. No default depends
 * on the code length.
 */
const DATASET_DEFAULTS: Record<CpahDataset, Pick<CpahConfig, "batchSize" | "epochs">> = {
  "wikipedia": { batchSize: 64, epochs: 100 },
  "mirflickr25k": { batchSize: 128, epochs: 100 },
  "mirflickr25k-simimg": { batchSize: 128, epochs: 100 },
  "nuswide": { batchSize: 128, epochs: 100 },
  "mscoco": { batchSize: 128, epochs: 100 },
  "iapr": { batchSize: 128, epochs: 100 },
  "synthetic": { batchSize: 64, epochs: 30 },
};

/**
 * CPAH's configuration for a dataset and code length, with `overrides` applied.
 * Unknown datasets need `batchSize` and `epochs` in `overrides`; a code length outside
 * 16/32/64/128 needs `anyBits: true`. The result is validated.
 */
export function cpahConfig(
  dataset: string,
  bits: number,
  overrides: Partial<CpahConfig> = {},
): CpahConfig {
  const known = (CPAH_DATASETS as readonly string[]).includes(dataset);
  if (!known && (overrides.batchSize === undefined || overrides.epochs === undefined)) {
    throw new Error(
      `${FILE}: cpahConfig: dataset '${dataset}' has no defaults; expected one of ` +
        `${CPAH_DATASETS.join(", ")}, or batchSize and epochs in overrides`,
    );
  }
  const base: CpahConfig = {
    dataset,
    bits,
    anyBits: false,
    seed: 1,
    hidden: 512,
    discHidden: 64,
    consHidden: 64,
    alpha: 0.1,
    beta: 1,
    gamma: 1,
    gpWeight: 10,
    lr: 1e-4,
    weightDecay: 5e-4,
    lrDecay: 0.2,
    lrDecayEvery: 30,
    discLr: 1e-4,
    discBetas: [0.5, 0.9],
    discWeightDecay: 1e-4,
    batchSize: 128,
    epochs: 100,
    pairMode: "stored",
    normalization: "perItem",
    bInit: "outputs",
    noCR: false,
    noAdversary: false,
    noMultiTask: false,
    relaxed: false,
    ...(known ? DATASET_DEFAULTS[dataset as CpahDataset] : {}),
  };
  const config = { ...base, ...overrides };
  if (overrides.dataset !== undefined && overrides.dataset !== dataset) config.dataset = dataset;
  if (overrides.bits !== undefined && overrides.bits !== bits) config.bits = bits;
  checkConfig(config, "cpahConfig");
  return config;
}

/** Throw a one-line error naming the first invalid field of `c`. */
export function checkConfig(c: CpahConfig, fn = "checkConfig"): void {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new Error(
      `${FILE}: ${fn}: config.${field} is ${JSON.stringify(value)}, expected ${expected}`,
    );
  };
  if (typeof c.dataset !== "string" || c.dataset === "") bad("dataset", c.dataset, "a name");
  if (!Number.isInteger(c.bits) || c.bits < 1) bad("bits", c.bits, "an integer >= 1");
  if (!c.anyBits && !CPAH_BITS.includes(c.bits)) {
    bad("bits", c.bits, `one of ${CPAH_BITS.join(", ")} (or anyBits: true)`);
  }
  if (!Number.isInteger(c.seed)) bad("seed", c.seed, "an integer");
  for (const k of ["hidden", "discHidden", "consHidden", "batchSize", "lrDecayEvery"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) bad(k, c[k], "an integer >= 1");
  }
  if (!Number.isInteger(c.epochs) || c.epochs < 0) bad("epochs", c.epochs, "an integer >= 0");
  for (
    const k of ["alpha", "beta", "gamma", "gpWeight", "weightDecay", "discWeightDecay"] as const
  ) {
    if (!Number.isFinite(c[k]) || c[k] < 0) bad(k, c[k], "a finite number >= 0");
  }
  for (const k of ["lr", "discLr", "lrDecay"] as const) {
    if (!Number.isFinite(c[k]) || c[k] <= 0) bad(k, c[k], "a finite number > 0");
  }
  if (
    !Array.isArray(c.discBetas) || c.discBetas.length !== 2 ||
    !c.discBetas.every((b) => Number.isFinite(b) && b >= 0 && b < 1)
  ) bad("discBetas", c.discBetas, "two numbers in [0, 1)");
  if (c.pairMode !== "stored" && c.pairMode !== "batch") {
    bad("pairMode", c.pairMode, `"stored" or "batch"`);
  }
  if (c.normalization !== "perItem" && c.normalization !== "mean") {
    bad("normalization", c.normalization, `"perItem" or "mean"`);
  }
  if (c.bInit !== "outputs" && c.bInit !== "random") bad("bInit", c.bInit, `"outputs" or "random"`);
  for (const k of ["anyBits", "noCR", "noAdversary", "noMultiTask", "relaxed"] as const) {
    if (typeof c[k] !== "boolean") bad(k, c[k], "a boolean");
  }
}

/** Which modules and terms a configuration uses, and the effective weights. */
export interface CpahActive {
  /** CR module: mask, c = f * m, p = f * (1 - m). Off: c = f. */
  mask: boolean;
  /** Consistency classifier C and L_cons. */
  consistency: boolean;
  /** Label classifiers and L_label. */
  label: boolean;
  /** Discriminator D, its step, and L_adv. */
  adversarial: boolean;
  /** Training codes B, L_q and the discrete step. */
  quantization: boolean;
  /** Effective weights (0 where a flag removes the term). */
  alpha: number;
  beta: number;
  gamma: number;
}

/** THE one place where the ablation flags are read. */
export function activeTerms(c: CpahConfig): CpahActive {
  return {
    mask: !c.noCR,
    consistency: !c.noCR && !c.noMultiTask,
    label: !c.noMultiTask,
    adversarial: !c.noAdversary,
    quantization: !c.relaxed,
    alpha: c.noMultiTask ? 0 : c.alpha,
    beta: c.relaxed ? 0 : c.beta,
    gamma: c.noAdversary ? 0 : c.gamma,
  };
}

/** Learning-rate factor at `epoch` (0-based): lrDecay^floor(epoch / lrDecayEvery); 1 at epoch 0. */
export function learningRateFactor(c: CpahConfig, epoch: number): number {
  return Math.pow(c.lrDecay, Math.floor(epoch / c.lrDecayEvery));
}

// =========================================================================================
// Loss terms (each a small function of tensors; weights are applied in networkObjective)
// =========================================================================================

/**
 * L_pair [10]: negative log-likelihood of the similarities, both directions:
 * pairNll(h^v, other^t, S) + pairNll(h^t, other^v, S). `hv`, `ht`: m x K batch outputs;
 * `otherV`, `otherT`: N x K outputs they are paired with (stored outputs of the training set,
 * or the batch itself); `s`: m x N similarities.
 */
export function pairwiseTerm(
  hv: tf.Tensor2D,
  ht: tf.Tensor2D,
  otherV: tf.Tensor2D,
  otherT: tf.Tensor2D,
  s: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => tf.add(pairNll(hv, otherT, s), pairNll(ht, otherV, s)) as tf.Scalar);
}

/** L_q [11]: mean (B - h^v)^2 + mean (B - h^t)^2 over the batch rows of B (m x K). */
export function quantizationTerm(b: tf.Tensor2D, hv: tf.Tensor2D, ht: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(quantization(b, hv), quantization(b, ht)) as tf.Scalar);
}

/**
 * L_cons [7]: cross-entropy of the consistency classifier's logits with classes
 * C(c^v) = 0, C(c^t) = 0 (common), C(p^v) = 1 (image-private), C(p^t) = 2 (text-private);
 * mean over the 4m items. `logits`: 4m x 3, the rows of C([c^v; c^t; p^v; p^t]) in that order
 * (C is applied once to the stacked parts: one pass of the classifier instead of four).
 */
export function consistencyTerm(logits: tf.Tensor2D): tf.Scalar {
  const rows = logits.shape[0];
  if (rows % 4 !== 0) {
    throw new Error(
      `${FILE}: consistencyTerm: logits has ${rows} rows, expected 4m ([c^v; c^t; p^v; p^t])`,
    );
  }
  const m = rows / 4;
  const classes = new Int32Array(rows);
  classes.fill(1, 2 * m, 3 * m);
  classes.fill(2, 3 * m, 4 * m);
  return softmaxCrossEntropy(logits, classes);
}

/** L_label [8]: BCE of each modality's label logits (m x c) against the labels (m x c 0/1). */
export function labelTerm(
  logitsV: tf.Tensor2D,
  logitsT: tf.Tensor2D,
  labels: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() =>
    tf.add(bceWithLogits(logitsV, labels), bceWithLogits(logitsT, labels)) as tf.Scalar
  );
}

/**
 * L_adv [6], the networks' side: fool D by flipping its labels — image-common to 0,
 * text-common to 1. `dv`, `dt`: D's logits (m x 1) on c^v and c^t.
 */
export function adversarialTerm(dv: tf.Tensor2D, dt: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() =>
    tf.add(bceWithLogits(dv, tf.zerosLike(dv)), bceWithLogits(dt, tf.onesLike(dt))) as tf.Scalar
  );
}

/** D's loss [5]: image-common = 1, text-common = 0 (BCE on logits m x 1). */
export function discriminatorLoss(dv: tf.Tensor2D, dt: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() =>
    tf.add(bceWithLogits(dv, tf.onesLike(dv)), bceWithLogits(dt, tf.zerosLike(dt))) as tf.Scalar
  );
}

/**
 * Gradient penalty of D (WGAN-GP): mean (||grad_x D(x)|| - 1)^2 at x = eps c^v + (1-eps) c^t,
 * eps (m x 1) drawn by the caller's seeded generator. Weighted by `gpWeight` in D's step.
 * `inputGradient`, when given, computes grad_x D(x) directly (else tf.grad of `critic`).
 */
export function gradientPenaltyTerm(
  critic: (x: tf.Tensor2D) => tf.Tensor2D,
  cv: tf.Tensor2D,
  ct: tf.Tensor2D,
  eps: tf.Tensor2D,
  inputGradient?: (x: tf.Tensor2D) => tf.Tensor2D,
): tf.Scalar {
  return gradientPenalty(critic, cv, ct, eps, inputGradient);
}

/** The terms of the networks' objective, each unweighted (zero tensors for inactive terms). */
export interface NetworkTerms {
  pair: tf.Scalar;
  quant: tf.Scalar;
  cons: tf.Scalar;
  label: tf.Scalar;
  adv: tf.Scalar;
}

/**
 * Factors that turn the mean-form terms above into the configured normalisation. "perItem":
 * L_pair x partners (n stored rows, or the batch size m), L_q x K, L_label x c, L_cons x 4,
 * L_adv x 1 (already a sum over the pair's two items); "mean": all 1.
 */
export function termScales(
  c: Pick<CpahConfig, "normalization" | "bits">,
  partners: number,
  classes: number,
): Record<keyof NetworkTerms, number> {
  if (c.normalization === "mean") return { pair: 1, quant: 1, cons: 1, label: 1, adv: 1 };
  return { pair: partners, quant: c.bits, cons: 4, label: classes, adv: 1 };
}

/** L = L_pair + beta L_q + alpha (L_cons + L_label) + gamma L_adv (weights from activeTerms). */
export function networkObjective(
  t: NetworkTerms,
  w: Pick<CpahActive, "alpha" | "beta" | "gamma">,
): tf.Scalar {
  return tf.tidy(() =>
    tf.addN([
      t.pair,
      tf.mul(t.quant, w.beta),
      tf.mul(tf.add(t.cons, t.label), w.alpha),
      tf.mul(t.adv, w.gamma),
    ]) as tf.Scalar
  );
}

// =========================================================================================
// Modules
// =========================================================================================

/** One modality's networks: extractor, CR mask (absent with noCR), hash layer, label head. */
export interface Branch {
  E: Mlp;
  mask?: Linear;
  hash: Linear;
  cls?: Linear;
}

/** Forward outputs of one modality. `m` and `p` are absent with noCR (then c = f). */
export interface BranchOutputs {
  f: tf.Tensor2D;
  m?: tf.Tensor2D;
  c: tf.Tensor2D;
  p?: tf.Tensor2D;
  h: tf.Tensor2D;
}

/**
 * f = E(x); m = sigmoid(W_m f + b_m); c = f * m; p = f * (1 - m); h = tanh(W_h c + b_h).
 * The same path at training and test time (test: `training = false`, BatchNorm running stats).
 */
export function branchForward(br: Branch, x: tf.Tensor2D, training: boolean): BranchOutputs {
  const f = br.E.apply(x, training);
  if (!br.mask) return { f, c: f, h: br.hash.apply(f, "tanh") };
  const m = br.mask.apply(f, "sigmoid");
  const c = tf.mul(f, m) as tf.Tensor2D;
  const p = tf.mul(f, tf.sub(1, m)) as tf.Tensor2D;
  return { f, m, c, p, h: br.hash.apply(c, "tanh") };
}

function rowsOf(src: Float32Array, pos: Int32Array, width: number): Float32Array {
  const out = new Float32Array(pos.length * width);
  for (let i = 0; i < pos.length; i++) {
    out.set(src.subarray(pos[i] * width, (pos[i] + 1) * width), i * width);
  }
  return out;
}

// =========================================================================================
// The model
// =========================================================================================

/** CPAH: networks, optimisers, stored outputs H^v, H^t and training codes B. */
export class Cpah implements HashModel {
  /** Method name. */
  readonly method = "cpah";
  /** Code length K. */
  readonly bits: number;
  /** The validated configuration (frozen copy). */
  readonly config: Readonly<CpahConfig>;
  /** Modules and terms in use (from the ablation flags). */
  readonly active: Readonly<CpahActive>;
  /** All variables: group "net" (extractors, masks, hash layers, C, label heads), "disc" (D). */
  readonly store = new ParamStore();
  /** Image branch. */
  readonly image: Branch;
  /** Text branch. */
  readonly text: Branch;
  /** Modality discriminator (absent with noAdversary). */
  readonly D?: Mlp;
  /** Consistency classifier (absent with noCR or noMultiTask). */
  readonly C?: Mlp;
  /** Stored continuous outputs over the training set (n x K, row-major). */
  readonly Hv: Float32Array;
  /** Stored continuous outputs over the training set (n x K, row-major). */
  readonly Ht: Float32Array;
  /** Training codes (n x K of ±1; absent when relaxed). */
  readonly B?: Float32Array;
  /** Whether B holds codes yet (bInit "outputs": after the first discrete step). */
  bReady: boolean;

  readonly #n: number;
  readonly #info: { imageDim: number; textDim: number; classes: number };
  readonly #labels: tf.Tensor2D;
  readonly #netOpt: Adam;
  readonly #discOpt?: Adam;

  /** Build the networks for `info` with `config` (validated). */
  constructor(info: TrainingSetInfo, config: CpahConfig) {
    checkConfig(config, "createCpah");
    checkInfo(info);
    this.config = Object.freeze({
      ...config,
      discBetas: [...config.discBetas] as [number, number],
    });
    this.active = Object.freeze(activeTerms(config));
    this.bits = config.bits;
    this.#n = info.n;
    const classes = info.labels.classes;
    this.#info = { imageDim: info.imageDim, textDim: info.textDim, classes };
    const a = this.active, K = config.bits, hd = config.hidden;

    // Forks are drawn in a fixed order whatever the flags, so shared modules start from the
    // same weights in every ablation.
    const rng = new Rng(config.seed);
    const [ri, rt, rd, rc, rb] = [1, 2, 3, 4, 5].map((t) => rng.fork(t));
    const branch = (name: string, dim: number, r: Rng): Branch => {
      const [rE, rM, rH, rL] = [1, 2, 3, 4].map((t) => r.fork(t));
      return {
        E: new Mlp(this.store, `${name}.E`, [dim, hd, hd], rE),
        mask: a.mask ? new Linear(this.store, `${name}.mask`, hd, hd, rM) : undefined,
        hash: new Linear(this.store, `${name}.hash`, hd, K, rH),
        cls: a.label ? new Linear(this.store, `${name}.cls`, hd, classes, rL) : undefined,
      };
    };
    this.image = branch("image", info.imageDim, ri);
    this.text = branch("text", info.textDim, rt);
    if (a.adversarial) {
      this.D = new Mlp(this.store, "D", [hd, config.discHidden, 1], rd, {
        batchNorm: false,
        lastActivation: "linear",
        group: "disc",
      });
    }
    if (a.consistency) {
      this.C = new Mlp(this.store, "C", [hd, config.consHidden, 3], rc, {
        batchNorm: false,
        lastActivation: "linear",
      });
    }

    this.#netOpt = new Adam(this.store.group("net"), {
      lr: config.lr,
      weightDecay: config.weightDecay,
    });
    if (a.adversarial) {
      this.#discOpt = new Adam(this.store.group("disc"), {
        lr: config.discLr,
        beta1: config.discBetas[0],
        beta2: config.discBetas[1],
        weightDecay: config.discWeightDecay,
      });
    }

    this.Hv = new Float32Array(info.n * K);
    this.Ht = new Float32Array(info.n * K);
    this.bReady = false;
    if (a.quantization) {
      this.B = new Float32Array(info.n * K);
      if (config.bInit === "random") {
        const noise = rb.normals(info.n * K);
        for (let i = 0; i < noise.length; i++) this.B[i] = noise[i] >= 0 ? 1 : -1;
        this.bReady = true;
      }
    }
    const lf = new Float32Array(info.labels.data.length);
    for (let i = 0; i < lf.length; i++) lf[i] = info.labels.data[i];
    this.#labels = tf.tensor2d(lf, [info.n, classes]);
  }

  /** Learning-rate schedule: lr * lrDecay^floor(epoch / lrDecayEvery) for both optimisers. */
  beginEpoch(epoch: number): void {
    const f = learningRateFactor(this.config, epoch);
    this.#netOpt.lr = this.config.lr * f;
    if (this.#discOpt) this.#discOpt.lr = this.config.discLr * f;
  }

  /** Current learning rates (net, disc). */
  get learningRates(): { net: number; disc?: number } {
    return { net: this.#netOpt.lr, disc: this.#discOpt?.lr };
  }

  /**
   * One batch: forward pass; store the batch's rows of H^v, H^t; D step on the detached
   * common parts; network step on L. Returns each term as optimised (normalised, before the
   * alpha/beta/gamma weights), the weighted `total`, D's loss `D` and its gradient penalty
   * `gp` (unweighted); inactive terms are 0. All random draws (the penalty's interpolation
   * weights) come from `ctx.rng`.
   */
  trainStep(batch: Batch, ctx: StepContext): LossTerms {
    this.#checkBatch(batch);
    const a = this.active, K = this.bits, m = batch.pos.length;
    const eps = new Float32Array(m);
    if (a.adversarial) { for (let i = 0; i < m; i++) eps[i] = ctx.rng.uniform(); }
    let disc = { D: 0, gp: 0 };
    const kept: { terms?: NetworkTerms } = {};

    const { value, grads } = tf.variableGrads(() => {
      const v = branchForward(this.image, batch.image, true);
      const t = branchForward(this.text, batch.text, true);
      this.#storeOutputs(batch.pos, v.h, t.h);
      if (a.adversarial) {
        // Off this tape: c^v, c^t are constants for D's step, and its ops are not recorded.
        disc = withoutTape(() =>
          tf.tidy(() => this.#discriminatorStep(v.c, t.c, tf.tensor2d(eps, [m, 1])))
        );
      }
      const zero = () => tf.scalar(0);
      let pair: tf.Scalar;
      const partners = this.config.pairMode === "stored" ? this.#n : m;
      if (this.config.pairMode === "stored") {
        const s = labelSimilarity(batch.labels, this.#labels);
        const Hv = tf.tensor2d(this.Hv, [this.#n, K]), Ht = tf.tensor2d(this.Ht, [this.#n, K]);
        pair = pairwiseTerm(v.h, t.h, Hv, Ht, s);
      } else {
        pair = pairwiseTerm(v.h, t.h, v.h, t.h, labelSimilarity(batch.labels, batch.labels));
      }
      const useQ = a.quantization && this.bReady;
      const terms: NetworkTerms = {
        pair,
        quant: useQ
          ? quantizationTerm(tf.tensor2d(rowsOf(this.B!, batch.pos, K), [m, K]), v.h, t.h)
          : zero(),
        cons: a.consistency
          ? consistencyTerm(this.C!.apply(tf.concat([v.c, t.c, v.p!, t.p!], 0), true))
          : zero(),
        label: a.label
          ? labelTerm(
            this.image.cls!.apply(v.c),
            this.text.cls!.apply(t.c),
            batch.labels,
          )
          : zero(),
        adv: a.adversarial
          ? adversarialTerm(this.D!.apply(v.c, true), this.D!.apply(t.c, true))
          : zero(),
      };
      const scale = termScales(this.config, partners, this.#info.classes);
      for (const k of Object.keys(terms) as (keyof NetworkTerms)[]) {
        if (scale[k] !== 1) terms[k] = tf.mul(terms[k], scale[k]);
      }
      kept.terms = terms;
      for (const x of Object.values(terms)) tf.keep(x);
      return networkObjective(terms, a);
    }, this.store.group("net"));

    const total = value.dataSync()[0];
    value.dispose();
    this.#netOpt.apply(grads);
    const out: LossTerms = {};
    for (const [k, x] of Object.entries(kept.terms!)) {
      out[k] = (x as tf.Scalar).dataSync()[0];
      x.dispose();
    }
    out.total = total;
    out.D = disc.D;
    out.gp = disc.gp;
    return out;
  }

  /**
   * The discrete step: B = sign(H^v + H^t) with sign(0) = +1. Returns `bFlipped`, the fraction
   * of bits that changed (absent at the first step with bInit "outputs"); nothing when relaxed.
   */
  endEpoch(_epoch: number): LossTerms {
    if (!this.B) return {};
    const B = this.B, Hv = this.Hv, Ht = this.Ht;
    let flipped = 0;
    for (let i = 0; i < B.length; i++) {
      const b = Hv[i] + Ht[i] >= 0 ? 1 : -1;
      if (b !== B[i]) flipped++;
      B[i] = b;
    }
    const had = this.bReady;
    this.bReady = true;
    return had ? { bFlipped: flipped / B.length } : {};
  }

  /** Image codes: sign(tanh(W_h (f * m) + b_h)) in evaluation mode, from the common part. */
  encodeImage(x: Matrix): PackedCodes {
    this.#checkCols(x, this.#info.imageDim, "x (image features)");
    return encodeInBatches(x, this.bits, (b) => branchForward(this.image, b, false).h);
  }

  /** Text codes: sign(tanh(W_h (f * m) + b_h)) in evaluation mode, from the common part. */
  encodeText(y: Matrix): PackedCodes {
    this.#checkCols(y, this.#info.textDim, "y (text features)");
    return encodeInBatches(y, this.bits, (b) => branchForward(this.text, b, false).h);
  }

  /**
   * Weights, BatchNorm statistics, both optimisers, H^v, H^t, and B. Keys: the variables'
   * local names, "opt.net.*", "opt.disc.*", "codes.Hv", "codes.Ht", "codes.B", "codes.ready".
   */
  state(): NamedArrays {
    const K = this.bits, n = this.#n;
    const s: NamedArrays = { ...this.store.state(), ...this.#netOpt.state("opt.net") };
    if (this.#discOpt) Object.assign(s, this.#discOpt.state("opt.disc"));
    s["codes.Hv"] = { shape: [n, K], data: this.Hv.slice() };
    s["codes.Ht"] = { shape: [n, K], data: this.Ht.slice() };
    if (this.B) {
      s["codes.B"] = { shape: [n, K], data: this.B.slice() };
      s["codes.ready"] = { shape: [1], data: new Float32Array([this.bReady ? 1 : 0]) };
    }
    return s;
  }

  /** Restore from {@link state}; `source` names the file in errors. */
  loadState(state: NamedArrays, source: string): void {
    const K = this.bits, n = this.#n;
    const arr = (key: string, len: number): Float32Array => {
      const e = state[key];
      if (!e) throw new Error(`${source}: entry '${key}' is missing (CPAH state)`);
      if (e.data.length !== len) {
        throw new Error(
          `${source}: entry '${key}' has ${e.data.length} values (shape ${
            e.shape.join("x")
          }), expected ${len}`,
        );
      }
      return e.data;
    };
    // Check everything before changing anything.
    const hv = arr("codes.Hv", n * K), ht = arr("codes.Ht", n * K);
    const b = this.B ? arr("codes.B", n * K) : undefined;
    const ready = this.B ? arr("codes.ready", 1)[0] === 1 : false;
    this.store.load(state, source);
    this.#netOpt.load(state, "opt.net", source);
    this.#discOpt?.load(state, "opt.disc", source);
    this.Hv.set(hv);
    this.Ht.set(ht);
    if (this.B && b) this.B.set(b);
    this.bReady = ready;
  }

  /** Free all tensors (variables, optimiser moments, labels). */
  dispose(): void {
    this.store.dispose();
    this.#netOpt.dispose();
    this.#discOpt?.dispose();
    this.#labels.dispose();
  }

  /** D's step [5] + gp: minimise BCE(D(c^v), 1) + BCE(D(c^t), 0) + gpWeight * GP over D. */
  #discriminatorStep(
    cv: tf.Tensor2D,
    ct: tf.Tensor2D,
    eps: tf.Tensor2D,
  ): { D: number; gp: number } {
    const D = this.D!;
    const critic = (x: tf.Tensor2D) => D.apply(x, true);
    let parts = { D: 0, gp: 0 };
    this.#discOpt!.minimize(() => {
      const d = discriminatorLoss(critic(cv), critic(ct));
      const gp = gradientPenaltyTerm(critic, cv, ct, eps, (x) => D.inputGradient(x));
      parts = { D: d.dataSync()[0], gp: gp.dataSync()[0] };
      return tf.add(d, tf.mul(gp, this.config.gpWeight)) as tf.Scalar;
    });
    return parts;
  }

  /** Write this batch's outputs into the stored H^v, H^t rows. */
  #storeOutputs(pos: Int32Array, hv: tf.Tensor2D, ht: tf.Tensor2D): void {
    const K = this.bits;
    const v = hv.dataSync() as Float32Array, t = ht.dataSync() as Float32Array;
    for (let i = 0; i < pos.length; i++) {
      this.Hv.set(v.subarray(i * K, (i + 1) * K), pos[i] * K);
      this.Ht.set(t.subarray(i * K, (i + 1) * K), pos[i] * K);
    }
  }

  #checkBatch(batch: Batch): void {
    const m = batch.pos.length;
    const want: [string, tf.Tensor2D, number][] = [
      ["batch.image", batch.image, this.#info.imageDim],
      ["batch.text", batch.text, this.#info.textDim],
      ["batch.labels", batch.labels, this.#info.classes],
    ];
    for (const [name, x, cols] of want) {
      if (x.rank !== 2 || x.shape[0] !== m || x.shape[1] !== cols) {
        throw new Error(
          `${FILE}: trainStep: ${name} has shape ${x.shape.join("x")}, expected ${m}x${cols}`,
        );
      }
    }
    for (let i = 0; i < m; i++) {
      const p = batch.pos[i];
      if (!(p >= 0 && p < this.#n)) {
        throw new Error(`${FILE}: trainStep: batch.pos[${i}] is ${p}, expected 0..${this.#n - 1}`);
      }
    }
  }

  #checkCols(x: Matrix, cols: number, what: string): void {
    if (x.cols !== cols) {
      throw new Error(`${FILE}: ${what} has ${x.cols} columns, expected ${cols}`);
    }
  }
}

function checkInfo(info: TrainingSetInfo): void {
  for (const [k, v] of [["n", info.n], ["imageDim", info.imageDim], ["textDim", info.textDim]]) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(`${FILE}: createCpah: info.${k} is ${v}, expected an integer >= 1`);
    }
  }
  const l = info.labels;
  if (!l || l.rows !== info.n || !(l.classes >= 1) || l.data.length !== l.rows * l.classes) {
    throw new Error(
      `${FILE}: createCpah: info.labels must be ${info.n} x c (c >= 1) with rows * c values`,
    );
  }
}

/** Build a CPAH model for a training set (the {@link HashModel} factory). */
export function createCpah(info: TrainingSetInfo, config: CpahConfig): HashModel {
  return new Cpah(info, config);
}
