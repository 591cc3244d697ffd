/**
 * Figures of the reproduction reports as plain plotly.js figure objects (`{data, layout}`):
 * precision-recall curves by Hamming radius, precision@N curves, training curves, MAP
 * versus code length and the models' per-epoch diagnostics. The builders take the result
 * files of ONE dataset section (same dataset, variant and split) and average curves over
 * seeds; they never invent points — a missing result is a missing trace. Notebooks can show a
 * figure with `Deno.jupyter.display({"application/vnd.plotly.v1+json": fig}, {raw: true})`.
 *
 * plotly.js needs a DOM, so it is never imported here: {@link readPlotlyJs} reads a bundle
 * from its npm package folder for inlining into self-contained HTML (the ~1.1 MB basic bundle
 * when every trace is a scatter, bar or pie trace, {@link bundleFor}), and
 * {@link renderImages} / {@link writeFigureImages} render static SVG and PNG images with
 * headless Chromium when it is installed.
 *
 * @module
 */
export {
  bitsOf,
  curveBits,
  DIRECTION_LABELS,
  methodLabel,
  type NamedFigure,
  type PlotlyFigure,
  sectionKeyOf,
  type Series,
  seriesOf,
  summarize,
  type Summary,
} from "./series.ts";
export {
  type CurveComparison,
  type CurveFigureOptions,
  prCurvesFigure,
  precisionAtNFigure,
} from "./curves.ts";
export {
  mapVsBitsFigure,
  type MapVsBitsOptions,
  sectionFigures,
  trainingCurvesFigure,
  type TrainingFigureOptions,
} from "./training.ts";
export {
  DIAGNOSTIC_LABELS,
  diagnosticsFigure,
  type DiagnosticsFigureOptions,
  epochValue,
  hasEpochValue,
} from "./diagnostics.ts";
export {
  BASIC_TRACE_TYPES,
  bundleFor,
  type PlotlyBundle,
  plotlyJsPath,
  readPlotlyJs,
} from "./plotly.ts";
export { escapeHtml, figureJson, figurePage, scriptSafe } from "./page.ts";
export { type FigureImages, type ImageFormat, stableSvg, toBase64 } from "./images_page.ts";
export { findChromium, imagesUnavailable } from "./chromium.ts";
export {
  type ImageFileOptions,
  type ImageFiles,
  type PngOptions,
  renderImages,
  type RenderImagesOptions,
  type RenderOutcome,
  renderPngs,
  writeFigureImages,
} from "./render.ts";
