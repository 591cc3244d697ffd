/**
 * Every metric of the result files, beyond the main table's MAP@all I→T / T→I: one "more
 * metrics" table per code length (all four directions; MAP@all, MAP@k standard and legacy,
 * precision within Hamming radius 2; mean ± std over seeds), and the tidy long format with one
 * row per result file × direction × metric × k (the CSV `tables/<section>__long.csv`).
 *
 * @module
 */
import * as aq from "./arquero.ts";
import type { ColumnTable } from "./arquero.ts";
import {
  bitsOf,
  DIRECTION_LABELS,
  type Series,
  seriesOf,
  summarize,
  type Summary,
} from "../figures/mod.ts";
import { ALL_DIRECTIONS } from "../figures/series.ts";
import type { CellResult } from "../results.ts";
import type { RetrievalMetrics } from "../../retrieval/metrics.ts";
import type { Direction } from "../../types.ts";
import { type DatasetSection, distinct, formatSummary, type ReportTable } from "./tables.ts";

/** One metric column of a "more metrics" table. */
interface MetricColumn {
  /** Display header, e.g. "MAP@50", "MAP@50 legacy", "P (r≤2)". */
  header: string;
  /** CSV column stem, e.g. "map_at_50_standard". */
  key: string;
  get: (m: RetrievalMetrics) => number | undefined;
}

function at(ks: readonly number[] | undefined, vs: readonly number[] | undefined, k: number) {
  const i = ks?.indexOf(k) ?? -1;
  return i >= 0 ? vs?.[i] : undefined;
}

/**
 * The metric columns of some results: MAP@all, MAP@all tie-aware, MAP@k standard, MAP@k
 * tie-aware, MAP@k legacy, P (r≤radius); the tie-aware columns only when some result records
 * them.
 */
function metricColumns(rs: readonly CellResult[]): MetricColumn[] {
  const ms = rs.flatMap((r) => Object.values(r.metrics)).filter((m): m is RetrievalMetrics => !!m);
  const ks = distinct(ms.flatMap((m) => m.mapAtK?.k ?? [])).sort((a, b) => a - b);
  const radii = distinct(
    ms.map((m) => m.precisionWithinRadius?.radius).filter((r): r is number =>
      typeof r === "number"
    ),
  ).sort((a, b) => a - b);
  const tieAware = ms.some((m) => typeof m.mapAllTieAware === "number");
  const cols: MetricColumn[] = [{ header: "MAP@all", key: "map_all", get: (m) => m.mapAll }];
  if (tieAware) {
    cols.push({
      header: "MAP@all tie-aware",
      key: "map_all_tie_aware",
      get: (m) => m.mapAllTieAware,
    });
  }
  for (const k of ks) {
    cols.push({
      header: `MAP@${k}`,
      key: `map_at_${k}_standard`,
      get: (m) => at(m.mapAtK?.k, m.mapAtK?.standard, k),
    });
  }
  if (tieAware) {
    for (const k of ks) {
      cols.push({
        header: `MAP@${k} tie-aware`,
        key: `map_at_${k}_tie_aware`,
        get: (m) => at(m.mapAtK?.k, m.mapAtK?.tieAware, k),
      });
    }
  }
  for (const k of ks) {
    cols.push({
      header: `MAP@${k} legacy`,
      key: `map_at_${k}_legacy`,
      get: (m) => at(m.mapAtK?.k, m.mapAtK?.legacy, k),
    });
  }
  for (const radius of radii) {
    cols.push({
      header: `P (r≤${radius})`,
      key: `precision_within_radius_${radius}`,
      get: (m) =>
        m.precisionWithinRadius?.radius === radius ? m.precisionWithinRadius.precision : undefined,
    });
  }
  return cols;
}

/** The caption of a "more metrics" table; the tie-aware sentence when it has those columns. */
function moreCaption(tieAware: boolean): string {
  return "Every direction: I→T and T→I across modalities, I→I and T→T within one. MAP@all = " +
    "mean average precision over the whole ranking; MAP@k = over the top k, 'standard' " +
    "1/min(k,R) Σ P@r·rel(r), 'legacy' = the public DCMH/DADH code's mean of j/rank_j over the " +
    "first min(k,R) relevant items; " +
    (tieAware
      ? "'tie-aware' = the expectation over every order of the items at equal Hamming " +
        "distance (He et al., CVPR 2018), where the other columns break ties by database " +
        "index; "
      : "") +
    "P (r≤2) = " +
    "precision of the items within Hamming radius 2 (a query with none counts by the recorded " +
    "empty-retrieved convention). Mean ± sample standard deviation over seeds; — = no result. " +
    "Precision@N and precision-recall curves are in the figures; every per-seed number is in " +
    "the long CSV.";
}

/**
 * One table per code length: rows = series (full models, ablations, baselines) × direction,
 * columns = MAP@all, MAP@k standard and legacy for every recorded k, precision within radius 2.
 * Collapsed by default in Markdown and HTML.
 */
export function moreMetricsTables(section: DatasetSection): ReportTable[] {
  const all = seriesOf(section.results);
  const out: ReportTable[] = [];
  for (const bits of bitsOf(section.results)) {
    const atBits = section.results.filter((r) => r.spec.bits === bits);
    const cols = metricColumns(atBits);
    type Row = { s: Series; dir: Direction; ms: RetrievalMetrics[] };
    const rows: Row[] = [];
    for (const s of all) {
      const rs = s.results.filter((r) => r.spec.bits === bits);
      if (!rs.length) continue;
      for (const dir of ALL_DIRECTIONS) {
        const ms = rs.map((r) => r.metrics[dir]).filter((m): m is RetrievalMetrics => !!m);
        if (ms.length) rows.push({ s, dir, ms });
      }
    }
    if (!rows.length) continue;
    const sums: (Summary | null)[][] = rows.map((r) =>
      cols.map((c) =>
        summarize(
          r.ms.map(c.get).filter((v): v is number => typeof v === "number" && Number.isFinite(v)),
        )
      )
    );
    const display: Record<string, string[]> = {
      series: rows.map((r) => r.s.label),
      direction: rows.map((r) => DIRECTION_LABELS[r.dir]),
      seeds: rows.map((r) => String(r.ms.length)),
    };
    const data: Record<string, (string | number | null)[]> = {
      method: rows.map((r) => r.s.method),
      ablation: rows.map((r) => r.s.ablation),
      epochs: rows.map((r) => r.s.epochs),
      backend: rows.map((r) => r.s.backend),
      bits: rows.map(() => bits),
      direction: rows.map((r) => r.dir),
      seeds: rows.map((r) => r.ms.length),
    };
    cols.forEach((c, ci) => {
      display[c.header] = rows.map((r, ri) => formatSummary(sums[ri][ci], r.ms.length));
      data[`${c.key}_mean`] = sums.map((row) => row[ci]?.mean ?? null);
      data[`${c.key}_std`] = sums.map((row) => row[ci]?.std ?? null);
      data[`${c.key}_n`] = sums.map((row) => row[ci]?.n ?? null);
    });
    out.push({
      id: `metrics-${bits}b`,
      title:
        `More metrics at ${bits} bits: all directions, MAP@k, precision within radius 2 — ${section.heading}`,
      caption: moreCaption(cols.some((c) => c.key === "map_all_tie_aware")),
      notes: [],
      display: aq.table(display),
      data: aq.table(data),
      collapsed: true,
    });
  }
  return out;
}

/** The columns of the long format, in order. */
export const LONG_COLUMNS = [
  "dataset",
  "variant",
  "split",
  "method",
  "ablation",
  "bits",
  "seed",
  "epochs",
  "backend",
  "direction",
  "metric",
  "k",
  "value",
] as const;

/**
 * The metric names of the long format, with what `k` is for each: map_all (no k),
 * map_all_tie_aware (no k), map_at_k_standard, map_at_k_tie_aware and map_at_k_legacy (k),
 * precision_at_n (k = N), precision_within_radius
 * (k = the Hamming radius), pr_precision and pr_recall (k = the Hamming radius of the
 * precision-recall curve).
 */
export const LONG_METRICS = [
  "map_all",
  "map_all_tie_aware",
  "map_at_k_standard",
  "map_at_k_tie_aware",
  "map_at_k_legacy",
  "precision_at_n",
  "precision_within_radius",
  "pr_precision",
  "pr_recall",
] as const;

/** One row of the long format. */
export type LongRow = {
  dataset: string;
  variant: string;
  split: string;
  method: string;
  ablation: string;
  bits: number;
  seed: number;
  epochs: number;
  backend: string;
  direction: Direction;
  metric: (typeof LONG_METRICS)[number];
  k: number | null;
  value: number;
};

/** The long-format rows of one result file: direction × metric × k, in that order. */
export function longRows(r: CellResult): LongRow[] {
  const out: LongRow[] = [];
  const s = r.spec;
  for (const direction of ALL_DIRECTIONS) {
    const m = r.metrics[direction];
    if (!m) continue;
    const row = (metric: LongRow["metric"], k: number | null, value: number | undefined) => {
      if (typeof value !== "number") return;
      out.push({
        dataset: s.dataset,
        variant: s.variant ?? "",
        split: s.split,
        method: s.method,
        ablation: s.ablation,
        bits: s.bits,
        seed: s.seed,
        epochs: s.epochs,
        backend: s.backend,
        direction,
        metric,
        k,
        value,
      });
    };
    row("map_all", null, m.mapAll);
    row("map_all_tie_aware", null, m.mapAllTieAware);
    m.mapAtK?.k.forEach((k, i) => row("map_at_k_standard", k, m.mapAtK.standard[i]));
    m.mapAtK?.k.forEach((k, i) => row("map_at_k_tie_aware", k, m.mapAtK.tieAware?.[i]));
    m.mapAtK?.k.forEach((k, i) => row("map_at_k_legacy", k, m.mapAtK.legacy[i]));
    m.precisionAtN?.n.forEach((n, i) => row("precision_at_n", n, m.precisionAtN.precision[i]));
    if (m.precisionWithinRadius) {
      row(
        "precision_within_radius",
        m.precisionWithinRadius.radius,
        m.precisionWithinRadius.precision,
      );
    }
    m.prByRadius?.radius.forEach((rad, i) => row("pr_precision", rad, m.prByRadius.precision[i]));
    m.prByRadius?.radius.forEach((rad, i) => row("pr_recall", rad, m.prByRadius.recall[i]));
  }
  return out;
}

/**
 * The tidy long format of a section: one row per result file × direction × metric × k (k, N
 * or radius where the metric has one), results in series order, then code length, then seed.
 * Columns {@link LONG_COLUMNS}; `variant` is empty for the default variant, `k` for MAP@all.
 */
export function longTable(section: DatasetSection): ColumnTable {
  const order = new Map(seriesOf(section.results).map((s, i) => [s.key, i]));
  const key = (r: CellResult) =>
    order.get(`${r.spec.method}/${r.spec.ablation}/e${r.spec.epochs}/${r.spec.backend}`) ?? 0;
  const rs = [...section.results].sort((a, b) =>
    key(a) - key(b) || a.spec.bits - b.spec.bits || a.spec.seed - b.spec.seed ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
  const rows = rs.flatMap(longRows);
  const cols: Record<string, unknown[]> = {};
  for (const c of LONG_COLUMNS) cols[c] = rows.map((r) => r[c]);
  return aq.table(cols);
}
