/**
 * DFAH's configuration: every hyper-parameter and ablation flag, the per-dataset defaults,
 * validation and the one reader of the ablation flags ({@link activeParts}). The design is in
 * src/models/dfah/mod.ts and docs/dfah-design.md.
 *
 * @module
 */
import { checkDatasetName, DATASET_NAMES, type DatasetName } from "../../datasets/datasets.ts";
import { OPTIMISATION_DEFAULTS, type OptimisationConfig } from "../model.ts";

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
  gamma: 0.1,
  delta: 1,
  balance: 0,
  gpWeight: 10,
  lambda: 1,
  mu: 1,
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
  wikipedia: { batchSize: 64, epochs: 60, lrDecayEvery: 40 },
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
  const cfg = { ...structuredClone(BASE), ...structuredClone(per), dataset, bits };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in cfg)) {
      throw new Error(`dfahConfig: overrides.${k} is not a DfahConfig field`);
    }
    if (v !== undefined) (cfg as Record<string, unknown>)[k] = structuredClone(v);
  }
  return validateDfahConfig(cfg);
}

/** Check every field of a config; throws a one-line error naming the field. Returns it. */
export function validateDfahConfig(c: DfahConfig): DfahConfig {
  const bad = (field: string, expected: string, got: unknown) => {
    throw new Error(
      `validateDfahConfig: config.${field} must be ${expected}, got ${JSON.stringify(got)}`,
    );
  };
  if (c === null || typeof c !== "object") bad("", "an object", c);
  const all = { dataset: "", bits: 0, ...BASE } as Record<string, unknown>;
  const rec = c as unknown as Record<string, unknown>;
  for (const k of Object.keys(all)) if (!(k in rec)) bad(k, "present", undefined);
  for (const k of Object.keys(rec)) {
    if (!(k in all)) throw new Error(`validateDfahConfig: config.${k} is not a DfahConfig field`);
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
  for (const k of ["rounds", "lrDecayEvery", "batchSize", "epochs", "patience"] as const) {
    posInt(k);
  }
  return c;
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
