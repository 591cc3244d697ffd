/**
 * The CPAH model: its modules (two branches of extractor, CR mask, hash layer and label head;
 * the discriminator D; the consistency classifier C), the per-batch step and the discrete step.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Scalar, Tensor2D } from "../../tensor_types.ts";
import {
  activeParts,
  type CpahConfig,
  type CpahParts,
  learningRateFactor,
  validateCpahConfig,
} from "./config.ts";
import { adversarialTerm, consistencyTerm, discriminatorLoss } from "./terms.ts";
import { gradientPenaltyTerm, labelTerm, networkObjective, pairwiseTerm } from "./terms.ts";
import { quantizationTerm, termScales } from "./terms.ts";
import type { NetworkTerms } from "./terms.ts";
import { consistencyAccuracy, cpahStepDiagnostics } from "./diagnostics.ts";
import { type Diagnostics, discriminatorAccuracy, EpochMeans } from "../diagnostics.ts";
import { quantisationStats, readScalars } from "../diagnostics.ts";
import {
  emptyManipulation,
  gradientShares,
  type Manipulation,
  maskShares,
} from "../manipulation.ts";
import { normaliseRows, rms, withFrozenRunningStats } from "../manipulation.ts";
import { GRAD_SHARE_BATCH } from "../manipulation.ts";
import { signStep } from "../terms.ts";
import { checkBatch, checkFeatureCols, checkTrainingSetInfo, encodeInBatches } from "../model.ts";
import { gatherCodeRows, scatterCodeRows } from "../model.ts";
import type { Batch, HashModel, LossTerms, StepContext, TrainingSetInfo } from "../model.ts";
import { labelSimilarity } from "../../nn/losses.ts";
import { Adam, Linear, Mlp, type NamedArrays, ParamStore, withoutTape } from "../../nn/mod.ts";
import { Rng } from "../../random.ts";
import { toDense } from "../../datasets/matrix.ts";
import type { Matrix, PackedCodes } from "../../types.ts";

// =========================================================================================
// Modules
// =========================================================================================

/** One modality's networks: extractor, CR mask (absent with noCR), hash layer, label head. */
export interface Branch {
  /** Feature extractor E (Linear+BN+ReLU layers). */
  E: Mlp;
  /** Consistency-refined mask layer m = σ(W f + b) (absent under noCR). */
  mask?: Linear;
  /** Hash layer h = tanh(W c + b). */
  hash: Linear;
  /** Label classifier on the common part (absent under noMultiTask). */
  cls?: Linear;
}

/** Forward outputs of one modality. `m` and `p` are absent with noCR (then c = f). */
export interface BranchOutputs {
  /** Features f. */
  f: Tensor2D;
  /** Mask m (absent under noCR). */
  m?: Tensor2D;
  /** Modality-common part c = f · m (c = f under noCR). */
  c: Tensor2D;
  /** Modality-private part p = f · (1 − m) (absent under noCR). */
  p?: Tensor2D;
  /** Hash outputs h = tanh(W c + b). */
  h: Tensor2D;
}

/**
 * f = E(x); m = sigmoid(W_m f + b_m); c = f * m; p = f * (1 - m); h = tanh(W_h c + b_h).
 * The same path at training and test time (test: `training = false`, BatchNorm running stats).
 */
export function branchForward(br: Branch, x: Tensor2D, training: boolean): BranchOutputs {
  const f = br.E.apply(x, training);
  if (!br.mask) return { f, c: f, h: br.hash.apply(f, "tanh") };
  const m = br.mask.apply(f, "sigmoid");
  const c = tf.mul(f, m) as Tensor2D;
  const p = tf.mul(f, tf.sub(1, m)) as Tensor2D;
  return { f, m, c, p, h: br.hash.apply(c, "tanh") };
}

/**
 * The consistency classifier's input: the four parts [c^v; c^t; p^v; p^t] stacked, each row
 * normalised to RMS 1 (src/models/manipulation.ts, normaliseRows). With the scale removed, C can
 * tell a common part from a private one only by the direction the mask gives it: a mask that
 * passes every unit in the same proportion (c = 0.75 f, p = 0.25 f) leaves them identical.
 */
export function consistencyInput(v: BranchOutputs, t: BranchOutputs): Tensor2D {
  return tf.tidy(() => normaliseRows(tf.concat([v.c, t.c, v.p!, t.p!], 0)));
}

// =========================================================================================
// The model
// =========================================================================================

/** CPAH: networks, optimisers, stored outputs H^v, H^t and training codes B. */
export class CpahModel implements HashModel {
  /** Method name. */
  readonly method = "cpah";
  /** Code length K. */
  readonly bits: number;
  /** The validated configuration (frozen copy). */
  readonly config: Readonly<CpahConfig>;
  /** Modules and terms in use (from the ablation flags). */
  readonly parts: Readonly<CpahParts>;
  /** All variables: group "net" (extractors, masks, hash layers, C, label heads), "disc" (D). */
  readonly store: ParamStore = new ParamStore();
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
  readonly #labels: Tensor2D;
  readonly #trainingSet: TrainingSetInfo;
  readonly #netOpt: Adam;
  readonly #discOpt?: Adam;
  readonly #diagnostics = new EpochMeans();

  /** Build the networks for `info` with `config` (validated). */
  constructor(info: TrainingSetInfo, config: CpahConfig) {
    validateCpahConfig(config, "createCpah");
    checkTrainingSetInfo(info, "createCpah");
    this.config = Object.freeze(structuredClone(config));
    this.parts = Object.freeze(activeParts(config));
    this.bits = config.bits;
    this.#n = info.n;
    const classes = info.labels.classes;
    this.#info = { imageDim: info.imageDim, textDim: info.textDim, classes };
    this.#trainingSet = info;
    const a = this.parts, K = config.bits, hd = config.imageLayers.at(-1)!;

    // Forks are drawn in a fixed order whatever the flags, so shared modules start from the
    // same weights in every ablation.
    const rng = new Rng(config.seed);
    const [ri, rt, rd, rc, rb] = [1, 2, 3, 4, 5].map((t) => rng.fork(t));
    const branch = (name: string, dim: number, layers: number[], r: Rng): Branch => {
      const [rE, rM, rH, rL] = [1, 2, 3, 4].map((t) => r.fork(t));
      return {
        E: new Mlp(this.store, `${name}.E`, [dim, ...layers], rE),
        mask: a.mask ? new Linear(this.store, `${name}.mask`, hd, hd, rM) : undefined,
        hash: new Linear(this.store, `${name}.hash`, hd, K, rH),
        cls: a.label ? new Linear(this.store, `${name}.cls`, hd, classes, rL) : undefined,
      };
    };
    this.image = branch("image", info.imageDim, config.imageLayers, ri);
    this.text = branch("text", info.textDim, config.textLayers, rt);
    if (a.adversary) {
      this.D = new Mlp(this.store, "D", [hd, ...config.discLayers, 1], rd, {
        batchNorm: false,
        lastActivation: "linear",
        group: "disc",
      });
    }
    if (a.consistency) {
      this.C = new Mlp(this.store, "C", [hd, ...config.consLayers, 3], rc, {
        batchNorm: false,
        lastActivation: "linear",
      });
    }

    this.#netOpt = new Adam(this.store.group("net"), {
      lr: config.lr,
      weightDecay: config.weightDecay,
    });
    if (a.adversary) {
      this.#discOpt = new Adam(this.store.group("disc"), {
        lr: config.discLr,
        beta1: config.discBeta1,
        beta2: config.discBeta2,
        weightDecay: config.discWeightDecay,
      });
    }

    this.Hv = new Float32Array(info.n * K);
    this.Ht = new Float32Array(info.n * K);
    this.bReady = false;
    if (a.discrete) {
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

  /**
   * Learning-rate schedule: lr * lrDecay^floor(epoch / lrDecayEvery) for both optimisers; the
   * epoch's diagnostics start afresh.
   */
  beginEpoch(epoch: number): void {
    this.#diagnostics.reset();
    const f = learningRateFactor(this.config, epoch);
    this.#netOpt.lr = this.config.lr * f;
    if (this.#discOpt) this.#discOpt.lr = this.config.discLr * f;
  }

  /** Current learning rates (net, disc). */
  get learningRates(): { net: number; disc?: number } {
    return { net: this.#netOpt.lr, disc: this.#discOpt?.lr };
  }

  /**
   * The unweighted, unnormalised terms of the networks' objective on a batch's forward outputs
   * (zero tensors for inactive terms), with D's logits on the common parts and C's logits on
   * the normalised parts, which the diagnostics read. No side effects.
   */
  #networkTerms(v: BranchOutputs, t: BranchOutputs, batch: Batch): {
    terms: NetworkTerms;
    critic?: { dv: Tensor2D; dt: Tensor2D };
    consLogits?: Tensor2D;
  } {
    const a = this.parts, K = this.bits, m = batch.pos.length;
    const zero = () => tf.scalar(0);
    let pair: Scalar;
    if (this.config.pairMode === "stored") {
      const s = labelSimilarity(batch.labels, this.#labels);
      const Hv = tf.tensor2d(this.Hv, [this.#n, K]), Ht = tf.tensor2d(this.Ht, [this.#n, K]);
      pair = pairwiseTerm(v.h, t.h, Hv, Ht, s);
    } else {
      pair = pairwiseTerm(v.h, t.h, v.h, t.h, labelSimilarity(batch.labels, batch.labels));
    }
    const quant = a.discrete && this.bReady
      ? quantizationTerm(tf.tensor2d(gatherCodeRows(this.B!, batch.pos, K), [m, K]), v.h, t.h)
      : zero();
    const consLogits = a.consistency ? this.C!.apply(consistencyInput(v, t), true) : undefined;
    const cons = consLogits ? consistencyTerm(consLogits) : zero();
    const label = a.label
      ? labelTerm(this.image.cls!.apply(v.c), this.text.cls!.apply(t.c), batch.labels)
      : zero();
    const critic = a.adversary
      ? { dv: this.D!.apply(v.c, true), dt: this.D!.apply(t.c, true) }
      : undefined;
    const adv = critic ? adversarialTerm(critic.dv, critic.dt) : zero();
    return { terms: { pair, quant, cons, label, adv }, critic, consLogits };
  }

  /** Factor of each term in the objective: its normalisation times its weight. */
  #termFactors(m: number): Record<keyof NetworkTerms, number> {
    const a = this.parts;
    const partners = this.config.pairMode === "stored" ? this.#n : m;
    const s = termScales(this.config, { batch: m, partners, classes: this.#info.classes });
    return {
      pair: s.pair,
      quant: s.quant * a.beta,
      cons: s.cons * a.alpha,
      label: s.label * a.alpha,
      adv: s.adv * a.gamma,
    };
  }

  /**
   * Each active term's weighted gradient norm on the shared parameters (extractors and masks)
   * relative to L_pair's, on one batch (`gradShare.<term>` in the epoch's diagnostics). Its
   * forward passes leave BatchNorm statistics and the stored outputs untouched.
   */
  #sampleGradShare(batch: Batch): Record<string, number> {
    const a = this.parts, m = batch.pos.length;
    const factors = this.#termFactors(m);
    const names: (keyof NetworkTerms)[] = ["pair"];
    if (a.discrete && this.bReady) names.push("quant");
    if (a.consistency) names.push("cons");
    if (a.label) names.push("label");
    if (a.adversary) names.push("adv");
    const fns: Record<string, () => Scalar> = {};
    for (const k of names) {
      fns[k] = () =>
        withFrozenRunningStats([this.image.E, this.text.E], () =>
          tf.tidy(() => {
            const v = branchForward(this.image, batch.image, true);
            const t = branchForward(this.text, batch.text, true);
            return tf.mul(this.#networkTerms(v, t, batch).terms[k], factors[k]) as Scalar;
          }));
    }
    const shared = this.store.byPrefix("image.E.", "text.E.", "image.mask.", "text.mask.");
    const shares = gradientShares(shared, fns);
    return Object.fromEntries(Object.entries(shares).map(([k, x]) => [`gradShare.${k}`, x]));
  }

  /**
   * One batch: forward pass; store the batch's rows of H^v, H^t; D step on the detached
   * common parts; network step on L. Returns each term unweighted (its mean form, before the
   * normalisation and the alpha/beta/gamma weights), its share of the objective
   * (`share.<term>`), the weighted `total`, D's classification loss `disc` and its gradient
   * penalty `gp` (unweighted); inactive terms are 0. On the epoch's second batch it also samples
   * the terms' gradient shares (diagnostics). All random draws (the penalty's interpolation
   * weights) come from `ctx.rng`.
   */
  trainStep(batch: Batch, ctx: StepContext): LossTerms {
    checkBatch(batch, this.#trainingSet);
    const a = this.parts, K = this.bits, m = batch.pos.length;
    if (ctx.batch === GRAD_SHARE_BATCH) this.#diagnostics.add(this.#sampleGradShare(batch));
    const eps = new Float32Array(m);
    if (a.adversary) { for (let i = 0; i < m; i++) eps[i] = ctx.rng.uniform(); }
    let disc = { D: 0, gp: 0 };
    const kept: { terms?: NetworkTerms } = {};
    const factors = this.#termFactors(m);

    const { value, grads } = tf.variableGrads(() => {
      const v = branchForward(this.image, batch.image, true);
      const t = branchForward(this.text, batch.text, true);
      scatterCodeRows(this.Hv, v.h, batch.pos, K);
      scatterCodeRows(this.Ht, t.h, batch.pos, K);
      if (a.adversary) {
        // Off this tape: c^v, c^t are constants for D's step, and its ops are not recorded.
        disc = withoutTape(() =>
          tf.tidy(() => this.#discriminatorStep(v.c, t.c, tf.tensor2d(eps, [m, 1])))
        );
      }
      const { terms, critic, consLogits } = this.#networkTerms(v, t, batch);
      kept.terms = terms;
      for (const x of Object.values(terms)) tf.keep(x);
      const objective = networkObjective(terms, factors);
      // Diagnostics last, off the tape: they read the step's tensors and change nothing.
      this.#diagnostics.add(readScalars(() => cpahStepDiagnostics({ v, t, critic, consLogits })));
      return objective;
    }, this.store.group("net"));

    const total = value.dataSync()[0];
    value.dispose();
    this.#netOpt.apply(grads);
    const out: LossTerms = {};
    for (const [k, x] of Object.entries(kept.terms!)) {
      const raw = (x as Scalar).dataSync()[0];
      out[k] = raw;
      out[`share.${k}`] = total !== 0 ? (raw * factors[k as keyof NetworkTerms]) / total : 0;
      x.dispose();
    }
    out.total = total;
    out.disc = disc.D;
    out.gp = disc.gp;
    return out;
  }

  /**
   * The discrete step: B = sign(H^v + H^t) with sign(0) = +1. Returns `flipped`, the fraction
   * of bits that changed (absent at the first step with bInit "outputs"); nothing when relaxed.
   */
  endEpoch(_epoch: number): LossTerms {
    if (!this.B) return {};
    const sum = new Float32Array(this.Hv.length);
    for (let i = 0; i < sum.length; i++) sum[i] = this.Hv[i] + this.Ht[i];
    const flipped = signStep(sum, this.B);
    const had = this.bReady;
    this.bReady = true;
    return had ? { flipped } : {};
  }

  /**
   * The epoch's diagnostics (src/models/cpah/diagnostics.ts has the definitions): the means
   * over its batches of the mask magnitudes and of D's and C's accuracies, and the quantisation
   * gap of the stored outputs H^v, H^t. Reads only; call after {@link endEpoch}.
   */
  epochDiagnostics(_epoch: number): Diagnostics {
    const q = quantisationStats(this.Hv, this.Ht);
    return { ...this.#diagnostics.means(), quantGap: q.quantGap, signDistance: q.signDistance };
  }

  /**
   * The manipulation checks (src/models/manipulation.ts) on held-out pairs (`image`, `text`:
   * the same rows of each modality; the validation slice), evaluation mode: D's accuracy on
   * the common parts, the mask's routing per modality, C's accuracy on the normalised parts,
   * and the RMS of B. `gradShare` is the trainer's (sampled during training): null here.
   */
  manipulationCheck(image: Matrix, text: Matrix): Manipulation {
    checkFeatureCols(image, this.#info.imageDim, "manipulationCheck", "image");
    checkFeatureCols(text, this.#info.textDim, "manipulationCheck", "text");
    const out = emptyManipulation();
    if (this.B) out.rmsB = rms(this.B);
    const rows = image.rows;
    if (rows === 0) return out;
    const di = toDense(image), dt = toDense(text);
    const res = tf.tidy(() => {
      const v = branchForward(this.image, tf.tensor2d(di.data, [rows, di.cols]), false);
      const t = branchForward(this.text, tf.tensor2d(dt.data, [rows, dt.cols]), false);
      const r: Record<string, Float32Array | number> = {};
      if (this.D) {
        r.disc = discriminatorAccuracy(this.D.apply(v.c, false), this.D.apply(t.c, false))
          .dataSync()[0];
      }
      if (v.m && t.m) {
        r.maskV = v.m.dataSync() as Float32Array;
        r.maskT = t.m.dataSync() as Float32Array;
      }
      if (this.C) {
        r.cons = consistencyAccuracy(this.C.apply(consistencyInput(v, t), false)).dataSync()[0];
      }
      return r;
    });
    if (typeof res.disc === "number") out.discAccuracy = res.disc;
    if (res.maskV instanceof Float32Array && res.maskT instanceof Float32Array) {
      const sv = maskShares(res.maskV, rows), st = maskShares(res.maskT, rows);
      out.maskBelow01 = { image: sv.below, text: st.below };
      out.maskAbove09 = { image: sv.above, text: st.above };
    }
    if (typeof res.cons === "number") out.consistencyAccuracy = { value: res.cons, chance: 0.5 };
    return out;
  }

  /** Image codes: sign(tanh(W_h (f * m) + b_h)) in evaluation mode, from the common part. */
  encodeImage(x: Matrix): PackedCodes {
    checkFeatureCols(x, this.#info.imageDim, "encodeImage", "x");
    return encodeInBatches(x, this.bits, (b) => branchForward(this.image, b, false).h);
  }

  /** Text codes: sign(tanh(W_h (f * m) + b_h)) in evaluation mode, from the common part. */
  encodeText(y: Matrix): PackedCodes {
    checkFeatureCols(y, this.#info.textDim, "encodeText", "y");
    return encodeInBatches(y, this.bits, (b) => branchForward(this.text, b, false).h);
  }

  /**
   * Weights, BatchNorm statistics, both optimisers, H^v, H^t, and B. Keys: the variables'
   * local names, "opt.net.*", "opt.disc.*", "stored.Hv", "stored.Ht", "codes.B", "codes.ready"
   * (the stored-output and code keys DFAH uses too).
   */
  state(): NamedArrays {
    const K = this.bits, n = this.#n;
    const s: NamedArrays = { ...this.store.state(), ...this.#netOpt.state("opt.net") };
    if (this.#discOpt) Object.assign(s, this.#discOpt.state("opt.disc"));
    s["stored.Hv"] = { shape: [n, K], data: this.Hv.slice() };
    s["stored.Ht"] = { shape: [n, K], data: this.Ht.slice() };
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
    // States written before the keys were shared with DFAH name the stored outputs "codes.H*".
    const stored = (
      k: string,
    ) => (`stored.${k}` in state || !(`codes.${k}` in state) ? "stored" : "codes");
    const hv = arr(`${stored("Hv")}.Hv`, n * K), ht = arr(`${stored("Ht")}.Ht`, n * K);
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
    cv: Tensor2D,
    ct: Tensor2D,
    eps: Tensor2D,
  ): { D: number; gp: number } {
    const D = this.D!;
    const critic = (x: Tensor2D) => D.apply(x, true);
    let parts = { D: 0, gp: 0 };
    this.#discOpt!.minimize(() => {
      const d = discriminatorLoss(critic(cv), critic(ct));
      const gp = gradientPenaltyTerm(critic, cv, ct, eps, (x) => D.inputGradient(x));
      parts = { D: d.dataSync()[0], gp: gp.dataSync()[0] };
      return tf.add(d, tf.mul(gp, this.config.gpWeight)) as Scalar;
    });
    return parts;
  }
}

/** Build a CPAH model for a training set (the {@link HashModel} factory). */
export function createCpah(info: TrainingSetInfo, config: CpahConfig): CpahModel {
  return new CpahModel(info, config);
}
