/**
 * The per-query kernels of the retrieval metrics (src/retrieval/metrics.ts): relevance flags,
 * Hamming distances, the average-precision scans, and the accumulator of one direction, which
 * feeds every metric from one scan of the database per query (no allocation per query).
 *
 * @module
 */
import type { PackedLabels } from "./codes.ts";
import { popcount32 as popcount } from "./codes.ts";
import type { PackedCodes } from "../types.ts";
import type { ResolvedOptions, RetrievalMetrics } from "./metrics.ts";

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
