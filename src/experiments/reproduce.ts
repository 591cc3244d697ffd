/**
 * `deno task reproduce`: run an experiment grid and write the paper-style tables and figures.
 *
 * With no arguments it runs the built-in default: synthetic data, both methods, every
 * ablation, 16/32/64 bits, one seed. See `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runCli } from "../io.ts";
import { BACKEND_NAMES, parseBackendName } from "../accel/backend.ts";
import { isTrainable, METHOD_NAMES, METHODS } from "../models/mod.ts";
import {
  canonicalData,
  type CellMethod,
  expandGrid,
  type GridParams,
  parseDataSetting,
  parseOverride,
  type SplitConvention,
} from "./spec.ts";
import { runGrid } from "./grid.ts";
import { writeReports } from "./report/mod.ts";
import { readResult, resultPath } from "./results.ts";
import { shardOf, slurmScripts, submitSlurm } from "./slurm.ts";

const HELP = `deno task reproduce [options]

Runs a grid of experiments (dataset x method x ablation x code length x seed), writes one
result JSON per cell (finished cells are skipped on rerun), then the tables (Markdown, CSV,
HTML) and figures (HTML; SVG and PNG when Chromium is installed) into the output directory.

With no options: the built-in default — synthetic data, CPAH and DFAH, every ablation,
16/32/64 bits, seed 1, 6 epochs (measured: 3.5 minutes on 2 idle cores).

Options
  --dataset NAME     synthetic | wikipedia | mirflickr25k | mirflickr25k-simimg | nuswide |
                     mscoco | iapr                                   (default synthetic)
  --variant NAME     dataset variant, e.g. wikipedia: tfidf           (default: standard)
  --split NAME       fixed | first | last | permutation  (default: fixed for wikipedia,
                     permutation otherwise)
  --data-dir DIR     real data directory (default: env HASH_DATA_DIR, else data/)
  --bits LIST        code lengths, e.g. 16,32,64                       (default 16,32,64)
  --methods LIST     cpah,dfah and/or random (random-projection baseline)
                                                                       (default cpah,dfah,random)
  --ablations LIST   all, or a list of full and flag names: full,noCR,noAdversary,noMultiTask,
                     relaxed (CPAH), full,noFusion,noAdversary,relaxed (DFAH)  (default all)
  --seeds LIST       seeds, e.g. 1,2,3                                 (default 1)
  --epochs N         training epochs per cell        (default: the method's default for the
                     dataset; see src/models/*/config.ts)
  --batch-size N     override the methods' batch size
  --set KEY=VALUE    set a config field of the methods that have it, e.g.
                     --set normalization=perItem (repeatable; part of each cell's id)
  --data KEY=VALUE   a setting of the synthetic data generator (SyntheticOptions in
                     src/datasets/synthetic.ts), e.g. --data shift=2 --data disagreement=0.2
                     (repeatable; synthetic only; part of each cell's id and of the default
                     --out; settings equal to the defaults are dropped)
  --eval-every N     validation MAP every N epochs (0 = none)          (default 1)
  --backend NAME     ${BACKEND_NAMES.join(" | ")}  (default: env HASH_BACKEND, else wasm)
  --out DIR          results directory   (default results/<dataset>[-KEY=VALUE...])
  --quick            smoke run: 16 bits, 2 epochs, full models only
  --no-png           skip the SVG and PNG figures even when Chromium is available
  --help             this text

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
 * (27 trained cells) finishes in about 3.5 minutes on 2 idle cores (measured 3 min 29 s); the methods' own defaults
 * (src/models/*.ts) are used whenever --dataset or --epochs is given.
 */
export const DEFAULT_RUN_EPOCHS = 6;

function list(v: string | undefined, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new Error(`--${name}: empty list`);
  return items;
}

function ints(v: string | undefined, name: string): number[] | undefined {
  return list(v, name)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`--${name}: '${s}' is not a non-negative integer`);
    }
    return n;
  });
}

/** Parse argv into grid parameters and run options (exported for tests). */
export function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
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
      quick: { type: "boolean", default: false },
      "no-png": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      slurm: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      partition: { type: "string" },
      time: { type: "string" },
      cpus: { type: "string" },
      mem: { type: "string" },
      "sbatch-arg": { type: "string", multiple: true },
      "shard-size": { type: "string" },
      "max-parallel": { type: "string" },
      shard: { type: "string" },
      "report-only": { type: "boolean", default: false },
      set: { type: "string", multiple: true },
      data: { type: "string", multiple: true },
    },
    allowPositionals: false,
  });
  const isDefault = argv.length === 0;
  const dataset = values.dataset ?? "synthetic";
  const split =
    (values.split ?? (dataset === "wikipedia" ? "fixed" : "permutation")) as SplitConvention;
  if (!["fixed", "first", "last", "permutation"].includes(split)) {
    throw new Error(`--split: '${split}'; expected fixed, first, last or permutation`);
  }
  const methods = (list(values.methods, "methods") ?? [...METHOD_NAMES]) as CellMethod[];
  for (const m of methods) {
    if (!(m in METHODS)) {
      throw new Error(
        `--methods: unknown method '${m}'; expected one of ${METHOD_NAMES.join(", ")}`,
      );
    }
  }
  const quick = values.quick;
  const bits = ints(values.bits, "bits") ?? (quick ? [16] : [16, 32, 64]);
  const epochsArg = ints(values.epochs, "epochs")?.[0];
  const ablations = list(values.ablations, "ablations") ?? (quick ? ["full"] : ["all"]);
  const backend = parseBackendName(
    values.backend ?? Deno.env.get("HASH_BACKEND") ?? "wasm",
    "--backend",
  );
  const batchSize = ints(values["batch-size"], "batch-size")?.[0];
  const evalEvery = ints(values["eval-every"], "eval-every")?.[0];
  const grid: Omit<GridParams, "epochs"> & { epochs?: number } = {
    datasets: [dataset],
    variant: values.variant,
    split,
    methods,
    ablations: ablations.length === 1 && ablations[0] === "all" ? "all" : ablations,
    bits,
    seeds: ints(values.seeds, "seeds") ?? [1],
    epochs: epochsArg ?? (quick ? 2 : isDefault ? DEFAULT_RUN_EPOCHS : undefined),
    backend,
  };
  const overrides = Object.fromEntries((values.set ?? []).map(parseOverride));
  for (const key of Object.keys(overrides)) {
    const owners = methods.filter((m) => key in METHODS[m].config(dataset, bits[0]));
    if (!owners.length) {
      throw new Error(
        `--set: '${key}' is not a config field of ${methods.join(", ")} (see the methods' ` +
          `config types in src/models/)`,
      );
    }
  }
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
  const out = values.out ??
    `results/${values.variant ? `${dataset}-${values.variant}` : dataset}${dataSuffix}`;
  const one = (name: string) => ints(values[name as "cpus"] as string | undefined, name)?.[0];
  if (values["dry-run"] && !values.slurm) throw new Error("--dry-run: only with --slurm");
  return {
    help: values.help,
    isDefault,
    grid,
    out,
    dataDir: values["data-dir"],
    batchSize,
    evalEvery,
    png: !values["no-png"],
    slurm: values.slurm
      ? {
        partition: values.partition,
        time: values.time,
        cpus: one("cpus"),
        mem: values.mem,
        extra: values["sbatch-arg"],
        shardSize: one("shard-size"),
        maxParallel: one("max-parallel"),
        dryRun: values["dry-run"],
      }
      : undefined,
    shard: one("shard"),
    shardSize: one("shard-size") ?? 1,
    reportOnly: values["report-only"],
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

/** Default epochs of a method for a dataset (from its config), for the grid's cells. */
function defaultEpochs(dataset: string, methods: CellMethod[], bits: number): number {
  const m = methods.find((x) => isTrainable(METHODS[x]));
  if (!m) return 0;
  return (METHODS[m].config(dataset, bits) as { epochs: number }).epochs;
}

/**
 * Append a command line to `<out>/command.txt` (once): several runs may fill one results
 * directory (e.g. methods run in parallel processes), and the report lists them all.
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

async function main(argv: string[]): Promise<void> {
  const cli = parseCli(argv);
  if (cli.help) {
    console.log(HELP);
    return;
  }
  const g = cli.grid;
  const epochs = g.epochs ?? defaultEpochs(g.datasets[0], g.methods, g.bits[0]);
  const specs = expandGrid({ ...g, epochs });
  if (cli.isDefault) {
    console.log(
      `reproduce: no options given — running the built-in default: synthetic data, CPAH + DFAH ` +
        `(every ablation) + random-projection baseline, 16/32/64 bits, seed 1, ${epochs} epochs: ` +
        `${specs.length} cells, about 3.5 minutes on 2 idle cores. Results in ${cli.out}/. ` +
        `Use --help for real datasets and other grids.`,
    );
  } else {
    console.log(
      `reproduce: ${specs.length} cells (${g.datasets.join(",")}${
        g.data ? ` [${Object.entries(g.data).map(([k, v]) => `${k}=${v}`).join(", ")}]` : ""
      }, ${g.methods.join(",")}, bits ${g.bits.join(",")}, seeds ${
        g.seeds.join(",")
      }, ${epochs} epochs) -> ${cli.out}/`,
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
    console.log(`report: ${results.length} of ${specs.length} cells have results`);
    const written = await writeReports(results, cli.out, { png: cli.png, log: console.log });
    for (const f of written.files) console.log(`wrote ${f}`);
    return;
  }
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
    if (cli.slurm.dryRun) {
      console.log(`# ${scripts.dir}/array.sbatch (${scripts.tasks} array tasks)\n${scripts.array}`);
      console.log(`# ${scripts.dir}/report.sbatch (afterany the array)\n${scripts.report}`);
      return;
    }
    await Deno.mkdir(out, { recursive: true });
    const ids = await submitSlurm(scripts);
    await recordCommand(out, `deno task reproduce ${argv.join(" ")}`);
    console.log(
      `submitted array job ${ids.array} (${scripts.tasks} tasks, ${specs.length} cells) and ` +
        `report job ${ids.report}; logs in ${scripts.dir}/logs/; watch with 'squeue -j ` +
        `${ids.array},${ids.report}'`,
    );
    return;
  }
  const mine = cli.shard === undefined ? specs : shardOf(specs, cli.shard, cli.shardSize);
  await Deno.mkdir(cli.out, { recursive: true });
  if (cli.shard === undefined) {
    await recordCommand(cli.out, `deno task reproduce${argv.length ? " " + argv.join(" ") : ""}`);
  }
  const outcome = await runGrid(mine, {
    out: cli.out,
    dataDir: cli.dataDir,
    batchSize: cli.batchSize,
    evalEvery: cli.evalEvery,
  });
  console.log(
    `grid done: ${outcome.ran} cells run, ${outcome.skipped} skipped, ${
      outcome.seconds.toFixed(0)
    }s`,
  );
  if (cli.shard !== undefined) return; // the report job writes the tables
  const written = await writeReports(outcome.results, cli.out, { png: cli.png, log: console.log });
  for (const f of written.files) console.log(`wrote ${f}`);
  if (written.markdown) console.log("\n" + written.markdown);
}

if (import.meta.main) await runCli("reproduce", main);
