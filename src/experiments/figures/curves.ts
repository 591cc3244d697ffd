/**
 * Curve figures: precision-recall by Hamming radius and precision@N, averaged over seeds,
 * with the shared styles and layouts of every figure.
 *
 * @module
 */
import { ALL_DIRECTIONS, DIRECTION_LABELS, figureBits } from "./series.ts";
import { seriesOf } from "./series.ts";
import type { NamedFigure, Series } from "./series.ts";
import type { CellResult } from "../results.ts";
import { methodLabel } from "../../models/mod.ts";
import type { RetrievalMetrics } from "../../retrieval/metrics.ts";
import type { Direction } from "../../types.ts";

export function meanArrays(arrays: readonly (readonly number[])[]): number[] {
  const n = arrays[0].length;
  const out = new Array<number>(n).fill(0);
  for (const a of arrays) for (let i = 0; i < n; i++) out[i] += a[i];
  return out.map((v) => v / arrays.length);
}

/** A curve averaged over seeds. */
export interface MeanCurve {
  x: number[];
  y: number[];
  /** Extra per-point value for hover (Hamming radius or N). */
  at: number[];
  seeds: number;
}

export function prCurve(rs: readonly CellResult[], dir: Direction): MeanCurve | null {
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

export function patnCurve(rs: readonly CellResult[], dir: Direction): MeanCurve | null {
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

export const PALETTE = [
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
export const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
export const METHOD_COLORS: Record<string, string> = {
  cpah: "#1f77b4",
  dfah: "#d62728",
  random: "#7f7f7f",
};

/**
 * `hex` (#rrggbb) mixed towards white (`t` > 0) or black (`t` < 0) by |t|: a shade of the same
 * hue.
 */
export function shade(hex: string, t: number): string {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const to = t > 0 ? 255 : 0;
  return "#" + c.map((v) => Math.round(v + (to - v) * Math.abs(t)).toString(16).padStart(2, "0"))
    .join("");
}

/** How far each ablation's colour is from its method's (1st, 2nd, ... ablation). */
const ABLATION_SHADES = [-0.35, 0.4, -0.55, 0.6, -0.2, 0.25];

/**
 * Line style of a series: by method (its colour, each ablation a darker or lighter shade of it
 * and its own dash, so every line has a colour of its own), or by ablation (palette colour).
 */
export function styleOf(
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
  const base = METHOD_COLORS[s.method] ??
    PALETTE[(3 + methods.indexOf(s.method)) % PALETTE.length];
  const color = ai === 0 ? base : shade(base, ABLATION_SHADES[(ai - 1) % ABLATION_SHADES.length]);
  return { color, dash: DASHES[ai % DASHES.length], width: s.ablation === "full" ? 2.5 : 1.5 };
}

/** Layout pieces of a grid of panels, one per title. */
/**
 * One series' line trace on panel `panel`: its label, legend group and style, the points, and
 * `extra` (hover text, error bars) between the points and the axes.
 */
export function lineTrace(
  s: Series,
  style: { color: string; dash: string; width: number },
  panel: number,
  axis: { x: string; y: string },
  points: { x: unknown[]; y: unknown[]; customdata: unknown[] },
  extra: Record<string, unknown>,
  markerSize: number,
): Record<string, unknown> {
  return {
    type: "scatter",
    mode: "lines+markers",
    name: s.label,
    legendgroup: s.key,
    showlegend: panel === 0,
    ...points,
    ...extra,
    xaxis: axis.x,
    yaxis: axis.y,
    line: { color: style.color, dash: style.dash, width: style.width },
    marker: { size: markerSize, color: style.color },
  };
}

export function panels(
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

export function baseLayout(title: string): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 16 } },
    font: { family: "Liberation Sans, Arial, sans-serif", size: 12 },
    legend: { orientation: "v", x: 1.02, y: 1 },
    margin: { l: 70, r: 220, t: 90, b: 60 },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
  };
}

export const AXIS_STYLE = {
  showgrid: true,
  gridcolor: "#e5e5e5",
  zeroline: false,
  linecolor: "#888",
};

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

export function pickSeries(all: readonly Series[], compare: CurveComparison): Series[] {
  return compare.kind === "methods"
    ? all.filter((s) => s.ablation === "full")
    : all.filter((s) => s.method === compare.method);
}

export function sectionName(results: readonly CellResult[]): string {
  const s = results[0].spec;
  return `${s.dataset}${s.variant ? ` (${s.variant})` : ""}, split ${s.split}`;
}

export function curveFigure(
  kind: "pr" | "patn",
  results: readonly CellResult[],
  opts: CurveFigureOptions,
): NamedFigure {
  const fn = kind === "pr" ? "prCurvesFigure" : "precisionAtNFigure";
  const bits = figureBits(results, fn, opts.bits);
  const compare = opts.compare ?? { kind: "methods" };
  const dirs = opts.directions ?? ALL_DIRECTIONS;
  const all = seriesOf(results);
  const chosen = pickSeries(all, compare).map((s) => ({
    s,
    rs: s.results.filter((r) => r.spec.bits === bits),
  })).filter((x) => x.rs.length);
  if (!chosen.length) {
    throw new Error(
      `${fn}: no results at ${bits} bits for ${
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
      const hovertemplate = kind === "pr"
        ? `${s.label}<br>radius %{customdata}<br>recall %{x:.4f}<br>precision %{y:.4f}<extra></extra>`
        : `${s.label}<br>N %{x}<br>precision %{y:.4f}<extra></extra>`;
      const points = { x: c.x, y: c.y, customdata: c.at };
      data.push(lineTrace(s, st, p, axes[p], points, { hovertemplate }, 4));
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
