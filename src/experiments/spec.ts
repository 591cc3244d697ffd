/**
 * Experiments as plain data: an {@link ExperimentSpec} is one cell of a grid (dataset, split
 * convention, method, ablation, code length, seed, epochs, backend); {@link expandGrid} builds
 * the cells of a grid; {@link cellId} names a cell's result file.
 *
 * @module
 */
import type { BackendName } from "../accel/backend.ts";
import { ablationNames, isTrainable, type MethodName, METHODS } from "../models/mod.ts";
import { SYNTHETIC_DEFAULTS, syntheticOptions } from "../datasets/synthetic.ts";

import type { SplitConvention } from "../datasets/split.ts";
/** Split conventions (methods.md, Protocol). "fixed" = the dataset's published split. */
export type { SplitConvention };

/** Method names of a cell: a registered method (the random-projection baseline included). */
export type CellMethod = MethodName;

/** One experiment. */
export interface ExperimentSpec {
  /** Dataset name for loadDataset (e.g. "wikipedia", "mirflickr25k-simimg", "synthetic"). */
  dataset: string;
  /** Dataset variant (e.g. Wikipedia "tfidf" text); default: the dataset's standard one. */
  variant?: string;
  /** Split convention. */
  split: SplitConvention;
  /** Method. */
  method: CellMethod;
  /** "full", or the name of one ablation flag of the method. */
  ablation: string;
  /** Code length K. */
  bits: number;
  /** Seed of split (when permuted), initialisation, batch order and every random choice. */
  seed: number;
  /** Training epochs (0 for methods that are not trained, e.g. the random-projection baseline). */
  epochs: number;
  /** Backend the cell runs on. */
  backend: BackendName;
  /**
   * Config fields set for this cell (`reproduce --set KEY=VALUE`), applied to the methods whose
   * config has the field; part of the cell's identity.
   */
  overrides?: Record<string, ConfigValue>;
  /**
   * Settings of the data generator for this cell (`reproduce --data KEY=VALUE`; only the
   * "synthetic" dataset has a generator, see SyntheticOptions), passed to loadDataset; part of
   * the cell's identity. Settings equal to the generator's defaults are left out (see
   * {@link canonicalData}), so a cell on default data has no `data` and keeps its id.
   */
  data?: Record<string, number>;
}

/** Datasets whose cells may carry {@link ExperimentSpec.data} (generated data). */
export const GENERATED_DATASETS: readonly string[] = ["synthetic"];

/**
 * Generator settings of a cell, validated against the generator's options (one-line error
 * naming the option, `what` naming the source, e.g. "--data"), with the settings equal to
 * the defaults left out; undefined when nothing is left. Refused for datasets that are read
 * from files.
 */
export function canonicalData(
  dataset: string,
  data: Record<string, number> | undefined,
  what = "spec.data",
): Record<string, number> | undefined {
  if (!data || !Object.keys(data).length) return undefined;
  if (!GENERATED_DATASETS.includes(dataset)) {
    throw new Error(
      `${what}: dataset '${dataset}' is read from files and has no generator settings ` +
        `(only ${GENERATED_DATASETS.join(", ")} takes them)`,
    );
  }
  for (const [k, v] of Object.entries(data)) {
    if (!(k in SYNTHETIC_DEFAULTS)) {
      throw new Error(
        `${what}: '${k}' is not a setting of the ${dataset} generator; expected one of ${
          Object.keys(SYNTHETIC_DEFAULTS).join(", ")
        }`,
      );
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`${what}: ${k} must be a finite number, got ${JSON.stringify(v)}`);
    }
  }
  try {
    syntheticOptions(data);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  const defaults = SYNTHETIC_DEFAULTS as unknown as Record<string, number>;
  const kept = Object.keys(data).sort().filter((k) => data[k] !== defaults[k]);
  return kept.length ? Object.fromEntries(kept.map((k) => [k, data[k]])) : undefined;
}

/** Parse a `KEY=VALUE` generator setting (`--data`): VALUE must be a number. */
export function parseDataSetting(text: string): [string, number] {
  const m = text.match(/^([A-Za-z][A-Za-z0-9]*)=(.+)$/);
  if (!m) throw new Error(`--data: '${text}' is not KEY=VALUE (e.g. --data shift=2)`);
  const value = Number(m[2]);
  if (m[2].trim() === "" || !Number.isFinite(value)) {
    throw new Error(`--data: ${m[1]} must be a number, got '${m[2]}'`);
  }
  return [m[1], value];
}

/** A value of a config override: what `--set KEY=VALUE` parses VALUE into. */
export type ConfigValue = string | number | boolean;

/** Parse a `KEY=VALUE` override: numbers and true/false become numbers and booleans. */
export function parseOverride(text: string): [string, ConfigValue] {
  const m = text.match(/^([A-Za-z][A-Za-z0-9]*)=(.+)$/);
  if (!m) throw new Error(`--set: '${text}' is not KEY=VALUE (e.g. --set normalization=perItem)`);
  const [, key, raw] = m;
  const value = raw === "true" ? true : raw === "false" ? false : raw.trim() !== "" &&
      Number.isFinite(Number(raw))
    ? Number(raw)
    : raw;
  return [key, value];
}

/**
 * A stable, file-name-safe identifier of a cell. Config overrides add `__KEY=VALUE`, generator
 * settings `__data.KEY=VALUE` (sorted by key; absent when the cell has none).
 */
export function cellId(s: ExperimentSpec): string {
  const ds = s.variant ? `${s.dataset}-${s.variant}` : s.dataset;
  const safe = (v: ConfigValue) => String(v).replace(/[^A-Za-z0-9.+-]/g, "_");
  const set = Object.keys(s.overrides ?? {}).sort().map((k) => `__${k}=${safe(s.overrides![k])}`)
    .join("");
  const data = Object.keys(s.data ?? {}).sort().map((k) => `__data.${k}=${safe(s.data![k])}`)
    .join("");
  return `${ds}__${s.split}__${s.method}-${s.ablation}__${s.bits}b__seed${s.seed}__e${s.epochs}__${s.backend}${set}${data}`;
}

/** Parameters of a grid. */
export interface GridParams {
  /** Dataset names (see {@link ExperimentSpec.dataset}). */
  datasets: string[];
  /** Dataset variant of every cell (e.g. Wikipedia "tfidf"); default the standard one. */
  variant?: string;
  /** Split convention of every cell. */
  split: SplitConvention;
  /** Methods, in display order. */
  methods: CellMethod[];
  /** "all", or a list of ablation names ("full" plus flags) applied to the methods that have them. */
  ablations: "all" | string[];
  /** Code lengths. */
  bits: number[];
  /** Seeds: one cell per seed. */
  seeds: number[];
  /**
   * Training epochs of the trained methods' cells; default: each method's own default for the
   * dataset (its config in src/models/<method>/config.ts, the one place that sets epochs).
   */
  epochs?: number;
  /** Backend of every cell. */
  backend: BackendName;
  /** Config overrides of every cell (see {@link ExperimentSpec.overrides}). */
  overrides?: Record<string, ConfigValue>;
  /** Generator settings of every cell (see {@link ExperimentSpec.data}). */
  data?: Record<string, number>;
}

/**
 * A trained method's default epochs for a dataset: its config's `epochs` (the one place that
 * sets them), with the grid's overrides applied to the fields the config has.
 */
export function defaultEpochs(
  method: CellMethod,
  dataset: string,
  bits: number,
  overrides: Record<string, ConfigValue> = {},
): number {
  const entry = METHODS[method];
  const fields = entry.config(dataset, bits, configOverrides(method, dataset, overrides)) as {
    epochs?: number;
  };
  return fields.epochs ?? 0;
}

/**
 * The overrides a method's config has a field for (`--set` applies each override to the
 * methods that have it, and is ignored by the others). CPAH's `anyBits` is kept when set so
 * that the config of a code length outside 16/32/64/128 can be built.
 */
export function configOverrides(
  method: CellMethod,
  dataset: string,
  overrides: Record<string, ConfigValue> = {},
): Record<string, ConfigValue> {
  if (!Object.keys(overrides).length) return {};
  const fields = METHODS[method].config(dataset, 16) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(overrides).filter(([k]) => k in fields));
}

/** Ablation names of a method: "full" followed by its flags in display order. */
export function ablationsOf(m: CellMethod): string[] {
  return ablationNames(m);
}

/** All cells of a grid, in a stable order (dataset, bits, method, ablation, seed). */
export function expandGrid(g: GridParams): ExperimentSpec[] {
  const out: ExperimentSpec[] = [];
  const data = g.datasets.map((d) => canonicalData(d, g.data, "GridParams.data"));
  for (const ablation of g.ablations === "all" ? [] : g.ablations) {
    const known = g.methods.some((m) => ablationsOf(m).includes(ablation));
    if (!known) {
      throw new Error(
        `--ablations: '${ablation}' is not an ablation of ${
          g.methods.join(", ")
        }; expected one of ${[...new Set(g.methods.flatMap(ablationsOf))].join(", ")}`,
      );
    }
  }
  for (const [di, dataset] of g.datasets.entries()) {
    for (const bits of g.bits) {
      for (const method of g.methods) {
        const abl = ablationsOf(method).filter((a) =>
          g.ablations === "all" || g.ablations.includes(a) || ablationsOf(method).length === 1
        );
        for (const ablation of abl) {
          for (const seed of g.seeds) {
            out.push({
              dataset,
              variant: g.variant,
              split: g.split,
              method,
              ablation,
              bits,
              seed,
              epochs: isTrainable(METHODS[method])
                ? g.epochs ?? defaultEpochs(method, dataset, bits, g.overrides)
                : 0,
              backend: g.backend,
              ...(g.overrides && Object.keys(g.overrides).length
                ? { overrides: { ...g.overrides } }
                : {}),
              ...(data[di] ? { data: { ...data[di] } } : {}),
            });
          }
        }
      }
    }
  }
  return out;
}
