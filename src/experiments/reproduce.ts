/**
 * `deno task reproduce`: run an experiment grid and write the paper-style tables and figures.
 *
 * With no arguments it runs the built-in default: synthetic data, both methods, every
 * ablation, 16/32/64 bits, one seed. See `--help` (reproduce_help.ts). Every option is checked
 * before anything is written (reproduce_options.ts), and a bad one stops the run with one line
 * naming it. With `--slurm` the grid goes to a Slurm job array (slurm.ts) instead.
 *
 * @module
 */
import { printedHelpOrVersion, runCli } from "../io.ts";
import { envBlasMode, probeBlasLibrary } from "../accel/blas.ts";
import type { ExperimentSpec } from "./spec.ts";
import { runGrid } from "./grid.ts";
import { writeReports } from "./report/mod.ts";
import { type CellResult, readResult, RESULT_FORMAT, resultPath } from "./results.ts";
import { DatasetCache } from "./run_cell.ts";
import { savedPath } from "./saved.ts";
import { describeEstimate, estimateGrid, plural } from "./estimate.ts";
import { gridArguments, shardOf, slurmScripts, submitSlurm } from "./slurm.ts";
import { recordCommand } from "./command_log.ts";
import { parseCli } from "./reproduce_options.ts";
import { REPRODUCE_HELP } from "./reproduce_help.ts";
import { TOOLKIT_VERSION } from "../version.ts";

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
  if (printedHelpOrVersion(argv, REPRODUCE_HELP, TOOLKIT_VERSION)) return;
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
  const command = `deno task reproduce${argv.length ? " " + argv.join(" ") : ""}`;
  let recorded = cli.shard !== undefined; // shards leave the command log to the report job
  const outcome = await runGrid(mine, {
    out: cli.out,
    dataDir: cli.dataDir,
    batchSize: cli.batchSize,
    evalEvery: cli.evalEvery,
    save: cli.save,
    cache,
    // The command log lists the commands that produced result files: it is written when the
    // first cell finishes, so a run stopped later is listed too, and a run that ran nothing is not.
    onCellDone: async () => {
      if (!recorded) await recordCommand(cli.out, command);
      recorded = true;
    },
  });
  console.log(
    `grid done: ${plural(outcome.ran, "cell")} run, ${outcome.skipped} skipped, ${
      outcome.seconds.toFixed(0)
    }s`,
  );
  if (cli.shard !== undefined) return; // the report job writes the tables
  const written = await writeReports(outcome.results, cli.out, { png: cli.png, log: console.log });
  for (const f of written.files) console.log(`wrote ${f}`);
  if (written.markdown) console.log("\n" + written.markdown);
}

if (import.meta.main) await runCli("reproduce", main);
