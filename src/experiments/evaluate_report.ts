/**
 * What `deno task evaluate` writes and prints: the Markdown report of one evaluation (its
 * arrays, then every metric per direction), and the paired comparison of several evaluations
 * with the statistics of the ablation tables (src/experiments/stats.ts: mean difference, 95%
 * confidence interval from the t distribution, two-sided paired t-test, Holm correction across
 * the table). Two pairings: by query (each folder against the first, over the same queries: for
 * two methods' codes of one split) and by run (folders A_i against B_i: e.g. one folder per
 * seed of each of two methods).
 *
 * @module
 */
import { formatDiff, formatP, holm, type PairedComparison, pairedComparison } from "./stats.ts";
import type { CodesEvaluation, EvaluationFile } from "./evaluate_codes.ts";
import type { Direction, LabelMatrix } from "../types.ts";
import { DIRECTIONS } from "../types.ts";

/** Display names of the directions. */
const LABEL: Record<Direction, string> = { I2T: "I→T", T2I: "T→I", I2I: "I→I", T2T: "T→T" };

const f4 = (x: number | undefined) => (typeof x === "number" ? x.toFixed(4) : "—");

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The Markdown report of one evaluation. */
export function evaluationMarkdown(e: EvaluationFile): string {
  const dirs = DIRECTIONS.filter((d) => e.metrics[d]);
  const ks = e.metrics[dirs[0]]?.mapAtK.k ?? [];
  const files = Object.entries(e.source.files).map(([name, f]) => [
    `${name}.npy`,
    `(${f.shape.join(", ")})`,
    f.dtype,
    f.encoding ?? "labels",
    `\`${f.sha256.slice(0, 16)}\``,
  ]);
  const header = ["direction", "MAP@all", "MAP@all tie-aware"];
  for (const k of ks) header.push(`MAP@${k}`, `MAP@${k} tie-aware`, `MAP@${k} legacy`);
  const radius = e.metrics[dirs[0]]?.precisionWithinRadius.radius ?? 2;
  header.push(`P (r≤${radius})`, "queries without relevant");
  const rows = dirs.map((d) => {
    const m = e.metrics[d]!;
    const r = [LABEL[d], f4(m.mapAll), f4(m.mapAllTieAware)];
    ks.forEach((_, i) =>
      r.push(f4(m.mapAtK.standard[i]), f4(m.mapAtK.tieAware?.[i]), f4(m.mapAtK.legacy[i]))
    );
    r.push(f4(m.precisionWithinRadius.precision), String(m.queriesWithoutRelevant));
    return r;
  });
  const conv = e.metrics[dirs[0]]?.conventions;
  return [
    `# Evaluation of ${e.source.name}`,
    "",
    `${e.queries} queries, ${e.database} database items, ${e.bits}-bit codes, ${e.classes} ` +
    `label classes; scored by @cmh/hashing ${e.toolkit}.`,
    "",
    "## Arrays",
    "",
    table(["file", "shape", "dtype", "read as", "SHA-256 (first 16)"], files),
    "",
    "## Metrics",
    "",
    table(header, rows),
    "",
    "Relevant = shares at least one label. MAP@all and MAP@k rank ties in Hamming distance by " +
    "database index; 'tie-aware' is the expectation over every order of the tied items (He et " +
    "al., CVPR 2018); 'legacy' MAP@k is the public DCMH/DADH code's mean of j/rank_j over the " +
    "first min(k, R) relevant items. Queries without a relevant item " +
    (conv?.zeroRelevant === "exclude" ? "are left out of the means." : "count as 0.") +
    " Definitions: docs/methods.md, section 7.",
    "",
  ].join("\n");
}

/** One row of a paired comparison: a pair of evaluations' labels and one test per column. */
export interface ComparisonRow {
  /** What is compared, e.g. "b vs a". */
  label: string;
  /** Per direction: stable-tie and tie-aware MAP@all tests. */
  tests: Partial<Record<Direction, { stable: PairedComparison; tieAware: PairedComparison }>>;
}

/** A paired comparison: its rows and how they were paired. */
export interface Comparison {
  /** "query" (per-query AP over the same queries) or "run" (MAP@all per folder pair). */
  pairing: "query" | "run";
  /** The rows. */
  rows: ComparisonRow[];
  /** The directions compared (those every evaluation has). */
  directions: Direction[];
  /** Paired by run: the folder names of each pair, in order. */
  pairs?: [string, string][];
}

function sameLabelMatrix(a: LabelMatrix, b: LabelMatrix): boolean {
  return a.rows === b.rows && a.classes === b.classes && a.data.every((v, i) => v === b.data[i]);
}

function sameLabels(a: CodesEvaluation, b: CodesEvaluation): boolean {
  return sameLabelMatrix(a.labels.query, b.labels.query) &&
    sameLabelMatrix(a.labels.database, b.labels.database);
}

function commonDirections(es: readonly CodesEvaluation[]): Direction[] {
  return DIRECTIONS.filter((d) => es.every((e) => e.file.metrics[d]));
}

/**
 * Each evaluation after the first against the first, paired by query: the differences of
 * per-query AP@all (stable-tie and tie-aware). The folders must hold the same query and
 * database labels (the same values, whatever the dtype).
 *
 * @throws a one-line error when the labels differ or no direction is common.
 */
export function compareByQuery(es: readonly CodesEvaluation[]): Comparison {
  const [base, ...others] = es;
  for (const o of others) {
    if (!sameLabels(base, o)) {
      throw new Error(
        `${o.file.source.name}: its query_labels.npy or database_labels.npy hold other labels than ` +
          `${base.file.source.name}'s; a comparison by query needs the same queries and database`,
      );
    }
  }
  const directions = commonDirections(es);
  if (!directions.length) throw new Error("the folders have no direction in common");
  const rows = others.map((o) => ({
    label: `${o.file.source.name} − ${base.file.source.name}`,
    tests: Object.fromEntries(directions.map((d) => [d, {
      stable: pairedComparison(o.perQuery[d]!.stable, base.perQuery[d]!.stable),
      tieAware: pairedComparison(o.perQuery[d]!.tieAware, base.perQuery[d]!.tieAware),
    }])),
  }));
  return { pairing: "query", rows, directions };
}

/**
 * Folders `a[i]` against `b[i]`, paired by run (e.g. the same seed of two methods): one row,
 * the differences a − b of MAP@all (stable-tie and tie-aware) over the pairs.
 *
 * @throws a one-line error when the lists differ in length or no direction is common.
 */
export function compareByRun(
  a: readonly CodesEvaluation[],
  b: readonly CodesEvaluation[],
): Comparison {
  if (a.length !== b.length) {
    throw new Error(`--vs: ${b.length} folders given for ${a.length}; expected one per folder`);
  }
  const directions = commonDirections([...a, ...b]);
  if (!directions.length) throw new Error("the folders have no direction in common");
  const pick = (es: readonly CodesEvaluation[], d: Direction, tie: boolean) =>
    es.map((e) => (tie ? e.file.metrics[d]!.mapAllTieAware! : e.file.metrics[d]!.mapAll));
  return {
    pairing: "run",
    directions,
    pairs: a.map((e, i) => [e.file.source.name, b[i].file.source.name]),
    rows: [{
      label: "DIR − --vs DIR",
      tests: Object.fromEntries(directions.map((d) => [d, {
        stable: pairedComparison(pick(a, d, false), pick(b, d, false)),
        tieAware: pairedComparison(pick(a, d, true), pick(b, d, true)),
      }])),
    }],
  };
}

/** Holm-corrected p-values of a comparison, in row, direction, (stable, tie-aware) order. */
export function comparisonHolm(c: Comparison): number[] {
  return holm(
    c.rows.flatMap((r) =>
      c.directions.flatMap((d) => [r.tests[d]!.stable.p, r.tests[d]!.tieAware.p])
    ),
  );
}

/** A comparison as a Markdown table (one row per compared pair and direction) with a caption. */
export function comparisonMarkdown(c: Comparison): string {
  const p = comparisonHolm(c);
  const header = [
    "compared",
    "direction",
    "pairs",
    "Δ MAP@all [95% CI]",
    "p (Holm)",
    "Δ tie-aware MAP@all [95% CI]",
    "p (Holm)",
  ];
  let i = 0;
  const rows = c.rows.flatMap((r) =>
    c.directions.map((d) => {
      const t = r.tests[d]!;
      return [
        r.label,
        LABEL[d],
        String(t.stable.n),
        formatDiff(t.stable),
        formatP(p[i++]),
        formatDiff(t.tieAware),
        formatP(p[i++]),
      ];
    })
  );
  const unit = c.pairing === "query"
    ? "per-query AP@all over the same queries (pairs = counted queries)"
    : "MAP@all of each folder pair (pairs = folder pairs, e.g. seeds)";
  return [
    table(header, rows),
    "",
    `Δ = mean paired difference of ${unit}, with its 95% confidence interval from the t ` +
    "distribution; p = two-sided paired t-test, Holm-corrected across every test of this table " +
    "(src/experiments/stats.ts, as in the ablation tables). 'tie-aware' compares the tie-aware " +
    "APs." +
    (c.pairs
      ? ` Pairs (DIR − --vs DIR): ${c.pairs.map(([x, y]) => `${x} − ${y}`).join("; ")}.`
      : ""),
    "",
  ].join("\n");
}
