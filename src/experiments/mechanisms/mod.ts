/**
 * The pre-registered mechanism study (docs/mechanisms.md), run by `deno task mechanisms` (the
 * CLI, src/experiments/mechanisms.ts).
 *
 * The sweeps are typed data ({@link SWEEPS}, {@link FIXED}; sweeps.ts): for each component,
 * the method(s), the ablation that removes it, the knob that turns its mechanism up (a setting
 * of the synthetic generator, or the code length) and the knob's values. Every point is a pair
 * of cells (full model, ablation) per seed, run through the grid runner
 * (src/experiments/grid.ts; {@link runStudy}, run.ts): one result file per cell, finished cells
 * skipped on rerun, so a stopped run loses nothing. Cells that several sweeps share (the full
 * models on default data at 32 bits) run once: a cell's generator settings leave out values
 * equal to the generator's defaults, so they have the same id.
 *
 * Every trained cell also records the quantisation gap of its stored training outputs H^v,
 * H^t (the selected epoch's): mean |h| and the mean squared distance between h and sign(h),
 * per code entry (result field `diagnostics`, {@link quantisationGap}).
 *
 * The analysis ({@link analyseSweep}, analysis.ts) follows the pre-registration: at each knob
 * value the paired difference ablation − full over the seeds, its 95% CI (t distribution), a
 * two-sided paired t-test, Holm-corrected across the knob values of the sweep (one family per
 * method and measure); measures MAP@all I→T, T→I and their mean. {@link resultsMarkdown}
 * (report.ts) renders it, and {@link replaceResultsSection} puts it under "## Results" of
 * docs/mechanisms.md, touching nothing else of the file. {@link controlReading} (control.ts)
 * reads a module's positive control for the verdict on it.
 *
 * @module
 */
export {
  AMENDMENT2,
  AMENDMENT3,
  defaultEpochs,
  FIXED,
  type Knob,
  knobValue,
  pointSpec,
  positiveControlFor,
  readingOrder,
  studySpecs,
  type Sweep,
  sweepByName,
  SWEEPS,
  sweepSpecs,
} from "./sweeps.ts";
export {
  estimateSeconds,
  existingResults,
  formatDuration,
  PRIOR_SECONDS_PER_EPOCH,
  quantisationGap,
  runStudy,
  type StudyRunOptions,
} from "./run.ts";
export {
  realValuedDiagnostics,
  type RealValuedEncoder,
  realValuedMapAll,
  realValuedOutputs,
} from "./real_valued.ts";
export {
  analyseStudy,
  analyseSweep,
  type GapRow,
  type Measure,
  measureOf,
  MEASURES,
  type PointRow,
  significantValues,
  type SweepAnalysis,
} from "./analysis.ts";
export { controlReading } from "./control.ts";
export { formatDiff, formatEffect, formatP, minimalDetectableEffect } from "../stats.ts";
export { sweepFigure } from "./figure.ts";
export {
  familiesMarkdown,
  ranWithInactiveModules,
  replaceResultsSection,
  type ResultsContext,
  resultsMarkdown,
  sweepMarkdown,
  writeAnalysis,
} from "./report.ts";
