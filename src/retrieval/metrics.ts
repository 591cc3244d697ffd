/**
 * Retrieval metrics on Hamming ranking of packed binary codes (specification: "Metrics" in
 * docs/methods.md).
 *
 * Relevance: a database item is relevant to a query iff they share at least one label
 * (single-label data is the same rule with one-hot labels).
 *
 * Ranking: the database is ranked per query by Hamming distance, ascending; **ties in distance
 * are broken by database index, ascending** (a stable sort by distance). Every metric below
 * uses this one ranking. The ranking is a counting sort over the distances 0..K; the metrics are
 * accumulated from it in one scan of the database in index order, without materialising the
 * ranked list: the rank of item j in bucket d (distance d) is (number of items at distance < d)
 * + (number of items at distance d with index <= j), and likewise for its position among the
 * relevant items.
 *
 * Metrics (R = number of relevant database items of the query; rank r = 1, 2, ...):
 * - MAP@all: AP = (1/R) * sum over relevant items of (relevant items up to and including it) /
 *   (its rank).
 * - MAP@k, standard: AP@k = (1 / min(k, R)) * sum over ranks r <= k of P@r * rel(r).
 * - MAP@k, legacy (the public DCMH/DADH evaluation code): AP@k = mean over the first min(k, R)
 *   relevant items, wherever they rank, of j / rank_j (j = 1..min(k, R)). It differs from the
 *   standard one when fewer than min(k, R) relevant items rank within the top k.
 *   For k >= database size both equal AP@all.
 * - Precision@N: (relevant items among the top N) / N, for N clipped to the database size.
 * - Precision and recall by Hamming radius r = 0..K: the retrieved set is every item at
 *   distance <= r; precision = relevant retrieved / retrieved, recall = relevant retrieved / R.
 * - Precision within Hamming radius 2 (configurable): the precision above at r = 2.
 * - Tie-aware MAP@all and standard MAP@k (He et al., CVPR 2018, "Hashing as Tie-Aware Learning
 *   to Rank"): the expectation of AP over every order of the items within each distance, in
 *   closed form over the distance histogram (O(K) per query and cut-off, no sort; see
 *   `tieGroupSum` in ranking.ts). Legacy MAP@k has no tie-aware form here: which relevant items
 *   are the first min(k, R) depends on the order, and its expectation has no such closed form.
 *
 * Documented choices (each an option, recorded in every result):
 * - `zeroRelevant`: a query with R = 0 has every metric 0 and still counts in the mean
 *   (`"count"`, the default, as the public codes' MAP denominators do), or is left out of every
 *   mean (`"exclude"`).
 * - `emptyRetrieved`: precision of an empty retrieved set (no item within radius r) is 0 and
 *   the query counts in that radius's mean (`"zero"`, the default, the usual convention for
 *   precision within Hamming radius 2), or the query is left out of that radius's precision
 *   mean (`"skip"`; the per-radius query counts are reported). Recall is always averaged over
 *   all counted queries (it is 0 for an empty set).
 * - A mean over zero counted queries is reported as 0 (with the count, 0, alongside).
 *
 * Cost: O(n_db * (K/32 + c/32)) per query with no allocation per query.
 *
 * @module
 */
import {
  checkLabelMatrix,
  checkPackedCodes,
  type PackedLabels,
  packLabels,
  popcount32 as popcount,
} from "./codes.ts";
import { asInt32, DirectionAccumulator, relevanceKernel } from "./ranking.ts";
import type { Direction, LabelMatrix, PackedCodes } from "../types.ts";
import { DIRECTIONS } from "../types.ts";

/** How queries without any relevant database item enter the means. */
export type ZeroRelevantPolicy = "count" | "exclude";

/** How an empty retrieved set (nothing within Hamming radius r) enters the precision mean. */
export type EmptyRetrievedPolicy = "zero" | "skip";

/** Default cut-offs k of MAP@k. */
export const DEFAULT_MAP_AT_K: readonly number[] = [50, 100, 500, 1000];

/** Options of {@link evaluate} and {@link evaluateDirections}. */
export interface EvaluateOptions {
  /** Cut-offs k for MAP@k (standard and legacy). Default {@link DEFAULT_MAP_AT_K}. */
  readonly mapAtK?: readonly number[];
  /**
   * List of N for the precision@N curve; values above the database size are clipped to it
   * (then de-duplicated). Default {@link defaultPrecisionNs}(database size).
   */
  readonly precisionAtN?: readonly number[];
  /** Hamming radius of "precision within radius" (default 2; clipped to K). */
  readonly radius?: number;
  /** Queries with no relevant item: "count" (default) or "exclude". */
  readonly zeroRelevant?: ZeroRelevantPolicy;
  /** Precision of an empty retrieved set: "zero" (default) or "skip". */
  readonly emptyRetrieved?: EmptyRetrievedPolicy;
  /**
   * Also return each query's AP@all, stable-tie and tie-aware (in query order; excluded queries
   * have none).
   */
  readonly perQuery?: boolean;
}

/** The conventions a result was computed under. */
export interface MetricConventions {
  /** Relevant = query and item share at least one label. */
  readonly relevance: "shares-at-least-one-label";
  /** Ties in Hamming distance are broken by database index, ascending. */
  readonly ties: "database-index-ascending";
  /** What queries with no relevant item count as. */
  readonly zeroRelevant: ZeroRelevantPolicy;
  /** What an empty retrieved set counts as. */
  readonly emptyRetrieved: EmptyRetrievedPolicy;
}

/** All metrics of one retrieval direction. Plain JSON-serialisable data. */
export interface RetrievalMetrics {
  /** Code length K. */
  readonly bits: number;
  /** Number of query items. */
  readonly queries: number;
  /** Database size. */
  readonly database: number;
  /** Queries that enter the means (all, or those with R > 0 under "exclude"). */
  readonly countedQueries: number;
  /** Queries with no relevant database item. */
  readonly queriesWithoutRelevant: number;
  /** The conventions the numbers were computed under. */
  readonly conventions: MetricConventions;
  /** MAP over the whole ranked database (ties by database index, ascending). */
  readonly mapAll: number;
  /**
   * Tie-aware MAP@all: the expectation of MAP@all over every order of the items within each
   * Hamming distance (He et al., CVPR 2018). Absent in results written before it existed.
   */
  readonly mapAllTieAware?: number;
  /** MAP@k for each k, both definitions (parallel arrays). */
  readonly mapAtK: {
    readonly k: number[];
    readonly standard: number[];
    readonly legacy: number[];
    /**
     * Tie-aware standard MAP@k: its expectation over the orders within each distance (the
     * denominator min(k, R) does not depend on the order). Absent in results written before
     * it existed.
     */
    readonly tieAware?: number[];
  };
  /** Precision@N curve (parallel arrays; N already clipped to the database size). */
  readonly precisionAtN: { readonly n: number[]; readonly precision: number[] };
  /**
   * Precision-recall by Hamming radius r = 0..K (parallel arrays). `precisionQueries[r]` is the
   * number of queries in the precision mean at radius r (differs from countedQueries only under
   * emptyRetrieved = "skip").
   */
  readonly prByRadius: {
    readonly radius: number[];
    readonly precision: number[];
    readonly recall: number[];
    readonly precisionQueries: number[];
  };
  /** Precision within Hamming radius `radius` (default 2). */
  readonly precisionWithinRadius: { readonly radius: number; readonly precision: number };
  /** Per-query AP@all, when asked for (counted queries only, in query order). */
  readonly perQueryAP?: number[];
  /** Per-query tie-aware AP@all, when asked for (as {@link perQueryAP}). */
  readonly perQueryTieAwareAP?: number[];
}

/**
 * Default N list of the precision@N curve: 1, 100, 500, then every multiple of 1000, keeping
 * the values <= the database size.
 */
export function defaultPrecisionNs(databaseSize: number): number[] {
  const out = [1, 100, 500];
  for (let n = 1000; n <= databaseSize; n += 1000) out.push(n);
  return out.filter((n) => n <= databaseSize);
}

// ---------------------------------------------------------------------------------------------
// Hamming distances and ranking
// ---------------------------------------------------------------------------------------------

function checkSameBits(q: PackedCodes, db: PackedCodes, fn: string): void {
  if (q.bits !== db.bits) {
    throw new Error(
      `${fn}: query and database code lengths differ (${q.bits} vs ${db.bits} bits)`,
    );
  }
}

function checkIndex(i: number, n: number, fn: string, name: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new Error(`${fn}: ${name}=${i} out of range [0, ${n})`);
  }
}

/**
 * Hamming distances from query item `i` to every database item: popcount of the XOR of the
 * packed words.
 *
 * @param out optional output of length db.n (reused to avoid allocation).
 */
export function hammingDistances(
  query: PackedCodes,
  i: number,
  db: PackedCodes,
  out?: Uint16Array,
): Uint16Array {
  checkSameBits(query, db, "hammingDistances");
  checkIndex(i, query.n, "hammingDistances", "i");
  const res = out ?? new Uint16Array(db.n);
  if (res.length !== db.n) {
    throw new Error(`hammingDistances: out has length ${res.length}, expected ${db.n}`);
  }
  const w = db.words;
  const q = asInt32(query.data);
  const d = asInt32(db.data);
  for (let j = 0; j < db.n; j++) {
    let s = 0;
    for (let t = 0; t < w; t++) s += popcount(q[i * w + t] ^ d[j * w + t]);
    res[j] = s;
  }
  return res;
}

/**
 * The database ranked for query item `i`: indices sorted by Hamming distance ascending, ties by
 * database index ascending (a counting sort over distances 0..K, which is stable).
 *
 * @param out optional output of length db.n.
 */
export function hammingRanking(
  query: PackedCodes,
  i: number,
  db: PackedCodes,
  out?: Int32Array,
): Int32Array {
  const dist = hammingDistances(query, i, db);
  const res = out ?? new Int32Array(db.n);
  if (res.length !== db.n) {
    throw new Error(`hammingRanking: out has length ${res.length}, expected ${db.n}`);
  }
  const next = new Int32Array(db.bits + 2);
  for (let j = 0; j < db.n; j++) next[dist[j] + 1]++;
  for (let d = 1; d <= db.bits + 1; d++) next[d] += next[d - 1];
  for (let j = 0; j < db.n; j++) res[next[dist[j]]++] = j;
  return res;
}

export interface ResolvedOptions {
  ks: number[];
  ns: number[];
  radius: number;
  zeroRelevant: ZeroRelevantPolicy;
  emptyRetrieved: EmptyRetrievedPolicy;
  perQuery: boolean;
}

function resolveOptions(opts: EvaluateOptions, nDb: number, fn: string): ResolvedOptions {
  const ks = [...(opts.mapAtK ?? DEFAULT_MAP_AT_K)];
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) {
      throw new Error(`${fn}: opts.mapAtK must hold integers >= 1, got ${k}`);
    }
  }
  const rawNs = opts.precisionAtN ?? defaultPrecisionNs(nDb);
  for (const n of rawNs) {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${fn}: opts.precisionAtN must hold integers >= 1, got ${n}`);
    }
  }
  const ns = [...new Set(rawNs.map((n) => Math.min(n, nDb)))].sort((a, b) => a - b);
  const radius = opts.radius ?? 2;
  if (!Number.isInteger(radius) || radius < 0) {
    throw new Error(`${fn}: opts.radius must be an integer >= 0, got ${radius}`);
  }
  const zeroRelevant = opts.zeroRelevant ?? "count";
  if (zeroRelevant !== "count" && zeroRelevant !== "exclude") {
    throw new Error(
      `${fn}: opts.zeroRelevant must be "count" or "exclude", got ${zeroRelevant}`,
    );
  }
  const emptyRetrieved = opts.emptyRetrieved ?? "zero";
  if (emptyRetrieved !== "zero" && emptyRetrieved !== "skip") {
    throw new Error(
      `${fn}: opts.emptyRetrieved must be "zero" or "skip", got ${emptyRetrieved}`,
    );
  }
  return { ks, ns, radius, zeroRelevant, emptyRetrieved, perQuery: opts.perQuery ?? false };
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

interface Task {
  readonly name: string;
  readonly query: PackedCodes;
  readonly db: PackedCodes;
}

/** Validate inputs, then run every task over the queries, sharing relevance per query. */
function run(
  tasks: readonly Task[],
  queryLabels: LabelMatrix,
  dbLabels: LabelMatrix,
  opts: EvaluateOptions,
  fn: string,
): RetrievalMetrics[] {
  checkLabelMatrix(queryLabels, "queryLabels", fn);
  checkLabelMatrix(dbLabels, "dbLabels", fn);
  if (queryLabels.classes !== dbLabels.classes) {
    throw new Error(
      `${fn}: queryLabels has ${queryLabels.classes} classes, dbLabels ${dbLabels.classes}`,
    );
  }
  for (const t of tasks) {
    checkPackedCodes(t.query, `${t.name} query codes`, fn);
    checkPackedCodes(t.db, `${t.name} database codes`, fn);
    checkSameBits(t.query, t.db, fn);
    if (t.query.n !== queryLabels.rows) {
      throw new Error(
        `${fn}: ${t.name} query codes have ${t.query.n} items, queryLabels ${queryLabels.rows} rows`,
      );
    }
    if (t.db.n !== dbLabels.rows) {
      throw new Error(
        `${fn}: ${t.name} database codes have ${t.db.n} items, dbLabels ${dbLabels.rows} rows`,
      );
    }
    if (t.db.bits > 32767) {
      throw new Error(`${fn}: code length ${t.db.bits} exceeds the supported 32767 bits`);
    }
  }
  if (dbLabels.rows === 0) throw new Error(`${fn}: the database is empty`);
  const o = resolveOptions(opts, dbLabels.rows, fn);
  const ql: PackedLabels = packLabels(queryLabels);
  const dl: PackedLabels = packLabels(dbLabels);
  const qlw = asInt32(ql.data), dlw = asInt32(dl.data);
  const accs = tasks.map((t) => new DirectionAccumulator(t.query, t.db, ql, dl, o));
  const needsRelevance = accs.some((a) => a.needsRelevance);
  const rel = new Uint8Array(dl.n);
  for (let i = 0; i < ql.n; i++) {
    if (needsRelevance) relevanceKernel(qlw, i, dlw, dl.words, rel);
    for (const a of accs) a.add(i, rel);
  }
  return accs.map((a) => a.result());
}

/**
 * Every metric of one retrieval direction, in one scan of the database per query.
 *
 * @param query packed query codes (n_q items).
 * @param queryLabels labels of the queries (n_q rows).
 * @param db packed database codes (n_db items, same code length).
 * @param dbLabels labels of the database items (n_db rows, same classes).
 * @throws a one-line error on inconsistent sizes or options.
 */
export function evaluate(
  query: PackedCodes,
  queryLabels: LabelMatrix,
  db: PackedCodes,
  dbLabels: LabelMatrix,
  opts: EvaluateOptions = {},
): RetrievalMetrics {
  return run([{ name: "evaluate", query, db }], queryLabels, dbLabels, opts, "evaluate")[0];
}

/**
 * MAP@all alone (the fast path: no MAP@k, no precision@N). Same conventions as
 * {@link evaluate}; `zeroRelevant` defaults to "count".
 */
export function mapAll(
  query: PackedCodes,
  queryLabels: LabelMatrix,
  db: PackedCodes,
  dbLabels: LabelMatrix,
  zeroRelevant: ZeroRelevantPolicy = "count",
): number {
  const opts: EvaluateOptions = { mapAtK: [], precisionAtN: [], zeroRelevant };
  return run([{ name: "mapAll", query, db }], queryLabels, dbLabels, opts, "mapAll")[0].mapAll;
}

/** Codes and labels of a cross-modal evaluation: query and database sides, both modalities. */
export interface CrossModalCodes {
  /** Image codes of the query items. */
  readonly imageQuery: PackedCodes;
  /** Text codes of the query items. */
  readonly textQuery: PackedCodes;
  /** Image codes of the database items. */
  readonly imageDb: PackedCodes;
  /** Text codes of the database items. */
  readonly textDb: PackedCodes;
  /** Labels of the query items. */
  readonly queryLabels: LabelMatrix;
  /** Labels of the database items. */
  readonly dbLabels: LabelMatrix;
}

/** Options of {@link evaluateDirections}: {@link EvaluateOptions} plus the directions to run. */
export interface DirectionsOptions extends EvaluateOptions {
  /** Directions to evaluate (default all four, {@link DIRECTIONS}). */
  readonly directions?: readonly Direction[];
}

/** Metrics per direction (the directions asked for). */
export type DirectionMetrics = { [D in Direction]?: RetrievalMetrics };

/**
 * Every metric for the four directions: I2T (image queries vs text database), T2I (text vs
 * image), I2I (image vs image), T2T (text vs text). Relevance is computed once per query and
 * shared by the directions.
 */
export function evaluateDirections(
  codes: CrossModalCodes,
  opts: DirectionsOptions = {},
): DirectionMetrics {
  const dirs = opts.directions ?? DIRECTIONS;
  const sides: Record<Direction, [PackedCodes, PackedCodes]> = {
    I2T: [codes.imageQuery, codes.textDb],
    T2I: [codes.textQuery, codes.imageDb],
    I2I: [codes.imageQuery, codes.imageDb],
    T2T: [codes.textQuery, codes.textDb],
  };
  const tasks: Task[] = dirs.map((d) => {
    if (!(d in sides)) {
      throw new Error(
        `evaluateDirections: unknown direction '${d}'; expected one of ${DIRECTIONS.join(", ")}`,
      );
    }
    return { name: d, query: sides[d][0], db: sides[d][1] };
  });
  const results = run(tasks, codes.queryLabels, codes.dbLabels, opts, "evaluateDirections");
  const out: DirectionMetrics = {};
  dirs.forEach((d, t) => (out[d] = results[t]));
  return out;
}
