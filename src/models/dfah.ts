/**
 * DFAH — Discrete Fusion Adversarial Hashing, as designed by this project.
 *
 * Only the paper's abstract is available and no public code exists, so everything below is OUR
 * design (methods.md, section DFAH), closest to the published discrete-adversarial family
 * (DADH, ICMR 2020). Each claim of the abstract maps to named components of this file:
 *
 * | abstract claim | component (this file) |
 * |---|---|
 * | 1. "Modality-Specific Feature Extractor ... image and text features with pair-wise supervision" | `Ev`, `Et` MLPs d -> 1024 -> 512 (Linear+BN+ReLU); hash heads h = tanh(W f); {@link pairwiseTerm} (DCMH likelihood, cross-modal), optional intra-modal {@link intraModalTerm} |
 * | 2. "Fusion Learner ... learns the unified hash code ... embedding strategy" | `G`: u = tanh(G([f^v ; f^t])), MLP 1024 -> 512 -> K; {@link fusionPairTerm} (pair likelihood of the fused codes) and {@link labelEmbeddingTerm} ||l P_l - u||^2 with a learned c x K projection P_l; the stored fused outputs U feed the B-step |
 * | 3. "Modality Discriminator ... adversarial way" | `D`: 512 -> 256 -> 1 on f^v vs f^t; {@link discriminatorLoss} (D's own step, optional gradient penalty) and {@link adversarialTerm} (extractors fool D, labels flipped) |
 * | 4. "Efficient discrete optimisation ... avoid the relaxing quantization errors" | B in {-1,+1}^{n x K} always; after each epoch {@link discreteStep}: rounds of closed-form {@link updateP} then {@link updateB}; networks regress onto B with {@link quantizationTerm} |
 *
 * Network objective per batch (every term a MEAN, as in src/nn/losses.ts):
 *   L = pair + [intraImage] + [intraText] + eta * fusionPair + delta * labelEmbed
 *       + beta * quant + gamma * adv + balance * bitBalance
 * where quant = mean(B - h^v)^2 + mean(B - h^t)^2 + mean(B - u)^2 (B = the batch rows of B).
 *
 * Discrete step (endEpoch). With U, H^v, H^t the stored n x K outputs (U := (H^v + H^t)/2
 * under `noFusion`), L the n x c label matrix and P a c x K projection, the B- and P-steps are
 * exact block-coordinate minimisers of
 *
 *   J(B, P) = ||B - U||^2 + lambda (||B - H^v||^2 + ||B - H^t||^2)
 *             + mu ||B - L P||^2 + mu rho ||P||^2,        B in {-1,+1}^{n x K}.
 *
 * Derivation. P-step: J is a convex quadratic in P; dJ/dP = 2 mu (L^T (L P - B) + rho P) = 0
 * gives P = (L^T L + rho I)^-1 L^T B (unique for rho > 0, mu > 0). B-step: expanding the
 * squares, J = (1 + 2 lambda + mu) ||B||^2 - 2 tr(B^T M) + const, with
 * M = U + lambda (H^v + H^t) + mu L P and const free of B. For binary B, ||B||^2 = nK is
 * constant, so minimising J maximises tr(B^T M) = sum_ij B_ij M_ij, which separates over
 * entries: B_ij = sign(M_ij) (ties M_ij = 0 are optimal either way; sign(0) = +1).
 * Each half-step therefore cannot increase J (tests/dfah.test.ts checks it, and that no single
 * bit flip can lower J after a B-step). Rounds start with a P-step, so the result does not
 * depend on the previous P.
 *
 * Other choices of ours (documented in docs/dfah-design.md):
 * - pairMode "stored" (default): the cross-modal term compares the batch's image outputs with
 *   the stored text outputs of all n training items and vice versa (DCMH style; the stored
 *   rows are those of the previous visit, refreshed after each step); "batch": image batch vs
 *   text batch. The fusion pair term follows the same mode (u vs stored U, or u vs u).
 * - Initialisation: the stored U, H^v, H^t start at 0 (nothing seen yet), P as N(0, 1) draws
 *   and B as the B-step on them, B = sign(mu L P): label-consistent codes (items with equal
 *   label sets share a code; with mu = 0 every bit starts at +1). The first discrete step
 *   refits P and B to the learned outputs.
 * - D's step comes first in each batch, on the batch's features computed in training mode
 *   (batch statistics) without disturbing BatchNorm running statistics.
 * - Ablations (read in {@link activeParts} only): `noFusion` (no G, no P_l, no fusion terms,
 *   U := (H^v + H^t)/2 in the B-step), `noAdversary` (no D, no adversarial term), `relaxed`
 *   (no B, no P, no discrete step: h^v, h^t regress onto the continuous fused output u,
 *   treated as a constant target like B; binarised only at test).
 * - Test-time codes: sign of the modality's hash head (sign(0) = +1); G is training-only.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Linear, Mlp, type NamedArrays, ParamStore } from "../nn/mod.ts";
import { Adam } from "../nn/optim.ts";
import {
  bceWithLogits,
  bitBalance,
  gradientPenalty,
  labelSimilarity,
  pairNll,
  quantization,
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

const FILE = "src/models/dfah.ts";

// ---------------------------------------------------------------------------------------
// Configuration

/** Datasets with defaults: every dataset the loader knows. */
export const DFAH_DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** How the pairwise likelihood pairs items: batch vs stored outputs of all n, or batch vs batch. */
export type PairMode = "stored" | "batch";

/** Every hyper-parameter and ablation flag of DFAH (plain, JSON-serialisable data). */
export interface DfahConfig {
  /** Dataset the defaults were taken for (informational). */
  dataset: string;
  /** Code length K. */
  bits: number;
  /** Seed of the initial weights and the initial stored outputs. */
  seed: number;
  /** Hidden widths of the image extractor E_v after the input (last = feature width). */
  imageLayers: number[];
  /** Hidden widths of the text extractor E_t (its last must equal imageLayers' last). */
  textLayers: number[];
  /** Hidden widths of the Fusion Learner G between [f^v; f^t] and the K outputs. */
  fusionLayers: number[];
  /** Hidden widths of the Modality Discriminator D between the features and its logit. */
  discLayers: number[];
  /** Cross-modal pairing: "stored" (DCMH style, default) or "batch". */
  pairMode: PairMode;
  /** Add the intra-modal pair term L_pair(h^v, h^v) (weight 1). */
  intraImage: boolean;
  /** Add the intra-modal pair term L_pair(h^t, h^t) (weight 1). */
  intraText: boolean;
  /** Weight of the fusion pair term L_pair(u, u). */
  eta: number;
  /** Weight of the quantisation / regression term. */
  beta: number;
  /** Weight of the adversarial term of the extractors. */
  gamma: number;
  /** Weight of the label-embedding term ||l P_l - u||^2. */
  delta: number;
  /** Weight of the bit-balance term (0 = off). */
  balance: number;
  /** Weight of D's gradient penalty (0 = off). */
  gpWeight: number;
  /** B-step weight of the modality outputs H^v, H^t. */
  lambda: number;
  /** Weight of the label regression ||B - L P||^2 in the discrete step. */
  mu: number;
  /** Ridge of the P-step (> 0). */
  rho: number;
  /** Rounds of (P-step, B-step) per epoch. */
  rounds: number;
  /** Adam learning rate of the networks. */
  lr: number;
  /** L2 weight decay (PyTorch style) of the networks. */
  weightDecay: number;
  /** Learning-rate factor applied every `lrStep` epochs (never at epoch 0). */
  lrDecay: number;
  /** Epochs between learning-rate decays. */
  lrStep: number;
  /** Adam learning rate of D. */
  discLr: number;
  /** Adam beta1 of D. */
  discBeta1: number;
  /** Adam beta2 of D. */
  discBeta2: number;
  /** Mini-batch size (for the trainer). */
  batchSize: number;
  /** Epochs (for the trainer). */
  epochs: number;
  /** Ablation: no Fusion Learner (U := (H^v + H^t)/2, no fusion terms). */
  noFusion: boolean;
  /** Ablation: no Modality Discriminator (no D, no adversarial term). */
  noAdversary: boolean;
  /** Ablation: no B and no P; heads regress onto the continuous u; binarise only at test. */
  relaxed: boolean;
}

const BASE: Omit<DfahConfig, "dataset" | "bits"> = {
  seed: 1,
  imageLayers: [1024, 512],
  textLayers: [1024, 512],
  fusionLayers: [512],
  discLayers: [256],
  pairMode: "stored",
  intraImage: false,
  intraText: false,
  eta: 1,
  beta: 1,
  gamma: 0.1,
  delta: 1,
  balance: 0,
  gpWeight: 10,
  lambda: 1,
  mu: 1,
  rho: 1,
  rounds: 3,
  lr: 1e-4,
  weightDecay: 5e-4,
  lrDecay: 0.2,
  lrStep: 30,
  discLr: 1e-4,
  discBeta1: 0.5,
  discBeta2: 0.9,
  batchSize: 128,
  epochs: 50,
  noFusion: false,
  noAdversary: false,
  relaxed: false,
};

/** Per-dataset differences from {@link BASE}. */
const PER_DATASET: Record<DatasetName, Partial<DfahConfig>> = {
  wikipedia: { batchSize: 64, epochs: 60, lrStep: 40 },
  mirflickr25k: {},
  "mirflickr25k-simimg": {},
  nuswide: {},
  mscoco: {},
  iapr: {},
  synthetic: { batchSize: 64, epochs: 20, lr: 1e-3, lrStep: 100 },
};

/**
 * DFAH defaults for a dataset and code length, with overrides (ablation flags among them).
 * The defaults do not differ between code lengths other than K itself.
 */
export function dfahConfig(
  dataset: string,
  bits: number,
  overrides: Partial<DfahConfig> = {},
): DfahConfig {
  if (!(DFAH_DATASETS as readonly string[]).includes(dataset)) {
    throw new Error(
      `${FILE}: dfahConfig: unknown dataset '${dataset}'; expected one of ${
        DFAH_DATASETS.join(", ")
      }`,
    );
  }
  const per = PER_DATASET[dataset as (typeof DFAH_DATASETS)[number]];
  const cfg = { ...structuredClone(BASE), ...structuredClone(per), dataset, bits };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in cfg)) {
      throw new Error(`${FILE}: dfahConfig: overrides.${k} is not a DfahConfig field`);
    }
    if (v !== undefined) (cfg as Record<string, unknown>)[k] = structuredClone(v);
  }
  return validateDfahConfig(cfg);
}

/** Check every field of a config; throws a one-line error naming the field. Returns it. */
export function validateDfahConfig(c: DfahConfig): DfahConfig {
  const bad = (field: string, expected: string, got: unknown) => {
    throw new Error(
      `${FILE}: config.${field} must be ${expected}, got ${JSON.stringify(got)}`,
    );
  };
  if (c === null || typeof c !== "object") bad("", "an object", c);
  const all = { dataset: "", bits: 0, ...BASE } as Record<string, unknown>;
  const rec = c as unknown as Record<string, unknown>;
  for (const k of Object.keys(all)) if (!(k in rec)) bad(k, "present", undefined);
  for (const k of Object.keys(rec)) {
    if (!(k in all)) throw new Error(`${FILE}: config.${k} is not a DfahConfig field`);
  }
  if (typeof c.dataset !== "string") bad("dataset", "a string", c.dataset);
  const posInt = (k: keyof DfahConfig) => {
    const v = rec[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) bad(k, "a positive integer", v);
  };
  const nonNeg = (k: keyof DfahConfig) => {
    const v = rec[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) bad(k, "a finite number >= 0", v);
  };
  const pos = (k: keyof DfahConfig) => {
    const v = rec[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) bad(k, "a finite number > 0", v);
  };
  const layers = (k: keyof DfahConfig, minLen: number) => {
    const v = rec[k];
    if (
      !Array.isArray(v) || v.length < minLen ||
      !v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 1)
    ) bad(k, `an array of >= ${minLen} positive integers`, v);
  };
  posInt("bits");
  if (!Number.isInteger(c.seed)) bad("seed", "an integer", c.seed);
  layers("imageLayers", 1);
  layers("textLayers", 1);
  layers("fusionLayers", 0);
  layers("discLayers", 0);
  if (c.imageLayers.at(-1) !== c.textLayers.at(-1)) {
    bad("textLayers", `to end with the image feature width ${c.imageLayers.at(-1)}`, c.textLayers);
  }
  if (c.pairMode !== "stored" && c.pairMode !== "batch") {
    bad("pairMode", `"stored" or "batch"`, c.pairMode);
  }
  for (const k of ["intraImage", "intraText", "noFusion", "noAdversary", "relaxed"] as const) {
    if (typeof c[k] !== "boolean") bad(k, "a boolean", c[k]);
  }
  for (
    const k of ["eta", "beta", "gamma", "delta", "balance", "gpWeight", "lambda", "mu"] as const
  ) {
    nonNeg(k);
  }
  for (const k of ["rho", "lr", "discLr", "lrDecay"] as const) pos(k);
  nonNeg("weightDecay");
  for (const k of ["discBeta1", "discBeta2"] as const) {
    const v = c[k];
    if (typeof v !== "number" || !(v >= 0 && v < 1)) bad(k, "a number in [0, 1)", v);
  }
  for (const k of ["rounds", "lrStep", "batchSize", "epochs"] as const) posInt(k);
  return c;
}

/** Which modules and terms a config switches on. */
export interface DfahParts {
  /** Fusion Learner G, P_l, fusion pair and label-embedding terms, stored U. */
  fusion: boolean;
  /** Modality Discriminator D, its step and the adversarial term. */
  adversary: boolean;
  /** Binary codes B, projection P, the discrete step and regression onto B. */
  discrete: boolean;
  /** Names of the network loss terms that are computed (and reported) each batch. */
  terms: string[];
}

/** The ONE place that reads the ablation flags: which modules and terms are active. */
export function activeParts(c: DfahConfig): DfahParts {
  const fusion = !c.noFusion;
  const adversary = !c.noAdversary;
  const discrete = !c.relaxed;
  const terms = ["pair"];
  if (c.intraImage) terms.push("intraImage");
  if (c.intraText) terms.push("intraText");
  if (fusion) terms.push("fusionPair", "labelEmbed");
  // Regression target: B (discrete) or u (relaxed, needs the Fusion Learner).
  if (discrete || fusion) terms.push("quant");
  if (adversary) terms.push("adv");
  if (c.balance > 0) terms.push("balance");
  return { fusion, adversary, discrete, terms };
}

// ---------------------------------------------------------------------------------------
// Loss terms (one function per term of the objective)

/**
 * Cross-modal pairwise likelihood (claim 1, DCMH). Batch mode (`stored` absent):
 * L_pair(h^v, h^t) with `s` batch x batch. Stored mode: the mean of L_pair(h^v, stored H^t)
 * and L_pair(h^t, stored H^v), `s` batch x N (N stored rows, constants).
 */
export function pairwiseTerm(
  hv: tf.Tensor2D,
  ht: tf.Tensor2D,
  s: tf.Tensor2D,
  stored?: { hv: tf.Tensor2D; ht: tf.Tensor2D },
): tf.Scalar {
  return tf.tidy(() => {
    if (!stored) return pairNll(hv, ht, s);
    return tf.mul(tf.add(pairNll(hv, stored.ht, s), pairNll(ht, stored.hv, s)), 0.5) as tf.Scalar;
  });
}

/** Optional intra-modal pair term L_pair(h, other) (other = stored outputs or h itself). */
export function intraModalTerm(h: tf.Tensor2D, other: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return pairNll(h, other, s);
}

/**
 * Fusion pair term (claim 2): pair likelihood of the fused codes u against `other` (stored U of
 * all items, or u itself in batch mode), so the unified code embeds the pair semantics.
 */
export function fusionPairTerm(u: tf.Tensor2D, other: tf.Tensor2D, s: tf.Tensor2D): tf.Scalar {
  return pairNll(u, other, s);
}

/**
 * Label embedding (claim 2): mean over entries of (l P_l - u)^2, with `labels` m x c (0/1),
 * `pl` the learned c x K projection and `u` m x K.
 */
export function labelEmbeddingTerm(
  labels: tf.Tensor2D,
  pl: tf.Tensor2D,
  u: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => quantization(tf.matMul(labels, pl), u));
}

/**
 * Quantisation / regression (claim 4): mean(target - h^v)^2 + mean(target - h^t)^2
 * (+ mean(target - u)^2 when `u` is given). Target = the batch rows of B; under `relaxed`,
 * the fused output u held constant.
 */
export function quantizationTerm(
  target: tf.Tensor2D,
  hv: tf.Tensor2D,
  ht: tf.Tensor2D,
  u?: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    let q = tf.add(quantization(target, hv), quantization(target, ht));
    if (u) q = tf.add(q, quantization(target, u));
    return q as tf.Scalar;
  });
}

/**
 * Adversarial term of the extractors (claim 3): binary cross-entropy of D's logits with the
 * labels flipped (image features -> 0, text features -> 1), mean over the 2m items.
 */
export function adversarialTerm(dv: tf.Tensor2D, dt: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() =>
    bceWithLogits(
      tf.concat([dv, dt], 0),
      tf.concat([tf.zerosLike(dv), tf.onesLike(dt)], 0),
    )
  );
}

/**
 * Loss of the Modality Discriminator (claim 3): BCE of D(f^v) -> 1 and D(f^t) -> 0, mean over
 * the 2m items, plus `gpWeight` times the gradient penalty on interpolates
 * eps f^v + (1 - eps) f^t (`eps` m x 1). `inputGradient` computes D's input gradient directly
 * (the model passes `Mlp.inputGradient`, first-order ops); without it, tf.grad of `critic`.
 */
export function discriminatorLoss(
  critic: (x: tf.Tensor2D) => tf.Tensor2D,
  fv: tf.Tensor2D,
  ft: tf.Tensor2D,
  eps: tf.Tensor2D,
  gpWeight: number,
  inputGradient?: (x: tf.Tensor2D) => tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const dv = critic(fv), dt = critic(ft);
    let loss: tf.Tensor = bceWithLogits(
      tf.concat([dv, dt], 0),
      tf.concat([tf.onesLike(dv), tf.zerosLike(dt)], 0),
    );
    if (gpWeight > 0) {
      loss = tf.add(loss, tf.mul(gradientPenalty(critic, fv, ft, eps, inputGradient), gpWeight));
    }
    return loss as tf.Scalar;
  });
}

/** Optional bit balance (DCMH): bitBalance(h^v) + bitBalance(h^t). */
export function balanceTerm(hv: tf.Tensor2D, ht: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(bitBalance(hv), bitBalance(ht)) as tf.Scalar);
}

/** Identity in the forward pass, zero gradient (a target held constant). */
export const stopGradient: (x: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor2D) => tf.zerosLike(dy),
  }),
) as (x: tf.Tensor2D) => tf.Tensor2D;

// ---------------------------------------------------------------------------------------
// Discrete optimisation (claim 4): plain float64 arithmetic, exact and deterministic

/** The data of one discrete step: J(B, P) in the module header is defined over these. */
export interface DiscreteProblem {
  n: number;
  /** Code length K. */
  bits: number;
  /** Label classes c. */
  classes: number;
  /** n x K fused outputs (or (H^v + H^t)/2 under noFusion). */
  U: Float32Array;
  /** n x K image-head outputs. */
  Hv: Float32Array;
  /** n x K text-head outputs. */
  Ht: Float32Array;
  /** n x c labels (0/1), row-major. */
  L: Float32Array;
  lambda: number;
  mu: number;
  rho: number;
}

function checkProblem(p: DiscreteProblem, fn: string): void {
  const nk = p.n * p.bits;
  for (const k of ["U", "Hv", "Ht"] as const) {
    if (p[k].length !== nk) {
      throw new Error(`${FILE}: ${fn}: problem.${k} has length ${p[k].length}, expected n*K=${nk}`);
    }
  }
  if (p.L.length !== p.n * p.classes) {
    throw new Error(
      `${FILE}: ${fn}: problem.L has length ${p.L.length}, expected n*c=${p.n * p.classes}`,
    );
  }
  if (!(p.rho > 0)) throw new Error(`${FILE}: ${fn}: problem.rho must be > 0, got ${p.rho}`);
}

/** Nonzero (column, value) lists of the label rows. */
function labelRows(p: DiscreteProblem): { idx: Int32Array[]; val: Float64Array[] } {
  const idx: Int32Array[] = [], val: Float64Array[] = [];
  for (let i = 0; i < p.n; i++) {
    const cols: number[] = [], vals: number[] = [];
    for (let a = 0; a < p.classes; a++) {
      const v = p.L[i * p.classes + a];
      if (v !== 0) {
        cols.push(a);
        vals.push(v);
      }
    }
    idx.push(Int32Array.from(cols));
    val.push(Float64Array.from(vals));
  }
  return { idx, val };
}

/** L P (n x K, float64). */
function labelTimesP(p: DiscreteProblem, P: Float64Array): Float64Array {
  const K = p.bits;
  const out = new Float64Array(p.n * K);
  const { idx, val } = labelRows(p);
  for (let i = 0; i < p.n; i++) {
    for (let t = 0; t < idx[i].length; t++) {
      const a = idx[i][t], v = val[i][t];
      for (let k = 0; k < K; k++) out[i * K + k] += v * P[a * K + k];
    }
  }
  return out;
}

/**
 * P-step: P = (L^T L + rho I)^-1 L^T B, the exact minimiser of J over P (c x K, float64),
 * solved by Cholesky factorisation (the matrix is symmetric positive definite for rho > 0).
 */
export function updateP(B: Float32Array, p: DiscreteProblem): Float64Array {
  checkProblem(p, "updateP");
  const { n, classes: c, bits: K } = p;
  if (B.length !== n * K) {
    throw new Error(`${FILE}: updateP: B has length ${B.length}, expected n*K=${n * K}`);
  }
  const A = new Float64Array(c * c);
  const R = new Float64Array(c * K);
  const { idx, val } = labelRows(p);
  for (let i = 0; i < n; i++) {
    const ix = idx[i], vx = val[i];
    for (let s = 0; s < ix.length; s++) {
      const a = ix[s], va = vx[s];
      for (let t = 0; t < ix.length; t++) A[a * c + ix[t]] += va * vx[t];
      for (let k = 0; k < K; k++) R[a * K + k] += va * B[i * K + k];
    }
  }
  for (let a = 0; a < c; a++) A[a * c + a] += p.rho;
  // Cholesky A = C C^T (lower triangular C, stored in place of A's lower triangle).
  for (let j = 0; j < c; j++) {
    let d = A[j * c + j];
    for (let k = 0; k < j; k++) d -= A[j * c + k] * A[j * c + k];
    if (!(d > 0)) throw new Error(`${FILE}: updateP: L^T L + rho I is not positive definite`);
    const cj = Math.sqrt(d);
    A[j * c + j] = cj;
    for (let i = j + 1; i < c; i++) {
      let s = A[i * c + j];
      for (let k = 0; k < j; k++) s -= A[i * c + k] * A[j * c + k];
      A[i * c + j] = s / cj;
    }
  }
  // Solve C Y = R, then C^T P = Y, column by column of R (all K columns at once).
  const P = R;
  for (let i = 0; i < c; i++) {
    for (let k = 0; k < i; k++) {
      const f = A[i * c + k];
      for (let q = 0; q < K; q++) P[i * K + q] -= f * P[k * K + q];
    }
    const d = A[i * c + i];
    for (let q = 0; q < K; q++) P[i * K + q] /= d;
  }
  for (let i = c - 1; i >= 0; i--) {
    for (let k = i + 1; k < c; k++) {
      const f = A[k * c + i];
      for (let q = 0; q < K; q++) P[i * K + q] -= f * P[k * K + q];
    }
    const d = A[i * c + i];
    for (let q = 0; q < K; q++) P[i * K + q] /= d;
  }
  return P;
}

/**
 * B-step: B = sign(U + lambda (H^v + H^t) + mu L P) with sign(0) = +1, the exact minimiser of J
 * over binary B for fixed P (n x K of ±1).
 */
export function updateB(P: Float64Array, p: DiscreteProblem): Float32Array {
  checkProblem(p, "updateB");
  const K = p.bits;
  if (P.length !== p.classes * K) {
    throw new Error(`${FILE}: updateB: P has length ${P.length}, expected c*K=${p.classes * K}`);
  }
  const LP = labelTimesP(p, P);
  const B = new Float32Array(p.n * K);
  for (let e = 0; e < B.length; e++) {
    const m = p.U[e] + p.lambda * (p.Hv[e] + p.Ht[e]) + p.mu * LP[e];
    B[e] = m >= 0 ? 1 : -1;
  }
  return B;
}

/**
 * J(B, P) = ||B - U||^2 + lambda (||B - H^v||^2 + ||B - H^t||^2) + mu ||B - L P||^2
 * + mu rho ||P||^2 (float64 sums) — the objective both steps minimise exactly.
 */
export function discreteObjective(B: Float32Array, P: Float64Array, p: DiscreteProblem): number {
  checkProblem(p, "discreteObjective");
  const LP = labelTimesP(p, P);
  let fit = 0, mod = 0, lab = 0, reg = 0;
  for (let e = 0; e < B.length; e++) {
    const b = B[e];
    fit += (b - p.U[e]) ** 2;
    mod += (b - p.Hv[e]) ** 2 + (b - p.Ht[e]) ** 2;
    lab += (b - LP[e]) ** 2;
  }
  for (let e = 0; e < P.length; e++) reg += P[e] * P[e];
  return fit + p.lambda * mod + p.mu * (lab + p.rho * reg);
}

/** Result of {@link discreteStep}. */
export interface DiscreteResult {
  B: Float32Array;
  P: Float64Array;
  /** J at the start (when a start P is given), then after every half-step (P, B, P, B, ...). */
  objectives: number[];
  /** Fraction of entries of B that differ from the starting B. */
  flipped: number;
}

/** `rounds` rounds of (P-step, B-step) from B0 (and P0, only used for the first J). */
export function discreteStep(
  p: DiscreteProblem,
  B0: Float32Array,
  rounds: number,
  P0?: Float64Array,
): DiscreteResult {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`${FILE}: discreteStep: rounds must be a positive integer, got ${rounds}`);
  }
  const objectives: number[] = [];
  if (P0) objectives.push(discreteObjective(B0, P0, p));
  let B = B0, P = P0 ?? new Float64Array(p.classes * p.bits);
  for (let r = 0; r < rounds; r++) {
    P = updateP(B, p);
    objectives.push(discreteObjective(B, P, p));
    B = updateB(P, p);
    objectives.push(discreteObjective(B, P, p));
  }
  let diff = 0;
  for (let e = 0; e < B.length; e++) if (B[e] !== B0[e]) diff++;
  return { B, P, objectives, flipped: diff / Math.max(1, B.length) };
}

// ---------------------------------------------------------------------------------------
// The model

/** Features, head outputs and fused outputs of one training batch. */
interface Forward {
  fv: tf.Tensor2D;
  ft: tf.Tensor2D;
  hv: tf.Tensor2D;
  ht: tf.Tensor2D;
  u?: tf.Tensor2D;
}

/** DFAH: networks, optimisers, stored outputs U, H^v, H^t, codes B and projection P. */
export class DfahModel implements HashModel {
  /** Method name. */
  readonly method = "dfah";
  /** The validated config (a copy). */
  readonly config: Readonly<DfahConfig>;
  /** Active modules and terms ({@link activeParts}). */
  readonly parts: DfahParts;
  /** All variables: group "net" (extractors, heads, G, P_l) and "disc" (D). */
  readonly store = new ParamStore();
  /** Image feature extractor E_v (claim 1). */
  readonly Ev: Mlp;
  /** Text feature extractor E_t (claim 1). */
  readonly Et: Mlp;
  /** Image hash head: h^v = tanh(headV(f^v)). */
  readonly headV: Linear;
  /** Text hash head: h^t = tanh(headT(f^t)). */
  readonly headT: Linear;
  /** Fusion Learner G (claim 2); absent under noFusion. */
  readonly G?: Mlp;
  /** Learned label projection P_l (c x K) of the label-embedding term; absent under noFusion. */
  readonly Pl?: tf.Variable;
  /** Modality Discriminator D (claim 3); absent under noAdversary. */
  readonly D?: Mlp;
  readonly #netOpt: Adam;
  readonly #discOpt?: Adam;
  readonly #n: number;
  readonly #classes: number;
  /** n x c labels of the training set (float 0/1): tensor for S, array for the P-step. */
  readonly #labelsT: tf.Tensor2D;
  readonly #labels: Float32Array;
  /** Stored n x K image-head outputs H^v (row i refreshed whenever item i is in a batch). */
  readonly Hv: Float32Array;
  /** Stored n x K text-head outputs H^t. */
  readonly Ht: Float32Array;
  /** Stored n x K fused outputs U; absent under noFusion. */
  readonly U?: Float32Array;
  #B?: Float32Array;
  #P?: Float64Array;

  /** Build an untrained model for `info` (weights and stored outputs from `config.seed`). */
  constructor(
    /** The training set the model was built for. */
    readonly info: TrainingSetInfo,
    config: DfahConfig,
  ) {
    this.config = validateDfahConfig(structuredClone(config));
    const c = this.config;
    checkInfo(info);
    this.parts = activeParts(c);
    const K = c.bits, n = info.n;
    this.#n = n;
    this.#classes = info.labels.classes;
    const rng = new Rng(c.seed);
    const feat = c.imageLayers.at(-1)!;
    this.Ev = new Mlp(this.store, "Ev", [info.imageDim, ...c.imageLayers], rng.fork(1));
    this.Et = new Mlp(this.store, "Et", [info.textDim, ...c.textLayers], rng.fork(2));
    this.headV = new Linear(this.store, "hv", feat, K, rng.fork(3));
    this.headT = new Linear(this.store, "ht", feat, K, rng.fork(4));
    if (this.parts.fusion) {
      this.G = new Mlp(this.store, "G", [2 * feat, ...c.fusionLayers, K], rng.fork(5), {
        lastActivation: "linear",
      });
      const r = rng.fork(6), bound = 1 / Math.sqrt(this.#classes);
      const w = new Float32Array(this.#classes * K);
      for (let i = 0; i < w.length; i++) w[i] = (2 * r.uniform() - 1) * bound;
      this.Pl = this.store.create("Pl", [this.#classes, K], w, "net");
    }
    if (this.parts.adversary) {
      this.D = new Mlp(this.store, "D", [feat, ...c.discLayers, 1], rng.fork(7), {
        batchNorm: false,
        lastActivation: "linear",
        group: "disc",
      });
      this.#discOpt = new Adam(this.store.group("disc"), {
        lr: c.discLr,
        beta1: c.discBeta1,
        beta2: c.discBeta2,
      });
    }
    this.#netOpt = new Adam(this.store.group("net"), { lr: c.lr, weightDecay: c.weightDecay });

    this.#labels = Float32Array.from(info.labels.data);
    this.#labelsT = tf.tensor2d(this.#labels, [n, this.#classes]);

    // Stored outputs start at 0 (nothing seen yet); P starts as N(0, 1) draws, and B as the
    // B-step on them: B = sign(mu L P), label-consistent codes (items with equal label sets
    // share a code). The first discrete step then refits P and B to the learned outputs.
    this.Hv = new Float32Array(n * K);
    this.Ht = new Float32Array(n * K);
    if (this.parts.fusion) this.U = new Float32Array(n * K);
    if (this.parts.discrete) {
      this.#P = Float64Array.from(rng.fork(8).normals(this.#classes * K));
      this.#B = updateB(this.#P, this.discreteProblem());
    }
  }

  /** Code length K. */
  get bits(): number {
    return this.config.bits;
  }

  /** Current training codes B (n x K of ±1), or undefined under `relaxed`. */
  get B(): Float32Array | undefined {
    return this.#B;
  }

  /** Current label projection P of the discrete step (c x K), or undefined under `relaxed`. */
  get P(): Float64Array | undefined {
    return this.#P;
  }

  /** The problem the next discrete step solves (U := (H^v + H^t)/2 under noFusion). */
  discreteProblem(): DiscreteProblem {
    const c = this.config;
    let U = this.U;
    if (!U) {
      U = new Float32Array(this.Hv.length);
      for (let i = 0; i < U.length; i++) U[i] = (this.Hv[i] + this.Ht[i]) / 2;
    }
    return {
      n: this.#n,
      bits: c.bits,
      classes: this.#classes,
      U,
      Hv: this.Hv,
      Ht: this.Ht,
      L: this.#labels,
      lambda: c.lambda,
      mu: c.mu,
      rho: c.rho,
    };
  }

  /** Learning-rate schedule: lr * lrDecay^floor(epoch / lrStep) (no decay at epoch 0). */
  beginEpoch(epoch: number): void {
    const f = Math.pow(this.config.lrDecay, Math.floor(epoch / this.config.lrStep));
    this.#netOpt.lr = this.config.lr * f;
    if (this.#discOpt) this.#discOpt.lr = this.config.discLr * f;
  }

  /** Training-mode forward pass of the networks on a batch. */
  forward(batch: Batch): Forward {
    const fv = this.Ev.apply(batch.image, true);
    const ft = this.Et.apply(batch.text, true);
    const hv = this.headV.apply(fv, "tanh");
    const ht = this.headT.apply(ft, "tanh");
    const u = this.G ? tf.tanh(this.G.apply(tf.concat([fv, ft], 1), true)) : undefined;
    return { fv, ft, hv, ht, u };
  }

  /**
   * The network objective on a batch: unweighted terms (only the active ones, see
   * {@link activeParts}) and their weighted sum. Call inside a tidy / gradient scope.
   */
  netLoss(batch: Batch): { total: tf.Scalar; terms: Record<string, tf.Scalar>; out: Forward } {
    const c = this.config, K = c.bits, n = this.#n;
    checkBatch(batch, n);
    const out = this.forward(batch);
    const { fv, ft, hv, ht, u } = out;
    const stored = c.pairMode === "stored";
    const s = labelSimilarity(batch.labels, stored ? this.#labelsT : batch.labels);
    const HvAll = stored ? tf.tensor2d(this.Hv, [n, K]) : hv;
    const HtAll = stored ? tf.tensor2d(this.Ht, [n, K]) : ht;
    const terms: Record<string, tf.Scalar> = {};
    const w: Record<string, number> = {
      pair: 1,
      intraImage: 1,
      intraText: 1,
      fusionPair: c.eta,
      labelEmbed: c.delta,
      quant: c.beta,
      adv: c.gamma,
      balance: c.balance,
    };
    for (const name of this.parts.terms) {
      switch (name) {
        case "pair":
          terms.pair = pairwiseTerm(hv, ht, s, stored ? { hv: HvAll, ht: HtAll } : undefined);
          break;
        case "intraImage":
          terms.intraImage = intraModalTerm(hv, HvAll, s);
          break;
        case "intraText":
          terms.intraText = intraModalTerm(ht, HtAll, s);
          break;
        case "fusionPair":
          terms.fusionPair = fusionPairTerm(u!, stored ? tf.tensor2d(this.U!, [n, K]) : u!, s);
          break;
        case "labelEmbed":
          terms.labelEmbed = labelEmbeddingTerm(batch.labels, this.Pl! as tf.Tensor2D, u!);
          break;
        case "quant":
          terms.quant = this.parts.discrete
            ? quantizationTerm(this.#batchRows(this.#B!, batch.pos), hv, ht, u)
            : quantizationTerm(stopGradient(u!), hv, ht);
          break;
        case "adv":
          terms.adv = adversarialTerm(this.D!.apply(fv, true), this.D!.apply(ft, true));
          break;
        case "balance":
          terms.balance = balanceTerm(hv, ht);
          break;
        default:
          throw new Error(`${FILE}: netLoss: unknown term '${name}'`);
      }
    }
    let total: tf.Tensor = tf.scalar(0);
    for (const [name, t] of Object.entries(terms)) total = tf.add(total, tf.mul(t, w[name]));
    return { total: total as tf.Scalar, terms, out };
  }

  /** One D step (when active) then one network step; stored rows of the batch refreshed. */
  trainStep(batch: Batch, ctx: StepContext): LossTerms {
    checkBatch(batch, this.#n);
    const result: LossTerms = {};
    if (this.D) result.disc = this.#discStep(batch, ctx);
    let kept: tf.Tensor[] = [];
    let names: string[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { total, terms, out } = this.netLoss(batch);
      names = Object.keys(terms);
      kept = [...names.map((k) => terms[k]), out.hv, out.ht, ...(out.u ? [out.u] : [])];
      kept.forEach((t) => tf.keep(t));
      return total;
    }, this.#netOpt.vars);
    this.#netOpt.apply(grads);
    result.total = value.dataSync()[0];
    value.dispose();
    names.forEach((k, i) => (result[k] = kept[i].dataSync()[0]));
    const [hv, ht, u] = kept.slice(names.length);
    this.#storeRows(this.Hv, hv, batch.pos);
    this.#storeRows(this.Ht, ht, batch.pos);
    if (u && this.U) this.#storeRows(this.U, u, batch.pos);
    tf.dispose(kept);
    return result;
  }

  /** D's step on the batch's features (training-mode BN, running statistics untouched). */
  #discStep(batch: Batch, ctx: StepContext): number {
    const m = batch.pos.length;
    const epsData = new Float32Array(m);
    for (let i = 0; i < m; i++) epsData[i] = ctx.rng.uniform();
    const [fv, ft] = withFrozenRunningStats([this.Ev, this.Et], () => [
      this.Ev.apply(batch.image, true),
      this.Et.apply(batch.text, true),
    ]);
    const eps = tf.tensor2d(epsData, [m, 1]);
    const critic = (x: tf.Tensor2D) => this.D!.apply(x, true);
    try {
      return this.#discOpt!.minimize(() =>
        discriminatorLoss(
          critic,
          fv,
          ft,
          eps,
          this.config.gpWeight,
          (x) => this.D!.inputGradient(x),
        )
      );
    } finally {
      tf.dispose([fv, ft, eps]);
    }
  }

  #batchRows(src: Float32Array, pos: Int32Array): tf.Tensor2D {
    const K = this.config.bits;
    const rows = new Float32Array(pos.length * K);
    pos.forEach((p, i) => rows.set(src.subarray(p * K, p * K + K), i * K));
    return tf.tensor2d(rows, [pos.length, K]);
  }

  #storeRows(dst: Float32Array, t: tf.Tensor, pos: Int32Array): void {
    const K = this.config.bits;
    const d = t.dataSync() as Float32Array;
    pos.forEach((p, i) => dst.set(d.subarray(i * K, i * K + K), p * K));
  }

  /**
   * The discrete step: `rounds` rounds of P- then B-step on the stored outputs. Returns J per
   * code entry before and after ("discJ0", "discJ") and the fraction of bits flipped.
   * Nothing under `relaxed`.
   */
  endEpoch(_epoch: number): LossTerms {
    if (!this.parts.discrete) return {};
    const prob = this.discreteProblem();
    const res = discreteStep(prob, this.#B!, this.config.rounds, this.#P);
    this.#B = res.B;
    this.#P = res.P;
    const nk = prob.n * prob.bits;
    return {
      discJ0: res.objectives[0] / nk,
      discJ: res.objectives[res.objectives.length - 1] / nk,
      flipped: res.flipped,
    };
  }

  /** Image codes: sign of the image hash head (evaluation-mode BatchNorm). */
  encodeImage(x: Matrix): PackedCodes {
    checkCols(x, this.info.imageDim, "encodeImage", "x");
    return encodeInBatches(x, this.bits, (t) => this.headV.apply(this.Ev.apply(t, false), "tanh"));
  }

  /** Text codes: sign of the text hash head (evaluation-mode BatchNorm). */
  encodeText(y: Matrix): PackedCodes {
    checkCols(y, this.info.textDim, "encodeText", "y");
    return encodeInBatches(y, this.bits, (t) => this.headT.apply(this.Et.apply(t, false), "tanh"));
  }

  /** Weights, running statistics, optimiser moments, stored outputs, B and P. */
  state(): NamedArrays {
    const n = this.#n, K = this.bits;
    const out: NamedArrays = { ...this.store.state(), ...this.#netOpt.state("opt.net") };
    if (this.#discOpt) Object.assign(out, this.#discOpt.state("opt.disc"));
    out["stored.Hv"] = { shape: [n, K], data: this.Hv.slice() };
    out["stored.Ht"] = { shape: [n, K], data: this.Ht.slice() };
    if (this.U) out["stored.U"] = { shape: [n, K], data: this.U.slice() };
    if (this.#B) out["codes.B"] = { shape: [n, K], data: this.#B.slice() };
    if (this.#P) out["codes.P"] = { shape: [this.#classes, K], data: Float32Array.from(this.#P) };
    return out;
  }

  /** Restore from {@link state} output (same config and training set). */
  loadState(state: NamedArrays, source: string): void {
    const n = this.#n, K = this.bits;
    const get = (key: string, shape: number[]) => {
      const s = state[key];
      if (!s) throw new Error(`${source}: DFAH state entry '${key}' is missing`);
      const size = shape.reduce((a, b) => a * b, 1);
      if (s.shape.join("x") !== shape.join("x") || s.data.length !== size) {
        throw new Error(
          `${source}: DFAH state entry '${key}' has shape ${s.shape.join("x")} ` +
            `(${s.data.length} values), expected ${shape.join("x")}`,
        );
      }
      return s.data;
    };
    this.store.load(state, source);
    this.#netOpt.load(state, "opt.net", source);
    if (this.#discOpt) this.#discOpt.load(state, "opt.disc", source);
    this.Hv.set(get("stored.Hv", [n, K]));
    this.Ht.set(get("stored.Ht", [n, K]));
    if (this.U) this.U.set(get("stored.U", [n, K]));
    if (this.parts.discrete) {
      const B = get("codes.B", [n, K]);
      for (let i = 0; i < B.length; i++) {
        if (B[i] !== 1 && B[i] !== -1) {
          throw new Error(`${source}: DFAH state entry 'codes.B' has value ${B[i]}, expected ±1`);
        }
      }
      this.#B = Float32Array.from(B);
      this.#P = Float64Array.from(get("codes.P", [this.#classes, K]));
    }
  }

  /** Free every tensor (variables, optimiser moments, label tensor). */
  dispose(): void {
    this.#netOpt.dispose();
    this.#discOpt?.dispose();
    this.#labelsT.dispose();
    this.store.dispose();
  }
}

/** Build an untrained DFAH model for a training set. */
export function createDfah(info: TrainingSetInfo, config: DfahConfig): DfahModel {
  return new DfahModel(info, config);
}

// ---------------------------------------------------------------------------------------
// Helpers

/** Run a training-mode forward without changing BatchNorm running statistics. */
function withFrozenRunningStats(mlps: Mlp[], f: () => tf.Tensor2D[]): tf.Tensor2D[] {
  const bns = mlps.flatMap((m) => m.layers.flatMap((l) => (l.bn ? [l.bn] : [])));
  const saved = bns.map((bn) => [tf.clone(bn.runningMean), tf.clone(bn.runningVar)]);
  try {
    return tf.tidy(f);
  } finally {
    bns.forEach((bn, i) => {
      bn.runningMean.assign(saved[i][0]);
      bn.runningVar.assign(saved[i][1]);
    });
    tf.dispose(saved.flat());
  }
}

function checkInfo(info: TrainingSetInfo): void {
  const posInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;
  if (!info || typeof info !== "object") {
    throw new Error(`${FILE}: createDfah: info must be a TrainingSetInfo`);
  }
  for (const k of ["n", "imageDim", "textDim"] as const) {
    if (!posInt(info[k])) {
      throw new Error(`${FILE}: createDfah: info.${k} must be a positive integer, got ${info[k]}`);
    }
  }
  const l = info.labels;
  if (!l || !(l.data instanceof Uint8Array) || l.rows !== info.n || !posInt(l.classes)) {
    throw new Error(
      `${FILE}: createDfah: info.labels must be a LabelMatrix with n=${info.n} rows`,
    );
  }
  if (l.data.length !== l.rows * l.classes) {
    throw new Error(
      `${FILE}: createDfah: info.labels.data has length ${l.data.length}, expected ${
        l.rows * l.classes
      }`,
    );
  }
}

function checkBatch(batch: Batch, n: number): void {
  for (let i = 0; i < batch.pos.length; i++) {
    const p = batch.pos[i];
    if (!(p >= 0 && p < n)) {
      throw new Error(`${FILE}: trainStep: batch.pos[${i}] = ${p}, expected 0 <= pos < n=${n}`);
    }
  }
}

function checkCols(x: Matrix, d: number, fn: string, name: string): void {
  if (x.cols !== d) {
    throw new Error(`${FILE}: ${fn}: ${name} has ${x.cols} columns, expected ${d}`);
  }
}
