/**
 * The options of `deno task reproduce`: their table, and {@link parseCli}, which checks every
 * option, the grid's cells and the methods' configs of every cell before anything is written;
 * a bad option stops the run with one line naming it. The help text is reproduce_help.ts.
 *
 * @module
 */
import { DATA_OPTIONS, HELP_OPTIONS, parseCliOptions } from "../io.ts";
import { parseBackendName } from "../accel/backend.ts";
import { DATASET_NAMES, DATASET_VARIANTS, type DatasetName } from "../datasets/datasets.ts";
import { hasIndexSplit, isNpyDataset, parseNpyDataset } from "../datasets/npy_dir.ts";
import { dirname } from "node:path";
import { DEFAULT_GRID_METHODS, METHOD_NAMES, METHODS } from "../models/mod.ts";
import {
  canonicalData,
  type CellMethod,
  type ConfigValue,
  expandGrid,
  type ExperimentSpec,
  GENERATED_DATASETS,
  type GridParams,
  parseDataSetting,
  parseOverride,
  type SplitConvention,
} from "./spec.ts";
import { cellConfig } from "./run_cell.ts";
import { shardOf, type SlurmOptions } from "./slurm.ts";

/**
 * Epochs of the `quick` preset (the built-in default run): short enough that the whole default
 * grid (42 cells, 30 of them trained) finishes in minutes (measured on 2 cores from a fresh
 * clone: 3 min 23 s with OpenBLAS, idle; 12 min 31 s without, beside another job).
 */
export const DEFAULT_RUN_EPOCHS = 6;

/** A named set of grid settings (`--preset`); every other option combines with it. */
export interface Preset {
  /** What it is for, one line (for the help and the settings printed at start). */
  readonly description: string;
  /** Epochs of the trained methods; undefined: each method's own for the dataset. */
  readonly epochs?: number;
  /** Code lengths. */
  readonly bits: readonly number[];
  /** Ablations: "all", or a list of names. */
  readonly ablations: "all" | readonly string[];
  /** Seeds. */
  readonly seeds: readonly number[];
}

/** Names of the presets. */
export type PresetName = "quick" | "paper" | "smoke";

/**
 * The presets of `deno task reproduce`. Each runs the registry's default-grid methods
 * (src/models/mod.ts) unless `--methods` is given; they differ in epochs, code lengths and
 * ablations only.
 */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  quick: {
    description: `every ablation, 16/32/64 bits, seed 1, ${DEFAULT_RUN_EPOCHS} epochs`,
    epochs: DEFAULT_RUN_EPOCHS,
    bits: [16, 32, 64],
    ablations: "all",
    seeds: [1],
  },
  paper: {
    description: "every ablation, 16/32/64 bits, seed 1, each method's own epochs for the dataset",
    bits: [16, 32, 64],
    ablations: "all",
    seeds: [1],
  },
  smoke: {
    description: "full models only, 16 bits, seed 1, 2 epochs",
    epochs: 2,
    bits: [16],
    ablations: ["full"],
    seeds: [1],
  },
};

/** Names of the presets, in help order. */
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * The preset when `--preset` is not given: `quick` on generated data (the README's quick start,
 * what a bare `reproduce` runs), `paper` on a dataset read from files.
 */
export function defaultPreset(dataset: string): PresetName {
  return GENERATED_DATASETS.includes(dataset) ? "quick" : "paper";
}

/** The options of the CLI (node:util parseArgs form). */
const OPTIONS = {
  ...DATA_OPTIONS,
  ...HELP_OPTIONS,
  variant: { type: "string" },
  split: { type: "string" },
  bits: { type: "string" },
  methods: { type: "string" },
  ablations: { type: "string" },
  seeds: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  "eval-every": { type: "string" },
  out: { type: "string" },
  save: { type: "boolean" },
  preset: { type: "string" },
  quick: { type: "boolean" },
  "no-png": { type: "boolean" },
  slurm: { type: "boolean" },
  "dry-run": { type: "boolean" },
  partition: { type: "string" },
  time: { type: "string" },
  cpus: { type: "string" },
  mem: { type: "string" },
  "sbatch-arg": { type: "string", multiple: true },
  "shard-size": { type: "string" },
  "max-parallel": { type: "string" },
  shard: { type: "string" },
  "report-only": { type: "boolean" },
  "reuse-other-kernels": { type: "boolean" },
  set: { type: "string", multiple: true },
  data: { type: "string", multiple: true },
} as const;

/** Options that change the grid's cells (printed as such with the settings at start). */
const GRID_OPTIONS = [
  "dataset",
  "variant",
  "split",
  "bits",
  "methods",
  "ablations",
  "seeds",
  "epochs",
  "backend",
  "set",
  "data",
];

/** Options that only make sense with --slurm. */
const SLURM_ONLY = ["partition", "time", "cpus", "mem", "sbatch-arg", "max-parallel"];

function list(v: string | undefined, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(",").map((s) => s.trim());
  if (!items.length || items.some((s) => s === "")) {
    throw new Error(`--${name}: '${v}' has an empty item; expected a comma-separated list`);
  }
  const dup = items.find((s, i) => items.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`--${name}: '${dup}' is listed twice`);
  return items;
}

function ints(v: string | undefined, name: string, min = 0): number[] | undefined {
  return list(v, name)?.map((s) => {
    const n = Number(s);
    if (!/^[0-9]+$/.test(s) || !Number.isSafeInteger(n)) {
      throw new Error(`--${name}: '${s}' is not a non-negative integer`);
    }
    if (n < min) throw new Error(`--${name}: ${n} is too small; expected an integer >= ${min}`);
    return n;
  });
}

/** One integer (not a list) of at least `min`. */
function one(v: string | undefined, name: string, min: number): number | undefined {
  if (v !== undefined && v.includes(",")) {
    throw new Error(`--${name}: '${v}' is a list; expected one integer`);
  }
  return ints(v, name, min)?.[0];
}

/** Refuse code lengths a selected method does not take (CPAH: 16/32/64/128 unless anyBits). */
function checkBits(bits: number[], methods: CellMethod[], overrides: Record<string, ConfigValue>) {
  for (const b of bits) {
    if (b < 1) throw new Error(`--bits: ${b} is not a code length; expected integers >= 1`);
  }
  const refusing = methods.filter((m) => {
    const lengths = METHODS[m].codeLengths;
    const lifted = m === "cpah" && overrides.anyBits === true;
    return lengths && !lifted && bits.some((b) => !lengths.includes(b));
  });
  if (!refusing.length) return;
  const what = methods.map((m) => {
    const lengths = METHODS[m].codeLengths;
    return `${m}: ${lengths ? lengths.join(", ") : "any length >= 1"}`;
  });
  const bad = bits.filter((b) => refusing.some((m) => !METHODS[m].codeLengths!.includes(b)));
  throw new Error(
    `--bits: ${bad.join(", ")} not supported by ${refusing.join(", ")} (code lengths — ${
      what.join("; ")
    }); drop it from --methods, or add --set anyBits=true to train CPAH at other lengths`,
  );
}

/** What {@link parseCli} returns: the grid, its cells, and the run options. */
export interface ReproduceCli {
  /** -h / --help was given (main prints the help and nothing else). */
  help: boolean;
  /** --version was given. */
  version: boolean;
  /** No options at all: the built-in default run. */
  isDefault: boolean;
  /** The preset in effect, and whether --preset named it (else the dataset's default). */
  preset: { name: PresetName; given: boolean };
  /** Options given on the command line that change the grid (e.g. "--bits", "--epochs"). */
  changed: string[];
  /** --dry-run: list the cells to run and to skip; run nothing, write nothing. */
  dryRun: boolean;
  /** The grid; `epochs` undefined = each method's own default. */
  grid: GridParams;
  /** Its cells, in order. */
  specs: ExperimentSpec[];
  /** Results directory. */
  out: string;
  /** --data-dir. */
  dataDir?: string;
  /** --batch-size. */
  batchSize?: number;
  /** --eval-every. */
  evalEvery?: number;
  /** PNG figures (not --no-png). */
  png: boolean;
  /** --save. */
  save: boolean;
  /** Slurm submission settings (--slurm). */
  slurm?: SlurmOptions & { dryRun?: boolean };
  /** --shard: the array task's shard index. */
  shard?: number;
  /** --shard-size (default 1). */
  shardSize: number;
  /** --report-only. */
  reportOnly: boolean;
  /**
   * --reuse-other-kernels: reuse finished cells computed on another kernel path (BLAS on or off)
   * than this run's instead of stopping.
   */
  reuseOtherKernels: boolean;
}

/**
 * Parse and check argv: every option, the grid's cells and the methods' configs of every cell
 * are validated here, before anything is written; a problem is one line naming the option.
 */
export function parseCli(argv: string[]): ReproduceCli {
  const values = parseCliOptions(argv, OPTIONS, "reproduce") as {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[]
      : (typeof OPTIONS)[K] extends { type: "boolean" } ? boolean
      : string;
  };
  const isDefault = argv.length === 0;
  // --quick is the older name of --preset smoke (full models, 16 bits, 2 epochs); the
  // preset named quick is the README's quick start.
  if (values.quick && values.preset !== undefined && values.preset !== "smoke") {
    throw new Error(`--quick: means --preset smoke; not with --preset ${values.preset}`);
  }
  const presetOption = values.quick ? "smoke" : values.preset;
  let dataset = values.dataset ?? "synthetic";
  // A user's folder (npy:DIR): cells name it npy:<folder name>; its parent is the data dir.
  let dataDir = values["data-dir"], indexSplit = false;
  if (isNpyDataset(dataset)) {
    const npy = (() => {
      try {
        return parseNpyDataset(dataset);
      } catch (e) {
        throw new Error(`--dataset: ${(e as Error).message}`);
      }
    })();
    if (dataDir !== undefined) {
      throw new Error("--data-dir: not with --dataset npy:DIR (the folder's path is in DIR)");
    }
    dataset = npy.name;
    dataDir = dirname(npy.dir);
    indexSplit = hasIndexSplit(npy.dir);
  } else if (!(DATASET_NAMES as readonly string[]).includes(dataset)) {
    throw new Error(
      `--dataset: unknown dataset '${dataset}'; expected one of ${
        DATASET_NAMES.join(", ")
      }, or npy:DIR (a folder of arrays)`,
    );
  }
  if (values.variant !== undefined) {
    const variants = DATASET_VARIANTS[dataset as DatasetName];
    if (!variants) throw new Error(`--variant: dataset '${dataset}' has no variants`);
    if (!variants.includes(values.variant)) {
      throw new Error(
        `--variant: '${values.variant}' is not a variant of ${dataset}; expected one of ${
          variants.join(", ")
        }`,
      );
    }
  }
  const split = (values.split ??
    (dataset === "wikipedia" || indexSplit ? "fixed" : "permutation")) as SplitConvention;
  if (!["fixed", "first", "last", "permutation"].includes(split)) {
    throw new Error(`--split: '${split}'; expected fixed, first, last or permutation`);
  }
  if (split === "fixed" && dataset !== "wikipedia" && !indexSplit) {
    throw new Error(
      `--split: '${dataset}' has no published (fixed) split; expected first, last or permutation`,
    );
  }
  if (presetOption !== undefined && !(PRESET_NAMES as string[]).includes(presetOption)) {
    throw new Error(
      `--preset: unknown preset '${presetOption}'; expected one of ${PRESET_NAMES.join(", ")}`,
    );
  }
  const presetName = (presetOption as PresetName | undefined) ?? defaultPreset(dataset);
  const preset = PRESETS[presetName];
  const methods = (list(values.methods, "methods") ?? [...DEFAULT_GRID_METHODS]) as CellMethod[];
  for (const m of methods) {
    if (!(m in METHODS)) {
      throw new Error(
        `--methods: unknown method '${m}'; expected one of ${METHOD_NAMES.join(", ")}`,
      );
    }
  }
  const overrides = Object.fromEntries((values.set ?? []).map(parseOverride));
  for (const key of Object.keys(overrides)) {
    const owners = methods.filter((m) => key in METHODS[m].config(dataset, 16));
    if (!owners.length) {
      throw new Error(
        `--set: '${key}' is not a config field of ${methods.join(", ")} (see the methods' ` +
          `config types in src/models/)`,
      );
    }
    if (["epochs", "batchSize", "bits", "seed", "dataset"].includes(key)) {
      const option = { epochs: "--epochs", batchSize: "--batch-size", bits: "--bits" }[
        key as "epochs"
      ] ?? "--seeds";
      throw new Error(`--set: '${key}' is set with ${key === "dataset" ? "--dataset" : option}`);
    }
    // The value, in each method that has the field (at a code length every method takes).
    for (const m of owners) {
      try {
        METHODS[m].config(dataset, 32, { [key]: overrides[key] });
      } catch (e) {
        throw new Error(`--set ${key}=${overrides[key]}: ${(e as Error).message}`);
      }
    }
  }
  const bits = ints(values.bits, "bits") ?? [...preset.bits];
  checkBits(bits, methods, overrides);
  const epochs = one(values.epochs, "epochs", 1);
  const batchSize = one(values["batch-size"], "batch-size", 2);
  const evalEvery = one(values["eval-every"], "eval-every", 0);
  const ablations = list(values.ablations, "ablations") ??
    (preset.ablations === "all" ? ["all"] : [...preset.ablations]);
  const backend = parseBackendName(
    values.backend ?? Deno.env.get("HASH_BACKEND") ?? "wasm",
    values.backend !== undefined ? "--backend" : "environment variable HASH_BACKEND",
  );
  const grid: GridParams = {
    datasets: [dataset],
    variant: values.variant,
    split,
    methods,
    ablations: ablations.length === 1 && ablations[0] === "all" ? "all" : ablations,
    bits,
    seeds: ints(values.seeds, "seeds") ?? [...preset.seeds],
    epochs: epochs ?? preset.epochs,
    backend,
  };
  if (Object.keys(overrides).length) grid.overrides = overrides;
  const settings: Record<string, number> = {};
  for (const text of values.data ?? []) {
    const [k, v] = parseDataSetting(text);
    if (k in settings && settings[k] !== v) {
      throw new Error(`--data: ${k} given twice (${settings[k]} and ${v})`);
    }
    settings[k] = v;
  }
  const data = canonicalData(dataset, settings, "--data");
  if (data) grid.data = data;
  const dataSuffix = Object.entries(data ?? {}).map(([k, v]) => `-${k}=${v}`).join("");
  const specs = expandGrid(grid);
  // Every cell's config, built now: a bad --set value or combination fails before any work.
  const checked = new Set<string>();
  for (const s of specs) {
    const key = `${s.method}/${s.ablation}/${s.bits}`;
    if (checked.has(key)) continue;
    checked.add(key);
    try {
      cellConfig(s, { batchSize });
    } catch (e) {
      const msg = (e as Error).message;
      const opt = Object.keys(overrides).find((k) => msg.includes(`config.${k} `));
      throw new Error(
        `${opt ? `--set ${opt}=${overrides[opt]}` : "the grid"}: ${s.method} ${s.ablation} ` +
          `${s.bits} bits — ${msg}`,
      );
    }
  }
  const slurmOnly = SLURM_ONLY.find((o) => values[o as "time"] !== undefined);
  if (slurmOnly && !values.slurm) throw new Error(`--${slurmOnly}: only with --slurm`);
  const shardSize = one(values["shard-size"], "shard-size", 1) ?? 1;
  const shard = one(values.shard, "shard", 0);
  if (shard !== undefined) {
    if (values.slurm) throw new Error("--shard: the array tasks' option; not with --slurm");
    shardOf(specs, shard, shardSize); // throws "--shard: I is outside 0..N"
  }
  const out = values.out ??
    `results/${values.variant ? `${dataset}-${values.variant}` : dataset}${dataSuffix}`;
  return {
    help: values.help ?? false,
    version: values.version ?? false,
    isDefault,
    preset: { name: presetName, given: presetOption !== undefined },
    changed: GRID_OPTIONS.filter((o) => values[o as "bits"] !== undefined).map((o) => `--${o}`),
    dryRun: values["dry-run"] ?? false,
    grid,
    specs,
    out,
    dataDir,
    batchSize,
    evalEvery,
    png: !values["no-png"],
    save: values.save ?? false,
    slurm: values.slurm
      ? {
        partition: values.partition,
        time: values.time,
        cpus: one(values.cpus, "cpus", 1),
        mem: values.mem,
        extra: values["sbatch-arg"],
        shardSize: one(values["shard-size"], "shard-size", 1),
        maxParallel: one(values["max-parallel"], "max-parallel", 1),
        dryRun: values["dry-run"],
      }
      : undefined,
    shard,
    shardSize,
    reportOnly: values["report-only"] ?? false,
    reuseOtherKernels: values["reuse-other-kernels"] ?? false,
  };
}
