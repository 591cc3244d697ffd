/**
 * The per-query kernels of the retrieval metrics (src/retrieval/metrics.ts): relevance flags,
 * Hamming distances, the average-precision scans, and the accumulator of one direction, which
 * feeds every metric from one scan of the database per query (no allocation per query).
 *
 * Per query, pass 1 walks the database in index order and counts, per distance d, the items
 * and the relevant items, writing for each relevant item (without a branch on relevance) its
 * distance and its positions among the relevant and among all items of its distance so far.
 * Pass 2 turns the counts into bucket offsets and walks only those records: rank and position
 * among the relevant items are offset + position, so every metric is summed over the relevant
 * items in database order. Pass 1 and the AP@all sum run as WebAssembly
 * (src/accel/hamming_kernel.ts) when available, else as the JavaScript kernels below; both give
 * bit-identical sums.
 *
 * @module
 */
import type { PackedLabels } from "./codes.ts";
import { popcount32 as popcount } from "./codes.ts";
import type { PackedCodes } from "../types.ts";
import type { ResolvedOptions, RetrievalMetrics } from "./metrics.ts";
import { createHammingScanner, type HammingScanner } from "../accel/hamming_kernel.ts";

/** A packed word array as int32 (the kernels' word type). */
export function asInt32(a: Uint32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

// ---------------------------------------------------------------------------------------------
// Per-query kernels (hot loops; no allocation)
// ---------------------------------------------------------------------------------------------

/**
 * rel[j] = 1 iff database row j shares a label with query row `qi`; returns R = sum of rel.
 */
export function relevanceKernel(
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
 * Count item j (distance d, relevance r) in the counter pairs of the per-query scan
 * (counts[2d] items, counts[2d + 1] relevant items at distance d) and write its record
 * (d, relevant, all items at distance d so far) at rec[k]; returns the next record position,
 * k + 3 r, so only relevant items keep their record (no branch on r).
 */
function append(counts: Int32Array, rec: Int32Array, k: number, d: number, r: number): number {
  const b = ++counts[2 * d];
  const a = (counts[2 * d + 1] += r);
  rec[k] = d;
  rec[k + 1] = a;
  rec[k + 2] = b;
  return k + 3 * r;
}

/**
 * Pass 1 of the per-query scan (the JavaScript form of src/accel/hamming_kernel.ts): distances
 * of query `qi` to the database in index order with the relevance flags rel[j], into the
 * counters and the records of the relevant items (see {@link append}). Returns R.
 */
function scanKernel(
  q: Int32Array,
  qi: number,
  db: Int32Array,
  words: number,
  rel: Uint8Array,
  counts: Int32Array,
  rec: Int32Array,
): number {
  const n = rel.length;
  counts.fill(0);
  const base = qi * words;
  let k = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < words; t++) s += popcount(q[base + t] ^ db[j * words + t]);
    k = append(counts, rec, k, s, rel[j]);
  }
  return k / 3;
}

/**
 * As {@link scanKernel} for codes of 1 or 2 words and labels of one word (c <= 32), with the
 * relevance test fused in: rel = (query labels AND item labels) != 0.
 */
function scanKernelFused(
  q: Int32Array,
  qi: number,
  db: Int32Array,
  words: number,
  labels: number,
  dl: Int32Array,
  counts: Int32Array,
  rec: Int32Array,
): number {
  const n = dl.length;
  counts.fill(0);
  let k = 0;
  if (words === 1) {
    const a = q[qi];
    for (let j = 0; j < n; j++) {
      let x = a ^ db[j];
      x = x - ((x >>> 1) & 0x55555555);
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      x = (x + (x >>> 4)) & 0x0f0f0f0f;
      const m = labels & dl[j];
      k = append(counts, rec, k, Math.imul(x, 0x01010101) >>> 24, (m | -m) >>> 31);
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
      k = append(counts, rec, k, Math.imul(x, 0x01010101) >>> 24, (m | -m) >>> 31);
    }
  }
  return k / 3;
}

/**
 * Pass 2, AP@all numerator of one query: over the R records (d, a, b) in database order, the
 * sum of (relevant items at distance < d + a) / (items at distance < d + b), i.e. of
 * (relevant items up to and including the item) / (its rank) — ties by index ascending.
 * before[2d] / before[2d + 1] hold the items / relevant items at distance < d.
 */
function apKernel(R: number, rec: Int32Array, before: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < 3 * R; i += 3) {
    const d = rec[i];
    sum += (before[2 * d + 1] + rec[i + 1]) / (before[2 * d] + rec[i + 2]);
  }
  return sum;
}

/**
 * As {@link apKernel}, also accumulating the AP@k numerators (standard: rank <= k; legacy:
 * position among the relevant items <= k) and marking relevant ranks in rankRel (for P@N).
 */
function fullKernel(
  R: number,
  rec: Int32Array,
  before: Int32Array,
  ks: Float64Array,
  std: Float64Array,
  leg: Float64Array,
  rankRel: Uint8Array,
): number {
  const nk = ks.length;
  let kMax = 0;
  for (let t = 0; t < nk; t++) kMax = Math.max(kMax, ks[t]);
  let sum = 0;
  for (let i = 0; i < 3 * R; i += 3) {
    const d = rec[i];
    const r = before[2 * d + 1] + rec[i + 1];
    const rank = before[2 * d] + rec[i + 2];
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
  return sum;
}

/**
 * Harmonic numbers H[0..n] (H[0] = 0, H[m] = Σ_{t=1..m} 1/t), the table behind
 * {@link tieGroupSum}.
 */
export function harmonicTable(n: number): Float64Array {
  const h = new Float64Array(n + 1);
  for (let t = 1; t <= n; t++) h[t] = h[t - 1] + 1 / t;
  return h;
}

/**
 * Tie-aware AP numerator of one tie group (He et al., CVPR 2018, "Hashing as Tie-Aware Learning
 * to Rank"): the expectation, over the orders of the group's items, of Σ P@rank over the
 * group's relevant items at positions t = 1..m of the group. The group holds `n` items, `r` of
 * them relevant, behind `N` items of which `Rb` are relevant. A relevant item at position t has
 * probability r/n, and then (t − 1)(r − 1)/(n − 1) relevant items ahead of it in the group in
 * expectation, so the sum is (r/n) Σ_{t=1..m} (Rb + 1 + (t − 1) b) / (N + t) with
 * b = (r − 1)/(n − 1). Writing the numerator as b (N + t) + (Rb + 1 − b (N + 1)) gives the
 * closed form (r/n) (b m + (Rb + 1 − b (N + 1)) (H[N + m] − H[N])) with harmonic numbers H: O(1)
 * per group, no sort.
 */
export function tieGroupSum(
  N: number,
  Rb: number,
  n: number,
  r: number,
  m: number,
  H: Float64Array,
): number {
  if (r === 0 || m <= 0) return 0;
  const b = n > 1 ? (r - 1) / (n - 1) : 0;
  return (r / n) * (b * m + (Rb + 1 - b * (N + 1)) * (H[N + m] - H[N]));
}

// ---------------------------------------------------------------------------------------------
// One direction's accumulator
// ---------------------------------------------------------------------------------------------

/** Workspace and running sums of one direction; fed one query at a time. */
export class DirectionAccumulator {
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
  readonly #scanner: HammingScanner | undefined;
  // workspace
  readonly #counts: Int32Array;
  readonly #before: Int32Array;
  readonly #records: Int32Array;
  readonly #ks: Float64Array;
  readonly #stdQ: Float64Array;
  readonly #legQ: Float64Array;
  readonly #rankRel: Uint8Array;
  readonly #harmonic: Float64Array;
  // sums over queries
  #counted = 0;
  #zeroRel = 0;
  #ap = 0;
  #tieAp = 0;
  readonly #tieStd: Float64Array;
  readonly #std: Float64Array;
  readonly #leg: Float64Array;
  readonly #pAtN: Float64Array;
  readonly #prec: Float64Array;
  readonly #precCount: Float64Array;
  readonly #rec: Float64Array;
  readonly #perQuery: number[] = [];
  readonly #perQueryTie: number[] = [];
  readonly #nQuery: number;

  /** Workspace for `query` against `db` (labels packed as `ql`, `dl`) under options `o`. */
  constructor(
    query: PackedCodes,
    db: PackedCodes,
    ql: PackedLabels,
    dl: PackedLabels,
    o: ResolvedOptions,
  ) {
    this.#scanner = createHammingScanner(query, db, ql, dl, db.bits);
    this.needsRelevance = this.#scanner === undefined && !(ql.words === 1 && db.words <= 2);
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
    this.#counts = this.#scanner?.counts ?? new Int32Array(2 * (K + 1));
    this.#before = this.#scanner?.before ?? new Int32Array(2 * (K + 1));
    this.#records = this.#scanner?.records ?? new Int32Array(3 * db.n);
    this.#ks = Float64Array.from(o.ks);
    this.#stdQ = new Float64Array(o.ks.length);
    this.#legQ = new Float64Array(o.ks.length);
    this.#rankRel = new Uint8Array(this.#lean ? 0 : db.n);
    this.#std = new Float64Array(o.ks.length);
    this.#leg = new Float64Array(o.ks.length);
    this.#tieStd = new Float64Array(o.ks.length);
    this.#harmonic = harmonicTable(db.n);
    this.#pAtN = new Float64Array(o.ns.length);
    this.#prec = new Float64Array(K + 1);
    this.#precCount = new Float64Array(K + 1);
    this.#rec = new Float64Array(K + 1);
  }

  /**
   * Add query `qi`. When {@link needsRelevance}, `rel` holds its relevance flags over the
   * database; otherwise it is ignored.
   */
  add(qi: number, rel: Uint8Array): void {
    const counts = this.#counts, before = this.#before, rec = this.#records;
    const scanner = this.#scanner;
    let R: number;
    if (scanner !== undefined) R = scanner.scan(qi);
    else if (this.needsRelevance) {
      R = scanKernel(this.#q, qi, this.#db, this.#words, rel, counts, rec);
    } else {
      R = scanKernelFused(this.#q, qi, this.#db, this.#words, this.#ql[qi], this.#dl, counts, rec);
    }
    if (R === 0) {
      this.#zeroRel++;
      if (this.#o.zeroRelevant === "exclude") return;
    }
    this.#counted++;
    const K = this.#bits;

    // Bucket offsets, and precision / recall of "everything within radius r".
    const skipEmpty = this.#o.emptyRetrieved === "skip";
    let items = 0, relBefore = 0;
    for (let d = 0; d <= K; d++) {
      before[2 * d] = items;
      before[2 * d + 1] = relBefore;
      items += counts[2 * d];
      relBefore += counts[2 * d + 1];
      if (items > 0) {
        this.#prec[d] += relBefore / items;
        this.#precCount[d]++;
      } else if (!skipEmpty) this.#precCount[d]++;
      if (R > 0) this.#rec[d] += relBefore / R;
    }

    this.#addTieAware(R);

    let apNum: number;
    if (this.#lean) {
      apNum = scanner !== undefined ? scanner.apSum(R) : apKernel(R, rec, before);
    } else {
      const stdQ = this.#stdQ, legQ = this.#legQ, rankRel = this.#rankRel;
      stdQ.fill(0);
      legQ.fill(0);
      rankRel.fill(0);
      apNum = fullKernel(R, rec, before, this.#ks, stdQ, legQ, rankRel);
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

  /**
   * Tie-aware AP@all and standard AP@k of the query just scanned (expectation over the orders
   * within each distance, {@link tieGroupSum}), from the distance histogram: O(K) per cut-off.
   */
  #addTieAware(R: number): void {
    if (R === 0) {
      if (this.#o.perQuery) this.#perQueryTie.push(0);
      return;
    }
    const counts = this.#counts, before = this.#before, H = this.#harmonic;
    const K = this.#bits;
    let num = 0;
    for (let d = 0; d <= K; d++) {
      const n = counts[2 * d];
      num += tieGroupSum(before[2 * d], before[2 * d + 1], n, counts[2 * d + 1], n, H);
    }
    this.#tieAp += num / R;
    if (this.#o.perQuery) this.#perQueryTie.push(num / R);
    const ks = this.#ks;
    for (let t = 0; t < ks.length; t++) {
      const k = ks[t];
      let s = 0;
      for (let d = 0; d <= K && before[2 * d] < k; d++) {
        const n = counts[2 * d];
        const m = Math.min(n, k - before[2 * d]);
        s += tieGroupSum(before[2 * d], before[2 * d + 1], n, counts[2 * d + 1], m, H);
      }
      this.#tieStd[t] += s / Math.min(k, R);
    }
  }

  /** The metrics over the queries added so far. */
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
      mapAllTieAware: mean(this.#tieAp, c),
      mapAtK: {
        k: [...this.#o.ks],
        standard: Array.from(this.#std, (s) => mean(s, c)),
        legacy: Array.from(this.#leg, (s) => mean(s, c)),
        tieAware: Array.from(this.#tieStd, (s) => mean(s, c)),
      },
      precisionAtN: { n: [...this.#o.ns], precision: Array.from(this.#pAtN, (s) => mean(s, c)) },
      prByRadius: { radius, precision, recall, precisionQueries },
      precisionWithinRadius: { radius: this.#o.radius, precision: precision[rr] },
    };
    return this.#o.perQuery
      ? { ...out, perQueryAP: [...this.#perQuery], perQueryTieAwareAP: [...this.#perQueryTie] }
      : out;
  }
}
