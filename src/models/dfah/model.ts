/**
 * The DFAH model: extractors, hash heads, Fusion Learner G, Modality Discriminator D, the
 * per-batch steps and the epoch-end discrete step.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Scalar, Tensor, Tensor2D, Variable } from "../../tensor_types.ts";
import { activeParts, type DfahConfig, type DfahParts, validateDfahConfig } from "./config.ts";
import { type DiscreteProblem, discreteStep, updateB } from "./discrete.ts";
import { codeSignDistance, fusionContribution } from "./diagnostics.ts";
import { type Diagnostics, discriminatorAccuracy, EpochMeans } from "../diagnostics.ts";
import { quantisationStats, readScalars } from "../diagnostics.ts";
import { adversarialTerm, balanceTerm, discriminatorLoss, fusionPairTerm } from "./terms.ts";
import { emptyManipulation, GRAD_SHARE_BATCH, gradientShares } from "../manipulation.ts";
import { type Manipulation, rms } from "../manipulation.ts";
import { withFrozenRunningStats } from "../manipulation.ts";
import { gradientPenalty } from "../../nn/losses.ts";
import { toDense } from "../../datasets/matrix.ts";
import { intraModalTerm, labelEmbeddingTerm, pairwiseTerm, quantizationTerm } from "./terms.ts";
import { checkBatch, checkFeatureCols, checkTrainingSetInfo, encodeInBatches } from "../model.ts";
import { gatherCodeRows, learningRateFactor, scatterCodeRows } from "../model.ts";
import type { Batch, HashModel, LossTerms, StepContext, TrainingSetInfo } from "../model.ts";
import { labelSimilarity } from "../../nn/losses.ts";
import { Adam, Linear, Mlp, type NamedArrays, ParamStore } from "../../nn/mod.ts";
import { Rng } from "../../random.ts";
import type { Matrix, PackedCodes } from "../../types.ts";

// ---------------------------------------------------------------------------------------
// The model

/** Features, head outputs and fused outputs of one training batch. */
export interface Forward {
  /** Image features f^v. */
  fv: Tensor2D;
  /** Text features f^t. */
  ft: Tensor2D;
  /** Image head outputs h^v = tanh(W f^v). */
  hv: Tensor2D;
  /** Text head outputs h^t = tanh(W f^t). */
  ht: Tensor2D;
  /** Fused outputs u = tanh(G([f^v; f^t])) (absent under noFusion). */
  u?: Tensor2D;
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
  readonly store: ParamStore = new ParamStore();
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
  readonly Pl?: Variable;
  /** Modality Discriminator D (claim 3); absent under noAdversary. */
  readonly D?: Mlp;
  readonly #netOpt: Adam;
  readonly #discOpt?: Adam;
  readonly #diagnostics = new EpochMeans();
  readonly #n: number;
  readonly #classes: number;
  /** n x c labels of the training set (float 0/1): tensor for S, array for the P-step. */
  readonly #labelsT: Tensor2D;
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
    checkTrainingSetInfo(info, "createDfah");
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
    this.#P = Float64Array.from(rng.fork(8).normals(this.#classes * K));
    this.#B = updateB(this.#P, this.discreteProblem(), this.parts.binary);
  }

  /** Code length K. */
  get bits(): number {
    return this.config.bits;
  }

  /** Current training codes B (n x K; ±1, or real-valued under `relaxed`). */
  get B(): Float32Array | undefined {
    return this.#B;
  }

  /** Current label projection P of the discrete step (c x K). */
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

  /**
   * Learning-rate schedule: lr * lrDecay^floor(epoch / lrDecayEvery) (no decay at epoch 0); the
   * epoch's diagnostics start afresh.
   */
  beginEpoch(epoch: number): void {
    this.#diagnostics.reset();
    const f = learningRateFactor(this.config, epoch);
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
   * {@link activeParts}) and their weighted sum, the forward outputs, and D's logits on the
   * features (`critic`, when the adversarial term is active). Call inside a tidy / gradient
   * scope.
   */
  netLoss(batch: Batch): {
    total: Scalar;
    terms: Record<string, Scalar>;
    out: Forward;
    critic?: { dv: Tensor2D; dt: Tensor2D };
  } {
    const c = this.config, K = c.bits, n = this.#n;
    checkBatch(batch, this.info, "netLoss");
    const out = this.forward(batch);
    const { fv, ft, hv, ht, u } = out;
    const stored = c.pairMode === "stored";
    const s = labelSimilarity(batch.labels, stored ? this.#labelsT : batch.labels);
    const HvAll = stored ? tf.tensor2d(this.Hv, [n, K]) : hv;
    const HtAll = stored ? tf.tensor2d(this.Ht, [n, K]) : ht;
    const terms: Record<string, Scalar> = {};
    let critic: { dv: Tensor2D; dt: Tensor2D } | undefined;
    const w = this.termWeights();
    for (const name of this.parts.terms) {
      switch (name) {
        case "pair":
          terms.pair = pairwiseTerm(hv, ht, HvAll, HtAll, s);
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
          terms.labelEmbed = labelEmbeddingTerm(batch.labels, this.Pl! as Tensor2D, u!);
          break;
        case "quant":
          terms.quant = quantizationTerm(
            tf.tensor2d(gatherCodeRows(this.#B!, batch.pos, K), [batch.pos.length, K]),
            hv,
            ht,
            u,
          );
          break;
        case "adv":
          critic = { dv: this.D!.apply(fv, true), dt: this.D!.apply(ft, true) };
          terms.adv = adversarialTerm(critic.dv, critic.dt);
          break;
        case "balance":
          terms.balance = balanceTerm(hv, ht);
          break;
        default:
          throw new Error(`netLoss: unknown term '${name}'`);
      }
    }
    let total: Tensor = tf.scalar(0);
    for (const [name, t] of Object.entries(terms)) total = tf.add(total, tf.mul(t, w[name]));
    return { total: total as Scalar, terms, out, critic };
  }

  /** The weight of each network term in the objective (1 for L_pair and the intra-modal terms). */
  termWeights(): Record<string, number> {
    const c = this.config;
    return {
      pair: 1,
      intraImage: 1,
      intraText: 1,
      fusionPair: c.eta,
      labelEmbed: c.delta,
      quant: c.beta,
      adv: c.gamma,
      balance: c.balance,
    };
  }

  /**
   * Each active term's weighted gradient norm on the extractors' parameters (what every
   * module shapes) relative to L_pair's, on one batch (`gradShare.<term>` in the epoch's
   * diagnostics). Its forward passes leave BatchNorm statistics and stored outputs untouched.
   */
  #sampleGradShare(batch: Batch): Record<string, number> {
    const w = this.termWeights();
    const fns: Record<string, () => Scalar> = {};
    for (const k of this.parts.terms) {
      fns[k] = () =>
        withFrozenRunningStats(
          [this.Ev, this.Et, ...(this.G ? [this.G] : [])],
          () => tf.tidy(() => tf.mul(this.netLoss(batch).terms[k], w[k]) as Scalar),
        );
    }
    const shares = gradientShares(this.store.byPrefix("Ev.", "Et."), fns);
    return Object.fromEntries(Object.entries(shares).map(([k, x]) => [`gradShare.${k}`, x]));
  }

  /**
   * The manipulation checks (src/models/manipulation.ts): D's accuracy on held-out pairs'
   * features (`image`, `text`: the same rows of each modality, the validation slice;
   * evaluation mode), the share of B's signs the fused outputs decide, and the RMS of B, both
   * from the codes the model holds (the selected epoch's). `gradShare` is the trainer's: null
   * here.
   */
  manipulationCheck(image: Matrix, text: Matrix): Manipulation {
    checkFeatureCols(image, this.info.imageDim, "manipulationCheck", "image");
    checkFeatureCols(text, this.info.textDim, "manipulationCheck", "text");
    const out = emptyManipulation();
    out.rmsB = rms(this.#B!);
    if (this.U) {
      out.fusionDecisive =
        fusionContribution(this.discreteProblem(), this.#B!, this.#P!).fusionDecisive;
    }
    if (this.D && image.rows > 0) {
      const di = toDense(image), dt = toDense(text);
      out.discAccuracy = tf.tidy(() =>
        discriminatorAccuracy(
          this.D!.apply(this.Ev.apply(tf.tensor2d(di.data, [di.rows, di.cols]), false), false),
          this.D!.apply(this.Et.apply(tf.tensor2d(dt.data, [dt.rows, dt.cols]), false), false),
        ).dataSync()[0]
      );
    }
    return out;
  }

  /** One D step (when active) then one network step; stored rows of the batch refreshed. */
  trainStep(batch: Batch, ctx: StepContext): LossTerms {
    checkBatch(batch, this.info);
    const result: LossTerms = {};
    if (ctx.batch === GRAD_SHARE_BATCH) this.#diagnostics.add(this.#sampleGradShare(batch));
    if (this.D) {
      const d = this.#discStep(batch, ctx);
      result.disc = d.D;
      result.gp = d.gp;
    }
    let kept: Tensor[] = [];
    let names: string[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { total, terms, out, critic } = this.netLoss(batch);
      names = Object.keys(terms);
      kept = [...names.map((k) => terms[k]), out.hv, out.ht, ...(out.u ? [out.u] : [])];
      kept.forEach((t) => tf.keep(t));
      // Diagnostics last, off the tape: they read the step's tensors and change nothing.
      if (critic) {
        this.#diagnostics.add(
          readScalars(() => ({ discAcc: discriminatorAccuracy(critic.dv, critic.dt) })),
        );
      }
      return total;
    }, this.#netOpt.vars);
    this.#netOpt.apply(grads);
    const total = value.dataSync()[0];
    result.total = total;
    value.dispose();
    const w = this.termWeights();
    names.forEach((k, i) => {
      result[k] = kept[i].dataSync()[0];
      result[`share.${k}`] = total !== 0 ? (result[k] * w[k]) / total : 0;
    });
    const [hv, ht, u] = kept.slice(names.length);
    const K = this.bits;
    scatterCodeRows(this.Hv, hv, batch.pos, K);
    scatterCodeRows(this.Ht, ht, batch.pos, K);
    if (u && this.U) scatterCodeRows(this.U, u, batch.pos, K);
    tf.dispose(kept);
    return result;
  }

  /**
   * D's step on the batch's features (training-mode BN, running statistics untouched): its
   * classification loss plus `gpWeight` times the gradient penalty. Returns both, unweighted.
   */
  #discStep(batch: Batch, ctx: StepContext): { D: number; gp: number } {
    const m = batch.pos.length;
    const epsData = new Float32Array(m);
    for (let i = 0; i < m; i++) epsData[i] = ctx.rng.uniform();
    const [fv, ft] = withFrozenRunningStats(
      [this.Ev, this.Et],
      () => tf.tidy(() => [this.Ev.apply(batch.image, true), this.Et.apply(batch.text, true)]),
    );
    const eps = tf.tensor2d(epsData, [m, 1]);
    const critic = (x: Tensor2D) => this.D!.apply(x, true);
    let parts = { D: 0, gp: 0 };
    try {
      this.#discOpt!.minimize(() => {
        const d = discriminatorLoss(critic(fv), critic(ft));
        const gp = this.config.gpWeight > 0
          ? gradientPenalty(critic, fv, ft, eps, (x) => this.D!.inputGradient(x))
          : tf.scalar(0);
        parts = { D: d.dataSync()[0], gp: gp.dataSync()[0] };
        return tf.add(d, tf.mul(gp, this.config.gpWeight)) as Scalar;
      });
      return parts;
    } finally {
      tf.dispose([fv, ft, eps]);
    }
  }

  /**
   * The discrete step: `rounds` rounds of P- then B-step on the stored outputs. Returns J per
   * code entry before and after ("discJ0", "discJ") and the fraction of bits flipped (signs,
   * under `relaxed`).
   */
  endEpoch(_epoch: number): LossTerms {
    const prob = this.discreteProblem();
    const res = discreteStep(prob, this.#B!, this.config.rounds, this.#P, this.parts.binary);
    this.#B = res.B;
    this.#P = res.P;
    const nk = prob.n * prob.bits;
    return {
      discJ0: res.objectives[0] / nk,
      discJ: res.objectives[res.objectives.length - 1] / nk,
      flipped: res.flipped,
    };
  }

  /**
   * The epoch's diagnostics (src/models/dfah/diagnostics.ts has the definitions): D's accuracy
   * over the epoch's batches; after the discrete step, the fused outputs' contribution to B
   * (not under noFusion), the quantisation gap of the stored head outputs and the distance of B
   * from binary. Reads only; call after {@link endEpoch}.
   */
  epochDiagnostics(_epoch: number): Diagnostics {
    const q = quantisationStats(this.Hv, this.Ht);
    const out: Diagnostics = {
      ...this.#diagnostics.means(),
      quantGap: q.quantGap,
      signDistance: q.signDistance,
      bSignDistance: codeSignDistance(this.#B!),
    };
    if (this.U) Object.assign(out, fusionContribution(this.discreteProblem(), this.#B!, this.#P!));
    return out;
  }

  /** Image codes: sign of the image hash head (evaluation-mode BatchNorm). */
  encodeImage(x: Matrix): PackedCodes {
    checkFeatureCols(x, this.info.imageDim, "encodeImage", "x");
    return encodeInBatches(x, this.bits, (t) => this.headV.apply(this.Ev.apply(t, false), "tanh"));
  }

  /** Text codes: sign of the text hash head (evaluation-mode BatchNorm). */
  encodeText(y: Matrix): PackedCodes {
    checkFeatureCols(y, this.info.textDim, "encodeText", "y");
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
    {
      const B = get("codes.B", [n, K]);
      for (let i = 0; this.parts.binary && i < B.length; i++) {
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
export { withFrozenRunningStats } from "../manipulation.ts";
