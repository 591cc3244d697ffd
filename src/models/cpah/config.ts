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
import { type FieldRule, isBoolean, isCount, isInteger, isLayers, isName } from "../config.ts";
import { isNonNegative, isOneOf, isPositive, isUnitInterval } from "../config.ts";
import { SAME_FEATURE_WIDTH, validateFields, withOverrides } from "../config.ts";

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
  /**
   * Weight of the multi-task terms L_cons + L_label (30). The public code's 0.1 is about 6.1
   * under "perItem" at Wikipedia's size (src/models/cpah/terms.ts, termScales); 30 was
   * selected on the validation slice among settings whose modules pass their manipulation
   * checks (docs/results/selection/cpah-weights/).
   */
  alpha: number;
  /** Weight of the quantisation term L_q (1). */
  beta: number;
  /**
   * Weight of the adversarial term L_adv (5000). The public code's current weight 100 is
   * about 48 under "perItem" at Wikipedia's size (termScales); D stays near chance only from
   * about 5000 on, selected like alpha (docs/results/selection/cpah-weights/).
   */
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
    alpha: 30,
    beta: 1,
    gamma: 5000,
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
  const config = withOverrides("cpahConfig", "CpahConfig", base, overrides);
  config.dataset = dataset;
  config.bits = bits;
  return validateCpahConfig(config, "cpahConfig");
}

/** The field rules of {@link CpahConfig} (src/models/config.ts). */
const CPAH_RULES: readonly FieldRule[] = [
  [["dataset"], "a name", isName],
  [
    ["bits"],
    (c) =>
      c.anyBits === true ? "an integer >= 1" : `one of ${CPAH_BITS.join(", ")} (or anyBits: true)`,
    (v, c) => isCount(v) && (c.anyBits === true || CPAH_BITS.includes(v as number)),
  ],
  [["seed"], "an integer", isInteger],
  [["imageLayers", "textLayers"], "an array of >= 1 integers >= 1", isLayers(1)],
  [["discLayers", "consLayers"], "an array of >= 0 integers >= 1", isLayers(0)],
  SAME_FEATURE_WIDTH,
  [["batchSize", "lrDecayEvery", "patience"], "an integer >= 1", isCount],
  [["epochs"], "an integer >= 0", (v) => isInteger(v) && (v as number) >= 0],
  [
    ["alpha", "beta", "gamma", "gpWeight", "weightDecay", "discWeightDecay"],
    "a finite number >= 0",
    isNonNegative,
  ],
  [["lr", "discLr", "lrDecay"], "a finite number > 0", isPositive],
  [["discBeta1", "discBeta2"], "a number in [0, 1)", isUnitInterval],
  [["pairMode"], `"stored" or "batch"`, isOneOf("stored", "batch")],
  [["normalization"], `"reference", "perItem" or "mean"`, isOneOf("reference", "perItem", "mean")],
  [["bInit"], `"outputs" or "random"`, isOneOf("outputs", "random")],
  [["anyBits", "noCR", "noAdversary", "noMultiTask", "relaxed"], "a boolean", isBoolean],
];

/**
 * Throw a one-line error naming the first invalid or unknown field of `c` (format of
 * src/models/config.ts); returns `c`.
 */
export function validateCpahConfig(c: CpahConfig, fn = "validateCpahConfig"): CpahConfig {
  return validateFields(fn, "CpahConfig", c, CPAH_RULES);
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
