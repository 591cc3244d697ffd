/**
 * The data behind every figure: summaries over seeds, one series per (method, ablation,
 * epochs, backend) of a dataset section, in display order (the registry's order of methods and
 * ablations), and the code lengths present.
 *
 * @module
 */
import type { CellResult } from "../results.ts";
import {
  ablationNames,
  isTrainable,
  METHOD_NAMES,
  methodLabel,
  type MethodName,
  METHODS,
} from "../../models/mod.ts";
import type { Direction } from "../../types.ts";

/** A plotly.js figure: traces and layout, JSON-serialisable. */
export interface PlotlyFigure {
  /** The traces. */
  data: Record<string, unknown>[];
  /** The layout (titles, axes, legend). */
  layout: Record<string, unknown>;
}

/** A figure with a file-name-safe id and a title (the PNG file is `<id>.png`). */
export interface NamedFigure {
  /** File-name-safe id. */
  id: string;
  /** Title shown above the figure. */
  title: string;
  /** The plotly figure. */
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

export const ALL_DIRECTIONS: readonly Direction[] = ["I2T", "T2I", "I2I", "T2T"];

export { methodLabel };

/**
 * Display rank of a method: the registry's order, methods that are not trained (baselines)
 * after every trained one, unregistered names between the two.
 */
export function methodRank(m: string): number {
  const i = METHOD_NAMES.indexOf(m as MethodName);
  if (i < 0) return METHOD_NAMES.length;
  return isTrainable(METHODS[m as MethodName]) ? i : 1e7 + i;
}

/** Display rank of an ablation of a method: "full", then the registry's order of its flags. */
export function ablationRank(m: string, a: string): number {
  return rankOf(ablationNames(m), a);
}

export function rankOf(order: readonly string[], v: string, last = false): number {
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

/** Throw (naming `fn`) when `results` span more than one (dataset, variant, split) section. */
export function checkOneSection(results: readonly CellResult[], fn: string): void {
  const keys = new Set(results.map(sectionKeyOf));
  if (keys.size > 1) {
    throw new Error(
      `${fn}: results span several dataset sections (${[...keys].join(", ")}); ` +
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
 * The code length a per-length figure draws: `bits` when given, else {@link curveBits}. Checks
 * first that `results` are a non-empty single dataset section (errors name `fn`).
 */
export function figureBits(
  results: readonly CellResult[],
  fn: string,
  bits: number | undefined,
): number {
  if (!results.length) throw new Error(`${fn}: no results`);
  checkOneSection(results, fn);
  return bits ?? curveBits(results);
}

/**
 * The code length the curve figures use: among the code lengths with results for the most
 * (method, ablation) settings, the middle one (the upper middle for an even count: 32 of
 * 16/32/64, 64 of 16/32/64/128). In a complete grid every code length qualifies.
 */
export function curveBits(results: readonly CellResult[]): number {
  if (!results.length) throw new Error(`curveBits: no results`);
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
