/**
 * The registry of hashing methods: ONE entry per method (the learned ones, the random-projection
 * baseline, and closed-form baselines to come) with its config factory, its model factory, its
 * kind, and its ablation flags with their descriptions in display order; plus generic save /
 * load of a trained model. The runner, the grid, the reports and the figures read everything
 * about a method from here: adding a method is adding an entry.
 *
 * @module
 */
import type { HashModel, TrainingSetInfo } from "./model.ts";
import {
  CPAH_BITS,
  type CpahConfig,
  cpahConfig,
  createCpah,
  upgradeCpahConfig,
} from "./cpah/mod.ts";
import { createDfah, type DfahConfig, dfahConfig, upgradeDfahConfig } from "./dfah/mod.ts";
import {
  createRandomProjection,
  type RandomProjectionConfig,
  randomProjectionConfig,
} from "./random_projection.ts";
import { readCheckpoint, writeCheckpoint } from "../nn/checkpoint.ts";
import type { LabelMatrix, Matrix } from "../types.ts";
import { type CmfhConfig, cmfhConfig, createCmfh } from "./cmfh.ts";
import { createScm, type Scm, type ScmConfig, scmConfig } from "./scm.ts";
import { createDcmh, type DcmhConfig, dcmhConfig } from "./dcmh.ts";
import type { Cmfh } from "./cmfh.ts";

/**
 * How a method gets its parameters: "trained" by the trainer's epochs (gradient steps and
 * discrete steps), "closed-form" in one solve when built (no epochs), "random" drawn when built
 * (no epochs). Only "trained" methods run the trainer; the others encode right away.
 */
export type MethodKind = "trained" | "closed-form" | "random";

/** One ablation of a method: a boolean config flag, and what setting it removes. */
export interface AblationFlag {
  /** The config field (a boolean) and the ablation's name in grids and reports. */
  readonly flag: string;
  /** What the ablation removes, for report tables. */
  readonly description: string;
}

/** One method's entry in the registry. */
export interface MethodEntry<C extends object = object> {
  /** Method name (the key in {@link METHODS}, used in grids and result files). */
  readonly name: string;
  /** Display label in tables and figures. */
  readonly label: string;
  /** How its parameters are obtained; see {@link MethodKind}. */
  readonly kind: MethodKind;
  /**
   * Whether `deno task reproduce` runs it when `--methods` is not given (the presets' grid, the
   * README's quick start). A new method says so here, so adding one never changes the default
   * experiment silently.
   */
  readonly defaultGrid: boolean;
  /** Its ablation flags, in display order ("full" is implicit and always first). */
  readonly ablations: readonly AblationFlag[];
  /**
   * The code lengths its config accepts by default (the lengths of the papers' tables);
   * absent: any integer >= 1. CPAH takes others with its config field `anyBits: true`.
   */
  readonly codeLengths?: readonly number[];
  /**
   * Defaults for a dataset and code length, with overrides (ablation flags among them).
   * `cell.seed`, the experiment cell's seed, becomes the config's `seed` (initial weights,
   * random draws) unless the overrides set one: one seed drives every random choice of a cell.
   */
  config(dataset: string, bits: number, overrides?: Partial<C>, cell?: { seed?: number }): C;
  /** Build a model for a training set (untrained, or ready when not "trained"). */
  create(info: TrainingSetInfo, config: C): HashModel;
  /** A recorded config (result file, saved model) in today's field names. */
  upgradeConfig?(config: Record<string, unknown>): Record<string, unknown>;
  /**
   * Kind "closed-form": fit a model built by {@link create} to its training pairs (all of them:
   * nothing is selected, so no validation slice is held out). Returns the seconds it took.
   */
  fit?(model: HashModel, train: TrainingPairs, log?: (line: string) => void): number;
}

/** The training pairs a closed-form method is fitted to (row i of each is pair i). */
export interface TrainingPairs {
  /** Image features, one row per pair. */
  image: Matrix;
  /** Text features, one row per pair. */
  text: Matrix;
  /** Labels, one row per pair. */
  labels: LabelMatrix;
}

/** Method names: the keys of {@link METHODS}. */
export type MethodName =
  | "cpah"
  | "dfah"
  | "dcmh"
  | "scm-seq"
  | "scm-orth"
  | "cmfh"
  | "random";

/** Whether a method runs the trainer (its kind is "trained"). */
export function isTrainable(entry: Pick<MethodEntry, "kind">): boolean {
  return entry.kind === "trained";
}

/** A registry entry from its parts; `ablations` as [flag, description] pairs in display order. */
function entry<C extends object>(
  name: MethodName,
  label: string,
  kind: MethodKind,
  defaultGrid: boolean,
  parts: Pick<MethodEntry<C>, "config" | "create" | "upgradeConfig" | "codeLengths" | "fit">,
  ablations: [string, string][] = [],
): MethodEntry {
  return {
    name,
    label,
    kind,
    defaultGrid,
    ablations: ablations.map(([flag, description]) => ({ flag, description })),
    ...(parts as unknown as Pick<
      MethodEntry,
      "config" | "create" | "upgradeConfig" | "codeLengths" | "fit"
    >),
  };
}

/** Overrides with the cell's seed as the config's `seed` (an explicit override wins). */
function withSeed<C extends object>(
  o: Partial<C> | undefined,
  cell?: { seed?: number },
): Partial<C> {
  return (cell?.seed === undefined ? { ...o } : { seed: cell.seed, ...o }) as Partial<C>;
}

/** The registry entry of one SCM variant (closed form, deterministic: no seed). */
function scmEntry(variant: "seq" | "orth"): MethodEntry {
  return entry<ScmConfig>(
    `scm-${variant}`,
    `SCM-${variant === "seq" ? "Seq" : "Orth"}`,
    "closed-form",
    true,
    {
      config: (_d, bits, o) => scmConfig(bits, { ...o, variant }),
      create: createScm,
      fit: (m, t, log) => (m as Scm).fit(t.image, t.text, t.labels, log).seconds,
    },
  );
}

/** The registered methods, in display order (the baseline last). */
export const METHODS: Readonly<Record<MethodName, MethodEntry>> = {
  cpah: entry<CpahConfig>("cpah", "CPAH", "trained", true, {
    config: (d, b, o, cell) => cpahConfig(d, b, withSeed(o, cell)),
    create: createCpah,
    upgradeConfig: upgradeCpahConfig,
    codeLengths: CPAH_BITS,
  }, [
    ["noCR", "no consistency-refined module (c = f, no private part, no consistency classifier)"],
    ["noAdversary", "no modality discriminator (γ = 0)"],
    ["noMultiTask", "no consistency and label heads (α = 0)"],
    ["relaxed", "no binary codes B in training (B and its L_q removed; binarised at test)"],
  ]),
  dfah: entry<DfahConfig>("dfah", "DFAH", "trained", true, {
    config: (d, b, o, cell) => dfahConfig(d, b, withSeed(o, cell)),
    create: createDfah,
    upgradeConfig: upgradeDfahConfig,
  }, [
    ["noFusion", "no fusion learner G (U = (H^v + H^t)/2 in the B-step, no fusion losses)"],
    ["noAdversary", "no modality discriminator"],
    [
      "relaxed",
      "B-step without the binary constraint: real-valued B at RMS 1 (P-step, label term kept); " +
      "binarised at test",
    ],
  ]),
  dcmh: entry<DcmhConfig>("dcmh", "DCMH", "trained", true, {
    config: (d, b, o, cell) => dcmhConfig(d, b, withSeed(o, cell)),
    create: createDcmh,
  }),
  "scm-seq": scmEntry("seq"),
  "scm-orth": scmEntry("orth"),
  cmfh: entry<CmfhConfig>("cmfh", "CMFH", "closed-form", true, {
    config: (_d, bits, o, cell) => cmfhConfig(bits, withSeed(o, cell)),
    create: createCmfh,
    fit: (m, t, log) => (m as Cmfh).fit(t.image, t.text, t.labels, log).seconds,
  }),
  random: entry<RandomProjectionConfig>("random", "Random projection", "random", true, {
    config: (_d, bits, o, cell) => randomProjectionConfig(bits, withSeed(o, cell)),
    create: createRandomProjection,
  }),
};

/** Every registered name, in display order. */
export const METHOD_NAMES: readonly MethodName[] = Object.keys(METHODS) as MethodName[];

/** The methods of the default grid ({@link MethodEntry.defaultGrid}), in display order. */
export const DEFAULT_GRID_METHODS: readonly MethodName[] = METHOD_NAMES.filter((m) =>
  METHODS[m].defaultGrid
);

/** Names the models report as `model.method` that differ from their registry name. */
const ALIASES: Record<string, MethodName> = { "random-projection": "random" };

/** Look up a method by name, with a one-line error listing the known ones. */
export function method(name: string, source = "method"): MethodEntry {
  const m = (METHODS as Record<string, MethodEntry>)[ALIASES[name] ?? name];
  if (!m) {
    throw new Error(
      `${source}: unknown method '${name}'; expected one of ${METHOD_NAMES.join(", ")}`,
    );
  }
  return m;
}

/** "full" followed by a method's ablation flags, in display order ("full" for unknown names). */
export function ablationNames(name: string): string[] {
  const m = (METHODS as Record<string, MethodEntry>)[name];
  return ["full", ...(m?.ablations.map((a) => a.flag) ?? [])];
}

/** What an ablation of a method removes ("full model" for "full"; "" when unknown). */
export function ablationDescription(name: string, ablation: string): string {
  if (ablation === "full") return "full model";
  const m = (METHODS as Record<string, MethodEntry>)[name];
  return m?.ablations.find((a) => a.flag === ablation)?.description ?? "";
}

/** Display label of a method (its name in upper case when unregistered). */
export function methodLabel(name: string): string {
  return (METHODS as Record<string, MethodEntry>)[name]?.label ?? name.toUpperCase();
}

/** A recorded config of a method in today's field names (unchanged for unknown methods). */
export function upgradeConfig(name: string, config: object): object {
  const m = (METHODS as Record<string, MethodEntry>)[ALIASES[name] ?? name];
  return m?.upgradeConfig ? m.upgradeConfig(config as Record<string, unknown>) : config;
}

/** Save a trained model (config, training-set info and all state) to a directory. */
export async function saveModel(
  model: HashModel,
  info: TrainingSetInfo,
  dir: string,
): Promise<void> {
  await writeCheckpoint(dir, {
    kind: "model",
    method: model.method,
    bits: model.bits,
    config: model.config,
    info: {
      n: info.n,
      imageDim: info.imageDim,
      textDim: info.textDim,
      classes: info.labels.classes,
    },
  }, {
    ...model.state(),
    "info.labels": {
      shape: [info.labels.rows, info.labels.classes],
      data: Float32Array.from(info.labels.data),
    },
  });
}

/** Load a model saved by {@link saveModel}; it encodes exactly as the saved one did. */
export async function loadModel(dir: string): Promise<{ model: HashModel; info: TrainingSetInfo }> {
  const ck = await readCheckpoint(dir);
  const meta = ck.meta as {
    kind?: string;
    method: string;
    config: object;
    info: { n: number; imageDim: number; textDim: number; classes: number };
  };
  if (meta.kind !== "model") {
    throw new Error(`${dir}/state.json: not a saved model (kind '${meta.kind}')`);
  }
  const entry = method(meta.method, `${dir}/state.json`);
  const lab = ck.arrays["info.labels"];
  if (!lab) throw new Error(`${dir}/state.json: array 'info.labels' is missing`);
  const info: TrainingSetInfo = {
    n: meta.info.n,
    imageDim: meta.info.imageDim,
    textDim: meta.info.textDim,
    labels: { rows: meta.info.n, classes: meta.info.classes, data: Uint8Array.from(lab.data) },
  };
  const model = entry.create(info, upgradeConfig(meta.method, meta.config));
  model.loadState(ck.arrays, `${dir}/state.json`);
  return { model, info };
}
