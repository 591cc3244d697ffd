/**
 * The mechanism study as a figure: per sweep and method, the paired difference ablation − full
 * (MAP@all I→T and T→I) at each knob value with its 95% confidence interval
 * ({@link sweepFigure}), so a reader sees at a glance whether removing the component hurts more
 * as its mechanism is turned up.
 *
 * @module
 */
import { methodLabel } from "../../models/mod.ts";
import type { CellMethod } from "../spec.ts";
import { AXIS_STYLE, baseLayout } from "../figures/curves.ts";
import type { NamedFigure } from "../figures/series.ts";
import type { SweepAnalysis } from "./analysis.ts";

const SERIES = [
  { key: "I2T", label: "I→T", color: "#1f77b4", shift: -0.08 },
  { key: "T2I", label: "T→I", color: "#d62728", shift: 0.08 },
] as const;

/**
 * Δ = ablation − full along the knob for one method of a sweep: a point per knob value and
 * direction at the mean over the paired seeds, error bars the 95% CI, a dashed zero line
 * (below zero: the component helps). Knob values are evenly spaced, labelled with their value;
 * a value with fewer than two paired seeds has no point. Throws when the method is not in the
 * sweep.
 */
export function sweepFigure(a: SweepAnalysis, method: CellMethod): NamedFigure {
  const m = a.methods.find((x) => x.method === method);
  if (!m) {
    throw new Error(
      `sweepFigure: method '${method}' is not in sweep '${a.sweep.name}' (${
        a.sweep.methods.join(", ")
      })`,
    );
  }
  const s = a.sweep;
  const knob = s.knob === "bits" ? "code length" : s.knob;
  const cap = s.epochs?.[method];
  const arm = s.oracle ? "oracle" : "full"; // a positive control's first arm
  const title = `${methodLabel(method)}: ${s.ablation} − ${arm} along ${knob} (sweep ${s.name}` +
    `${cap ? `, up to ${cap} epochs` : ""}), MAP@all, mean and 95% CI over seeds`;
  const ticks = s.values.map(String);
  const data: Record<string, unknown>[] = SERIES.map((d) => {
    const pts = m.rows.map((r, i) => ({ i, t: r.tests[d.key] })).filter(({ t }) =>
      t.n >= 2 && Number.isFinite(t.mean)
    );
    return {
      type: "scatter",
      mode: "markers+lines",
      name: d.label,
      x: pts.map(({ i }) => i + d.shift),
      y: pts.map(({ t }) => t.mean),
      customdata: pts.map(({ i, t }) => [ticks[i], t.n, t.ci[0], t.ci[1]]),
      error_y: {
        type: "data",
        symmetric: false,
        array: pts.map(({ t }) => t.ci[1] - t.mean),
        arrayminus: pts.map(({ t }) => t.mean - t.ci[0]),
        color: d.color,
      },
      marker: { color: d.color, size: 8 },
      line: { color: d.color, width: 1 },
      hovertemplate: `${d.label}<br>${s.knob} %{customdata[0]}<br>Δ %{y:+.4f} ` +
        `[%{customdata[2]:+.4f}, %{customdata[3]:+.4f}] (%{customdata[1]} seeds)<extra></extra>`,
    };
  });
  const layout = {
    ...baseLayout(title),
    height: 440,
    xaxis: {
      ...AXIS_STYLE,
      title: { text: s.knob === "bits" ? "code length (bits)" : knob },
      tickmode: "array",
      tickvals: ticks.map((_, i) => i),
      ticktext: ticks,
      range: [-0.5, ticks.length - 0.5],
    },
    yaxis: {
      ...AXIS_STYLE,
      title: { text: `Δ MAP@all (${s.ablation} − ${arm})` },
      zeroline: false,
    },
    shapes: [{
      type: "line",
      xref: "paper",
      x0: 0,
      x1: 1,
      y0: 0,
      y1: 0,
      line: { color: "#555", width: 1, dash: "dash" },
    }],
  };
  return { id: `mechanism_${s.name}_${method}`, title, figure: { data, layout } };
}
