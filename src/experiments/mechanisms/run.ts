/**
 * Running the mechanism study ({@link runStudy}): every cell through the grid runner
 * (src/experiments/grid.ts), one result file per cell, finished cells skipped on rerun, so a
 * stopped run loses nothing; the time estimate before it starts ({@link estimateSeconds}).
 *
 * Every trained cell also records the quantisation gap of its stored training outputs H^v,
 * H^t (the selected epoch's): mean |h| and the mean squared distance between h and sign(h),
 * per code entry (result field `diagnostics`, {@link quantisationGap}).
 *
 * @module
 */
import type { BackendName } from "../../accel/backend.ts";
import type { HashModel } from "../../models/model.ts";
import { quantisationStats } from "../../models/diagnostics.ts";
import { cellId, type CellMethod, type ExperimentSpec } from "../spec.ts";
import { type CellResult, readResult, resultPath } from "../results.ts";
import { runGrid } from "../grid.ts";
import { recordCommand } from "../command_log.ts";
import { realValuedDiagnostics } from "./real_valued.ts";
import { FIXED, knobValue, studySpecs, type Sweep, sweepSpecs } from "./sweeps.ts";

/**
 * The quantisation gap of a trained model's stored training outputs (H^v and H^t, n x K, the
 * continuous outputs the model keeps for its discrete step; after training they are the
 * selected epoch's): mean |h| and the mean squared distance (h − sign h)², sign(0) = +1, per
 * code entry, over both modalities and per modality ({@link quantisationStats}, the function the
 * models' per-epoch diagnostics use: their `quantGap` is 1 − mean |h|). Undefined for models
 * without them.
 */
export function quantisationGap(model: HashModel): Record<string, number> | undefined {
  const m = model as unknown as { Hv?: unknown; Ht?: unknown };
  if (!(m.Hv instanceof Float32Array) || !(m.Ht instanceof Float32Array)) return undefined;
  if (m.Hv.length === 0 || m.Ht.length === 0) return undefined;
  const both = quantisationStats(m.Hv, m.Ht);
  const v = quantisationStats(m.Hv), t = quantisationStats(m.Ht);
  return {
    meanAbsH: both.meanAbsH,
    signDistance: both.signDistance,
    meanAbsHImage: v.meanAbsH,
    meanAbsHText: t.meanAbsH,
    signDistanceImage: v.signDistance,
    signDistanceText: t.signDistance,
  };
}

/**
 * Seconds per epoch (training with validation) of the study's cells on 2 busy cores, 32 bits:
 * from result files of single synthetic cells (n 3000, permutation split): CPAH 2.3–6.0 s,
 * DFAH 3.7–10.3 s per epoch. Used until the output directory has finished cells to measure.
 */
export const PRIOR_SECONDS_PER_EPOCH: Partial<Record<CellMethod, number>> = { cpah: 4, dfah: 6 };

/** Seconds of a cell beyond its epochs (data, split, encoding, evaluation): a rough prior. */
const CELL_OVERHEAD_SECONDS = 2;

/**
 * Estimated seconds for `todo` cells: per method, the finished cells' mean seconds per epoch
 * and mean epochs trained (early stopping included), else {@link PRIOR_SECONDS_PER_EPOCH}
 * and the cells' epochs (an upper bound: early stopping may end sooner).
 */
export function estimateSeconds(
  todo: readonly ExperimentSpec[],
  finished: readonly CellResult[],
): { seconds: number; basis: string } {
  let seconds = 0;
  const basis: string[] = [];
  for (const method of [...new Set(todo.map((s) => s.method))]) {
    const cells = todo.filter((s) => s.method === method);
    const done = finished.filter((r) => r.spec.method === method && r.training.history.length);
    let perEpoch: number, epochsOf: (s: ExperimentSpec) => number;
    if (done.length) {
      const epochs = done.reduce((a, r) => a + r.training.history.length, 0);
      perEpoch = done.reduce((a, r) => a + r.training.seconds, 0) / epochs;
      const meanRun = epochs / done.length;
      epochsOf = (s) => Math.min(s.epochs, meanRun);
      basis.push(
        `${method}: ${perEpoch.toFixed(1)} s/epoch, ${meanRun.toFixed(1)} epochs ` +
          `(measured on ${done.length} finished cells)`,
      );
    } else {
      perEpoch = PRIOR_SECONDS_PER_EPOCH[method] ?? 5;
      epochsOf = (s) => s.epochs;
      basis.push(`${method}: ${perEpoch} s/epoch x the cells' epochs (prior, no finished cells)`);
    }
    for (const s of cells) seconds += epochsOf(s) * perEpoch + CELL_OVERHEAD_SECONDS;
  }
  return { seconds, basis: basis.join("; ") };
}

/** "3h12m", "4m05s", "12s". */
export function formatDuration(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** The results of `specs` that exist in `out`, by cell id (a corrupted file throws). */
export async function existingResults(
  out: string,
  specs: readonly ExperimentSpec[],
): Promise<Map<string, CellResult>> {
  const found = new Map<string, CellResult>();
  for (const s of specs) {
    try {
      found.set(cellId(s), await readResult(resultPath(out, s)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return found;
}

/** Options of {@link runStudy}. */
export interface StudyRunOptions {
  /** The sweeps whose cells run (each shared cell once). */
  sweeps: readonly Sweep[];
  /** Run only the cells of these seeds (default: all of the study's). */
  seeds?: readonly number[];
  /**
   * Run only the cells at these knob values (default: all of each sweep's), e.g. a sweep's
   * extreme value, where its primary contrast is.
   */
  values?: readonly number[];
  /** Results directory. */
  out: string;
  /** Backend of every cell. */
  backend: BackendName;
  /** List the cells and the time estimate; run nothing, write nothing. */
  plan: boolean;
  /** The command line recorded in `<out>/command.txt` when the cells run. */
  command: string;
}

/**
 * Run the cells of the sweeps that have no result in `out` yet: prints, per sweep, its cells
 * and how many are finished, then the time estimate; with `plan`, lists the cells to run
 * instead and stops there.
 */
export async function runStudy(opts: StudyRunOptions): Promise<void> {
  const seeds = opts.seeds ?? FIXED.seeds;
  const atValue = (sw: Sweep, s: ExperimentSpec) =>
    !opts.values || opts.values.includes(knobValue(sw, s));
  const selected = new Set(
    opts.sweeps.flatMap((sw) => sweepSpecs(sw, opts.backend).filter((s) => atValue(sw, s)))
      .map(cellId),
  );
  const specs = studySpecs(opts.sweeps, opts.backend).filter((s) =>
    seeds.includes(s.seed) && selected.has(cellId(s))
  );
  const found = await existingResults(opts.out, specs);
  const todo = specs.filter((s) => !found.has(cellId(s)));
  const est = estimateSeconds(todo, [...found.values()]);
  for (const sw of opts.sweeps) {
    const own = sweepSpecs(sw, opts.backend).filter((s) =>
      seeds.includes(s.seed) && atValue(sw, s)
    );
    const done = own.filter((s) => found.has(cellId(s))).length;
    console.log(
      `sweep ${sw.name}: ${own.length} cells (${sw.methods.join(", ")} full vs ${sw.ablation}, ` +
        `${sw.knob} ${
          (opts.values ? sw.values.filter((v) => opts.values!.includes(v)) : sw.values).join("/")
        }, ` +
        `seeds ${seeds.join(",")}), ${done} finished`,
    );
  }
  console.log(
    `mechanisms: ${specs.length} distinct cells, ${found.size} finished, ${todo.length} to run ` +
      `-> ${opts.out}/; estimate ${formatDuration(est.seconds)} in one process (${est.basis})`,
  );
  if (opts.plan) {
    for (const s of todo) console.log(`  ${cellId(s)}`);
    return;
  }
  await Deno.mkdir(opts.out, { recursive: true });
  await recordCommand(opts.out, opts.command);
  const outcome = await runGrid(specs, {
    out: opts.out,
    diagnose: (model, spec, ds, split) => {
      const gap = quantisationGap(model);
      // The discrete-code control (amendment 3): relaxed cells also record the MAP of their
      // real-valued outputs.
      const real = spec.ablation === "relaxed" ? realValuedDiagnostics(model, ds, split) : {};
      return gap || Object.keys(real).length ? { ...gap, ...real } : undefined;
    },
  });
  console.log(
    `mechanisms: ${outcome.ran} cells run, ${outcome.skipped} skipped, ${
      formatDuration(outcome.seconds)
    }`,
  );
}
