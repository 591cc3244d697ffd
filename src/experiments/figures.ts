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
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { Direction } from "../types.ts";
import type { RetrievalMetrics } from "../retrieval/metrics.ts";
import type { CellResult } from "./runner.ts";
import {
  ablationNames,
  isTrainable,
  METHOD_NAMES,
  methodLabel,
  type MethodName,
  METHODS,
} from "../models/mod.ts";

const FILE = "src/experiments/figures.ts";

/** A plotly.js figure: traces and layout, JSON-serialisable. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** A figure with a file-name-safe id and a title (the PNG file is `<id>.png`). */
export interface NamedFigure {
  id: string;
  title: string;
  figure: PlotlyFigure;
}

/** Mean, sample standard deviation (n - 1; null for fewer than 2 values) and count. */
export interface Summary {
  mean: number;
  std: number | null;
  n: number;
}

/** Summary of a list of numbers; null for an empty list. */
export function summarize(values: readonly number[]): Summary | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, std: null, n };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/** Direction labels as papers print them. */
export const DIRECTION_LABELS: Record<Direction, string> = {
  I2T: "I→T",
  T2I: "T→I",
  I2I: "I→I",
  T2T: "T→T",
};

const ALL_DIRECTIONS: readonly Direction[] = ["I2T", "T2I", "I2I", "T2T"];

export { methodLabel };

/**
 * Display rank of a method: the registry's order, methods that are not trained (baselines)
 * after every trained one, unregistered names between the two.
 */
function methodRank(m: string): number {
  const i = METHOD_NAMES.indexOf(m as MethodName);
  if (i < 0) return METHOD_NAMES.length;
  return isTrainable(METHODS[m as MethodName]) ? i : 1e7 + i;
}

/** Display rank of an ablation of a method: "full", then the registry's order of its flags. */
function ablationRank(m: string, a: string): number {
  return rankOf(ablationNames(m), a);
}

function rankOf(order: readonly string[], v: string, last = false): number {
  const i = order.indexOf(v);
  return i >= 0 ? i : last ? 1e6 : order.length;
}

/** One line of a table or figure: a (method, ablation) setting with its result files. */
export interface Series {
  /** Stable key: method/ablation/e<epochs>/<backend>. */
  key: string;
  /** Display label, e.g. "CPAH", "CPAH noCR", "DFAH (50 epochs)". */
  label: string;
  method: string;
  ablation: string;
  epochs: number;
  backend: string;
  /** Result files of the series (all code lengths and seeds). */
  results: CellResult[];
}

/** The (dataset, variant, split) key of a result: figures and tables are per such key. */
export function sectionKeyOf(r: CellResult): string {
  return `${r.spec.dataset}|${r.spec.variant ?? ""}|${r.spec.split}`;
}

function checkOneSection(results: readonly CellResult[], fn: string): void {
  const keys = new Set(results.map(sectionKeyOf));
  if (keys.size > 1) {
    throw new Error(
      `${FILE}: ${fn}: results span several dataset sections (${[...keys].join(", ")}); ` +
        `expected results of one dataset, variant and split`,
    );
  }
}

/**
 * Group the results of one dataset section into series, ordered: CPAH, DFAH, other methods,
 * then the random baseline; within a method "full" first, then the ablations. Labels carry the
 * epochs (or backend) only when the section mixes several of them for a method.
 */
export function seriesOf(results: readonly CellResult[]): Series[] {
  checkOneSection(results, "seriesOf");
  const map = new Map<string, Series>();
  for (const r of results) {
    const s = r.spec;
    const key = `${s.method}/${s.ablation}/e${s.epochs}/${s.backend}`;
    let ser = map.get(key);
    if (!ser) {
      ser = {
        key,
        label: "",
        method: s.method,
        ablation: s.ablation,
        epochs: s.epochs,
        backend: s.backend,
        results: [],
      };
      map.set(key, ser);
    }
    ser.results.push(r);
  }
  const out = [...map.values()];
  const epochsOf = new Map<string, Set<number>>();
  for (const s of out) {
    if (!epochsOf.has(s.method)) epochsOf.set(s.method, new Set());
    epochsOf.get(s.method)!.add(s.epochs);
  }
  const backends = new Set(out.map((s) => s.backend));
  for (const s of out) {
    let label = methodLabel(s.method) + (s.ablation === "full" ? "" : ` ${s.ablation}`);
    if (epochsOf.get(s.method)!.size > 1) label += ` (${s.epochs} epochs)`;
    if (backends.size > 1) label += ` [${s.backend}]`;
    s.label = label;
  }
  out.sort((a, b) => {
    const ma = methodRank(a.method), mb = methodRank(b.method);
    if (ma !== mb) return ma - mb;
    if (a.method !== b.method) return a.method < b.method ? -1 : 1;
    const aa = ablationRank(a.method, a.ablation), ab = ablationRank(b.method, b.ablation);
    if (aa !== ab) return aa - ab;
    if (a.ablation !== b.ablation) return a.ablation < b.ablation ? -1 : 1;
    if (a.epochs !== b.epochs) return a.epochs - b.epochs;
    return a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0;
  });
  return out;
}

/** Sorted distinct code lengths of some results. */
export function bitsOf(results: readonly CellResult[]): number[] {
  return [...new Set(results.map((r) => r.spec.bits))].sort((a, b) => a - b);
}

/**
 * The code length the curve figures use: among the code lengths with results for the most
 * (method, ablation) settings, the middle one (the upper middle for an even count: 32 of
 * 16/32/64, 64 of 16/32/64/128). In a complete grid every code length qualifies.
 */
export function curveBits(results: readonly CellResult[]): number {
  if (!results.length) throw new Error(`${FILE}: curveBits: no results`);
  const settings = (b: number) =>
    new Set(
      results.filter((r) => r.spec.bits === b).map((r) => `${r.spec.method}/${r.spec.ablation}`),
    )
      .size;
  const bits = bitsOf(results);
  const best = Math.max(...bits.map(settings));
  const top = bits.filter((b) => settings(b) === best);
  return top[Math.floor(top.length / 2)];
}

/** Mean of equally long arrays (elementwise). */
function meanArrays(arrays: readonly (readonly number[])[]): number[] {
  const n = arrays[0].length;
  const out = new Array<number>(n).fill(0);
  for (const a of arrays) for (let i = 0; i < n; i++) out[i] += a[i];
  return out.map((v) => v / arrays.length);
}

/** A curve averaged over seeds. */
interface MeanCurve {
  x: number[];
  y: number[];
  /** Extra per-point value for hover (Hamming radius or N). */
  at: number[];
  seeds: number;
}

function prCurve(rs: readonly CellResult[], dir: Direction): MeanCurve | null {
  const ms = rs.map((r) => r.metrics[dir]?.prByRadius).filter((m) => m && m.radius.length);
  if (!ms.length) return null;
  const len = ms[0]!.radius.length;
  const same = ms.filter((m) => m!.radius.length === len) as RetrievalMetrics["prByRadius"][];
  return {
    x: meanArrays(same.map((m) => m.recall)),
    y: meanArrays(same.map((m) => m.precision)),
    at: [...same[0].radius],
    seeds: same.length,
  };
}

function patnCurve(rs: readonly CellResult[], dir: Direction): MeanCurve | null {
  const ms = rs.map((r) => r.metrics[dir]?.precisionAtN).filter((m) => m && m.n.length);
  if (!ms.length) return null;
  const ref = JSON.stringify(ms[0]!.n);
  const same = ms.filter((m) => JSON.stringify(m!.n) === ref) as RetrievalMetrics["precisionAtN"][];
  return {
    x: [...same[0].n],
    y: meanArrays(same.map((m) => m.precision)),
    at: [...same[0].n],
    seeds: same.length,
  };
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#bcbd22",
  "#17becf",
  "#7f7f7f",
];
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
const METHOD_COLORS: Record<string, string> = {
  cpah: "#1f77b4",
  dfah: "#d62728",
  random: "#7f7f7f",
};

/** Line style of a series: by method (colour) and ablation (dash), or by ablation (colour). */
function styleOf(
  s: Series,
  all: readonly Series[],
  mode: "method" | "ablation",
): { color: string; dash: string; width: number } {
  const sameMethod = all.filter((x) => x.method === s.method);
  const ai = Math.max(0, sameMethod.indexOf(s));
  if (mode === "ablation") {
    return { color: PALETTE[ai % PALETTE.length], dash: DASHES[ai % DASHES.length], width: 2 };
  }
  const methods = [...new Set(all.map((x) => x.method))];
  const color = METHOD_COLORS[s.method] ??
    PALETTE[(3 + methods.indexOf(s.method)) % PALETTE.length];
  return { color, dash: DASHES[ai % DASHES.length], width: s.ablation === "full" ? 2.5 : 1.5 };
}

/** Layout pieces of a grid of panels, one per title. */
function panels(
  titles: readonly string[],
  xTitle: string,
  yTitle: string,
  extra: { xaxis?: Record<string, unknown>; yaxis?: Record<string, unknown> } = {},
): { layout: Record<string, unknown>; axes: { x: string; y: string }[] } {
  const n = titles.length;
  const columns = n === 1 ? 1 : 2;
  const rows = Math.ceil(n / columns);
  const layout: Record<string, unknown> = {
    grid: { rows, columns, pattern: "independent", ygap: 0.3, xgap: 0.15 },
    annotations: [] as Record<string, unknown>[],
  };
  const axes: { x: string; y: string }[] = [];
  titles.forEach((t, i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    axes.push({ x: `x${suffix}`, y: `y${suffix}` });
    layout[`xaxis${suffix}`] = { title: { text: xTitle }, ...extra.xaxis };
    layout[`yaxis${suffix}`] = { title: { text: yTitle }, ...extra.yaxis };
    (layout.annotations as Record<string, unknown>[]).push({
      text: `<b>${t}</b>`,
      showarrow: false,
      xref: `x${suffix} domain`,
      yref: `y${suffix} domain`,
      x: 0.5,
      y: 1.02,
      xanchor: "center",
      yanchor: "bottom",
    });
  });
  layout.width = 1100;
  layout.height = rows === 1 ? 480 : 860;
  return { layout, axes };
}

function baseLayout(title: string): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 16 } },
    font: { family: "Liberation Sans, Arial, sans-serif", size: 12 },
    legend: { orientation: "v", x: 1.02, y: 1 },
    margin: { l: 70, r: 220, t: 90, b: 60 },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
  };
}

const AXIS_STYLE = { showgrid: true, gridcolor: "#e5e5e5", zeroline: false, linecolor: "#888" };

/** Which series a curve figure compares. */
export type CurveComparison =
  | { kind: "methods" }
  | { kind: "ablations"; method: string };

/** Options of {@link prCurvesFigure} and {@link precisionAtNFigure}. */
export interface CurveFigureOptions {
  /** Code length (default {@link curveBits}). */
  bits?: number;
  /** Full models and the random baseline (default), or one method's ablations. */
  compare?: CurveComparison;
  /** Directions, one panel each (default all four). */
  directions?: readonly Direction[];
}

function pickSeries(all: readonly Series[], compare: CurveComparison): Series[] {
  return compare.kind === "methods"
    ? all.filter((s) => s.ablation === "full")
    : all.filter((s) => s.method === compare.method);
}

function sectionName(results: readonly CellResult[]): string {
  const s = results[0].spec;
  return `${s.dataset}${s.variant ? ` (${s.variant})` : ""}, split ${s.split}`;
}

function curveFigure(
  kind: "pr" | "patn",
  results: readonly CellResult[],
  opts: CurveFigureOptions,
): NamedFigure {
  const fn = kind === "pr" ? "prCurvesFigure" : "precisionAtNFigure";
  if (!results.length) throw new Error(`${FILE}: ${fn}: no results`);
  checkOneSection(results, fn);
  const compare = opts.compare ?? { kind: "methods" };
  const bits = opts.bits ?? curveBits(results);
  const dirs = opts.directions ?? ALL_DIRECTIONS;
  const all = seriesOf(results);
  const chosen = pickSeries(all, compare).map((s) => ({
    s,
    rs: s.results.filter((r) => r.spec.bits === bits),
  })).filter((x) => x.rs.length);
  if (!chosen.length) {
    throw new Error(
      `${FILE}: ${fn}: no results at ${bits} bits for ${
        compare.kind === "methods" ? "the full models" : `method '${compare.method}'`
      } in ${sectionName(results)}`,
    );
  }
  const what = kind === "pr" ? "Precision-recall by Hamming radius" : "Precision@N";
  const subject = compare.kind === "methods"
    ? "methods"
    : `${methodLabel(compare.method)} ablations`;
  const seeds = [...new Set(chosen.map((c) => c.rs.length))].sort((a, b) => a - b).join("/");
  const title = `${what}, ${subject}, ${bits} bits — ${sectionName(results)} ` +
    `(mean over ${seeds} seed${seeds === "1" ? "" : "s"})`;
  const { layout, axes } = panels(
    dirs.map((d) => DIRECTION_LABELS[d]),
    kind === "pr" ? "recall" : "N (top-N retrieved)",
    "precision",
    {
      xaxis: { ...AXIS_STYLE, ...(kind === "pr" ? { range: [0, 1.02] } : {}) },
      yaxis: { ...AXIS_STYLE, range: [0, 1.02] },
    },
  );
  const data: Record<string, unknown>[] = [];
  dirs.forEach((dir, p) => {
    for (const { s, rs } of chosen) {
      const c = kind === "pr" ? prCurve(rs, dir) : patnCurve(rs, dir);
      if (!c) continue;
      const st = styleOf(s, all, compare.kind === "methods" ? "method" : "ablation");
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: s.label,
        legendgroup: s.key,
        showlegend: p === 0,
        x: c.x,
        y: c.y,
        customdata: c.at,
        hovertemplate: kind === "pr"
          ? `${s.label}<br>radius %{customdata}<br>recall %{x:.4f}<br>precision %{y:.4f}<extra></extra>`
          : `${s.label}<br>N %{x}<br>precision %{y:.4f}<extra></extra>`,
        xaxis: axes[p].x,
        yaxis: axes[p].y,
        line: { color: st.color, dash: st.dash, width: st.width },
        marker: { size: 4, color: st.color },
      });
    }
  });
  const idSubject = compare.kind === "methods" ? "methods" : `${compare.method}-ablations`;
  return {
    id: `${kind}_${idSubject}_${bits}b`,
    title,
    figure: { data, layout: { ...baseLayout(title), ...layout } },
  };
}

/**
 * Precision-recall curves by Hamming radius (precision vs recall, one point per radius
 * 0..K), one panel per direction, averaged over seeds, at one code length.
 */
export function prCurvesFigure(
  results: readonly CellResult[],
  opts: CurveFigureOptions = {},
): NamedFigure {
  return curveFigure("pr", results, opts);
}

/** Precision@N curves, one panel per direction, averaged over seeds, at one code length. */
export function precisionAtNFigure(
  results: readonly CellResult[],
  opts: CurveFigureOptions = {},
): NamedFigure {
  return curveFigure("patn", results, opts);
}

/** Options of {@link trainingCurvesFigure}. */
export interface TrainingFigureOptions {
  /** Method (not "random": it has no training). */
  method: string;
  /** Ablation (default "full"). */
  ablation?: string;
  /** Code length (default {@link curveBits}). */
  bits?: number;
}

/**
 * Training curves of one method setting at one code length: the loss terms per epoch (left;
 * log scale unless a term is negative) and the validation MAP per epoch (right), each the
 * mean over seeds at that epoch. The title names the selected (best validation) epochs.
 */
export function trainingCurvesFigure(
  results: readonly CellResult[],
  opts: TrainingFigureOptions,
): NamedFigure {
  const fn = "trainingCurvesFigure";
  if (!results.length) throw new Error(`${FILE}: ${fn}: no results`);
  checkOneSection(results, fn);
  const ablation = opts.ablation ?? "full";
  const bits = opts.bits ?? curveBits(results);
  const rs = results.filter((r) =>
    r.spec.method === opts.method && r.spec.ablation === ablation && r.spec.bits === bits &&
    r.training?.history?.length
  );
  if (!rs.length) {
    throw new Error(
      `${FILE}: ${fn}: no training history for ${opts.method} ${ablation} at ${bits} bits in ` +
        sectionName(results),
    );
  }
  const epochs = [...new Set(rs.flatMap((r) => r.training.history.map((h) => h.epoch)))]
    .sort((a, b) => a - b);
  const terms = [
    ...new Set(rs.flatMap((r) => r.training.history.flatMap((h) => Object.keys(h.losses)))),
  ];
  const at = (r: CellResult, e: number) => r.training.history.find((h) => h.epoch === e);
  const meanAt = (
    e: number,
    get: (h: CellResult["training"]["history"][number]) => number | undefined,
  ) => {
    const v = rs.map((r) => at(r, e)).map((h) => (h ? get(h) : undefined)).filter((
      x,
    ): x is number => typeof x === "number" && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const x = epochs.map((e) => e + 1);
  const lossSeries = terms.map((t) => ({ t, y: epochs.map((e) => meanAt(e, (h) => h.losses[t])) }));
  // Terms differ by orders of magnitude: log scale unless a term goes negative (zeros, e.g. a
  // quantisation term before the first discrete step, are then left undrawn).
  const logScale = lossSeries.every((s) => s.y.every((v) => v === null || v >= 0));
  const hasZero = lossSeries.some((s) => s.y.some((v) => v === 0));
  const selected = [...new Set(rs.map((r) => r.training.selectedEpoch + 1))].sort((a, b) => a - b);
  const label = `${methodLabel(opts.method)}${ablation === "full" ? "" : ` ${ablation}`}`;
  const title = `Training curves, ${label}, ${bits} bits — ${sectionName(results)} ` +
    `(mean over ${rs.length} seed${rs.length === 1 ? "" : "s"}; selected epoch ${
      selected.join(", ")
    })`;
  const { layout, axes } = panels(["loss terms", "validation MAP@all"], "epoch", "", {
    xaxis: { ...AXIS_STYLE, tick0: 1, dtick: Math.max(1, Math.ceil(x.length / 10)) },
    yaxis: { ...AXIS_STYLE },
  });
  (layout.yaxis as Record<string, unknown>).title = {
    text: logScale ? `loss (log scale${hasZero ? "; zeros not drawn" : ""})` : "loss",
  };
  if (logScale) {
    Object.assign(layout.yaxis as Record<string, unknown>, { type: "log", dtick: "D2" });
  }
  (layout.yaxis2 as Record<string, unknown>).title = { text: "MAP@all (validation)" };
  const data: Record<string, unknown>[] = lossSeries.map((s, i) => ({
    type: "scatter",
    mode: "lines",
    name: s.t,
    x,
    y: logScale ? s.y.map((v) => (v === 0 ? null : v)) : s.y,
    xaxis: axes[0].x,
    yaxis: axes[0].y,
    line: {
      color: PALETTE[i % PALETTE.length],
      dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
      width: 2,
    },
  }));
  for (const [i, dir] of (["I2T", "T2I"] as const).entries()) {
    const y = epochs.map((e) => meanAt(e, (h) => h.validation?.[dir]));
    const pts = x.map((xv, j) => [xv, y[j]] as const).filter(([, v]) => v !== null);
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: `validation ${DIRECTION_LABELS[dir]}`,
      x: pts.map((p) => p[0]),
      y: pts.map((p) => p[1]),
      xaxis: axes[1].x,
      yaxis: axes[1].y,
      line: { color: i === 0 ? "#111111" : "#999999", width: 2 },
      marker: { size: 5 },
    });
  }
  if (!rs.some((r) => r.training.history.some((h) => h.validation))) {
    (layout.annotations as Record<string, unknown>[]).push({
      text: "no validation MAP recorded (--eval-every 0)",
      showarrow: false,
      xref: "x2 domain",
      yref: "y2 domain",
      x: 0.5,
      y: 0.5,
    });
  }
  return {
    id: `training_${opts.method}-${ablation}_${bits}b`,
    title,
    figure: { data, layout: { ...baseLayout(title), ...layout } },
  };
}

/** Options of {@link mapVsBitsFigure}. */
export interface MapVsBitsOptions {
  /** Directions, one panel each (default I2T and T2I). */
  directions?: readonly Direction[];
}

/**
 * MAP@all versus code length: one line per (method, ablation), error bars = sample standard
 * deviation over seeds (none where a point has one seed).
 */
export function mapVsBitsFigure(
  results: readonly CellResult[],
  opts: MapVsBitsOptions = {},
): NamedFigure {
  const fn = "mapVsBitsFigure";
  if (!results.length) throw new Error(`${FILE}: ${fn}: no results`);
  checkOneSection(results, fn);
  const dirs = opts.directions ?? ["I2T", "T2I"];
  const all = seriesOf(results);
  const bits = bitsOf(results);
  const title = `MAP@all vs code length — ${sectionName(results)} (error bars: std over seeds)`;
  const { layout, axes } = panels(
    dirs.map((d) => DIRECTION_LABELS[d]),
    "code length (bits)",
    "MAP@all",
    {
      xaxis: {
        ...AXIS_STYLE,
        type: "log",
        range: [Math.log10(bits[0]) - 0.08, Math.log10(bits[bits.length - 1]) + 0.08],
        tickvals: bits,
        ticktext: bits.map(String),
      },
      yaxis: { ...AXIS_STYLE },
    },
  );
  const data: Record<string, unknown>[] = [];
  dirs.forEach((dir, p) => {
    for (const s of all) {
      const pts = bitsOf(s.results).map((b) => ({
        b,
        sum: summarize(
          s.results.filter((r) => r.spec.bits === b).map((r) => r.metrics[dir].mapAll),
        ),
      })).filter((q) => q.sum !== null);
      const st = styleOf(s, all, "method");
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: s.label,
        legendgroup: s.key,
        showlegend: p === 0,
        x: pts.map((q) => q.b),
        y: pts.map((q) => q.sum!.mean),
        customdata: pts.map((q) => q.sum!.n),
        error_y: { type: "data", array: pts.map((q) => q.sum!.std), visible: true, thickness: 1 },
        hovertemplate:
          `${s.label}<br>%{x} bits<br>MAP %{y:.4f} (%{customdata} seeds)<extra></extra>`,
        xaxis: axes[p].x,
        yaxis: axes[p].y,
        line: { color: st.color, dash: st.dash, width: st.width },
        marker: { size: 6, color: st.color },
      });
    }
  });
  return {
    id: "map_vs_bits",
    title,
    figure: { data, layout: { ...baseLayout(title), ...layout } },
  };
}

/**
 * The standard figures of one dataset section: PR and precision@N curves comparing the full
 * models and the baseline; the same per method comparing its ablations (when it has any);
 * training curves of each full trained model; MAP versus code length.
 */
export function sectionFigures(results: readonly CellResult[]): NamedFigure[] {
  if (!results.length) return [];
  checkOneSection(results, "sectionFigures");
  const out: NamedFigure[] = [];
  const bits = curveBits(results);
  const all = seriesOf(results);
  const atBits = (s: Series) => s.results.some((r) => r.spec.bits === bits);
  if (all.some((s) => s.ablation === "full" && atBits(s))) {
    out.push(prCurvesFigure(results, { bits }), precisionAtNFigure(results, { bits }));
  }
  const trained = [...new Set(all.filter((s) => s.method !== "random").map((s) => s.method))];
  for (const m of trained) {
    const mine = all.filter((s) => s.method === m && atBits(s));
    if (mine.length > 1) {
      const compare: CurveComparison = { kind: "ablations", method: m };
      out.push(
        prCurvesFigure(results, { bits, compare }),
        precisionAtNFigure(results, { bits, compare }),
      );
    }
  }
  for (const m of trained) {
    const has = results.some((r) =>
      r.spec.method === m && r.spec.ablation === "full" && r.spec.bits === bits &&
      r.training?.history?.length
    );
    if (has) out.push(trainingCurvesFigure(results, { method: m, bits }));
  }
  out.push(mapVsBitsFigure(results));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Self-contained HTML and PNG
// ---------------------------------------------------------------------------------------------

function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function bundleIn(dir: string): string | undefined {
  for (const f of ["plotly.min.js", "dist/plotly.min.js", "plotly.js", "dist/plotly.js"]) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Path of the plotly.js bundle of the `plotly.js-dist` npm package (plotly.min.js when the
 * package has it, else plotly.js). Looks where the import map resolves the package, then in
 * the repository's node_modules (including node_modules/.deno/plotly.js-dist@* folders).
 * Throws a one-line error when the package is not installed.
 */
export function plotlyJsPath(): string {
  const tried: string[] = [];
  // The minified build (plotly.js-dist-min, ~4.6 MB) first; plotly.js-dist ships only the
  // unminified bundle (~11 MB), used when the minified package is absent.
  for (const pkg of ["plotly.js-dist-min", "plotly.js-dist"]) {
    try {
      const url = import.meta.resolve(pkg);
      if (url.startsWith("file:")) {
        const dir = dirname(fromFileUrl(url));
        tried.push(dir);
        const p = bundleIn(dir);
        if (p) return p;
      }
    } catch { /* not in the import map */ }
    if (import.meta.url.startsWith("file:")) {
      const nm = fromFileUrl(new URL("../../node_modules/", import.meta.url));
      const direct = join(nm, pkg);
      tried.push(direct);
      const p = bundleIn(direct);
      if (p) return p;
      try {
        const names = [...Deno.readDirSync(join(nm, ".deno"))]
          .map((e) => e.name).filter((n) => n.startsWith(`${pkg}@`)).sort().reverse();
        for (const n of names) {
          const dir = join(nm, ".deno", n, "node_modules", pkg);
          tried.push(dir);
          const q = bundleIn(dir);
          if (q) return q;
        }
      } catch { /* no .deno folder */ }
    }
  }
  throw new Error(
    `${FILE}: plotly.js bundle not found (looked in ${
      tried.join(", ") || "nothing resolvable"
    }); ` +
      `expected the npm package plotly.js-dist — run 'deno install' in the repository`,
  );
}

/** The plotly.js bundle's path and source text (for inlining into HTML). */
export async function readPlotlyJs(): Promise<{ path: string; source: string }> {
  const path = plotlyJsPath();
  return { path, source: await Deno.readTextFile(path) };
}

/** Make JavaScript or JSON safe inside an inline `<script>` element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** The JSON of a figure, safe to embed in a `<script>` element. */
export function figureJson(fig: PlotlyFigure): string {
  return scriptSafe(JSON.stringify(fig)).replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

/**
 * A complete HTML page showing one figure at its layout size. `plotly` is either the bundle's
 * source (inlined: a self-contained page) or `{src}`, a URL to load it from.
 */
export function figurePage(fig: NamedFigure, plotly: string | { src: string }): string {
  const w = Number(fig.figure.layout.width ?? 1100), h = Number(fig.figure.layout.height ?? 600);
  const lib = typeof plotly === "string"
    ? `<script>${scriptSafe(plotly)}</script>`
    : `<script src="${plotly.src.replace(/"/g, "&quot;")}"></script>`;
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(fig.title)}</title>
<style>html,body{margin:0;padding:0;background:white;overflow:hidden}</style>
${lib}</head>
<body><div id="fig" style="width:${w}px;height:${h}px"></div>
<script>
const fig = ${figureJson(fig.figure)};
Plotly.newPlot("fig", fig.data, fig.layout, {staticPlot: true, displaylogo: false});
</script></body></html>
`;
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** A Chromium binary on PATH (chromium, chromium-browser, google-chrome), or null. */
export function findChromium(): string | null {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return null;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    for (const dir of path.split(":").filter(Boolean)) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Options of {@link renderPngs}. */
export interface PngOptions {
  /** Progress and skip messages. */
  log?: (line: string) => void;
  /** Chromium binary (default {@link findChromium}). */
  chromium?: string | null;
  /** Seconds before one screenshot is abandoned (default 90). */
  timeoutSeconds?: number;
  /** File name prefix (e.g. the dataset section's slug). */
  prefix?: string;
}

/**
 * Render figures to `<dir>/<prefix><id>.png` with headless Chromium. Never throws for a missing
 * or failing Chromium: it logs "PNG skipped: <reason>" and returns the files it did write.
 */
export async function renderPngs(
  figs: readonly NamedFigure[],
  dir: string,
  opts: PngOptions = {},
): Promise<string[]> {
  const log = opts.log ?? (() => {});
  if (!figs.length) return [];
  const chromium = opts.chromium === undefined ? findChromium() : opts.chromium;
  if (!chromium) {
    log("PNG skipped: no Chromium on PATH (chromium or chromium-browser); figures are in the HTML");
    return [];
  }
  let plotly: string;
  try {
    plotly = plotlyJsPath();
  } catch (e) {
    log(`PNG skipped: ${(e as Error).message}`);
    return [];
  }
  const written: string[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "cmh-png-" });
  try {
    await Deno.mkdir(dir, { recursive: true });
    for (const f of figs) {
      const html = join(tmp, `${f.id}.html`);
      const png = join(dir, `${opts.prefix ?? ""}${f.id}.png`);
      await Deno.writeTextFile(html, figurePage(f, { src: `file://${plotly}` }));
      const w = Number(f.figure.layout.width ?? 1100), h = Number(f.figure.layout.height ?? 600);
      const profile = await Deno.makeTempDir({ prefix: "cmh-chromium-", dir: tmp });
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), (opts.timeoutSeconds ?? 90) * 1000);
      let reason = "";
      try {
        const out = await new Deno.Command(chromium, {
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            `--user-data-dir=${profile}`,
            `--window-size=${w},${h}`,
            "--virtual-time-budget=15000",
            `--screenshot=${png}`,
            `file://${html}`,
          ],
          stdout: "piped",
          stderr: "piped",
          signal: ctl.signal,
        }).output();
        const size = await Deno.stat(png).then((s) => s.size, () => 0);
        if (!out.success || size === 0) {
          const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean).pop();
          reason = `chromium exited with code ${out.code}${err ? ` (${err})` : ""}`;
        }
      } catch (e) {
        reason = ctl.signal.aborted
          ? `chromium took longer than ${opts.timeoutSeconds ?? 90}s`
          : `chromium failed to start (${(e as Error).message})`;
      } finally {
        clearTimeout(timer);
      }
      if (reason) {
        log(`PNG skipped: ${reason} on figure ${f.id}; remaining figures not rendered`);
        break;
      }
      written.push(png);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return written;
}
