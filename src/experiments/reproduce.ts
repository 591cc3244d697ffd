/**
 * `deno task reproduce`: run an experiment grid and write the paper-style tables and figures.
 *
 * With no arguments it runs the built-in default: synthetic data, both methods, every
 * ablation, 16/32/64 bits, one seed. See `--help`. Every option is checked before anything is
 * written, and a bad one stops the run with one line naming it.
 *
 * @module
 */
import { parseCliOptions, printedHelpOrVersion, runCli } from "../io.ts";
import { BACKEND_NAMES, parseBackendName } from "../accel/backend.ts";
import { envBlasMode, probeBlasLibrary } from "../accel/blas.ts";
import { DATASET_NAMES, DATASET_VARIANTS, type DatasetName } from "../datasets/datasets.ts";
import { METHOD_NAMES, METHODS } from "../models/mod.ts";
import {
  canonicalData,
  type CellMethod,
  type ConfigValue,
  expandGrid,
  type ExperimentSpec,
  type GridParams,
  parseDataSetting,
  parseOverride,
  type SplitConvention,
} from "./spec.ts";
import { runGrid } from "./grid.ts";
import { writeReports } from "./report/mod.ts";
import { type CellResult, readResult, RESULT_FORMAT, resultPath } from "./results.ts";
import { cellConfig, DatasetCache } from "./run_cell.ts";
import { savedPath } from "./saved.ts";
import { describeEstimate, estimateGrid, plural } from "./estimate.ts";
import { shardOf, type SlurmOptions, slurmScripts, submitSlurm } from "./slurm.ts";
import { TOOLKIT_VERSION } from "../version.ts";

const HELP = `deno task reproduce [options]

Runs a grid of experiments (dataset x method x ablation x code length x seed), writes one
result JSON per cell (finished cells are skipped on rerun), then the tables (Markdown, CSV,
HTML) and figures (HTML; SVG and PNG when Chromium is installed) into the output directory.
Before the grid starts it prints an estimated duration (from finished cells in the output
directory, else from costs measured on a 2-core machine): an estimate, not a promise.

With no options: the built-in default — synthetic data, CPAH and DFAH with every ablation, the
baselines DCMH, SCM-Seq, SCM-Orth, CMFH and random projection, 16/32/64 bits, seed 1, 6 epochs
(measured on 2 idle cores: 4 min 51 s with OpenBLAS, 9 min 57 s without).

Options
  --dataset NAME     synthetic | wikipedia | mirflickr25k | mirflickr25k-simimg | nuswide |
                     mscoco | iapr                                   (default synthetic)
  --variant NAME     dataset variant: wikipedia lda | tfidf            (default: the first)
  --split NAME       fixed | first | last | permutation  (default: fixed for wikipedia,
                     permutation otherwise; fixed only for wikipedia)
  --data-dir DIR     real data directory (default: env HASH_DATA_DIR, else data/)
  --bits LIST        code lengths, e.g. 16,32,64                       (default 16,32,64)
                     CPAH takes 16, 32, 64, 128 (the papers' lengths); for other lengths add
                     --set anyBits=true. DFAH and random take any length >= 1.
  --methods LIST     cpah,dfah and/or random (random-projection baseline)
                                                                       (default cpah,dfah,random)
  --ablations LIST   all, or a list of full and flag names: full,noCR,noAdversary,noMultiTask,
                     relaxed (CPAH), full,noFusion,noAdversary,relaxed (DFAH)  (default all)
  --seeds LIST       seeds, e.g. 1,2,3                                 (default 1)
  --epochs N         training epochs per cell        (default: each method's default for the
                     dataset, from its config in src/models/<method>/config.ts)
  --batch-size N     override the methods' batch size (default: the methods' configs)
  --set KEY=VALUE    set a config field of the methods that have it, e.g.
                     --set normalization=perItem (repeatable; part of each cell's id)
  --data KEY=VALUE   a setting of the synthetic data generator (SyntheticOptions in
                     src/datasets/synthetic.ts), e.g. --data shift=2 --data disagreement=0.2
                     (repeatable; synthetic only; part of each cell's id and of the default
                     --out; settings equal to the defaults are dropped)
  --eval-every N     validation MAP every N epochs (0 = none)          (default 1)
  --backend NAME     ${BACKEND_NAMES.join(" | ")}  (default: env HASH_BACKEND, else wasm)
  --out DIR          results directory   (default results/<dataset>[-KEY=VALUE...])
  --save             keep each cell's trained model, its query/database codes (int8 ±1 .npy),
                     labels (uint8 .npy) and split indices in <out>/saved/<cell id>/
                     (docs/saved-models.md; query them with 'deno task search')
  --quick            smoke run: 16 bits, 2 epochs, full models only
  --no-png           skip the SVG and PNG figures even when Chromium is available
  -h, --help         this text (wins over every other option)
  --version          the toolkit's version

On a Slurm cluster (the repository, --out and the data directory on a shared filesystem)
  --slurm            write an sbatch job-array script (one task per shard of cells) and a
                     report script into <out>/slurm/, submit the array, then the report with
                     --dependency=afterany; resubmitting the same command runs only the
                     cells that have no result yet
  --dry-run          with --slurm: print the two scripts, submit nothing
  --partition NAME   --time T   --cpus N   --mem M      per-task sbatch settings
                     (default: cluster defaults; 1 CPU)
  --sbatch-arg FLAG  one extra sbatch flag, e.g. --sbatch-arg=--account=abc (repeatable)
  --shard-size N     cells per array task                              (default 1)
  --max-parallel N   at most N array tasks at once
  --shard I          run only shard I of the grid (what each array task does)
  --report-only      write the tables and figures from the result files that exist
`;

/**
 * Epochs of the built-in default run (no options): short enough that the whole default grid
 * (42 cells, 30 of them trained) finishes in minutes (measured on 2 idle cores from a fresh
 * clone: 4 min 51 s with OpenBLAS, 9 min 57 s without); the methods' own defaults
 * (src/models/<method>/config.ts) are used whenever --dataset or --epochs is given.
 */
export const DEFAULT_RUN_EPOCHS = 6;

/** The options of the CLI (node:util parseArgs form). */
const OPTIONS = {
  dataset: { type: "string" },
  variant: { type: "string" },
  split: { type: "string" },
  "data-dir": { type: "string" },
  bits: { type: "string" },
  methods: { type: "string" },
  ablations: { type: "string" },
  seeds: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  "eval-every": { type: "string" },
  backend: { type: "string" },
  out: { type: "string" },
  save: { type: "boolean" },
  quick: { type: "boolean" },
  "no-png": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
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
  set: { type: "string", multiple: true },
  data: { type: "string", multiple: true },
} as const;

/** Options that only make sense with --slurm. */
const SLURM_ONLY = ["dry-run", "partition", "time", "cpus", "mem", "sbatch-arg", "max-parallel"];

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
  const dataset = values.dataset ?? "synthetic";
  if (!(DATASET_NAMES as readonly string[]).includes(dataset)) {
    throw new Error(
      `--dataset: unknown dataset '${dataset}'; expected one of ${DATASET_NAMES.join(", ")}`,
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
  const split =
    (values.split ?? (dataset === "wikipedia" ? "fixed" : "permutation")) as SplitConvention;
  if (!["fixed", "first", "last", "permutation"].includes(split)) {
    throw new Error(`--split: '${split}'; expected fixed, first, last or permutation`);
  }
  if (split === "fixed" && dataset !== "wikipedia") {
    throw new Error(
      `--split: '${dataset}' has no published (fixed) split; expected first, last or permutation`,
    );
  }
  const methods = (list(values.methods, "methods") ?? [...METHOD_NAMES]) as CellMethod[];
  for (const m of methods) {
    if (!(m in METHODS)) {
      throw new Error(
        `--methods: unknown method '${m}'; expected one of ${METHOD_NAMES.join(", ")}`,
      );
    }
  }
  const quick = values.quick ?? false;
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
  const bits = ints(values.bits, "bits") ?? (quick ? [16] : [16, 32, 64]);
  checkBits(bits, methods, overrides);
  const epochs = one(values.epochs, "epochs", 1);
  const batchSize = one(values["batch-size"], "batch-size", 2);
  const evalEvery = one(values["eval-every"], "eval-every", 0);
  const ablations = list(values.ablations, "ablations") ?? (quick ? ["full"] : ["all"]);
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
    seeds: ints(values.seeds, "seeds") ?? [1],
    epochs: epochs ?? (quick ? 2 : isDefault ? DEFAULT_RUN_EPOCHS : undefined),
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
    grid,
    specs,
    out,
    dataDir: values["data-dir"],
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
  };
}

/** Options that only steer Slurm submission, removed from the grid's own arguments. */
const SLURM_VALUE_OPTIONS = [
  "partition",
  "time",
  "cpus",
  "mem",
  "sbatch-arg",
  "shard-size",
  "max-parallel",
  "shard",
  "out",
];
const SLURM_FLAGS = ["slurm", "dry-run", "report-only"];

/** The grid-defining arguments of argv, with --out made absolute (for the array tasks). */
export function gridArguments(argv: string[], out: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith("--") ? a.slice(2).split("=")[0] : "";
    if (SLURM_FLAGS.includes(name)) continue;
    if (SLURM_VALUE_OPTIONS.includes(name)) {
      if (!a.includes("=")) i++;
      continue;
    }
    kept.push(a);
  }
  const abs = out.startsWith("/") ? out : `${Deno.cwd()}/${out}`;
  return [...kept, "--out", abs];
}

/**
 * Append a command line to `<out>/command.txt` (once): several runs may fill one results
 * directory (e.g. methods run in parallel processes), and the report lists them all. The CLI
 * calls it only after a grid ran at least one cell (not for failed or empty runs).
 */
export async function recordCommand(out: string, command: string): Promise<void> {
  const path = `${out}/command.txt`;
  let lines: string[] = [];
  try {
    lines = (await Deno.readTextFile(path)).split("\n").filter(Boolean);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!lines.includes(command)) {
    await Deno.writeTextFile(path, [...lines, command].join("\n") + "\n");
  }
}

/**
 * The result files in a directory that parse (any grid's; for the time estimate). Unreadable
 * or foreign files are skipped here: the grid itself reports a corrupted file of its own cells.
 */
export async function finishedResults(out: string): Promise<CellResult[]> {
  const found: CellResult[] = [];
  try {
    for await (const e of Deno.readDir(out)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      try {
        const r = JSON.parse(await Deno.readTextFile(`${out}/${e.name}`));
        if (r?.format === RESULT_FORMAT && r.spec && r.training) found.push(r);
      } catch { /* not a result file */ }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** "6 epochs", or per method when they differ: "epochs cpah 100, dfah 60". */
function epochsText(specs: ExperimentSpec[]): string {
  const by = new Map<string, number>();
  for (const s of specs) if (s.epochs > 0) by.set(s.method, s.epochs);
  const distinct = new Set(by.values());
  if (distinct.size === 0) return "untrained";
  if (distinct.size === 1) return plural([...distinct][0], "epoch");
  return `epochs ${[...by].map(([m, e]) => `${m} ${e}`).join(", ")}`;
}

async function main(argv: string[]): Promise<void> {
  if (printedHelpOrVersion(argv, HELP, TOOLKIT_VERSION)) return;
  const cli = parseCli(argv);
  const g = cli.grid, specs = cli.specs;
  if (cli.dataDir !== undefined && !(await Deno.stat(cli.dataDir).catch(() => null))?.isDirectory) {
    throw new Error(`--data-dir: '${cli.dataDir}' is not a directory`);
  }
  if (cli.isDefault) {
    console.log(
      `reproduce: no options given — running the built-in default: synthetic data, CPAH + DFAH ` +
        `(every ablation) + the baselines DCMH, SCM-Seq, SCM-Orth, CMFH and random projection, ` +
        `16/32/64 bits, seed 1, ` +
        `${epochsText(specs)}: ${plural(specs.length, "cell")}. Results in ${cli.out}/. ` +
        `Use --help for real datasets and other grids.`,
    );
  } else {
    console.log(
      `reproduce: ${plural(specs.length, "cell")} (${g.datasets.join(",")}, ${
        g.methods.join(",")
      }, bits ${g.bits.join(",")}, seeds ${g.seeds.join(",")}, ${
        epochsText(specs)
      }) -> ${cli.out}/`,
    );
  }
  if (cli.reportOnly) {
    const results = [];
    for (const s of specs) {
      try {
        results.push(await readResult(resultPath(cli.out, s)));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    console.log(`report: ${results.length} of ${plural(specs.length, "cell")} have results`);
    const written = await writeReports(results, cli.out, { png: cli.png, log: console.log });
    for (const f of written.files) console.log(`wrote ${f}`);
    return;
  }
  const mine = cli.shard === undefined ? specs : shardOf(specs, cli.shard, cli.shardSize);
  const finished = await finishedResults(cli.out);
  const todo: ExperimentSpec[] = [];
  for (const s of mine) if (!(await exists(resultPath(cli.out, s)))) todo.push(s);
  const blasAvailable = (g.backend === "wasm" || g.backend === "cpu") &&
    envBlasMode() !== "off" && probeBlasLibrary().found;
  const estimate = describeEstimate(estimateGrid(todo, finished), cli.out, { blasAvailable });
  if (cli.slurm) {
    const out = cli.out.startsWith("/") ? cli.out : `${Deno.cwd()}/${cli.out}`;
    const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
    const scripts = slurmScripts(
      gridArguments(argv, out),
      specs.length,
      out,
      repo,
      Deno.execPath(),
      cli.slurm,
    );
    console.log(`reproduce: ${estimate} (compute summed over the array tasks)`);
    if (cli.slurm.dryRun) {
      console.log(`# ${scripts.dir}/array.sbatch (${scripts.tasks} array tasks)\n${scripts.array}`);
      console.log(`# ${scripts.dir}/report.sbatch (afterany the array)\n${scripts.report}`);
      return;
    }
    await Deno.mkdir(out, { recursive: true });
    const ids = await submitSlurm(scripts);
    await recordCommand(out, `deno task reproduce ${argv.join(" ")}`);
    console.log(
      `submitted array job ${ids.array} (${scripts.tasks} tasks, ${
        plural(specs.length, "cell")
      }) and report job ${ids.report}; logs in ${scripts.dir}/logs/; watch with 'squeue -j ` +
        `${ids.array},${ids.report}'`,
    );
    return;
  }
  console.log(`reproduce: ${estimate}`);
  if (cli.save) {
    let unsaved = 0;
    for (const s of mine) {
      if (!todo.includes(s) && !(await exists(savedPath(cli.out, s)))) unsaved++;
    }
    if (unsaved) {
      console.log(
        `reproduce: --save: ${plural(unsaved, "finished cell")} of this grid ran without --save ` +
          `and ${unsaved === 1 ? "has" : "have"} no saved model; delete ${
            unsaved === 1 ? "its result file" : "their result files"
          } to rerun ${unsaved === 1 ? "it" : "them"}`,
      );
    }
  }
  // The data is loaded before anything is written: a missing file fails here, in one line.
  const cache = new DatasetCache(cli.dataDir);
  if (todo.length) await cache.get(g.datasets[0], g.variant);
  await Deno.mkdir(cli.out, { recursive: true });
  const outcome = await runGrid(mine, {
    out: cli.out,
    dataDir: cli.dataDir,
    batchSize: cli.batchSize,
    evalEvery: cli.evalEvery,
    save: cli.save,
    cache,
  });
  console.log(
    `grid done: ${plural(outcome.ran, "cell")} run, ${outcome.skipped} skipped, ${
      outcome.seconds.toFixed(0)
    }s`,
  );
  // The command log lists the commands that produced results: only runs that ran a cell.
  if (cli.shard === undefined && outcome.ran > 0) {
    await recordCommand(cli.out, `deno task reproduce${argv.length ? " " + argv.join(" ") : ""}`);
  }
  if (cli.shard !== undefined) return; // the report job writes the tables
  const written = await writeReports(outcome.results, cli.out, { png: cli.png, log: console.log });
  for (const f of written.files) console.log(`wrote ${f}`);
  if (written.markdown) console.log("\n" + written.markdown);
}

if (import.meta.main) await runCli("reproduce", main);
