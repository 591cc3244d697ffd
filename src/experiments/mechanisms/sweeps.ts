/**
 * The sweeps of the pre-registered mechanism study (docs/mechanisms.md) as typed data
 * ({@link SWEEPS}, {@link FIXED}): for each component, the method(s), the ablation that removes
 * it, the knob that turns its mechanism up (a setting of the synthetic generator, or the code
 * length) and the knob's values; and their cells. Every point is a pair of cells (full model,
 * ablation) per seed. Cells that several sweeps share (the full models on default data at 32
 * bits) run once ({@link studySpecs}): a cell's generator settings leave out values equal to the
 * generator's defaults, so they have the same id.
 *
 * @module
 */
import type { BackendName } from "../../accel/backend.ts";
import { isTrainable, METHODS } from "../../models/mod.ts";
import type { SplitConvention } from "../../datasets/split.ts";
import { canonicalData, cellId, type CellMethod, type ExperimentSpec } from "../spec.ts";

/** What a sweep turns up: a setting of the synthetic generator, or the code length. */
export type Knob =
  | "nuisance"
  | "shift"
  | "disagreement"
  | "bits"
  | "shortcut"
  | "gap"
  | "trainDisagreement";

/** One pre-registered sweep. */
export interface Sweep {
  /** Name for `--sweep`. */
  readonly name: string;
  /** The component under test, as in the pre-registration's table. */
  readonly component: string;
  /** The mechanism the paper claims for it. */
  readonly mechanism: string;
  /** Methods that have the component. */
  readonly methods: readonly CellMethod[];
  /** The ablation flag that removes it. */
  readonly ablation: string;
  /** The knob. */
  readonly knob: Knob;
  /** The knob's values, in order. */
  readonly values: readonly number[];
  /** Whether the sweep's table includes the quantisation gap. */
  readonly quantisationGap?: boolean;
  /**
   * Epoch cap per method where it is not the method's default on the study's data (the
   * amendment's sweeps); early stopping on the validation slice applies as everywhere.
   */
  readonly epochs?: Readonly<Partial<Record<CellMethod, number>>>;
  /** The amendment of docs/mechanisms.md that registered the sweep, when not the original. */
  readonly amendment?: string;
  /** For an amendment's sweep: the name of the original sweep it repeats. */
  readonly repeats?: string;
  /** Pairs generated, where not {@link FIXED}'s n (amendment 2). */
  readonly n?: number;
  /** Split convention, where not {@link FIXED}'s (amendment 2: the generator's own, "fixed"). */
  readonly split?: SplitConvention;
  /**
   * A positive control (amendment 2): the two arms are the ablation on the knob's data with
   * the generator's oracle (`oracle=1`, the known right answer) in place of the full model,
   * and the ablation on the same data without it; Δ = ablation − oracle.
   */
  readonly oracle?: boolean;
  /** Further generator settings fixed for every cell of the sweep (amendment 3). */
  readonly data?: Readonly<Record<string, number>>;
  /**
   * Whether a knob value is read only where the full model's module passes its manipulation
   * check (`ablationCheck`; amendment 2's method sweeps): Holm then runs across those values.
   */
  readonly checked?: boolean;
  /**
   * A positive control whose oracle arm is the ablation's own cells scored with their
   * real-valued outputs instead of their signs (the runner's `realMapI2T` / `realMapT2I`
   * diagnostics; amendment 3's discrete-code control): no cells of its own.
   */
  readonly realValued?: boolean;
}

/** The fixed settings of every sweep (docs/mechanisms.md, "Fixed settings"). */
export const FIXED = {
  dataset: "synthetic",
  split: "permutation",
  /** Pairs generated (the generator's seed stays at its default 0). */
  n: 3000,
  /** Code length, except in the code-length sweep. */
  bits: 32,
  seeds: [1, 2, 3, 4, 5],
} as const;

/** The originally registered sweeps, in the order of the pre-registration's table. */
const ORIGINAL: readonly Sweep[] = [
  {
    name: "consistency",
    component: "CPAH consistency refinement",
    mechanism: "separating modality-private from modality-common information",
    methods: ["cpah"],
    ablation: "noCR",
    knob: "nuisance",
    values: [0, 0.5, 1, 2, 4],
  },
  {
    name: "adversary",
    component: "CPAH and DFAH modality discriminator",
    mechanism: "aligning the two modalities' feature distributions",
    methods: ["cpah", "dfah"],
    ablation: "noAdversary",
    knob: "shift",
    values: [0, 1, 2, 4],
  },
  {
    name: "discrete",
    component: "CPAH and DFAH discrete codes",
    mechanism: "avoiding the quantisation error of binarising relaxed outputs",
    methods: ["cpah", "dfah"],
    ablation: "relaxed",
    knob: "bits",
    values: [16, 32, 64, 128],
    quantisationGap: true,
  },
  {
    name: "fusion",
    component: "DFAH fusion learner",
    mechanism: "unified codes from both modalities of a pair",
    methods: ["dfah"],
    ablation: "noFusion",
    knob: "disagreement",
    values: [0, 0.1, 0.2, 0.4],
  },
];

/**
 * Amendment 1 of docs/mechanisms.md: `base` again with CPAH only, trained for up to
 * `cpahEpochs` epochs (the original sweeps' CPAH cells mostly selected their last of 30).
 */
function cpahLonger(base: string, cpahEpochs: number): Sweep {
  const b = ORIGINAL.find((s) => s.name === base)!;
  return {
    ...b,
    name: `${base}-e${cpahEpochs}`,
    component: b.component.replace("CPAH and DFAH", "CPAH"),
    methods: ["cpah"],
    epochs: { cpah: cpahEpochs },
    amendment: "amendment 1",
    repeats: base,
  };
}

/** The positive controls (amendment 2; again on amendment 3's data). */
const CONTROLS: readonly Sweep[] = [
  {
    name: "control-shortcut",
    component: "Positive control: the true common inputs as a fixed mask",
    mechanism: "a text-private label shortcut that holds on the training pairs only",
    methods: ["cpah"],
    ablation: "noCR",
    knob: "shortcut",
    values: [4],
    oracle: true,
  },
  {
    name: "control-gap",
    component: "Positive control: the true alignment",
    mechanism: "a modality gap in the image rows that BatchNorm cannot remove",
    methods: ["cpah"],
    ablation: "noAdversary",
    knob: "gap",
    values: [4],
    oracle: true,
  },
  {
    name: "control-repair",
    component: "Positive control: the clean pairs",
    mechanism: "training pairs whose text view comes from another item",
    methods: ["dfah"],
    ablation: "noFusion",
    knob: "trainDisagreement",
    values: [0.6],
    oracle: true,
  },
];

/** The method sweeps on the new knobs (registered in amendment 2, run on amendment 3's data). */
const NEW_KNOB_SWEEPS: readonly Sweep[] = [
  {
    name: "shortcut",
    component: "CPAH consistency refinement",
    mechanism: "refusing a modality-private shortcut that holds on the training pairs only",
    methods: ["cpah"],
    ablation: "noCR",
    knob: "shortcut",
    values: [0, 1, 2, 4],
  },
  {
    name: "gap",
    component: "CPAH and DFAH modality discriminator",
    mechanism: "closing a modality gap that BatchNorm cannot remove",
    methods: ["cpah", "dfah"],
    ablation: "noAdversary",
    knob: "gap",
    values: [0, 1, 2, 4],
  },
  {
    name: "repair",
    component: "DFAH fusion learner",
    mechanism: "repairing training pairs whose two sides disagree",
    methods: ["dfah"],
    ablation: "noFusion",
    knob: "trainDisagreement",
    values: [0, 0.2, 0.4, 0.6],
  },
];

/**
 * Amendment 2's data: n 2,000 pairs, the generator's own split (the last 500 rows query, the
 * others database and training pairs).
 */
export const AMENDMENT2 = { n: 2000, split: "fixed" } as const;

/**
 * Amendment 3's data: n 3,500 pairs, the generator's own split with a database disjoint from
 * the training pairs (rows 0–1499 train, 1500–2999 database, 3000–3499 query).
 */
export const AMENDMENT3 = { n: 3500, split: "fixed", data: { databaseRows: 1500 } } as const;

/**
 * Amendments 2 and 3 of docs/mechanisms.md: the positive controls on amendment 2's data (as
 * run), then the controls again and the method sweeps on the new knobs on amendment 3's data
 * (a retrieval database disjoint from the training pairs).
 */
const AMENDED: readonly Sweep[] = [
  ...CONTROLS.map((s) => ({ ...s, ...AMENDMENT2, amendment: "amendment 2" })),
  ...CONTROLS.map((s) => ({
    ...s,
    ...AMENDMENT3,
    name: `${s.name}-heldout`,
    amendment: "amendment 3",
  })),
  {
    name: "control-discrete-heldout",
    component: "Positive control: no quantisation",
    mechanism: "the relaxed model's real-valued outputs against their signs at 16 bits",
    methods: ["dfah", "cpah"],
    ablation: "relaxed",
    knob: "bits",
    values: [16],
    oracle: true,
    realValued: true,
    ...AMENDMENT3,
    amendment: "amendment 3",
  },
  ...NEW_KNOB_SWEEPS.map((s) => ({
    ...s,
    ...AMENDMENT3,
    amendment: "amendment 3",
    checked: true,
  })),
  // Amendment 4: a positive control for every module a primary contrast reads, on amendment 3's
  // data — the two modules amendment 3 left without one.
  {
    name: "control-gap-dfah-heldout",
    component: "Positive control: the true alignment",
    mechanism: "a modality gap in the image rows that BatchNorm cannot remove",
    methods: ["dfah"],
    ablation: "noAdversary",
    knob: "gap",
    values: [4],
    oracle: true,
    ...AMENDMENT3,
    amendment: "amendment 4",
  },
  {
    name: "control-multitask-heldout",
    component: "Positive control: the true common inputs",
    mechanism: "a text-private label shortcut that holds on the training pairs only",
    methods: ["cpah"],
    ablation: "noMultiTask",
    knob: "shortcut",
    values: [4],
    oracle: true,
    ...AMENDMENT3,
    amendment: "amendment 4",
  },
];

/**
 * The positive control that shows whether the study's design can detect an effect of a
 * module of `method` that `ablation` removes (amendments 3 and 4 of docs/mechanisms.md): the
 * sweep comparing the ablation with the known right answer against the ablation alone, on
 * data with a train/database split of their own. `undefined` where the study has none.
 */
export function positiveControlFor(method: CellMethod, ablation: string): Sweep | undefined {
  return SWEEPS.find((s) =>
    s.oracle === true && s.split === "fixed" && s.data?.databaseRows !== undefined &&
    s.ablation === ablation && s.methods.includes(method)
  );
}

/**
 * Every sweep: the originally registered ones (in the order of the pre-registration's table),
 * then those its amendments added.
 */
export const SWEEPS: readonly Sweep[] = [
  ...ORIGINAL,
  cpahLonger("consistency", 100),
  cpahLonger("adversary", 100),
  cpahLonger("discrete", 100),
  ...AMENDED,
];

/** A sweep by name; one-line error listing the names. */
export function sweepByName(name: string): Sweep {
  const s = SWEEPS.find((x) => x.name === name);
  if (!s) {
    throw new Error(
      `--sweep: unknown sweep '${name}'; expected one of ${SWEEPS.map((x) => x.name).join(", ")}`,
    );
  }
  return s;
}

/** The method's default epochs on the study's data at `bits` (early stopping may end sooner). */
export function defaultEpochs(method: CellMethod, bits: number): number {
  const entry = METHODS[method];
  if (!isTrainable(entry)) return 0;
  return (entry.config(FIXED.dataset, bits) as { epochs: number }).epochs;
}

/**
 * The cell of one point: method, "full" or the sweep's ablation, knob value, seed. In a
 * positive control ({@link Sweep.oracle}) "full" stands for the oracle arm: the ablation on
 * the knob's data with the generator's oracle on.
 */
export function pointSpec(
  sweep: Sweep,
  method: CellMethod,
  ablation: string,
  value: number,
  seed: number,
  backend: BackendName,
): ExperimentSpec {
  const bits = sweep.knob === "bits" ? value : FIXED.bits;
  const settings: Record<string, number> = { ...sweep.data, n: sweep.n ?? FIXED.n };
  if (sweep.knob !== "bits") settings[sweep.knob] = value;
  const oracleArm = sweep.oracle === true && ablation === "full";
  if (oracleArm && !sweep.realValued) settings.oracle = 1;
  const data = canonicalData(FIXED.dataset, settings, `sweep ${sweep.name}`);
  return {
    dataset: FIXED.dataset,
    split: sweep.split ?? FIXED.split,
    method,
    ablation: oracleArm ? sweep.ablation : ablation,
    bits,
    seed,
    epochs: sweep.epochs?.[method] ?? defaultEpochs(method, bits),
    backend,
    ...(data ? { data } : {}),
  };
}

/** The knob value of one of a sweep's cells (its code length, or its generator setting). */
export function knobValue(sweep: Sweep, spec: ExperimentSpec): number {
  if (sweep.knob === "bits") return spec.bits;
  return spec.data?.[sweep.knob] ?? 0;
}

/** Every cell of a sweep (method, value, full/ablation, seed). */
export function sweepSpecs(sweep: Sweep, backend: BackendName): ExperimentSpec[] {
  const out: ExperimentSpec[] = [];
  for (const method of sweep.methods) {
    for (const value of sweep.values) {
      for (const ablation of sweep.realValued ? [sweep.ablation] : ["full", sweep.ablation]) {
        for (const seed of FIXED.seeds) {
          out.push(pointSpec(sweep, method, ablation, value, seed, backend));
        }
      }
    }
  }
  return out;
}

/**
 * The cells of several sweeps, each once (shared cells deduplicated by id), seed by seed: a
 * run stopped part-way has the first seeds of every point rather than every seed of a few.
 */
export function studySpecs(sweeps: readonly Sweep[], backend: BackendName): ExperimentSpec[] {
  const seen = new Set<string>();
  const out: ExperimentSpec[] = [];
  for (const seed of FIXED.seeds) {
    for (const sweep of sweeps) {
      for (const s of sweepSpecs(sweep, backend).filter((x) => x.seed === seed)) {
        const id = cellId(s);
        if (!seen.has(id)) {
          seen.add(id);
          out.push(s);
        }
      }
    }
  }
  return out;
}

/**
 * `sweeps` in reading order: each original sweep followed by the amendments' sweeps that repeat
 * it (so a repeated sweep is read beside its original), then any other.
 */
export function readingOrder(sweeps: readonly Sweep[]): Sweep[] {
  const out: Sweep[] = [];
  for (const s of sweeps.filter((x) => !x.repeats)) {
    out.push(s, ...sweeps.filter((x) => x.repeats === s.name));
  }
  return [...out, ...sweeps.filter((x) => !out.includes(x))];
}
