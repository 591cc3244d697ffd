/**
 * `deno task mechanisms`: the sweeps of the pre-registered mechanism study (docs/mechanisms.md)
 * and their analysis.
 *
 * The sweeps are typed data ({@link SWEEPS}, {@link FIXED}): for each component, the method(s),
 * the ablation that removes it, the knob that turns its mechanism up (a setting of the
 * synthetic generator, or the code length) and the knob's values. Every point is a pair of
 * cells (full model, ablation) per seed, run through the grid runner (src/experiments/grid.ts):
 * one result file per cell, finished cells skipped on rerun, so a stopped run loses nothing.
 * Cells that several sweeps share (the full models on default data at 32 bits) run once: a
 * cell's generator settings leave out values equal to the generator's defaults, so they have
 * the same id.
 *
 * Every trained cell also records the quantisation gap of its stored training outputs H^v,
 * H^t (the selected epoch's): mean |h| and the mean squared distance between h and sign(h),
 * per code entry (result field `diagnostics`, {@link quantisationGap}).
 *
 * The analysis ({@link analyseSweep}) follows the pre-registration: at each knob value the
 * paired difference ablation − full over the seeds, its 95% CI (t distribution), a two-sided
 * paired t-test, Holm-corrected across the knob values of the sweep (one family per method and
 * measure); measures MAP@all I→T, T→I and their mean. {@link resultsMarkdown} renders it, and
 * {@link replaceResultsSection} puts it under "## Results" of docs/mechanisms.md, touching
 * nothing else of the file.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { formatMarkdown, parseCliOptions, runCli, writeTextAtomic } from "../io.ts";
import { BACKEND_NAMES, type BackendName, parseBackendName } from "../accel/backend.ts";
import { isTrainable, METHODS } from "../models/mod.ts";
import type { HashModel } from "../models/model.ts";
import { quantisationStats } from "../models/diagnostics.ts";
import { canonicalData, cellId, type CellMethod, type ExperimentSpec } from "./spec.ts";
import { type CellResult, readResult, resultPath } from "./results.ts";
import { runGrid } from "./grid.ts";
import { holm, type PairedComparison, pairedComparison } from "./stats.ts";
import { recordCommand } from "./command_log.ts";
import { TOOLKIT_VERSION } from "../version.ts";

/** What a sweep turns up: a setting of the synthetic generator, or the code length. */
export type Knob = "nuisance" | "shift" | "disagreement" | "bits";

/** One pre-registered sweep. */
export interface Sweep {
  /** Name for `--sweep`. */
  readonly name: string;
  /** The component under test, as in the pre-registration's table. */
  readonly component: string;
  /** The mechanism the paper claims for it. */
  readonly mechanism: string;
  /** Methods that have the component. */
  readonly methods: readonly CellMethod[];
  /** The ablation flag that removes it. */
  readonly ablation: string;
  /** The knob. */
  readonly knob: Knob;
  /** The knob's values, in order. */
  readonly values: readonly number[];
  /** Whether the sweep's table includes the quantisation gap. */
  readonly quantisationGap?: boolean;
}

/** The fixed settings of every sweep (docs/mechanisms.md, "Fixed settings"). */
export const FIXED = {
  dataset: "synthetic",
  split: "permutation",
  /** Pairs generated (the generator's seed stays at its default 0). */
  n: 3000,
  /** Code length, except in the code-length sweep. */
  bits: 32,
  seeds: [1, 2, 3, 4, 5],
} as const;

/** The sweeps, in the order of the pre-registration's table. */
export const SWEEPS: readonly Sweep[] = [
  {
    name: "consistency",
    component: "CPAH consistency refinement",
    mechanism: "separating modality-private from modality-common information",
    methods: ["cpah"],
    ablation: "noCR",
    knob: "nuisance",
    values: [0, 0.5, 1, 2, 4],
  },
  {
    name: "adversary",
    component: "CPAH and DFAH modality discriminator",
    mechanism: "aligning the two modalities' feature distributions",
    methods: ["cpah", "dfah"],
    ablation: "noAdversary",
    knob: "shift",
    values: [0, 1, 2, 4],
  },
  {
    name: "discrete",
    component: "CPAH and DFAH discrete codes",
    mechanism: "avoiding the quantisation error of binarising relaxed outputs",
    methods: ["cpah", "dfah"],
    ablation: "relaxed",
    knob: "bits",
    values: [16, 32, 64, 128],
    quantisationGap: true,
  },
  {
    name: "fusion",
    component: "DFAH fusion learner",
    mechanism: "unified codes from both modalities of a pair",
    methods: ["dfah"],
    ablation: "noFusion",
    knob: "disagreement",
    values: [0, 0.1, 0.2, 0.4],
  },
];

/** A sweep by name; one-line error listing the names. */
export function sweepByName(name: string): Sweep {
  const s = SWEEPS.find((x) => x.name === name);
  if (!s) {
    throw new Error(
      `--sweep: unknown sweep '${name}'; expected one of ${SWEEPS.map((x) => x.name).join(", ")}`,
    );
  }
  return s;
}

/** The method's default epochs on the study's data at `bits` (early stopping may end sooner). */
export function defaultEpochs(method: CellMethod, bits: number): number {
  const entry = METHODS[method];
  if (!isTrainable(entry)) return 0;
  return (entry.config(FIXED.dataset, bits) as { epochs: number }).epochs;
}

/** The cell of one point: method, "full" or the sweep's ablation, knob value, seed. */
export function pointSpec(
  sweep: Sweep,
  method: CellMethod,
  ablation: string,
  value: number,
  seed: number,
  backend: BackendName,
): ExperimentSpec {
  const bits = sweep.knob === "bits" ? value : FIXED.bits;
  const settings: Record<string, number> = { n: FIXED.n };
  if (sweep.knob !== "bits") settings[sweep.knob] = value;
  const data = canonicalData(FIXED.dataset, settings, `sweep ${sweep.name}`);
  return {
    dataset: FIXED.dataset,
    split: FIXED.split,
    method,
    ablation,
    bits,
    seed,
    epochs: defaultEpochs(method, bits),
    backend,
    ...(data ? { data } : {}),
  };
}

/** Every cell of a sweep (method, value, full/ablation, seed). */
export function sweepSpecs(sweep: Sweep, backend: BackendName): ExperimentSpec[] {
  const out: ExperimentSpec[] = [];
  for (const method of sweep.methods) {
    for (const value of sweep.values) {
      for (const ablation of ["full", sweep.ablation]) {
        for (const seed of FIXED.seeds) {
          out.push(pointSpec(sweep, method, ablation, value, seed, backend));
        }
      }
    }
  }
  return out;
}

/**
 * The cells of several sweeps, each once (shared cells deduplicated by id), seed by seed: a
 * run stopped part-way has the first seeds of every point rather than every seed of a few.
 */
export function studySpecs(sweeps: readonly Sweep[], backend: BackendName): ExperimentSpec[] {
  const seen = new Set<string>();
  const out: ExperimentSpec[] = [];
  for (const seed of FIXED.seeds) {
    for (const sweep of sweeps) {
      for (const s of sweepSpecs(sweep, backend).filter((x) => x.seed === seed)) {
        const id = cellId(s);
        if (!seen.has(id)) {
          seen.add(id);
          out.push(s);
        }
      }
    }
  }
  return out;
}

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
 * and the default epochs (an upper bound: early stopping may end sooner).
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
      basis.push(`${method}: ${perEpoch} s/epoch x default epochs (prior, no finished cells)`);
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

// ---------------------------------------------------------------------------------------
// Analysis

/** The measures compared: MAP@all I→T, T→I, and their mean. */
export type Measure = "I2T" | "T2I" | "mean";
/** The measures in table order. */
export const MEASURES: readonly Measure[] = ["I2T", "T2I", "mean"];
const MEASURE_LABELS: Record<Measure, string> = { I2T: "I→T", T2I: "T→I", mean: "mean" };

/** A cell's value of a measure. */
export function measureOf(r: CellResult, m: Measure): number | undefined {
  const i2t = r.metrics.I2T?.mapAll, t2i = r.metrics.T2I?.mapAll;
  if (m === "I2T") return i2t;
  if (m === "T2I") return t2i;
  return typeof i2t === "number" && typeof t2i === "number" ? (i2t + t2i) / 2 : undefined;
}

/** One knob value of one method: full and ablation over the seeds, and their comparison. */
export interface PointRow {
  value: number;
  /** Cells finished (full, ablation) of the seeds. */
  finished: { full: number; ablation: number };
  /** Mean over the seeds both have (those of {@link tests}), per measure (NaN when none). */
  full: Record<Measure, number>;
  ablation: Record<Measure, number>;
  /** Paired ablation − full over the seeds both have. */
  tests: Record<Measure, PairedComparison>;
  /** Holm-corrected p across the knob values of the sweep (this method, this measure). */
  pHolm: Record<Measure, number>;
}

/** Quantisation gap of one method, code length and series (full or ablation). */
export interface GapRow {
  method: CellMethod;
  value: number;
  ablation: string;
  /** Finished cells, and of them those with a recorded gap. */
  finished: number;
  recorded: number;
  /** Means over the recorded cells (NaN when none). */
  meanAbsH: number;
  signDistance: number;
}

/** The analysis of one sweep. */
export interface SweepAnalysis {
  sweep: Sweep;
  /** Cells of the sweep and how many have a result. */
  cells: number;
  finished: number;
  methods: { method: CellMethod; rows: PointRow[] }[];
  /** The quantisation gap rows (sweeps with `quantisationGap`). */
  gap?: GapRow[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Analyse one sweep from the result files that exist (`lookup` returns a cell's result or
 * undefined): per method and knob value, full and ablation means and the paired comparison;
 * Holm across the knob values per method and measure.
 */
export function analyseSweep(
  sweep: Sweep,
  lookup: (spec: ExperimentSpec) => CellResult | undefined,
  backend: BackendName,
): SweepAnalysis {
  const specs = sweepSpecs(sweep, backend);
  const finished = specs.filter((s) => lookup(s)).length;
  const methods = sweep.methods.map((method) => {
    const rows: PointRow[] = sweep.values.map((value) => {
      const series = (ablation: string) =>
        new Map(
          FIXED.seeds.flatMap((seed) => {
            const r = lookup(pointSpec(sweep, method, ablation, value, seed, backend));
            return r ? [[seed, r] as const] : [];
          }),
        );
      const full = series("full"), abl = series(sweep.ablation);
      const paired = FIXED.seeds.filter((s) => full.has(s) && abl.has(s));
      const avg = (m: Map<number, CellResult>, k: Measure) =>
        mean(paired.map((s) => measureOf(m.get(s)!, k)).filter((x) => typeof x === "number"));
      const per = <T>(f: (k: Measure) => T) =>
        Object.fromEntries(MEASURES.map((k) => [k, f(k)])) as Record<Measure, T>;
      return {
        value,
        finished: { full: full.size, ablation: abl.size },
        full: per((k) => avg(full, k)),
        ablation: per((k) => avg(abl, k)),
        tests: per((k) =>
          pairedComparison(
            paired.map((s) => measureOf(abl.get(s)!, k) ?? NaN),
            paired.map((s) => measureOf(full.get(s)!, k) ?? NaN),
          )
        ),
        pHolm: per(() => NaN),
      };
    });
    for (const k of MEASURES) {
      const corrected = holm(rows.map((r) => r.tests[k].p));
      rows.forEach((r, i) => (r.pHolm[k] = corrected[i]));
    }
    return { method, rows };
  });
  const out: SweepAnalysis = { sweep, cells: specs.length, finished, methods };
  if (sweep.quantisationGap) {
    out.gap = sweep.methods.flatMap((method) =>
      sweep.values.flatMap((value) =>
        ["full", sweep.ablation].map((ablation) => {
          const rs = FIXED.seeds.map((seed) =>
            lookup(pointSpec(sweep, method, ablation, value, seed, backend))
          ).filter((r): r is CellResult => r !== undefined);
          const d = rs.map((r) => r.diagnostics).filter((x) =>
            typeof x?.meanAbsH === "number" && typeof x?.signDistance === "number"
          ) as Record<string, number>[];
          return {
            method,
            value,
            ablation,
            finished: rs.length,
            recorded: d.length,
            meanAbsH: mean(d.map((x) => x.meanAbsH)),
            signDistance: mean(d.map((x) => x.signDistance)),
          };
        })
      )
    );
  }
  return out;
}

const MISSING = "—";
const fmtMap = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : MISSING);
const signed = (x: number) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(4);

/** "+0.0123 [−0.0040, +0.0286]", a bare mean with one pair, or "—". */
export function formatDiff(c: PairedComparison): string {
  if (!Number.isFinite(c.mean)) return MISSING;
  return Number.isFinite(c.ci[0])
    ? `${signed(c.mean)} [${signed(c.ci[0])}, ${signed(c.ci[1])}]`
    : signed(c.mean);
}

/** "<0.001", "0.042", or "—". */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return MISSING;
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** The knob's column heading. */
function knobLabel(k: Knob): string {
  return k === "bits" ? "bits" : `\`${k}\``;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The knob values where the corrected test rejects at 5%, by who is ahead. */
export function significantValues(
  rows: PointRow[],
  k: Measure,
  alpha = 0.05,
): { fullAhead: number[]; ablationAhead: number[] } {
  const sig = rows.filter((r) => r.pHolm[k] < alpha);
  return {
    fullAhead: sig.filter((r) => r.tests[k].mean < 0).map((r) => r.value),
    ablationAhead: sig.filter((r) => r.tests[k].mean > 0).map((r) => r.value),
  };
}

/** The Markdown of one sweep: a table per method (and the quantisation gap), with a summary. */
export function sweepMarkdown(a: SweepAnalysis): string {
  const s = a.sweep;
  const parts: string[] = [
    `### ${s.component} (\`${s.ablation}\`) along ${knobLabel(s.knob)}`,
    `Sweep \`${s.name}\`: ${s.mechanism}; values ${s.values.join(", ")}. ` +
    `${a.finished} of ${a.cells} cells finished.`,
  ];
  for (const { method, rows } of a.methods) {
    const label = METHODS[method].label;
    const header = [knobLabel(s.knob), "seeds"];
    for (const k of MEASURES) {
      const l = MEASURE_LABELS[k];
      header.push(`${l} full / ablation`, `Δ ${l} [95% CI]`, `p ${l} (Holm)`);
    }
    const body = rows.map((r) => {
      const n = r.tests.mean.n, { full, ablation } = r.finished;
      const seeds = full === n && ablation === n
        ? String(n)
        : `${n} (full ${full}, ablation ${ablation})`;
      const cells = [String(r.value), seeds];
      for (const k of MEASURES) {
        cells.push(
          `${fmtMap(r.full[k])} / ${fmtMap(r.ablation[k])}`,
          formatDiff(r.tests[k]),
          formatP(r.pHolm[k]),
        );
      }
      return cells;
    });
    parts.push(
      `**${label}** — MAP@all of the full model and \`${s.ablation}\` (means over the seeds both ` +
        `have: "seeds"; when one side has more finished cells, their counts follow)`,
      table(header, body),
    );
    const summary = MEASURES.map((k) => {
      const { fullAhead, ablationAhead } = significantValues(rows, k);
      const tested = rows.filter((r) => Number.isFinite(r.pHolm[k])).length;
      const where = (xs: number[]) => xs.join(", ");
      const verdict = !tested
        ? "not testable yet (fewer than 2 paired seeds at every value)"
        : fullAhead.length
        ? `can matter: full model significantly ahead at ${where(fullAhead)}`
        : `no knob value where the full model is significantly ahead (${tested} of ${rows.length} values tested)`;
      const reverse = ablationAhead.length
        ? `; the ablation significantly ahead at ${where(ablationAhead)}`
        : "";
      const along = rows.map((r) =>
        Number.isFinite(r.tests[k].mean) ? signed(r.tests[k].mean) : MISSING
      ).join(", ");
      return `- ${MEASURE_LABELS[k]}: ${verdict}${reverse}. Mean Δ along the knob: ${along}.`;
    });
    parts.push(summary.join("\n"));
  }
  if (a.gap) {
    const header = [
      "method",
      knobLabel(s.knob),
      "series",
      "cells with gap / finished",
      "mean abs(h)",
      "mean (h − sign h)²",
    ];
    const body = a.gap.map((g) => [
      METHODS[g.method].label,
      String(g.value),
      g.ablation,
      `${g.recorded} / ${g.finished}`,
      g.recorded ? g.meanAbsH.toFixed(4) : g.finished ? "not recorded" : MISSING,
      g.recorded ? g.signDistance.toFixed(4) : g.finished ? "not recorded" : MISSING,
    ]);
    parts.push(
      `**Quantisation gap** — over the stored training outputs H^v and H^t of the selected ` +
        `epoch (per code entry, mean over the seeds whose result file recorded it; sign(0) = +1)`,
      table(header, body),
    );
    if (a.gap.some((g) => g.finished > g.recorded)) {
      parts.push(
        '"not recorded": those result files were written without the mechanisms runner\'s ' +
          "diagnostics; the gap cannot be computed from a result file's history (it keeps " +
          "only per-epoch loss means), so those cells would have to be rerun to get it.",
      );
    }
  }
  return parts.join("\n\n");
}

/** Everything that goes under "## Results". */
export interface ResultsContext {
  /** Date of the analysis (YYYY-MM-DD). */
  date: string;
  /** Commands that produced the result files (command.txt of the output directory). */
  commands: string[];
  /** The results directory, as given. */
  out: string;
  backend: BackendName;
}

/** The text under "## Results": how it was made, then one section per sweep. */
export function resultsMarkdown(analyses: SweepAnalysis[], ctx: ResultsContext): string {
  const cells = analyses.reduce((a, x) => a + x.cells, 0);
  const finished = analyses.reduce((a, x) => a + x.finished, 0);
  const head = [
    `Written by \`deno task mechanisms\` on ${ctx.date} (toolkit ${TOOLKIT_VERSION}, backend ` +
    `${ctx.backend}) from the result files in \`${ctx.out}/\` — ${finished} of ${cells} ` +
    `sweep cells finished (cells shared between sweeps counted in each). Commands:`,
    ["```sh", ...ctx.commands, "```"].join("\n"),
    "Δ = ablation − full model in MAP@all, paired by seed (mean and 95% confidence interval " +
    "from the t distribution with n − 1 degrees of freedom); p = two-sided paired t-test, " +
    "Holm-corrected across the knob values of the sweep, one family per method and measure " +
    "(I→T, T→I, mean). Negative Δ: the ablation retrieves worse, the component helps. A " +
    'component "can matter" when at some knob value the corrected test rejects at 5% with the ' +
    'full model ahead (the pre-registered criterion); whether it "matters more as the ' +
    'mechanism grows" is read from the mean Δ along the knob.',
  ];
  return [...head, ...analyses.map(sweepMarkdown)].join("\n\n") + "\n";
}

/**
 * `doc` with the text under its "## Results" heading (up to the next level-2 heading, or the
 * end) replaced by `body`; everything else is kept byte for byte. Throws when the heading is
 * missing or appears twice.
 */
export function replaceResultsSection(doc: string, body: string): string {
  const heading = /^## Results[ \t]*$/gm;
  const hits = [...doc.matchAll(heading)];
  if (hits.length !== 1) {
    throw new Error(
      `mechanisms: expected exactly one '## Results' heading in the study document, found ${hits.length}`,
    );
  }
  const start = hits[0].index! + hits[0][0].length;
  const rest = doc.slice(start);
  const next = rest.search(/^## /m);
  const end = next < 0 ? doc.length : start + next;
  const tail = doc.slice(end);
  return `${doc.slice(0, start)}\n\n${body.trim()}\n${tail ? `\n${tail}` : ""}`;
}

// ---------------------------------------------------------------------------------------
// CLI

const HELP = `deno task mechanisms [options]

Runs the pre-registered mechanism study (docs/mechanisms.md): per sweep, the full model and
the ablation at every knob value, seeds ${FIXED.seeds.join("-")}, on synthetic data (n ${FIXED.n},
split ${FIXED.split}, ${FIXED.bits} bits except the code-length sweep, the methods' default configs,
epochs and early stopping). One result file per cell; finished cells are skipped, so a stopped
run resumes where it was. Then writes the analysis under "## Results" of the study document
(only that section changes), whatever the outcome.

Options
  --sweep NAME      run only this sweep (repeatable or comma-separated): ${
  SWEEPS.map((s) => s.name).join(", ")
}
                    (default: all; the analysis always covers every sweep's existing results)
  --out DIR         results directory                 (default docs/results/mechanisms)
  --doc FILE        study document to update          (default docs/mechanisms.md)
  --backend NAME    ${BACKEND_NAMES.join(" | ")}  (default: env HASH_BACKEND, else wasm)
  --plan            list the cells and the time estimate; run nothing, write nothing
  --report-only     write the analysis from the existing result files; run nothing
  --help            this text
`;

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Parse the CLI (exported for tests) with the toolkit's CLI parser: an unknown option, a
 * missing value or an option given twice (other than --sweep) is a one-line error.
 */
export function parseMechanismsCli(argv: string[]) {
  const values = parseCliOptions(argv, {
    sweep: { type: "string", multiple: true },
    out: { type: "string" },
    doc: { type: "string" },
    backend: { type: "string" },
    plan: { type: "boolean", default: false },
    "report-only": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  }, "mechanisms") as {
    sweep?: string[];
    out?: string;
    doc?: string;
    backend?: string;
    plan: boolean;
    "report-only": boolean;
    help: boolean;
  };
  const names = (values.sweep ?? []).flatMap((v) => v.split(",")).map((v) => v.trim())
    .filter(Boolean);
  const sweeps = names.length ? [...new Set(names)].map(sweepByName) : [...SWEEPS];
  if (values.plan && values["report-only"]) {
    throw new Error("--plan and --report-only: choose one");
  }
  return {
    help: values.help,
    sweeps,
    out: values.out ?? "docs/results/mechanisms",
    doc: values.doc ?? `${REPO_ROOT}docs/mechanisms.md`,
    backend: parseBackendName(
      values.backend ?? Deno.env.get("HASH_BACKEND") ?? "wasm",
      "--backend",
    ),
    plan: values.plan,
    reportOnly: values["report-only"],
  };
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

/** Analyse every sweep from `out` and rewrite the Results section of `doc`. */
export async function writeAnalysis(opts: {
  out: string;
  doc: string;
  backend: BackendName;
  date?: string;
  commands?: string[];
  log?: (line: string) => void;
}): Promise<string> {
  const log = opts.log ?? console.log;
  const found = await existingResults(opts.out, studySpecs(SWEEPS, opts.backend));
  const lookup = (s: ExperimentSpec) => found.get(cellId(s));
  const analyses = SWEEPS.map((s) => analyseSweep(s, lookup, opts.backend));
  let commands = opts.commands;
  if (!commands) {
    try {
      commands = (await Deno.readTextFile(`${opts.out}/command.txt`)).split("\n").filter(Boolean);
    } catch {
      commands = [];
    }
  }
  const body = await formatMarkdown(
    resultsMarkdown(analyses, {
      date: opts.date ?? new Date().toISOString().slice(0, 10),
      commands: commands.length ? commands : ["(no command.txt in the results directory)"],
      out: opts.out,
      backend: opts.backend,
    }),
    (why) => log(`mechanisms: could not format the results with deno fmt (${why})`),
  );
  const doc = await Deno.readTextFile(opts.doc);
  await writeTextAtomic(opts.doc, replaceResultsSection(doc, body));
  log(`wrote the Results section of ${opts.doc} (${found.size} result files)`);
  return body;
}

async function main(argv: string[]): Promise<void> {
  const cli = parseMechanismsCli(argv);
  if (cli.help) {
    console.log(HELP);
    return;
  }
  const specs = studySpecs(cli.sweeps, cli.backend);
  if (!cli.reportOnly) {
    const found = await existingResults(cli.out, specs);
    const todo = specs.filter((s) => !found.has(cellId(s)));
    const est = estimateSeconds(todo, [...found.values()]);
    for (const sw of cli.sweeps) {
      const own = sweepSpecs(sw, cli.backend);
      const done = own.filter((s) => found.has(cellId(s))).length;
      console.log(
        `sweep ${sw.name}: ${own.length} cells (${sw.methods.join(", ")} full vs ${sw.ablation}, ` +
          `${sw.knob} ${sw.values.join("/")}, seeds ${FIXED.seeds.join(",")}), ${done} finished`,
      );
    }
    console.log(
      `mechanisms: ${specs.length} distinct cells, ${found.size} finished, ${todo.length} to run ` +
        `-> ${cli.out}/; estimate ${formatDuration(est.seconds)} in one process (${est.basis})`,
    );
    if (cli.plan) {
      for (const s of todo) console.log(`  ${cellId(s)}`);
      return;
    }
    await Deno.mkdir(cli.out, { recursive: true });
    await recordCommand(cli.out, `deno task mechanisms${argv.length ? " " + argv.join(" ") : ""}`);
    const outcome = await runGrid(specs, {
      out: cli.out,
      diagnose: (model) => quantisationGap(model),
    });
    console.log(
      `mechanisms: ${outcome.ran} cells run, ${outcome.skipped} skipped, ${
        formatDuration(outcome.seconds)
      }`,
    );
  }
  await writeAnalysis({ out: cli.out, doc: cli.doc, backend: cli.backend });
}

if (import.meta.main) await runCli("mechanisms", main);
