/**
 * Figures of the reproduction reports as plain plotly.js figure objects (`{data, layout}`):
 * precision-recall curves by Hamming radius, precision@N curves, training curves and MAP
 * versus code length. The builders take the result files of ONE dataset section (same
 * dataset, variant and split) and average curves over seeds; they never invent points — a
 * missing result is a missing trace. Notebooks can show a figure with
 * `Deno.jupyter.display({"application/vnd.plotly.v1+json": fig}, {raw: true})`.
 *
 * plotly.js needs a DOM, so it is never imported here: {@link readPlotlyJs} reads the
 * `plotly.js-dist` bundle from the npm package folder for inlining into self-contained HTML,
 * and {@link renderPngs} renders PNG files with headless Chromium when it is installed.
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
  escapeHtml,
  figureJson,
  figurePage,
  findChromium,
  plotlyJsPath,
  type PngOptions,
  readPlotlyJs,
  renderPngs,
  scriptSafe,
} from "./render.ts";
