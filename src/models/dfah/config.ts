/**
 * DFAH's configuration: every hyper-parameter and ablation flag, the per-dataset defaults,
 * validation and the one reader of the ablation flags ({@link activeParts}). The design is in
 * src/models/dfah/mod.ts and docs/dfah-design.md.
 *
 * @module
 */
import { checkDatasetName, DATASET_NAMES, type DatasetName } from "../../datasets/datasets.ts";
import { OPTIMISATION_DEFAULTS, type OptimisationConfig } from "../model.ts";
import { configError, type FieldRule, isBoolean, isCount, isInteger } from "../config.ts";
import { isLayers, isNonNegative, isOneOf, isPositive, isUnitInterval } from "../config.ts";
import { SAME_FEATURE_WIDTH, validateFields, withOverrides } from "../config.ts";

// Configuration

/** Datasets with defaults: every dataset the loader knows. */
export const DFAH_DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** How the pairwise likelihood pairs items: batch vs stored outputs of all n, or batch vs batch. */
export type PairMode = "stored" | "batch";

/** Every hyper-parameter and ablation flag of DFAH (plain, JSON-serialisable data). */
export interface DfahConfig extends OptimisationConfig {
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
  /**
   * Weight of the adversarial term of the extractors (10: selected on the validation slice
   * among settings whose modules pass their manipulation checks; docs/dfah-design.md).
   */
  gamma: number;
  /** Weight of the label-embedding term ||l P_l - u||^2. */
  delta: number;
  /** Weight of the bit-balance term (0 = off). */
  balance: number;
  /** Weight of D's gradient penalty (0 = off). */
  gpWeight: number;
  /**
   * B-step weight λ of the modality outputs H^v, H^t (0: the heads learn to reproduce B and do
   * not vote in it, so the fused outputs decide the codes; docs/dfah-design.md).
   */
  lambda: number;
  /** Weight of the label regression ||B - L P||^2 in the discrete step (0.01: a weak prior). */
  mu: number;
  /** Ridge of the P-step (> 0). */
  rho: number;
  /** Rounds of (P-step, B-step) per epoch. */
  rounds: number;
  /** Ablation: no Fusion Learner (U := (H^v + H^t)/2, no fusion terms). */
  noFusion: boolean;
  /** Ablation: no Modality Discriminator (no D, no adversarial term). */
  noAdversary: boolean;
  /** Ablation: no B and no P; heads regress onto the continuous u; binarise only at test. */
  relaxed: boolean;
}

/** The defaults shared by every dataset ({@link PER_DATASET} holds the differences). */
export const BASE: Omit<DfahConfig, "dataset" | "bits"> = {
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
  gamma: 10,
  delta: 1,
  balance: 0,
  gpWeight: 10,
  lambda: 0,
  mu: 0.01,
  rho: 1,
  rounds: 3,
  ...OPTIMISATION_DEFAULTS,
  batchSize: 128,
  epochs: 50,
  noFusion: false,
  noAdversary: false,
  relaxed: false,
};

/** Per-dataset differences from {@link BASE}. */
export const PER_DATASET: Record<DatasetName, Partial<DfahConfig>> = {
  wikipedia: { batchSize: 64, epochs: 100, lrDecayEvery: 40 },
  mirflickr25k: {},
  "mirflickr25k-simimg": {},
  nuswide: {},
  mscoco: {},
  iapr: {},
  synthetic: { batchSize: 64, epochs: 20, lr: 1e-3, lrDecayEvery: 100 },
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
  const per = PER_DATASET[checkDatasetName(dataset, "dfahConfig")];
  const base = { ...structuredClone(BASE), ...structuredClone(per), dataset, bits } as DfahConfig;
  const cfg = withOverrides("dfahConfig", "DfahConfig", base, overrides);
  cfg.dataset = dataset;
  cfg.bits = bits;
  return validateDfahConfig(cfg);
}

/** The field rules of {@link DfahConfig} (src/models/config.ts). */
const DFAH_RULES: readonly FieldRule[] = [
  [["dataset"], "a string", (v) => typeof v === "string"],
  [
    ["bits", "rounds", "lrDecayEvery", "batchSize", "epochs", "patience"],
    "a positive integer",
    isCount,
  ],
  [["seed"], "an integer", isInteger],
  [["imageLayers", "textLayers"], "an array of >= 1 positive integers", isLayers(1)],
  [["fusionLayers", "discLayers"], "an array of >= 0 positive integers", isLayers(0)],
  SAME_FEATURE_WIDTH,
  [["pairMode"], `"stored" or "batch"`, isOneOf("stored", "batch")],
  [["intraImage", "intraText", "noFusion", "noAdversary", "relaxed"], "a boolean", isBoolean],
  [
    ["eta", "beta", "gamma", "delta", "balance", "gpWeight", "lambda", "mu", "weightDecay"],
    "a finite number >= 0",
    isNonNegative,
  ],
  [["rho", "lr", "discLr", "lrDecay"], "a finite number > 0", isPositive],
  [["discBeta1", "discBeta2"], "a number in [0, 1)", isUnitInterval],
];

/**
 * Check every field of a config (format of src/models/config.ts): throws a one-line error
 * naming the first invalid or unknown field. Returns it.
 */
export function validateDfahConfig(c: DfahConfig, fn = "validateDfahConfig"): DfahConfig {
  const missing = Object.keys({ dataset: "", bits: 0, ...BASE }).find((k) => !(k in c));
  if (missing) configError(fn, missing, undefined, "present");
  return validateFields(fn, "DfahConfig", c, DFAH_RULES);
}

/** Which modules and terms a config switches on. */
export interface DfahParts {
  /** Fusion Learner G, P_l, fusion pair and label-embedding terms, stored U. */
  fusion: boolean;
  /** Modality Discriminator D, its step and the adversarial term. */
  adversary: boolean;
  /** Whether the B-step takes the sign (B in {-1,+1}); false under `relaxed`: the B-step's
   * real-valued minimiser, everything else (P-step, label term, regression onto B) kept. */
  binary: boolean;
  /** Names of the network loss terms that are computed (and reported) each batch. */
  terms: string[];
}

/** The ONE place that reads the ablation flags: which modules and terms are active. */
export function activeParts(c: DfahConfig): DfahParts {
  const fusion = !c.noFusion;
  const adversary = !c.noAdversary;
  const binary = !c.relaxed;
  const terms = ["pair"];
  if (c.intraImage) terms.push("intraImage");
  if (c.intraText) terms.push("intraText");
  if (fusion) terms.push("fusionPair", "labelEmbed");
  terms.push("quant"); // regression onto B, binary or (relaxed) real-valued
  if (adversary) terms.push("adv");
  if (c.balance > 0) terms.push("balance");
  return { fusion, adversary, binary, terms };
}

/** A recorded DFAH config in today's field names (earlier records: `lrStep`, now `lrDecayEvery`). */
export function upgradeDfahConfig(c: Record<string, unknown>): Record<string, unknown> {
  const out = { ...c };
  if ("lrStep" in out) {
    out.lrDecayEvery ??= out.lrStep;
    delete out.lrStep;
  }
  return out;
}
