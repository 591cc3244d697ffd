/**
 * A grid of experiment cells: skips cells whose result file exists and is valid (so an
 * interrupted run loses nothing that had finished and never reads a half-written file), sets
 * the backend once, runs the rest with one dataset cache, and logs progress with an ETA. It
 * looks for a cell's result again just before running it, so processes sharing a results
 * directory (one per core, or Slurm tasks) do not train a cell another one has finished.
 *
 * @module
 */
import { initBackend, kernelPath, plannedKernelPath } from "../accel/backend.ts";
import { envBlasMode } from "../accel/blas.ts";
import type { ExperimentSpec } from "./spec.ts";
import { type CellResult, readResult, resultPath } from "./results.ts";
import { DatasetCache, runCell, type RunOptions } from "./run_cell.ts";

/** Outcome of {@link runGrid}. */
export interface GridOutcome {
  /** Results of every cell of the grid: the ones run now and the ones found finished. */
  results: CellResult[];
  /** Cells run now. */
  ran: number;
  /** Cells skipped because their result file existed, or appeared before their turn. */
  skipped: number;
  /** Seconds spent running cells. */
  seconds: number;
}

/** Options of {@link runGrid}: those of a cell, and a dataset cache to share. */
export interface GridOptions extends RunOptions {
  /** Datasets already loaded (default: a new cache on `dataDir`). */
  cache?: DatasetCache;
  /**
   * Reuse finished cells computed on another kernel path than this process's, each with a
   * logged line, instead of stopping ({@link kernelMismatch}); default false (`reproduce
   * --reuse-other-kernels`, for directories that already mix kernel paths).
   */
  reuseOtherKernels?: boolean;
  /**
   * Called after each cell run now has written its result file, before the next starts (e.g.
   * to record the command that produced it, so an interrupted run is still listed).
   */
  onCellDone?: (result: CellResult) => void | Promise<void>;
}

/**
 * Why a finished cell's result cannot stand for its cell in this process: it was computed on
 * another kernel path (BLAS on or off, see kernelPath) than the one this process would take,
 * so its numbers are not the ones a rerun here would give. One line naming both paths, or
 * undefined when they agree. The cell id does not hold the kernel path, so such a cell is
 * neither reused nor overwritten: the grid refuses to go on.
 */
export function kernelMismatch(result: CellResult, path: string): string | undefined {
  const have = kernelPath(result.backend);
  const want = plannedKernelPath(result.spec.backend);
  if (have === want) return undefined;
  const env = envBlasMode();
  return `${path}: computed with kernels ${have}, and this run's are ${want} (HASH_BLAS=${
    env ?? "unset, so auto"
  }); rerun with the kernels it was computed on (${
    have.endsWith("+BLAS") ? "OpenBLAS installed, HASH_BLAS unset" : "HASH_BLAS=off"
  }) or write to another --out`;
}

/**
 * The result at `path` when the file exists (read and validated), else undefined; a result
 * computed on another kernel path than this process's is refused ({@link kernelMismatch}), or
 * reused with a logged line when `reuse` is set.
 */
async function finishedResult(
  path: string,
  opts: Pick<GridOptions, "reuseOtherKernels">,
  log: (line: string) => void,
): Promise<CellResult | undefined> {
  try {
    await Deno.stat(path);
  } catch {
    return undefined; // not finished yet
  }
  const r = await readResult(path);
  const why = kernelMismatch(r, path);
  if (why && !opts.reuseOtherKernels) throw new Error(why);
  if (why) {
    log(`grid: reusing ${path} computed with kernels ${kernelPath(r.backend)} as it is`);
  }
  return r;
}

/**
 * Run every cell of a grid that has no valid result yet. A corrupted result file stops the
 * grid with a clear error (it is never silently overwritten).
 */
export async function runGrid(specs: ExperimentSpec[], opts: GridOptions): Promise<GridOutcome> {
  const log = opts.log ?? console.log;
  const cache = opts.cache ?? new DatasetCache(opts.dataDir);
  let backend: string | undefined; // set once, and again only when a cell asks for another
  const results: CellResult[] = [];
  let ran = 0, skipped = 0, spent = 0;
  const todo: ExperimentSpec[] = [];
  for (const spec of specs) {
    const done = await finishedResult(resultPath(opts.out, spec), opts, log);
    if (done) {
      results.push(done);
      skipped++;
    } else todo.push(spec);
  }
  if (skipped) {
    log(`grid: ${skipped} of ${specs.length} cells already finished in ${opts.out}; skipping them`);
  }
  for (const [i, spec] of todo.entries()) {
    // Another process on the same directory (a second core, a Slurm task) may have finished
    // this cell since the scan above: take its result rather than train the cell twice.
    const done = await finishedResult(resultPath(opts.out, spec), opts, log);
    if (done) {
      results.push(done);
      skipped++;
      log(
        `cell ${i + 1}/${todo.length} finished meanwhile by another run: ${done.id}; skipping it`,
      );
      continue;
    }
    const t0 = performance.now();
    if (spec.backend !== backend) {
      await initBackend({ name: spec.backend });
      backend = spec.backend;
    }
    const r = await runCell(spec, opts, { cache, backendReady: true });
    const s = (performance.now() - t0) / 1000;
    spent += s;
    ran++;
    results.push(r);
    await opts.onCellDone?.(r);
    const eta = (spent / ran) * (todo.length - ran);
    log(
      `cell ${i + 1}/${todo.length} done: ${r.id}  MAP I2T ${r.metrics.I2T.mapAll.toFixed(4)} ` +
        `T2I ${r.metrics.T2I.mapAll.toFixed(4)}  ${s.toFixed(1)}s  grid ETA ${Math.round(eta)}s`,
    );
  }
  return { results, ran, skipped, seconds: spent };
}
