/**
 * Training curves, MAP versus code length, and the standard figure set of a section.
 *
 * @module
 */
import {
  AXIS_STYLE,
  baseLayout,
  DASHES,
  lineTrace,
  PALETTE,
  panels,
  prCurvesFigure,
} from "./curves.ts";
import { precisionAtNFigure, sectionName, styleOf } from "./curves.ts";
import type { CurveComparison } from "./curves.ts";
import {
  bitsOf,
  checkOneSection,
  curveBits,
  DIRECTION_LABELS,
  figureBits,
  seriesOf,
} from "./series.ts";
import { summarize } from "./series.ts";
import type { NamedFigure, Series } from "./series.ts";
import type { CellResult } from "../results.ts";
import { methodLabel } from "../../models/mod.ts";
import type { Direction } from "../../types.ts";

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
  const bits = figureBits(results, fn, opts.bits);
  const ablation = opts.ablation ?? "full";
  const rs = results.filter((r) =>
    r.spec.method === opts.method && r.spec.ablation === ablation && r.spec.bits === bits &&
    r.training?.history?.length
  );
  if (!rs.length) {
    throw new Error(
      `${fn}: no training history for ${opts.method} ${ablation} at ${bits} bits in ` +
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
  // Fractions kept with the losses (e.g. the share of bits a discrete step flipped) are not
  // losses: they get an axis of their own, 0 to 1, on the right of the loss panel.
  const fractions = terms.filter((t) => FRACTION_TERMS.includes(t));
  const lossSeries = terms.filter((t) => !fractions.includes(t)).map((t) => ({
    t,
    y: epochs.map((e) => meanAt(e, (h) => h.losses[t])),
  }));
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
  if (fractions.length) {
    // Room between the panels for the loss panel's right axis and the MAP panel's left one.
    (layout.grid as Record<string, unknown>).xgap = 0.3;
    layout.yaxis3 = {
      ...AXIS_STYLE,
      showgrid: false,
      overlaying: axes[0].y,
      anchor: axes[0].x,
      side: "right",
      range: [0, 1],
      title: { text: `fraction (${fractions.join(", ")}; dotted)` },
    };
  }
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
  fractions.forEach((t, i) => {
    data.push({
      type: "scatter",
      mode: "lines",
      name: `${t} (fraction, right axis)`,
      x,
      y: epochs.map((e) => meanAt(e, (h) => h.losses[t])),
      xaxis: axes[0].x,
      yaxis: "y3",
      line: { color: "#444444", dash: DASHES[(2 + i) % DASHES.length], width: 2 },
    });
  });
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

/** Numbers kept with the loss terms that are fractions in [0, 1], not losses. */
export const FRACTION_TERMS: readonly string[] = ["flipped"];

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
  if (!results.length) throw new Error(`${fn}: no results`);
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
  // Tall enough for a legend entry per series (about 30 px each with its marker and error bar):
  // a static image clips a legend taller than the plot area.
  layout.height = Math.max(layout.height as number, 160 + 32 * all.length);
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
      const points = {
        x: pts.map((q) => q.b),
        y: pts.map((q) => q.sum!.mean),
        customdata: pts.map((q) => q.sum!.n),
      };
      const extra = {
        error_y: { type: "data", array: pts.map((q) => q.sum!.std), visible: true, thickness: 1 },
        hovertemplate:
          `${s.label}<br>%{x} bits<br>MAP %{y:.4f} (%{customdata} seeds)<extra></extra>`,
      };
      data.push(lineTrace(s, st, p, axes[p], points, extra, 6));
    }
  });
  return {
    id: "map_vs_bits",
    title,
    figure: { data, layout: { ...baseLayout(title), ...layout } },
  };
}

/**
 * The standard figures of one dataset section: at EVERY code length, PR and precision@N curves
 * comparing the full models and the baseline, then the same per method comparing its ablations
 * (when it has more than one setting at that length); training curves of each full trained
 * model at {@link curveBits}; MAP versus code length.
 */
export function sectionFigures(results: readonly CellResult[]): NamedFigure[] {
  if (!results.length) return [];
  checkOneSection(results, "sectionFigures");
  const out: NamedFigure[] = [];
  const all = seriesOf(results);
  const trained = [...new Set(all.filter((s) => s.method !== "random").map((s) => s.method))];
  for (const bits of bitsOf(results)) {
    const atBits = (s: Series) => s.results.some((r) => r.spec.bits === bits);
    if (all.some((s) => s.ablation === "full" && atBits(s))) {
      out.push(prCurvesFigure(results, { bits }), precisionAtNFigure(results, { bits }));
    }
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
  }
  const bits = curveBits(results);
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
