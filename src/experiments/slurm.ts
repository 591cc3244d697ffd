/**
 * Running an experiment grid on a Slurm cluster: `deno task reproduce … --slurm` writes an
 * `sbatch` job-array script (one array task per shard of cells) and a report script, submits
 * the array, then the report as a dependent job (`--dependency=afterany:<array job>`).
 *
 * Every array task runs the ordinary cell runner on its shard of the grid (`--shard I
 * --shard-size K`) into the one shared results directory: result files are written atomically
 * and finished cells are skipped, so resubmitting the same command runs only what is missing,
 * and a task that dies loses at most its unfinished cell (which resumes from its last epoch
 * checkpoint). The report job reads whatever result files exist (`--report-only`).
 *
 * The array tasks and the report job run `src/experiments/reproduce.ts` with the grid-defining
 * arguments of the submitting command ({@link gridArguments}).
 *
 * What needs the shared filesystem: the repository (the scripts `cd` into it), the results
 * directory, and the data directory. Everything else is per cell.
 *
 * @module
 */

/** Options of the generated scripts. */
export interface SlurmOptions {
  /** Partition (`--partition`); default: the cluster's default partition. */
  partition?: string;
  /** Time limit per array task (`--time`), e.g. "04:00:00". */
  time?: string;
  /** CPUs per array task (`--cpus-per-task`); default 1 (training is single-threaded). */
  cpus?: number;
  /** Memory per array task (`--mem`), e.g. "8G". */
  mem?: string;
  /** Extra `#SBATCH` flags passed through as they are, e.g. "--account=abc". */
  extra?: string[];
  /** Cells per array task (default 1). */
  shardSize?: number;
  /** At most this many array tasks at once (`--array=0-N%max`); default no limit. */
  maxParallel?: number;
  /** Job name prefix (default "cmh"). */
  name?: string;
}

/** The two scripts of a grid, and where they go. */
export interface SlurmScripts {
  /** Number of array tasks. */
  tasks: number;
  /** The job-array script. */
  array: string;
  /** The report script (submitted with a dependency on the array). */
  report: string;
  /** Directory the scripts and the task logs are written to (`<out>/slurm`). */
  dir: string;
}

/** Quote one shell word (single quotes, safe for any content). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

function checkOptions(o: SlurmOptions): void {
  const intOpt = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new Error(`--${name}: expected a positive integer, got '${v}'`);
    }
  };
  intOpt("cpus", o.cpus);
  intOpt("shard-size", o.shardSize);
  intOpt("max-parallel", o.maxParallel);
  if (o.time !== undefined && !/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(o.time)) {
    throw new Error(`--time: '${o.time}' is not a Slurm time (e.g. 90, 04:00:00, 1-00:00:00)`);
  }
  if (o.mem !== undefined && !/^\d+[KMGT]?$/.test(o.mem)) {
    throw new Error(`--mem: '${o.mem}' is not a Slurm memory size (e.g. 8G, 16000M)`);
  }
  for (const x of o.extra ?? []) {
    if (!x.startsWith("-") || /[\n\r]/.test(x)) {
      throw new Error(`--sbatch-arg: '${x}' is not one sbatch flag (e.g. --account=abc)`);
    }
  }
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

/** `--dataset npy:DIR` with DIR made absolute (the array tasks run in the repository). */
function absoluteNpy(value: string): string {
  if (!value.startsWith("npy:") || value.startsWith("npy:/")) return value;
  return `npy:${Deno.cwd()}/${value.slice(4)}`;
}

/**
 * The grid-defining arguments of argv, with --out and the folder of `--dataset npy:DIR` made
 * absolute (for the array tasks).
 */
export function gridArguments(argv: string[], out: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--dataset" && i + 1 < argv.length) {
      kept.push(a, absoluteNpy(argv[++i]));
      continue;
    }
    if (a.startsWith("--dataset=")) {
      kept.push(`--dataset=${absoluteNpy(a.slice(10))}`);
      continue;
    }
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
 * Write the scripts' text. `gridArgs` are the reproduce options that define the grid (without
 * the Slurm options; `--out` absolute), `cells` the number of cells, `repo` the repository
 * directory, `deno` the Deno executable the tasks run (overridable with $DENO at run time).
 */
export function slurmScripts(
  gridArgs: string[],
  cells: number,
  out: string,
  repo: string,
  deno: string,
  opts: SlurmOptions = {},
): SlurmScripts {
  checkOptions(opts);
  if (!out.startsWith("/")) throw new Error(`slurmScripts: out must be absolute, got '${out}'`);
  if (cells < 1) throw new Error("slurmScripts: the grid has no cells");
  const shard = opts.shardSize ?? 1;
  const tasks = Math.ceil(cells / shard);
  const dir = `${out}/slurm`;
  const name = opts.name ?? "cmh";
  const header = (job: string, log: string, cpus: number) =>
    [
      "#!/bin/bash",
      `#SBATCH --job-name=${name}-${job}`,
      `#SBATCH --output=${dir}/logs/${log}`,
      `#SBATCH --cpus-per-task=${cpus}`,
      opts.partition ? `#SBATCH --partition=${opts.partition}` : "",
      opts.time ? `#SBATCH --time=${opts.time}` : "",
      opts.mem ? `#SBATCH --mem=${opts.mem}` : "",
      ...(opts.extra ?? []).map((x) => `#SBATCH ${x}`),
    ].filter(Boolean);
  const run = `"\${DENO:-${deno}}" run -A src/experiments/reproduce.ts ${
    gridArgs.map(shellQuote).join(" ")
  }`;
  const array = [
    ...header("cells", "%A_%a.out", opts.cpus ?? 1),
    `#SBATCH --array=0-${tasks - 1}${opts.maxParallel ? `%${opts.maxParallel}` : ""}`,
    "# One array task per shard of the grid's cells; finished cells are skipped (resubmit freely).",
    "set -euo pipefail",
    `cd ${shellQuote(repo)}`,
    `${run} --shard "$SLURM_ARRAY_TASK_ID" --shard-size ${shard}`,
    "",
  ].join("\n");
  const report = [
    ...header("report", "report-%j.out", 1),
    "# Tables and figures from the result files that exist (submitted with afterany).",
    "set -euo pipefail",
    `cd ${shellQuote(repo)}`,
    `${run} --report-only`,
    "",
  ].join("\n");
  return { tasks, array, report, dir };
}

/** The cells of shard `index` of size `size` (the array task's share of the grid). */
export function shardOf<T>(cells: T[], index: number, size: number): T[] {
  const tasks = Math.ceil(cells.length / size);
  if (!Number.isInteger(index) || index < 0 || index >= tasks) {
    throw new Error(`--shard: ${index} is outside 0..${tasks - 1} (${cells.length} cells)`);
  }
  return cells.slice(index * size, (index + 1) * size);
}

async function sbatch(args: string[]): Promise<string> {
  let res: Deno.CommandOutput;
  try {
    res = await new Deno.Command("sbatch", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(
      `sbatch could not be run (${(e as Error).message}); is Slurm installed here? ` +
        "Use --dry-run to print the scripts without submitting",
    );
  }
  const text = new TextDecoder();
  if (!res.success) {
    throw new Error(`sbatch ${args.join(" ")} failed: ${text.decode(res.stderr).trim()}`);
  }
  return text.decode(res.stdout).trim().split(";")[0];
}

/**
 * Write the scripts under `<out>/slurm/` and submit them: the array, then the report with
 * `--dependency=afterany:<array job id>`. Returns the two job ids.
 */
export async function submitSlurm(s: SlurmScripts): Promise<{ array: string; report: string }> {
  await Deno.mkdir(`${s.dir}/logs`, { recursive: true });
  await Deno.writeTextFile(`${s.dir}/array.sbatch`, s.array);
  await Deno.writeTextFile(`${s.dir}/report.sbatch`, s.report);
  const array = await sbatch(["--parsable", `${s.dir}/array.sbatch`]);
  const report = await sbatch([
    "--parsable",
    `--dependency=afterany:${array}`,
    `${s.dir}/report.sbatch`,
  ]);
  return { array, report };
}
