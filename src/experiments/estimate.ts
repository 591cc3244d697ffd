/**
 * How long a grid will take, estimated before it starts (`deno task reproduce` prints it): the
 * per-epoch and per-cell costs of finished cells already in the results directory when there
 * are some (measured on this machine), else the costs measured on a 2-core machine
 * ({@link MEASURED_COSTS}). An estimate, and said to be one: early stopping makes cells
 * shorter, other load on the machine makes them longer, and a dataset or method never measured
 * has no estimate (the grid's own ETA after each cell takes over).
 *
 * @module
 */
import { METHODS } from "../models/mod.ts";
import type { CellMethod, ExperimentSpec } from "./spec.ts";
import type { CellResult } from "./results.ts";

/** Measured costs of one dataset on a 2-core machine, in seconds. */
export interface DatasetCosts {
  /** Process start, backend start-up and loading the dataset: once per grid. */
  readonly startup: number;
  /** One cell's model construction, final encoding and metrics (no training). */
  readonly cell: number;
  /** One training epoch (with the validation MAP of that epoch) of each trained method. */
  readonly epoch: Readonly<Partial<Record<CellMethod, number>>>;
}

/**
 * Seconds measured on a 2-core machine (Deno 2.9.6, wasm backend with the fast kernels,
 * no OpenBLAS installed, so the BLAS kernels were off), full models, 32 bits, each dataset's
 * default batch size, validation every epoch. How: each configuration ran alone, one process at
 * a time, as `time deno run -A src/experiments/reproduce.ts --dataset D --methods M --ablations
 * full --bits 32 --epochs E --no-png` with HASH_DATA_DIR=<data dir>, for E = 1 and 3
 * (and M = random for the startup). Other jobs shared the machine (load 4-10 on 2 cores), so
 * the numbers are CPU seconds (user + sys) of the process — equal to wall seconds on an idle
 * machine, the wasm backend computing on one thread; wall-clock times were up to 4x longer.
 * - `epoch` = (CPU(E = 3) − CPU(E = 1)) / 2: one epoch with its validation MAP;
 * - `cell` = the mean `encodeSeconds` of the trained cells' result files, scaled by their
 *   process's CPU / wall ratio: encoding the query and database sets and every metric;
 * - `startup` = CPU of the random-projection run minus its cell's scaled `encodeSeconds`:
 *   process start, backend and dataset loading (mirflickr25k-simimg generates its simulated
 *   image side then).
 * Raw CPU seconds, E = 1 / E = 3. Round 1 (load 5-10): synthetic CPAH 5.65 / 11.81, DFAH
 * 7.55 / 18.35, random 2.48; wikipedia CPAH 4.41 / 8.48, DFAH 6.03 / 14.07, random 1.11;
 * mirflickr25k-simimg CPAH 35.80 / 73.90, DFAH 65.25 / 128.92, random 11.31. Round 2 (load
 * about 4): synthetic CPAH 6.28 / 9.95, DFAH 6.71 / 14.70; wikipedia CPAH 3.87 / 7.86, DFAH
 * 5.46 / 12.63. The table takes round 2 where there is one (the busier machine of round 1
 * inflated even CPU time, up to 1.7x for synthetic CPAH), round 1 for mirflickr25k-simimg,
 * which therefore errs long.
 * The ablations are costed as their full model (they remove parts, so this errs long); the
 * first epoch's warm-up is not counted; with OpenBLAS the epochs are several times shorter
 * (README: the built-in default grid took 3.5 minutes with OpenBLAS; this table estimates ~8).
 * Datasets not listed were not measured.
 */
export const MEASURED_COSTS: Readonly<Record<string, DatasetCosts>> = {
  synthetic: { startup: 2.2, cell: 0.43, epoch: { cpah: 1.84, dfah: 3.99 } },
  wikipedia: { startup: 1.0, cell: 0.38, epoch: { cpah: 2.00, dfah: 3.59 } },
  "mirflickr25k-simimg": { startup: 5.3, cell: 12.5, epoch: { cpah: 19.05, dfah: 31.84 } },
};

/** An estimate of a grid's duration. */
export interface GridEstimate {
  /** Estimated seconds of the cells that have a cost (startup included once). */
  readonly seconds: number;
  /** Cells to run (finished cells excluded). */
  readonly cells: number;
  /** Cells with no cost known (a dataset or method never measured here or on a 2-core machine). */
  readonly unknown: number;
  /** Cells costed from finished cells of the results directory. */
  readonly fromFinished: number;
  /** Cells costed from {@link MEASURED_COSTS}. */
  readonly fromTable: number;
  /** Finished cells the costs were read from. */
  readonly finishedUsed: number;
}

/** The costs one finished result file shows: seconds per epoch and per cell besides training. */
function costsOf(r: CellResult): { epoch?: number; cell: number } {
  const epochs = r.training?.epochsRun ?? r.training?.history?.length ?? 0;
  const epoch = epochs > 0 ? r.training.seconds / epochs : undefined;
  return { epoch, cell: r.encodeSeconds ?? 0 };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Estimate the seconds the cells `todo` will take. `finished`: result files already in the
 * results directory (any grid's); a cell takes the mean per-epoch and per-cell cost of the
 * finished cells of its dataset (variant included) and method when there are some, else the
 * reference machine's {@link MEASURED_COSTS} of its dataset and method. A random-projection cell
 * costs one cell (encoding and metrics); closed-form methods (fitted when built) have no
 * measured cost, so without finished cells of theirs they count as never measured.
 */
export function estimateGrid(
  todo: readonly ExperimentSpec[],
  finished: readonly CellResult[] = [],
): GridEstimate {
  const key = (s: ExperimentSpec) => `${s.dataset}/${s.variant ?? ""}/${s.method}`;
  const seen = new Map<string, { epoch: number[]; cell: number[] }>();
  for (const r of finished) {
    if (!r?.spec) continue;
    const c = costsOf(r);
    const k = key(r.spec);
    const e = seen.get(k) ?? { epoch: [], cell: [] };
    if (c.epoch !== undefined) e.epoch.push(c.epoch);
    e.cell.push(c.cell);
    seen.set(k, e);
  }
  let seconds = 0, unknown = 0, fromFinished = 0, fromTable = 0;
  const used = new Set<string>();
  const startups = new Set<string>();
  for (const s of todo) {
    const mine = seen.get(key(s));
    const table = MEASURED_COSTS[s.dataset];
    const tableEpoch = table?.epoch[s.method];
    if (mine && (s.epochs === 0 || mine.epoch.length)) {
      seconds += mine.cell.length ? mean(mine.cell) : 0;
      if (s.epochs > 0) seconds += s.epochs * mean(mine.epoch);
      fromFinished++;
      used.add(key(s));
    } else if (
      table && (s.epochs > 0 ? tableEpoch !== undefined : METHODS[s.method]?.kind === "random")
    ) {
      seconds += table.cell + s.epochs * (tableEpoch ?? 0);
      if (!startups.has(s.dataset)) seconds += table.startup;
      startups.add(s.dataset);
      fromTable++;
    } else unknown++;
  }
  const finishedUsed = finished.filter((r) => r?.spec && used.has(key(r.spec))).length;
  return { seconds, cells: todo.length, unknown, fromFinished, fromTable, finishedUsed };
}

/** "~40 s", "~12 min", "~2 h 05 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `~${Math.max(1, Math.round(seconds))} s`;
  const min = Math.round(seconds / 60);
  if (min < 90) return `~${min} min`;
  return `~${Math.floor(min / 60)} h ${String(min % 60).padStart(2, "0")} min`;
}

/** `n` and a noun, singular for one: "1 cell", "3 cells". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * The estimate line printed before a grid starts, e.g. "estimated ~12 min for 27 cells (from
 * 3 finished cells in results/x and the per-epoch costs measured on a 2-core machine
 * ...) — an estimate: ...". `blasAvailable`: the BLAS kernels will be installed in this run
 * (the table was measured without them, so it then errs long, and the line says so).
 */
export function describeEstimate(
  e: GridEstimate,
  out: string,
  opts: { blasAvailable?: boolean } = {},
): string {
  if (e.cells === 0) return "nothing to run: every cell already has a result";
  const known = e.cells - e.unknown;
  if (known === 0) {
    return `no time estimate for ${plural(e.cells, "cell")}: their dataset and method were ` +
      `never measured (src/experiments/estimate.ts) and ${out} has no finished cell of them; ` +
      `the grid prints an ETA after each cell`;
  }
  const from: string[] = [];
  if (e.fromFinished) from.push(`${plural(e.finishedUsed, "finished cell")} in ${out}`);
  if (e.fromTable) {
    from.push(
      "the per-epoch costs measured on a 2-core machine without BLAS " +
        "(src/experiments/estimate.ts)" +
        (opts.blasAvailable ? "; BLAS kernels are available here, so expect less" : ""),
    );
  }
  const rest = e.unknown ? `; ${plural(e.unknown, "cell")} never measured, not counted` : "";
  return `estimated ${formatDuration(e.seconds)} for ${plural(known, "cell")} (from ${
    from.join(" and ")
  }${rest}) — an estimate: early stopping shortens it, other load on the machine lengthens it`;
}
