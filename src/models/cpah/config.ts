/**
 * CPAH's configuration: every hyper-parameter and ablation flag, the per-dataset defaults,
 * validation, the one reader of the ablation flags ({@link activeParts}) and the learning-rate
 * schedule. The design and the paper mapping are in src/models/cpah/mod.ts.
 *
 * @module
 */
import { DATASET_NAMES, type DatasetName, NPY_DEFAULTS_DATASET } from "../../datasets/datasets.ts";
import { isNpyDataset } from "../../datasets/npy_dir.ts";
import { OPTIMISATION_DEFAULTS, type OptimisationConfig } from "../model.ts";

/** Datasets with CPAH defaults: every dataset the loader knows. */
export const CPAH_DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** A dataset with CPAH defaults. */
export type CpahDataset = DatasetName;

/** Code lengths of the papers' tables. */
export const CPAH_BITS: readonly number[] = [16, 32, 64, 128];

/** Every hyper-parameter of CPAH, plain JSON-serialisable data. */
export interface CpahConfig extends OptimisationConfig {
  /** Dataset the defaults were taken for (recorded in results). */
  dataset: string;
  /** Code length K. */
  bits: number;
  /** Accept a code length outside {@link CPAH_BITS}. */
  anyBits: boolean;
  /** Seed of the weight initialisation and of the random B (bInit "random"). */
  seed: number;
  /** Widths of the image extractor E_v after the input ([512, 512]); the last is the feature
   * width f, and the mask is f -> f. */
  imageLayers: number[];
  /** Widths of the text extractor E_t ([512, 512]; its last must equal imageLayers' last). */
  textLayers: number[];
  /** Hidden widths of the discriminator D between the features and its logit ([64]). */
  discLayers: number[];
  /** Hidden widths of the consistency classifier C between the parts and its 3 logits ([64]). */
  consLayers: number[];
  /** Weight of the multi-task terms L_cons + L_label (0.1). */
  alpha: number;
  /** Weight of the quantisation term L_q (1). */
  beta: number;
  /** Weight of the adversarial term L_adv (1; not known from the paper). */
  gamma: number;
  /** Weight of the gradient penalty in D's loss (10). */
  gpWeight: number;
  /** L2 weight decay of D's Adam (1e-4, the public code's value). */
  discWeightDecay: number;
  /** Cross-modal pairs: batch vs stored outputs of the other modality, or batch vs batch. */
  pairMode: "stored" | "batch";
  /**
   * Relative scale of the terms (src/models/cpah/terms.ts, termScales, has the derivation):
   * "reference" — the weights alpha, beta, gamma have in the public CPAH code they come from
   * (L_pair over the batch's m x m pairs, L_adv a batch mean); "perItem" — each term summed
   * over one training pair's contributions, L_pair over all n stored partners; "mean" — every
   * term a plain mean. The default "perItem" was chosen on the validation slice: Wikipedia,
   * 32 bits, seeds 1-3, early stopping, validation MAP of the selected epoch 0.485 against
   * 0.397 for "reference" (result files in docs/results/selection/, tables in docs/results.md).
   */
  normalization: "reference" | "perItem" | "mean";
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
export const DATASET_DEFAULTS: Record<CpahDataset, Pick<CpahConfig, "batchSize" | "epochs">> = {
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
  // A user's folder of arrays (npy:<name>) takes the generic real-data defaults.
  const defaultsOf = isNpyDataset(dataset) ? NPY_DEFAULTS_DATASET : dataset;
  const known = (CPAH_DATASETS as readonly string[]).includes(defaultsOf);
  if (!known && (overrides.batchSize === undefined || overrides.epochs === undefined)) {
    throw new Error(
      `cpahConfig: dataset '${dataset}' has no defaults; expected one of ` +
        `${CPAH_DATASETS.join(", ")}, or batchSize and epochs in overrides`,
    );
  }
  const base: CpahConfig = {
    dataset,
    bits,
    anyBits: false,
    seed: 1,
    imageLayers: [512, 512],
    textLayers: [512, 512],
    discLayers: [64],
    consLayers: [64],
    alpha: 0.1,
    beta: 1,
    gamma: 1,
    gpWeight: 10,
    ...OPTIMISATION_DEFAULTS,
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
    ...(known ? DATASET_DEFAULTS[defaultsOf as CpahDataset] : {}),
  };
  for (const k of Object.keys(overrides)) {
    if (!(k in base)) throw new Error(`cpahConfig: overrides.${k} is not a CpahConfig field`);
  }
  const config = { ...base, ...structuredClone(overrides) };
  if (overrides.dataset !== undefined && overrides.dataset !== dataset) config.dataset = dataset;
  if (overrides.bits !== undefined && overrides.bits !== bits) config.bits = bits;
  return validateCpahConfig(config, "cpahConfig");
}

/** Throw a one-line error naming the first invalid field of `c`; returns `c`. */
export function validateCpahConfig(c: CpahConfig, fn = "validateCpahConfig"): CpahConfig {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new Error(
      `${fn}: config.${field} is ${JSON.stringify(value)}, expected ${expected}`,
    );
  };
  if (typeof c.dataset !== "string" || c.dataset === "") bad("dataset", c.dataset, "a name");
  if (!Number.isInteger(c.bits) || c.bits < 1) bad("bits", c.bits, "an integer >= 1");
  if (!c.anyBits && !CPAH_BITS.includes(c.bits)) {
    bad("bits", c.bits, `one of ${CPAH_BITS.join(", ")} (or anyBits: true)`);
  }
  if (!Number.isInteger(c.seed)) bad("seed", c.seed, "an integer");
  const layers = (k: "imageLayers" | "textLayers" | "discLayers" | "consLayers", min: number) => {
    const v = c[k];
    if (!Array.isArray(v) || v.length < min || !v.every((x) => Number.isInteger(x) && x >= 1)) {
      bad(k, v, `an array of >= ${min} integers >= 1`);
    }
  };
  layers("imageLayers", 1);
  layers("textLayers", 1);
  layers("discLayers", 0);
  layers("consLayers", 0);
  if (c.imageLayers.at(-1) !== c.textLayers.at(-1)) {
    bad("textLayers", c.textLayers, `to end with the image feature width ${c.imageLayers.at(-1)}`);
  }
  for (const k of ["batchSize", "lrDecayEvery", "patience"] as const) {
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
  for (const k of ["discBeta1", "discBeta2"] as const) {
    if (!Number.isFinite(c[k]) || c[k] < 0 || c[k] >= 1) bad(k, c[k], "a number in [0, 1)");
  }
  if (c.pairMode !== "stored" && c.pairMode !== "batch") {
    bad("pairMode", c.pairMode, `"stored" or "batch"`);
  }
  if (!["reference", "perItem", "mean"].includes(c.normalization)) {
    bad("normalization", c.normalization, `"reference", "perItem" or "mean"`);
  }
  if (c.bInit !== "outputs" && c.bInit !== "random") bad("bInit", c.bInit, `"outputs" or "random"`);
  for (const k of ["anyBits", "noCR", "noAdversary", "noMultiTask", "relaxed"] as const) {
    if (typeof c[k] !== "boolean") bad(k, c[k], "a boolean");
  }
  return c;
}

/** Which modules and terms a configuration uses, and the effective weights. */
export interface CpahParts {
  /** CR module: mask, c = f * m, p = f * (1 - m). Off: c = f. */
  mask: boolean;
  /** Consistency classifier C and L_cons. */
  consistency: boolean;
  /** Label classifiers and L_label. */
  label: boolean;
  /** Discriminator D, its step, and L_adv. */
  adversary: boolean;
  /** Training codes B, L_q and the discrete step. */
  discrete: boolean;
  /** Effective weights (0 where a flag removes the term). */
  alpha: number;
  /** Effective weight of L_q (0 under relaxed). */
  beta: number;
  /** Effective weight of L_adv (0 under noAdversary). */
  gamma: number;
}

/** THE one place where the ablation flags are read. */
export function activeParts(c: CpahConfig): CpahParts {
  return {
    mask: !c.noCR,
    consistency: !c.noCR && !c.noMultiTask,
    label: !c.noMultiTask,
    adversary: !c.noAdversary,
    discrete: !c.relaxed,
    alpha: c.noMultiTask ? 0 : c.alpha,
    beta: c.relaxed ? 0 : c.beta,
    gamma: c.noAdversary ? 0 : c.gamma,
  };
}

export { learningRateFactor } from "../model.ts";

/**
 * A recorded CPAH config (a result file's or a saved model's) in today's field names: earlier
 * records used `hidden` (now `imageLayers`/`textLayers`), `discHidden` (`discLayers`),
 * `consHidden` (`consLayers`) and `discBetas` (`discBeta1`, `discBeta2`).
 */
export function upgradeCpahConfig(c: Record<string, unknown>): Record<string, unknown> {
  const out = { ...c };
  if (typeof out.hidden === "number") {
    out.imageLayers ??= [out.hidden, out.hidden];
    out.textLayers ??= [out.hidden, out.hidden];
    delete out.hidden;
  }
  if (typeof out.discHidden === "number") {
    out.discLayers ??= [out.discHidden];
    delete out.discHidden;
  }
  if (typeof out.consHidden === "number") {
    out.consLayers ??= [out.consHidden];
    delete out.consHidden;
  }
  if (Array.isArray(out.discBetas)) {
    out.discBeta1 ??= out.discBetas[0];
    out.discBeta2 ??= out.discBetas[1];
    delete out.discBetas;
  }
  return out;
}
