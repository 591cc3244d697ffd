/**
 * `deno task reproduce`: run an experiment grid and write the paper-style tables and figures.
 *
 * With no arguments it runs preset quick on synthetic data: the registry's default-grid methods,
 * every ablation, 16/32/64 bits, one seed, 6 epochs; every option combines with the preset. See
 * `--help` (reproduce_help.ts). Every option is checked before anything is written
 * (reproduce_options.ts), and a bad one stops the run with one line naming it. It prints the
 * settings in effect (reproduce_plan.ts), warns when the output directory holds cells of other
 * settings, and writes the report of every result file in that directory. `--dry-run` lists the
 * cells it would run and skip. With `--slurm` the grid goes to a Slurm job array (slurm.ts).
 *
 * @module
 */
import { printedHelpOrVersion, readEnv, runCli } from "../io.ts";
import { envBlasMode, probeBlasLibrary } from "../accel/blas.ts";
import { type ExperimentSpec, GENERATED_DATASETS } from "./spec.ts";
import { kernelMismatch, runGrid } from "./grid.ts";
import { writeFolderReport } from "./report/mod.ts";
import { type CellResult, readFolderResults, readResult, resultPath } from "./results.ts";
import { DatasetCache } from "./run_cell.ts";
import { savedPath } from "./saved.ts";
import { describeEstimate, estimateGrid, plural } from "./estimate.ts";
import { gridArguments, shardOf, slurmScripts, submitSlurm } from "./slurm.ts";
import { recordCommand } from "./command_log.ts";
import { parseCli } from "./reproduce_options.ts";
import { reproduceHelp } from "./reproduce_help.ts";
import { dryRunText, otherSettingsWarning, settingsText } from "./reproduce_plan.ts";
import { TOOLKIT_VERSION } from "../version.ts";

/**
 * The result files in a directory that parse (any grid's; for the time estimate and the
 * other-settings warning). Unreadable or foreign files are skipped here: the grid itself
 * reports a corrupted file of its own cells.
 */
export async function finishedResults(out: string): Promise<CellResult[]> {
  return (await readFolderResults(out)).results;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A directory option or variable that must name a directory: one line naming it otherwise. */
async function checkDirectory(path: string, what: string): Promise<void> {
  if (!(await Deno.stat(path).catch(() => null))?.isDirectory) {
    throw new Error(`${what}: '${path}' is not a directory`);
  }
}

async function main(argv: string[]): Promise<void> {
  if (printedHelpOrVersion(argv, reproduceHelp(), TOOLKIT_VERSION)) return;
  const cli = parseCli(argv);
  const g = cli.grid, specs = cli.specs;
  if (cli.dataDir !== undefined) await checkDirectory(cli.dataDir, "--data-dir");
  else if (!g.datasets.every((d) => GENERATED_DATASETS.includes(d))) {
    const env = readEnv("HASH_DATA_DIR");
    if (env !== undefined) await checkDirectory(env, "environment variable HASH_DATA_DIR");
  }
  console.log(settingsText(cli));
  const finished = await finishedResults(cli.out);
  const warning = otherSettingsWarning(finished, specs, cli.out);
  if (warning) console.log(warning);
  if (cli.reportOnly) {
    if (cli.dryRun) {
      console.log(`dry run: would write the report of ${plural(finished.length, "result file")}`);
      return;
    }
    const written = await writeFolderReport(cli.out, { png: cli.png, log: console.log });
    console.log(`report: ${plural(written.results.length, "result file")} in ${cli.out}/`);
    for (const f of written.files) console.log(`wrote ${f}`);
    return;
  }
  const mine = cli.shard === undefined ? specs : shardOf(specs, cli.shard, cli.shardSize);
  const todo: ExperimentSpec[] = [];
  const skip: ExperimentSpec[] = [];
  const otherKernels: string[] = [];
  for (const s of mine) {
    const path = resultPath(cli.out, s);
    if (!(await exists(path))) todo.push(s);
    else {
      // A finished cell computed on other kernels stops the run here, in one line, unless
      // --reuse-other-kernels takes it as it is.
      const why = kernelMismatch(await readResult(path), path);
      if (why && !cli.reuseOtherKernels) {
        throw new Error(`${why}, or add --reuse-other-kernels to reuse it as it is`);
      }
      if (why) otherKernels.push(path);
      skip.push(s);
    }
  }
  if (otherKernels.length) {
    console.log(
      `reproduce: --reuse-other-kernels: reusing ${
        plural(otherKernels.length, "finished cell")
      } computed on other kernels than this run's (their result files say which)`,
    );
  }
  const blasAvailable = (g.backend === "wasm" || g.backend === "cpu") &&
    envBlasMode() !== "off" && probeBlasLibrary().found;
  const estimate = describeEstimate(estimateGrid(todo, finished), cli.out, { blasAvailable });
  if (cli.dryRun && !cli.slurm) {
    console.log(`reproduce: ${estimate}`);
    console.log(dryRunText(todo, skip));
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
    console.log(`reproduce: ${estimate} (compute summed over the array tasks)`);
    if (cli.slurm.dryRun) {
      console.log(dryRunText(todo, skip));
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
    for (const s of skip) if (!(await exists(savedPath(cli.out, s)))) unsaved++;
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
  if (todo.length) await cache.get(g.datasets[0], g.variant, g.data);
  await Deno.mkdir(cli.out, { recursive: true });
  const command = `deno task reproduce${argv.length ? " " + argv.join(" ") : ""}`;
  let recorded = cli.shard !== undefined; // shards leave the command log to the report job
  let done = 0;
  // Ctrl-C (or a kill) says what is kept and how to go on, instead of stopping silently.
  const interrupted = (signal: string) => () => {
    console.log(
      `\nreproduce: interrupted (${signal}) after ${done} of ${plural(todo.length, "cell")} ` +
        `run now; every finished cell is kept in ${cli.out}/ (a cell in training resumes from ` +
        `its last checkpoint): rerun the same command to go on`,
    );
    Deno.exit(130);
  };
  const signals: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((s) => [
    s,
    interrupted(s),
  ]);
  for (const [s, fn] of signals) addSignal(s, fn);
  let outcome;
  try {
    outcome = await runGrid(mine, {
      out: cli.out,
      dataDir: cli.dataDir,
      batchSize: cli.batchSize,
      evalEvery: cli.evalEvery,
      save: cli.save,
      reuseOtherKernels: cli.reuseOtherKernels,
      cache,
      // The command log lists the commands that produced result files: it is written when the
      // first cell finishes, so a run stopped later is listed too, and a run that ran nothing
      // is not.
      onCellDone: async () => {
        done++;
        if (!recorded) await recordCommand(cli.out, command);
        recorded = true;
      },
    });
  } finally {
    for (const [s, fn] of signals) removeSignal(s, fn);
  }
  console.log(
    `grid done: ${plural(outcome.ran, "cell")} run, ${outcome.skipped} skipped, ${
      outcome.seconds.toFixed(0)
    }s`,
  );
  if (cli.shard !== undefined) return; // the report job writes the tables
  const written = await writeFolderReport(cli.out, { png: cli.png, log: console.log });
  console.log(
    `report: ${plural(written.results.length, "result file")} in ${cli.out}/ (this run's ` +
      `${plural(outcome.results.length, "cell")} and every other result file there)`,
  );
  for (const f of written.files) console.log(`wrote ${f}`);
  if (written.markdown) console.log("\n" + written.markdown);
}

/** Listen for a signal where the platform has it (Windows has only SIGINT and SIGBREAK). */
function addSignal(signal: Deno.Signal, fn: () => void): void {
  try {
    Deno.addSignalListener(signal, fn);
  } catch { /* not on this platform */ }
}

function removeSignal(signal: Deno.Signal, fn: () => void): void {
  try {
    Deno.removeSignalListener(signal, fn);
  } catch { /* never added */ }
}

if (import.meta.main) await runCli("reproduce", main);
