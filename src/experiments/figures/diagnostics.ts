/**
 * The per-epoch diagnostics of the trained models (src/models/diagnostics.ts) as a figure: one
 * panel per diagnostic, one line per (method, ablation) setting, the mean over seeds at each
 * epoch. Also reads the discrete step's numbers kept with the losses (`flipped`, `discJ0`,
 * `discJ`), so one figure can show J before and after each step next to the diagnostics.
 *
 * @module
 */
import { AXIS_STYLE, baseLayout, lineTrace, panels, sectionName, styleOf } from "./curves.ts";
import { figureBits, type NamedFigure, seriesOf } from "./series.ts";
import type { CellResult } from "../results.ts";
import type { EpochRecord } from "../../train.ts";
import { methodLabel } from "../../models/mod.ts";

/** Short descriptions of the diagnostics and discrete-step numbers, by field name. */
export const DIAGNOSTIC_LABELS: Readonly<Record<string, string>> = {
  discAcc: "D accuracy (0.5 = modalities indistinguishable)",
  consAcc: "C accuracy, 3-way",
  maskImage: "mean mask m, image",
  maskText: "mean mask m, text",
  commonImage: "mean |c|, image",
  commonText: "mean |c|, text",
  privateImage: "mean |p|, image",
  privateText: "mean |p|, text",
  quantGap: "quantisation gap 1 − mean |h|",
  signDistance: "mean (h − sign h)²",
  bSignDistance: "mean (B − sign B)²",
  fusionShare: "U's share of the B-step",
  fusionAgree: "sign(U) = B, fraction of bits",
  fusionDecisive: "bits of B decided by U",
  flipped: "bits of B flipped by the step",
  discJ0: "J per entry before the discrete step",
  discJ: "J per entry after the discrete step",
};

/**
 * The value of `key` in an epoch's record: its diagnostics, else its losses (the discrete
 * step's `flipped`, `discJ0`, `discJ`); undefined when the epoch has neither.
 */
export function epochValue(h: EpochRecord, key: string): number | undefined {
  const v = h.diagnostics?.[key] ?? h.losses[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Whether any epoch of any result records `key` ({@link epochValue}). */
export function hasEpochValue(results: readonly CellResult[], key: string): boolean {
  return results.some((r) => r.training.history.some((h) => epochValue(h, key) !== undefined));
}

/** Options of {@link diagnosticsFigure}. */
export interface DiagnosticsFigureOptions {
  /** Method whose settings are drawn. */
  method: string;
  /** Diagnostics (or discrete-step numbers), one panel each, in order. */
  keys: readonly string[];
  /** Settings to draw (default: every ablation of the method in the results). */
  ablations?: readonly string[];
  /** Code length (default {@link curveBits}). */
  bits?: number;
}

/**
 * Diagnostics per epoch of one method's settings at one code length: a panel per key, a line
 * per setting (mean over its seeds at each epoch; hover: the seeds). A setting that never
 * records a key (e.g. `discAcc` without the discriminator) has no line in that panel, and a
 * key that no setting records is left out.
 */
export function diagnosticsFigure(
  results: readonly CellResult[],
  opts: DiagnosticsFigureOptions,
): NamedFigure {
  const fn = "diagnosticsFigure";
  const bits = figureBits(results, fn, opts.bits);
  const all = seriesOf(results).filter((s) => s.method === opts.method);
  const series = opts.ablations ? all.filter((s) => opts.ablations!.includes(s.ablation)) : all;
  const atBits = series.map((s) => ({
    s,
    rs: s.results.filter((r) => r.spec.bits === bits && r.training.history.length),
  })).filter((x) => x.rs.length);
  const keys = opts.keys.filter((k) => hasEpochValue(atBits.flatMap((x) => x.rs), k));
  if (!keys.length) {
    throw new Error(
      `${fn}: no ${opts.keys.join(", ")} recorded for ${opts.method} at ${bits} bits in ` +
        sectionName(results),
    );
  }
  const title = `${methodLabel(opts.method)} diagnostics per epoch, ${bits} bits — ${
    sectionName(results)
  } (mean over seeds)`;
  const epochs = Math.max(
    ...atBits.flatMap((x) => x.rs.map((r) => r.training.history.length)),
  );
  // At most about ten ticks, on round epochs (1-based: 10, 20, ... once there are many).
  const dtick = [1, 2, 5, 10, 20, 50, 100].find((d) => epochs / d <= 10) ?? 200;
  const { layout, axes } = panels(keys.map((k) => DIAGNOSTIC_LABELS[k] ?? k), "epoch", "", {
    xaxis: { ...AXIS_STYLE, tick0: dtick === 1 ? 1 : 0, dtick },
    yaxis: { ...AXIS_STYLE },
  });
  // Room for each row's panel titles and epoch axis: about 300 px per row of two panels.
  layout.height = Math.max(480, 300 * Math.ceil(keys.length / 2) + 120);
  const data: Record<string, unknown>[] = [];
  keys.forEach((key, p) => {
    for (const { s, rs } of atBits) {
      const epochs = [...new Set(rs.flatMap((r) => r.training.history.map((h) => h.epoch)))]
        .sort((a, b) => a - b);
      const pts = epochs.map((e) => {
        const v = rs.map((r) => r.training.history.find((h) => h.epoch === e))
          .map((h) => (h ? epochValue(h, key) : undefined))
          .filter((x): x is number => x !== undefined);
        return {
          x: e + 1,
          y: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null,
          n: v.length,
        };
      }).filter((q) => q.y !== null);
      if (!pts.length) continue;
      const points = {
        x: pts.map((q) => q.x),
        y: pts.map((q) => q.y),
        customdata: pts.map((q) => q.n),
      };
      const hover = {
        hovertemplate: `${s.label}<br>epoch %{x}<br>%{y:.4f} (%{customdata} seeds)<extra></extra>`,
      };
      data.push(lineTrace(s, styleOf(s, all, "ablation"), p, axes[p], points, hover, 4));
    }
  });
  // A legend entry per setting: the first trace of each setting shows it.
  const shown = new Set<string>();
  for (const t of data) {
    t.showlegend = !shown.has(t.legendgroup as string);
    shown.add(t.legendgroup as string);
  }
  return {
    id: `diagnostics_${opts.method}${
      opts.ablations ? `-${opts.ablations.join("-")}` : ""
    }_${bits}b`,
    title,
    figure: { data, layout: { ...baseLayout(title), ...layout } },
  };
}
