/**
 * Manipulation checks: numbers that show whether a module an ablation switches off is doing its
 * job in the full model, recorded in every CPAH and DFAH result file (`manipulation`) and shown
 * beside each ablation verdict. An ablation whose module fails its check in the full model
 * compares the model with itself, and its verdict is not read.
 *
 * | field | definition | null when |
 * |---|---|---|
 * | `discAccuracy` | D's accuracy over both modalities' validation items (common parts for CPAH, features for DFAH): 0.5 = merged, > 0.5 = D separates them, < 0.5 = swapped | no discriminator |
 * | `maskBelow01`, `maskAbove09` | per modality, the share of feature units whose mean mask over the validation items is < 0.1 (routed to the private part) / > 0.9 (routed to the common part) | no CR mask |
 * | `consistencyAccuracy` | C's 3-way accuracy on the validation items' normalised parts, with its chance level (the share of the largest class, 1/2) | no consistency classifier |
 * | `fusionDecisive` | share of the signs of B that the fused outputs U decide (B's sign would change without U) | no Fusion Learner |
 * | `rmsB` | root mean square of the training codes B of the selected epoch (1 for binary codes) | no B |
 * | `gradShare` | per loss term, the norm of its weighted gradient on the parameters the modules share (extractors, masks) relative to L_pair's, sampled on the second batch of the selected epoch | a model without the sample |
 *
 * The pass criteria of each module are {@link moduleChecks}; the definitions of the per-epoch
 * diagnostics the checks extend are in src/models/diagnostics.ts.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Scalar, Tensor2D, Variable } from "../tensor_types.ts";
import type { Mlp } from "../nn/mod.ts";
import { withoutTape } from "../nn/tape.ts";

/** One value per modality. */
export interface PerModality {
  /** Image side. */
  image: number;
  /** Text side. */
  text: number;
}

/** The manipulation checks of a trained model (see the module's table); null: no such module. */
export interface Manipulation {
  /** D's accuracy over both modalities' validation items. */
  discAccuracy: number | null;
  /** Share of units with mean mask < 0.1, per modality. */
  maskBelow01: PerModality | null;
  /** Share of units with mean mask > 0.9, per modality. */
  maskAbove09: PerModality | null;
  /** C's accuracy on the normalised parts, and its chance level. */
  consistencyAccuracy: { value: number; chance: number } | null;
  /** Share of B's signs decided by the fused outputs U. */
  fusionDecisive: number | null;
  /** RMS of the training codes B. */
  rmsB: number | null;
  /** Each term's weighted gradient norm on the shared parameters relative to L_pair's. */
  gradShare: Record<string, number> | null;
}

/** A manipulation record with every field null (a model without any of the modules). */
export function emptyManipulation(): Manipulation {
  return {
    discAccuracy: null,
    maskBelow01: null,
    maskAbove09: null,
    consistencyAccuracy: null,
    fusionDecisive: null,
    rmsB: null,
    gradShare: null,
  };
}

/** The verdict of one module's check in a full model. */
export interface ModuleCheck {
  /** Whether the module is doing its job. */
  active: boolean;
  /** The numbers behind the verdict, in words (e.g. "D accuracy 0.52"). */
  evidence: string;
}

/** The band of D accuracies read as "modalities merged" (D near chance). */
export const MERGED_BAND: readonly [number, number] = [0.35, 0.65];

/** The minimum share of B's signs the fused outputs must decide for fusion to count as active. */
export const FUSION_DECISIVE_MIN = 0.05;

/** The band of RMS(B) read as "binary scale" for relaxed codes. */
export const BINARY_SCALE_BAND: readonly [number, number] = [0.9, 1.1];

/** The minimum gradient share (relative to L_pair) for a term to count as shaping the shared layers. */
export const GRAD_SHARE_MIN = 0.05;

const f3 = (x: number) => x.toFixed(3);

/**
 * The checks that decide whether the module an ablation removes is active in a FULL model's
 * manipulation record (`flag`: the ablation's flag). Criteria:
 * - `noAdversary`: D accuracy within {@link MERGED_BAND} (the adversary merges the modalities:
 *   D cannot tell them apart) and the adversarial gradient share ≥ {@link GRAD_SHARE_MIN}.
 * - `noCR`: the mask routes some units to a side (maskBelow01 + maskAbove09 > 0.05 in either
 *   modality) and C separates the normalised parts above chance + 0.1 (the split is one of
 *   direction, not scale).
 * - `noMultiTask`: the multi-task gradient share (cons + label) ≥ {@link GRAD_SHARE_MIN}.
 * - `noFusion`: fusionDecisive ≥ {@link FUSION_DECISIVE_MIN}.
 * - `relaxed`: the full model's B is binary (rmsB = 1); the relaxed cell's own rmsB is checked
 *   by {@link relaxedScaleCheck}.
 * Returns undefined for a flag without a check or a record without the numbers it needs.
 */
export function moduleCheck(flag: string, m: Manipulation): ModuleCheck | undefined {
  const share = (k: string) => m.gradShare?.[k];
  switch (flag) {
    case "noAdversary": {
      if (m.discAccuracy === null) return undefined;
      const g = share("adv");
      const inBand = m.discAccuracy >= MERGED_BAND[0] && m.discAccuracy <= MERGED_BAND[1];
      const strong = g === undefined || g >= GRAD_SHARE_MIN;
      return {
        active: inBand && strong,
        evidence: `D accuracy ${f3(m.discAccuracy)}` +
          (g === undefined ? "" : `, adversarial gradient ${f3(g)}× L_pair's`),
      };
    }
    case "noCR": {
      if (!m.maskBelow01 || !m.maskAbove09 || !m.consistencyAccuracy) return undefined;
      const routed = Math.max(
        m.maskBelow01.image + m.maskAbove09.image,
        m.maskBelow01.text + m.maskAbove09.text,
      );
      const c = m.consistencyAccuracy;
      return {
        active: routed > 0.05 && c.value > c.chance + 0.1,
        evidence: `units routed (mask < 0.1 or > 0.9) ${f3(routed)}, C accuracy ${
          f3(c.value)
        } (chance ${f3(c.chance)})`,
      };
    }
    case "noMultiTask": {
      const g = share("cons"), l = share("label");
      if (g === undefined && l === undefined) return undefined;
      const total = (g ?? 0) + (l ?? 0);
      return {
        active: total >= GRAD_SHARE_MIN,
        evidence: `multi-task gradient ${f3(total)}× L_pair's`,
      };
    }
    case "noFusion": {
      if (m.fusionDecisive === null) return undefined;
      return {
        active: m.fusionDecisive >= FUSION_DECISIVE_MIN,
        evidence: `U decides ${(100 * m.fusionDecisive).toFixed(1)}% of B's signs`,
      };
    }
    case "relaxed": {
      if (m.rmsB === null) return undefined;
      return { active: Math.abs(m.rmsB - 1) < 1e-6, evidence: `full model RMS(B) ${f3(m.rmsB)}` };
    }
  }
  return undefined;
}

/**
 * Whether a relaxed cell's codes B sit at binary scale (RMS within {@link BINARY_SCALE_BAND}),
 * so that it differs from the full model in discreteness only.
 */
export function relaxedScaleCheck(m: Manipulation): ModuleCheck | undefined {
  if (m.rmsB === null) return undefined;
  return {
    active: m.rmsB >= BINARY_SCALE_BAND[0] && m.rmsB <= BINARY_SCALE_BAND[1],
    evidence: `relaxed RMS(B) ${f3(m.rmsB)}`,
  };
}

/** Share of units whose mean mask (n x d, row-major, mean over rows) is < lo / > hi. */
export function maskShares(
  mask: Float32Array,
  rows: number,
  lo = 0.1,
  hi = 0.9,
): { below: number; above: number } {
  const d = mask.length / rows;
  let below = 0, above = 0;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += mask[i * d + j];
    const mean = s / rows;
    if (mean < lo) below++;
    if (mean > hi) above++;
  }
  return { below: below / d, above: above / d };
}

/** Root mean square of an array (NaN for none). */
export function rms(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
}

/**
 * Each term's gradient norm on `vars` relative to the reference term's: `terms` maps a name to
 * a function returning that term as weighted in the objective (each is differentiated on its
 * own, in its own forward pass). Runs off the caller's tape; the caller keeps the functions
 * free of side effects (frozen BatchNorm statistics, no stored-output updates).
 */
export function gradientShares(
  vars: Variable[],
  terms: Record<string, () => Scalar>,
  reference = "pair",
): Record<string, number> {
  const norms: Record<string, number> = {};
  for (const [name, f] of Object.entries(terms)) {
    norms[name] = withoutTape(() => {
      const { value, grads } = tf.variableGrads(f, vars);
      const n = tf.tidy(() => {
        const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
        return sq.length ? tf.sqrt(tf.addN(sq)).dataSync()[0] : 0;
      });
      tf.dispose([value, ...Object.values(grads)]);
      return n;
    });
  }
  const ref = norms[reference];
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(norms)) {
    if (k !== reference) out[k] = ref > 0 ? v / ref : NaN;
  }
  return out;
}

/** Run a training-mode forward without changing BatchNorm running statistics. */
export function withFrozenRunningStats<T extends Tensor2D[] | Scalar>(
  mlps: Mlp[],
  f: () => T,
): T {
  const bns = mlps.flatMap((m) => m.layers.flatMap((l) => (l.bn ? [l.bn] : [])));
  const saved = bns.map((bn) => [tf.clone(bn.runningMean), tf.clone(bn.runningVar)]);
  try {
    return f();
  } finally {
    bns.forEach((bn, i) => {
      bn.runningMean.assign(saved[i][0]);
      bn.runningVar.assign(saved[i][1]);
    });
    tf.dispose(saved.flat());
  }
}

/**
 * Rows scaled to norm sqrt(d) (RMS 1 per entry): the direction of each row, with the scale
 * removed, at the magnitude a layer expects. A zero row stays zero.
 */
export function normaliseRows(x: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const d = x.shape[1];
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12));
    return tf.mul(tf.div(x, norm), Math.sqrt(d)) as Tensor2D;
  });
}

/**
 * The mean of several cells' manipulation records (e.g. one per seed): each numeric field
 * averaged over the records that have it; null where none has it.
 */
export function meanManipulation(ms: Manipulation[]): Manipulation {
  const out = emptyManipulation();
  const mean = (xs: (number | null | undefined)[]) => {
    const v = xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const perModality = (k: "maskBelow01" | "maskAbove09") => {
    const image = mean(ms.map((m) => m[k]?.image)), text = mean(ms.map((m) => m[k]?.text));
    return image === null || text === null ? null : { image, text };
  };
  out.discAccuracy = mean(ms.map((m) => m.discAccuracy));
  out.maskBelow01 = perModality("maskBelow01");
  out.maskAbove09 = perModality("maskAbove09");
  const cons = mean(ms.map((m) => m.consistencyAccuracy?.value));
  const chance = mean(ms.map((m) => m.consistencyAccuracy?.chance));
  out.consistencyAccuracy = cons === null || chance === null ? null : { value: cons, chance };
  out.fusionDecisive = mean(ms.map((m) => m.fusionDecisive));
  out.rmsB = mean(ms.map((m) => m.rmsB));
  const keys = [...new Set(ms.flatMap((m) => Object.keys(m.gradShare ?? {})))];
  if (keys.length) {
    out.gradShare = Object.fromEntries(
      keys.map((k) => [k, mean(ms.map((m) => m.gradShare?.[k])) ?? NaN]),
    );
  }
  return out;
}

/**
 * Whether the module that ablation `flag` removes is active, from the full model's cells and
 * the ablation's own cells (their manipulation records; the mean over seeds is checked): the
 * full model must pass {@link moduleCheck}, and a relaxed ablation must also keep its codes at
 * binary scale ({@link relaxedScaleCheck}) when it has training codes. Undefined when the cells
 * record no checks.
 */
export function ablationCheck(
  flag: string,
  full: Manipulation[],
  ablation: Manipulation[],
): ModuleCheck | undefined {
  if (!full.length) return undefined;
  const c = moduleCheck(flag, meanManipulation(full));
  if (!c || flag !== "relaxed") return c;
  // A relaxed model without training codes (CPAH's) has no scale to check.
  const r = ablation.length ? relaxedScaleCheck(meanManipulation(ablation)) : undefined;
  if (!r) return c;
  return { active: c.active && r.active, evidence: `${c.evidence}; ${r.evidence}` };
}

/**
 * The batch of each epoch (0-based) on which the models sample their gradient shares: the
 * second, so that in the first epoch the stored outputs L_pair pairs with are no longer all
 * zero (a zero L_pair gradient would leave the shares undefined).
 */
export const GRAD_SHARE_BATCH = 1;
