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
import { checkLabelMatrix, checkPackedCodes, type PackedLabels, packLabels } from "./codes.ts";
import type { Direction, LabelMatrix, PackedCodes } from "./types.ts";
import { DIRECTIONS } from "./types.ts";

const FILE = "src/metrics.ts";

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
  /** Also return each query's AP@all (in query order; excluded queries have none). */
  readonly perQuery?: boolean;
}

/** The conventions a result was computed under. */
export interface MetricConventions {
  readonly relevance: "shares-at-least-one-label";
  readonly ties: "database-index-ascending";
  readonly zeroRelevant: ZeroRelevantPolicy;
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
  readonly conventions: MetricConventions;
  /** MAP over the whole ranked database. */
  readonly mapAll: number;
  /** MAP@k for each k, both definitions (parallel arrays). */
  readonly mapAtK: {
    readonly k: number[];
    readonly standard: number[];
    readonly legacy: number[];
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

function asInt32(a: Uint32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

function checkSameBits(q: PackedCodes, db: PackedCodes, fn: string): void {
  if (q.bits !== db.bits) {
    throw new Error(
      `${FILE}: ${fn}: query and database code lengths differ (${q.bits} vs ${db.bits} bits)`,
    );
  }
}

function checkIndex(i: number, n: number, fn: string, name: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new Error(`${FILE}: ${fn}: ${name}=${i} out of range [0, ${n})`);
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
    throw new Error(`${FILE}: hammingDistances: out has length ${res.length}, expected ${db.n}`);
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
    throw new Error(`${FILE}: hammingRanking: out has length ${res.length}, expected ${db.n}`);
  }
  const next = new Int32Array(db.bits + 2);
  for (let j = 0; j < db.n; j++) next[dist[j] + 1]++;
  for (let d = 1; d <= db.bits + 1; d++) next[d] += next[d - 1];
  for (let j = 0; j < db.n; j++) res[next[dist[j]]++] = j;
  return res;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

// ---------------------------------------------------------------------------------------------
// Per-query kernels (hot loops; no allocation)
// ---------------------------------------------------------------------------------------------

/**
 * rel[j] = 1 iff database row j shares a label with query row `qi`; returns R = sum of rel.
 */
function relevanceKernel(
  ql: Int32Array,
  qi: number,
  dl: Int32Array,
  lw: number,
  rel: Uint8Array,
): number {
  const n = rel.length;
  let count = 0;
  if (lw === 1) {
    const a = ql[qi];
    for (let j = 0; j < n; j++) {
      const m = a & dl[j];
      const r = (m | -m) >>> 31; // 1 iff m != 0
      rel[j] = r;
      count += r;
    }
  } else {
    const base = qi * lw;
    for (let j = 0; j < n; j++) {
      let m = 0;
      for (let t = 0; t < lw; t++) m |= ql[base + t] & dl[j * lw + t];
      const r = (m | -m) >>> 31;
      rel[j] = r;
      count += r;
    }
  }
  return count;
}

/**
 * Distances of query `qi` to the database, combined with the relevance flags rel[j] into
 * code[j] = 2 * distance + rel[j], and the histogram hist[code] of those values.
 */
function distanceKernel(
  q: Int32Array,
  qi: number,
  db: Int32Array,
  words: number,
  rel: Uint8Array,
  code: Uint16Array,
  hist: Int32Array,
): void {
  const n = code.length;
  hist.fill(0);
  const base = qi * words;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < words; t++) s += popcount(q[base + t] ^ db[j * words + t]);
    const v = (s << 1) | rel[j];
    code[j] = v;
    hist[v]++;
  }
}

/**
 * As {@link distanceKernel} for codes of 1 or 2 words and labels of one word (c <= 32), with the
 * relevance test fused in: rel = (query labels AND item labels) != 0. Returns R.
 */
function distanceKernelFused(
  q: Int32Array,
  qi: number,
  db: Int32Array,
  words: number,
  labels: number,
  dl: Int32Array,
  code: Uint16Array,
  hist: Int32Array,
): number {
  const n = code.length;
  hist.fill(0);
  let count = 0;
  if (words === 1) {
    const a = q[qi];
    for (let j = 0; j < n; j++) {
      let x = a ^ db[j];
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      x = (x + (x >>> 4)) & 0x0f0f0f0f;
      const m = labels & dl[j];
      const r = (m | -m) >>> 31; // 1 iff m != 0
      count += r;
      const v = ((Math.imul(x, 0x01010101) >>> 24) << 1) | r;
      code[j] = v;
      hist[v]++;
    }
  } else {
    const a0 = q[2 * qi], a1 = q[2 * qi + 1];
    for (let j = 0; j < n; j++) {
      // Two SWAR popcounts merged after the 2-bit stage (4-bit fields stay <= 8).
      let x = a0 ^ db[2 * j];
      let y = a1 ^ db[2 * j + 1];
      x = x - ((x >>> 1) & 0x55555555);
      y = y - ((y >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333) + (y & 0x33333333) +
        ((y >>> 2) & 0x33333333);
      x = (x & 0x0f0f0f0f) + ((x >>> 4) & 0x0f0f0f0f);
      const m = labels & dl[j];
      const r = (m | -m) >>> 31;
      count += r;
      const v = ((Math.imul(x, 0x01010101) >>> 24) << 1) | r;
      code[j] = v;
      hist[v]++;
    }
  }
  return count;
}

/**
 * AP@all numerator of one query: scans the database in index order; nextRank[d] / nextRel[d]
 * start at the number of items / relevant items at distance < d and count up through bucket d.
 */
function apKernel(code: Uint16Array, nextRank: Int32Array, nextRel: Int32Array): number {
  const n = code.length;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const v = code[j];
    const d = v >>> 1;
    const rank = ++nextRank[d];
    if ((v & 1) !== 0) sum += ++nextRel[d] / rank;
  }
  return sum;
}

/**
 * As {@link apKernel}, also accumulating the AP@k numerators (standard: rank <= k; legacy:
 * position among the relevant items <= k) and marking relevant ranks in rankRel (for P@N).
 */
function fullKernel(
  code: Uint16Array,
  nextRank: Int32Array,
  nextRel: Int32Array,
  ks: Float64Array,
  std: Float64Array,
  leg: Float64Array,
  rankRel: Uint8Array,
): number {
  const n = code.length;
  const nk = ks.length;
  let kMax = 0;
  for (let t = 0; t < nk; t++) kMax = Math.max(kMax, ks[t]);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const v = code[j];
    const d = v >>> 1;
    const rank = ++nextRank[d];
    if ((v & 1) !== 0) {
      const r = ++nextRel[d];
      const c = r / rank;
      sum += c;
      rankRel[rank - 1] = 1;
      // r <= rank, so an item with r > kMax counts towards no AP@k.
      if (r <= kMax) {
        for (let t = 0; t < nk; t++) {
          const k = ks[t];
          if (rank <= k) std[t] += c;
          if (r <= k) leg[t] += c;
        }
      }
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// One direction's accumulator
// ---------------------------------------------------------------------------------------------

interface ResolvedOptions {
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
      throw new Error(`${FILE}: ${fn}: opts.mapAtK must hold integers >= 1, got ${k}`);
    }
  }
  const rawNs = opts.precisionAtN ?? defaultPrecisionNs(nDb);
  for (const n of rawNs) {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${FILE}: ${fn}: opts.precisionAtN must hold integers >= 1, got ${n}`);
    }
  }
  const ns = [...new Set(rawNs.map((n) => Math.min(n, nDb)))].sort((a, b) => a - b);
  const radius = opts.radius ?? 2;
  if (!Number.isInteger(radius) || radius < 0) {
    throw new Error(`${FILE}: ${fn}: opts.radius must be an integer >= 0, got ${radius}`);
  }
  const zeroRelevant = opts.zeroRelevant ?? "count";
  if (zeroRelevant !== "count" && zeroRelevant !== "exclude") {
    throw new Error(
      `${FILE}: ${fn}: opts.zeroRelevant must be "count" or "exclude", got ${zeroRelevant}`,
    );
  }
  const emptyRetrieved = opts.emptyRetrieved ?? "zero";
  if (emptyRetrieved !== "zero" && emptyRetrieved !== "skip") {
    throw new Error(
      `${FILE}: ${fn}: opts.emptyRetrieved must be "zero" or "skip", got ${emptyRetrieved}`,
    );
  }
  return { ks, ns, radius, zeroRelevant, emptyRetrieved, perQuery: opts.perQuery ?? false };
}

/** Workspace and running sums of one direction; fed one query at a time. */
class DirectionAccumulator {
  /** Whether {@link add} needs the relevance flags (else it tests labels itself). */
  readonly needsRelevance: boolean;
  readonly #ql: Int32Array;
  readonly #dl: Int32Array;
  readonly #q: Int32Array;
  readonly #db: Int32Array;
  readonly #words: number;
  readonly #bits: number;
  readonly #nDb: number;
  readonly #o: ResolvedOptions;
  readonly #lean: boolean;
  // workspace
  readonly #code: Uint16Array;
  readonly #hist: Int32Array;
  readonly #nextRank: Int32Array;
  readonly #nextRel: Int32Array;
  readonly #ks: Float64Array;
  readonly #stdQ: Float64Array;
  readonly #legQ: Float64Array;
  readonly #rankRel: Uint8Array;
  // sums over queries
  #counted = 0;
  #zeroRel = 0;
  #ap = 0;
  readonly #std: Float64Array;
  readonly #leg: Float64Array;
  readonly #pAtN: Float64Array;
  readonly #prec: Float64Array;
  readonly #precCount: Float64Array;
  readonly #rec: Float64Array;
  readonly #perQuery: number[] = [];
  readonly #nQuery: number;

  constructor(
    query: PackedCodes,
    db: PackedCodes,
    ql: PackedLabels,
    dl: PackedLabels,
    o: ResolvedOptions,
  ) {
    this.needsRelevance = !(ql.words === 1 && db.words <= 2);
    this.#ql = asInt32(ql.data);
    this.#dl = asInt32(dl.data);
    this.#q = asInt32(query.data);
    this.#db = asInt32(db.data);
    this.#words = db.words;
    this.#bits = db.bits;
    this.#nDb = db.n;
    this.#nQuery = query.n;
    this.#o = o;
    this.#lean = o.ks.length === 0 && o.ns.length === 0;
    const K = db.bits;
    this.#code = new Uint16Array(db.n);
    this.#hist = new Int32Array(2 * (K + 1));
    this.#nextRank = new Int32Array(K + 1);
    this.#nextRel = new Int32Array(K + 1);
    this.#ks = Float64Array.from(o.ks);
    this.#stdQ = new Float64Array(o.ks.length);
    this.#legQ = new Float64Array(o.ks.length);
    this.#rankRel = new Uint8Array(this.#lean ? 0 : db.n);
    this.#std = new Float64Array(o.ks.length);
    this.#leg = new Float64Array(o.ks.length);
    this.#pAtN = new Float64Array(o.ns.length);
    this.#prec = new Float64Array(K + 1);
    this.#precCount = new Float64Array(K + 1);
    this.#rec = new Float64Array(K + 1);
  }

  /**
   * Add query `qi`. When {@link needsRelevance}, `rel` holds its relevance flags over the
   * database and `relCount` their sum; otherwise both are ignored.
   */
  add(qi: number, rel: Uint8Array, relCount: number): void {
    const code = this.#code, hist = this.#hist, nextRank = this.#nextRank, nextRel = this.#nextRel;
    let R = relCount;
    if (this.needsRelevance) distanceKernel(this.#q, qi, this.#db, this.#words, rel, code, hist);
    else {
      R = distanceKernelFused(
        this.#q,
        qi,
        this.#db,
        this.#words,
        this.#ql[qi],
        this.#dl,
        code,
        hist,
      );
    }
    if (R === 0) {
      this.#zeroRel++;
      if (this.#o.zeroRelevant === "exclude") return;
    }
    this.#counted++;
    const K = this.#bits;

    // Bucket offsets, and precision / recall of "everything within radius r".
    const skipEmpty = this.#o.emptyRetrieved === "skip";
    let before = 0, relBefore = 0;
    for (let d = 0; d <= K; d++) {
      nextRank[d] = before;
      nextRel[d] = relBefore;
      before += hist[2 * d] + hist[2 * d + 1];
      relBefore += hist[2 * d + 1];
      if (before > 0) {
        this.#prec[d] += relBefore / before;
        this.#precCount[d]++;
      } else if (!skipEmpty) this.#precCount[d]++;
      if (R > 0) this.#rec[d] += relBefore / R;
    }

    let apNum: number;
    if (this.#lean) {
      apNum = apKernel(code, nextRank, nextRel);
    } else {
      const stdQ = this.#stdQ, legQ = this.#legQ, rankRel = this.#rankRel;
      stdQ.fill(0);
      legQ.fill(0);
      rankRel.fill(0);
      apNum = fullKernel(code, nextRank, nextRel, this.#ks, stdQ, legQ, rankRel);
      for (let t = 0; t < stdQ.length; t++) {
        const m = Math.min(this.#ks[t], R);
        if (m > 0) {
          this.#std[t] += stdQ[t] / m;
          this.#leg[t] += legQ[t] / m;
        }
      }
      // Precision@N: walk the relevant-rank marks up to the largest N.
      const ns = this.#o.ns;
      let hits = 0, pos = 0;
      for (let t = 0; t < ns.length; t++) {
        const n = ns[t];
        for (; pos < n; pos++) hits += rankRel[pos];
        this.#pAtN[t] += hits / n;
      }
    }
    const ap = R > 0 ? apNum / R : 0;
    this.#ap += ap;
    if (this.#o.perQuery) this.#perQuery.push(ap);
  }

  result(): RetrievalMetrics {
    const c = this.#counted;
    const mean = (s: number, n: number) => (n > 0 ? s / n : 0);
    const K = this.#bits;
    const radius: number[] = [], precision: number[] = [], recall: number[] = [];
    const precisionQueries: number[] = [];
    for (let r = 0; r <= K; r++) {
      radius.push(r);
      precision.push(mean(this.#prec[r], this.#precCount[r]));
      recall.push(mean(this.#rec[r], c));
      precisionQueries.push(this.#precCount[r]);
    }
    const rr = Math.min(this.#o.radius, K);
    const out: RetrievalMetrics = {
      bits: K,
      queries: this.#nQuery,
      database: this.#nDb,
      countedQueries: c,
      queriesWithoutRelevant: this.#zeroRel,
      conventions: {
        relevance: "shares-at-least-one-label",
        ties: "database-index-ascending",
        zeroRelevant: this.#o.zeroRelevant,
        emptyRetrieved: this.#o.emptyRetrieved,
      },
      mapAll: mean(this.#ap, c),
      mapAtK: {
        k: [...this.#o.ks],
        standard: Array.from(this.#std, (s) => mean(s, c)),
        legacy: Array.from(this.#leg, (s) => mean(s, c)),
      },
      precisionAtN: { n: [...this.#o.ns], precision: Array.from(this.#pAtN, (s) => mean(s, c)) },
      prByRadius: { radius, precision, recall, precisionQueries },
      precisionWithinRadius: { radius: this.#o.radius, precision: precision[rr] },
    };
    return this.#o.perQuery ? { ...out, perQueryAP: [...this.#perQuery] } : out;
  }
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
      `${FILE}: ${fn}: queryLabels has ${queryLabels.classes} classes, dbLabels ${dbLabels.classes}`,
    );
  }
  for (const t of tasks) {
    checkPackedCodes(t.query, `${t.name} query codes`, fn);
    checkPackedCodes(t.db, `${t.name} database codes`, fn);
    checkSameBits(t.query, t.db, fn);
    if (t.query.n !== queryLabels.rows) {
      throw new Error(
        `${FILE}: ${fn}: ${t.name} query codes have ${t.query.n} items, queryLabels ${queryLabels.rows} rows`,
      );
    }
    if (t.db.n !== dbLabels.rows) {
      throw new Error(
        `${FILE}: ${fn}: ${t.name} database codes have ${t.db.n} items, dbLabels ${dbLabels.rows} rows`,
      );
    }
    if (t.db.bits > 32767) {
      throw new Error(`${FILE}: ${fn}: code length ${t.db.bits} exceeds the supported 32767 bits`);
    }
  }
  if (dbLabels.rows === 0) throw new Error(`${FILE}: ${fn}: the database is empty`);
  const o = resolveOptions(opts, dbLabels.rows, fn);
  const ql: PackedLabels = packLabels(queryLabels);
  const dl: PackedLabels = packLabels(dbLabels);
  const qlw = asInt32(ql.data), dlw = asInt32(dl.data);
  const accs = tasks.map((t) => new DirectionAccumulator(t.query, t.db, ql, dl, o));
  const needsRelevance = accs.some((a) => a.needsRelevance);
  const rel = new Uint8Array(dl.n);
  for (let i = 0; i < ql.n; i++) {
    const R = needsRelevance ? relevanceKernel(qlw, i, dlw, dl.words, rel) : 0;
    for (const a of accs) a.add(i, rel, R);
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
  readonly imageQuery: PackedCodes;
  readonly textQuery: PackedCodes;
  readonly imageDb: PackedCodes;
  readonly textDb: PackedCodes;
  readonly queryLabels: LabelMatrix;
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
        `${FILE}: evaluateDirections: unknown direction '${d}'; expected one of ${
          DIRECTIONS.join(", ")
        }`,
      );
    }
    return { name: d, query: sides[d][0], db: sides[d][1] };
  });
  const results = run(tasks, codes.queryLabels, codes.dbLabels, opts, "evaluateDirections");
  const out: DirectionMetrics = {};
  dirs.forEach((d, t) => (out[d] = results[t]));
  return out;
}
