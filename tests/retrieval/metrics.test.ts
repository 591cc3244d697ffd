import assert from "node:assert/strict";
import { packSigns } from "../../src/retrieval/codes.ts";
import {
  defaultPrecisionNs,
  evaluate,
  evaluateDirections,
  type EvaluateOptions,
  hammingDistances,
  hammingRanking,
  mapAll,
  type RetrievalMetrics,
} from "../../src/retrieval/metrics.ts";
import { Rng } from "../../src/random.ts";
import type { LabelMatrix, PackedCodes } from "../../src/types.ts";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function labels(rows: number[][]): LabelMatrix {
  const classes = rows[0].length;
  return { rows: rows.length, classes, data: Uint8Array.from(rows.flat()) };
}

function codes(rows: number[][]): PackedCodes {
  return packSigns(rows.flat(), rows.length, rows[0].length);
}

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, expected ${expected}`,
  );
}

function closeArray(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) close(actual[i], expected[i], `${what}[${i}]`);
}

// ---------------------------------------------------------------------------------------------
// Hand-worked example (K = 4 bits, 6 database items, 4 classes)
//
//   item  code           labels     distance to query A = (+1,+1,+1,+1)
//   j0    (-1,-1,+1,+1)  1 0 1 0    2
//   j1    (+1,+1,+1,+1)  0 1 0 0    0
//   j2    (+1,-1,-1,+1)  1 1 0 0    2
//   j3    (+1,+1,+1,-1)  1 0 0 0    1
//   j4    (-1,-1,-1,-1)  1 0 0 0    4
//   j5    (+1,+1,-1,-1)  0 0 1 0    2
// ---------------------------------------------------------------------------------------------

const DB = codes([
  [-1, -1, 1, 1],
  [1, 1, 1, 1],
  [1, -1, -1, 1],
  [1, 1, 1, -1],
  [-1, -1, -1, -1],
  [1, 1, -1, -1],
]);
const DB_LABELS = labels([
  [1, 0, 1, 0],
  [0, 1, 0, 0],
  [1, 1, 0, 0],
  [1, 0, 0, 0],
  [1, 0, 0, 0],
  [0, 0, 1, 0],
]);
const CODE_A = [1, 1, 1, 1];
const CODE_B = [-1, -1, -1, -1];
const CODE_C = [1, -1, 1, -1];
const CODE_D = [-1, -1, 1, 1];
const CLASS0 = [1, 0, 0, 0];
const CLASS3 = [0, 0, 0, 1]; // no database item has class 3

Deno.test("hand-worked: ranking breaks distance ties by database index", () => {
  // Query A: distances [2, 0, 2, 1, 4, 2]; bucket 2 holds j0, j2, j5 in index order.
  const q = codes([CODE_A]);
  assert.deepEqual([...hammingDistances(q, 0, DB)], [2, 0, 2, 1, 4, 2]);
  assert.deepEqual([...hammingRanking(q, 0, DB)], [1, 3, 0, 2, 5, 4]);
});

Deno.test("hand-worked: MAP@all, MAP@k (standard and legacy), P@N and PR of query A", () => {
  // Query A, labels {class 0}: relevant = j0, j2, j3, j4 (R = 4).
  // Ranked: j1 j3 j0 j2 j5 j4  -> relevance 0 1 1 1 0 1 at ranks 1..6.
  // AP@all = (1/2 + 2/3 + 3/4 + 4/6) / 4 = (31/12) / 4 = 31/48.
  // (Ties the other way round, j5 j2 j0, would give (1/2 + 2/4 + 3/5 + 4/6) / 4 instead.)
  // AP@2 standard = (1/min(2,4)) * (P@2 * 1) = (1/2) / 2 = 1/4.
  // AP@2 legacy   = mean over the first 2 relevant items of j / rank_j = (1/2 + 2/3) / 2 = 7/12.
  // AP@3 standard = (P@2 + P@3) / 3 = (1/2 + 2/3) / 3 = 7/18.
  // AP@3 legacy   = (1/2 + 2/3 + 3/4) / 3 = 23/36.
  // AP@10 (k > database size): both equal AP@all = 31/48.
  // P@1 = 0, P@3 = 2/3, P@6 = 4/6; N = 100 is clipped to 6.
  // Radius r: retrieved = distance <= r.
  //   r=0 {j1}: P 0, R 0; r=1 {j1,j3}: P 1/2, R 1/4; r=2 {+j0,j2,j5}: P 3/5, R 3/4;
  //   r=3: same as r=2; r=4: all: P 4/6, R 1.
  const r = evaluate(codes([CODE_A]), labels([CLASS0]), DB, DB_LABELS, {
    mapAtK: [2, 3, 10],
    precisionAtN: [1, 3, 6, 100],
  });
  close(r.mapAll, 31 / 48, "mapAll");
  assert.deepEqual(r.mapAtK.k, [2, 3, 10]);
  closeArray(r.mapAtK.standard, [1 / 4, 7 / 18, 31 / 48], "standard");
  closeArray(r.mapAtK.legacy, [7 / 12, 23 / 36, 31 / 48], "legacy");
  assert.deepEqual(r.precisionAtN.n, [1, 3, 6]);
  closeArray(r.precisionAtN.precision, [0, 2 / 3, 4 / 6], "P@N");
  assert.deepEqual(r.prByRadius.radius, [0, 1, 2, 3, 4]);
  closeArray(r.prByRadius.precision, [0, 1 / 2, 3 / 5, 3 / 5, 4 / 6], "precision");
  closeArray(r.prByRadius.recall, [0, 1 / 4, 3 / 4, 3 / 4, 1], "recall");
  close(r.precisionWithinRadius.precision, 3 / 5, "precision within radius 2");
  assert.equal(r.precisionWithinRadius.radius, 2);
  assert.equal(r.countedQueries, 1);
  assert.equal(r.conventions.ties, "database-index-ascending");
});

Deno.test("hand-worked: a query with no relevant item counts as 0 or is excluded", () => {
  // Query A (AP 31/48) and query B (class 3: R = 0).
  const q = codes([CODE_A, CODE_B]);
  const ql = labels([CLASS0, CLASS3]);
  const counted = evaluate(q, ql, DB, DB_LABELS, { perQuery: true });
  close(counted.mapAll, (31 / 48 + 0) / 2, "count");
  assert.equal(counted.countedQueries, 2);
  assert.equal(counted.queriesWithoutRelevant, 1);
  closeArray(counted.perQueryAP!, [31 / 48, 0], "perQueryAP");
  // Recall at r = 4 is 1 for A and 0 for B.
  close(counted.prByRadius.recall[4], 0.5, "recall r=4");
  const excluded = evaluate(q, ql, DB, DB_LABELS, { zeroRelevant: "exclude", perQuery: true });
  close(excluded.mapAll, 31 / 48, "exclude");
  assert.equal(excluded.countedQueries, 1);
  assert.equal(excluded.queriesWithoutRelevant, 1);
  closeArray(excluded.perQueryAP!, [31 / 48], "perQueryAP");
  close(excluded.prByRadius.recall[4], 1, "recall r=4");
  close(mapAll(q, ql, DB, DB_LABELS), (31 / 48) / 2, "mapAll count");
  close(mapAll(q, ql, DB, DB_LABELS, "exclude"), 31 / 48, "mapAll exclude");
});

Deno.test("hand-worked: empty retrieved sets are precision 0 or skipped", () => {
  // Query C = (+1,-1,+1,-1): distances [2, 2, 2, 1, 2, 2]; nothing at distance 0.
  //   Ranked j3 j0 j1 j2 j4 j5, relevance (class 0) 1 1 0 1 1 0:
  //   AP = (1/1 + 2/2 + 3/4 + 4/5) / 4 = 71/80.
  // Query D = (-1,-1,+1,+1): distances [0, 2, 2, 3, 2, 4]; j0 (relevant) alone at distance 0.
  //   Ranked j0 j1 j2 j4 j3 j5, relevance 1 0 1 1 1 0: AP = (1 + 2/3 + 3/4 + 4/5) / 4 = 193/240.
  // Precision at r = 0: C retrieves nothing, D retrieves {j0} (precision 1).
  //   "zero": (0 + 1) / 2 = 1/2 over 2 queries; "skip": 1/1 over 1 query.
  const q = codes([CODE_C, CODE_D]);
  const ql = labels([CLASS0, CLASS0]);
  const zero = evaluate(q, ql, DB, DB_LABELS);
  close(zero.mapAll, (71 / 80 + 193 / 240) / 2, "mapAll");
  close(zero.prByRadius.precision[0], 1 / 2, "zero precision r=0");
  assert.equal(zero.prByRadius.precisionQueries[0], 2);
  close(zero.prByRadius.recall[0], (0 + 1 / 4) / 2, "recall r=0");
  const skip = evaluate(q, ql, DB, DB_LABELS, { emptyRetrieved: "skip", radius: 0 });
  close(skip.prByRadius.precision[0], 1, "skip precision r=0");
  assert.equal(skip.prByRadius.precisionQueries[0], 1);
  close(skip.precisionWithinRadius.precision, 1, "skip precision within radius 0");
  close(skip.prByRadius.recall[0], (0 + 1 / 4) / 2, "recall r=0 unaffected by skip");
});

Deno.test("hand-worked: when every item is tied the ranking is the database order", () => {
  // All database codes equal: every distance is 2, so the ranking is j0..j5 and
  // relevance (class 0) is 1 0 1 1 1 0: AP = (1 + 2/3 + 3/4 + 4/5) / 4 = 193/240.
  const db = codes(Array.from({ length: 6 }, () => [1, 1, -1, -1]));
  const q = codes([[1, -1, 1, -1]]);
  assert.deepEqual([...hammingRanking(q, 0, db)], [0, 1, 2, 3, 4, 5]);
  const r = evaluate(q, labels([CLASS0]), db, DB_LABELS, { mapAtK: [1], precisionAtN: [2] });
  close(r.mapAll, 193 / 240, "mapAll");
  closeArray(r.mapAtK.standard, [1], "AP@1");
  closeArray(r.precisionAtN.precision, [1 / 2], "P@2");
  closeArray(r.prByRadius.precision, [0, 0, 4 / 6, 4 / 6, 4 / 6], "precision by radius");
});

// ---------------------------------------------------------------------------------------------
// Slow, obviously-correct reference: ±1 codes, full sort by (distance, index), textbook formulas
// ---------------------------------------------------------------------------------------------

interface RefInput {
  q: number[][]; // ±1 codes
  db: number[][];
  ql: number[][]; // 0/1 labels
  dl: number[][];
}

function reference(input: RefInput, opts: Required<Omit<EvaluateOptions, "perQuery">>) {
  const K = input.q[0].length;
  const nDb = input.db.length;
  const ns = [...new Set(opts.precisionAtN.map((n) => Math.min(n, nDb)))].sort((a, b) => a - b);
  const sum = {
    ap: 0,
    std: opts.mapAtK.map(() => 0),
    leg: opts.mapAtK.map(() => 0),
    pAtN: ns.map(() => 0),
    prec: new Array(K + 1).fill(0),
    precCount: new Array(K + 1).fill(0),
    rec: new Array(K + 1).fill(0),
  };
  let counted = 0;
  for (let i = 0; i < input.q.length; i++) {
    const dist = input.db.map((b) => {
      let dot = 0;
      for (let k = 0; k < K; k++) dot += input.q[i][k] * b[k];
      return (K - dot) / 2;
    });
    const rel: number[] = input.dl.map((l) =>
      l.reduce((s, v, c) => s + v * input.ql[i][c], 0) > 0 ? 1 : 0
    );
    const R = rel.reduce((a, b) => a + b, 0);
    if (R === 0 && opts.zeroRelevant === "exclude") continue;
    counted++;
    const order = [...Array(nDb).keys()].sort((a, b) => dist[a] - dist[b] || a - b);
    const relRanked = order.map((j) => rel[j]);
    const precAt = (r: number) => relRanked.slice(0, r).reduce((a, b) => a + b, 0) / r;
    // AP@all
    let ap = 0;
    for (let r = 1; r <= nDb; r++) if (relRanked[r - 1]) ap += precAt(r);
    sum.ap += R > 0 ? ap / R : 0;
    opts.mapAtK.forEach((k, t) => {
      const m = Math.min(k, R);
      if (m === 0) return;
      let s = 0;
      for (let r = 1; r <= Math.min(k, nDb); r++) if (relRanked[r - 1]) s += precAt(r);
      sum.std[t] += s / m;
      // legacy: ranks of the first m relevant items
      const ranks: number[] = [];
      relRanked.forEach((v, idx) => v && ranks.push(idx + 1));
      let l = 0;
      for (let j = 1; j <= m; j++) l += j / ranks[j - 1];
      sum.leg[t] += l / m;
    });
    ns.forEach((n, t) => (sum.pAtN[t] += precAt(n)));
    for (let r = 0; r <= K; r++) {
      const retrieved = [...Array(nDb).keys()].filter((j) => dist[j] <= r);
      const hits = retrieved.filter((j) => rel[j]).length;
      if (retrieved.length > 0) {
        sum.prec[r] += hits / retrieved.length;
        sum.precCount[r]++;
      } else if (opts.emptyRetrieved === "zero") sum.precCount[r]++;
      sum.rec[r] += R > 0 ? hits / R : 0;
    }
  }
  const mean = (s: number, c: number) => (c > 0 ? s / c : 0);
  return {
    mapAll: mean(sum.ap, counted),
    standard: sum.std.map((s) => mean(s, counted)),
    legacy: sum.leg.map((s) => mean(s, counted)),
    ns,
    pAtN: sum.pAtN.map((s) => mean(s, counted)),
    precision: sum.prec.map((s, r) => mean(s, sum.precCount[r])),
    recall: sum.rec.map((s) => mean(s, counted)),
    counted,
  };
}

function randomPm1(rng: Rng, n: number, K: number, distinct: number): number[][] {
  // Draw from a small pool of codes so that exact ties and duplicates are common.
  const pool = Array.from(
    { length: distinct },
    () => Array.from({ length: K }, () => (rng.uniform() < 0.5 ? -1 : 1)),
  );
  return Array.from({ length: n }, () => pool[rng.int(distinct)].slice());
}

function randomLabels(rng: Rng, n: number, c: number, singleLabel: boolean): number[][] {
  return Array.from({ length: n }, () => {
    const row = new Array(c).fill(0);
    if (singleLabel) row[rng.int(c)] = 1;
    else for (let k = 0; k < c; k++) row[k] = rng.uniform() < 0.15 ? 1 : 0; // rows may be empty
    return row;
  });
}

function compare(actual: RetrievalMetrics, ref: ReturnType<typeof reference>, what: string) {
  close(actual.mapAll, ref.mapAll, `${what} mapAll`);
  closeArray(actual.mapAtK.standard, ref.standard, `${what} MAP@k standard`);
  closeArray(actual.mapAtK.legacy, ref.legacy, `${what} MAP@k legacy`);
  assert.deepEqual(actual.precisionAtN.n, ref.ns);
  closeArray(actual.precisionAtN.precision, ref.pAtN, `${what} P@N`);
  closeArray(actual.prByRadius.precision, ref.precision, `${what} PR precision`);
  closeArray(actual.prByRadius.recall, ref.recall, `${what} PR recall`);
  assert.equal(actual.countedQueries, ref.counted, `${what} counted`);
}

const KS = [8, 16, 31, 32, 33, 64, 100];

for (const singleLabel of [false, true]) {
  Deno.test(
    `all metrics equal the slow reference on random ${
      singleLabel ? "single" : "multi"
    }-label data (K in ${KS.join(", ")}, several seeds)`,
    () => {
      for (const seed of [1, 2, 3]) {
        for (const K of KS) {
          for (const classes of singleLabel ? [4] : [5, 40]) {
            const rng = new Rng(seed * 1000 + K * 7 + classes);
            const nQ = 12, nDb = 90;
            const input: RefInput = {
              q: randomPm1(rng, nQ, K, 10),
              db: randomPm1(rng, nDb, K, K <= 8 ? 20 : 45),
              ql: randomLabels(rng, nQ, classes, singleLabel),
              dl: randomLabels(rng, nDb, classes, singleLabel),
            };
            for (
              const o of [
                { zeroRelevant: "count", emptyRetrieved: "zero" },
                { zeroRelevant: "exclude", emptyRetrieved: "skip" },
              ] as const
            ) {
              const opts = {
                mapAtK: [1, 5, 20, 89, 500],
                precisionAtN: [1, 7, 50, 90, 1000],
                radius: 2,
                ...o,
              };
              const actual = evaluate(
                codes(input.q),
                labels(input.ql),
                codes(input.db),
                labels(input.dl),
                opts,
              );
              const what = `seed=${seed} K=${K} c=${classes} ${o.zeroRelevant}/${o.emptyRetrieved}`;
              const ref = reference(input, opts);
              compare(actual, ref, what);
              close(actual.precisionWithinRadius.precision, ref.precision[2], `${what} r2`);
              close(
                mapAll(
                  codes(input.q),
                  labels(input.ql),
                  codes(input.db),
                  labels(input.dl),
                  o.zeroRelevant,
                ),
                ref.mapAll,
                `${what} mapAll()`,
              );
            }
          }
        }
      }
    },
  );
}

Deno.test("hammingRanking equals a full sort by (distance, index) on random codes", () => {
  const rng = new Rng(9);
  for (const K of KS) {
    const q = randomPm1(rng, 3, K, 3), db = randomPm1(rng, 60, K, 15);
    const pq = codes(q), pdb = codes(db);
    for (let i = 0; i < 3; i++) {
      const dist = db.map((b) => b.reduce((s, v, k) => s + (v !== q[i][k] ? 1 : 0), 0));
      assert.deepEqual([...hammingDistances(pq, i, pdb)], dist);
      const order = [...dist.keys()].sort((a, b) => dist[a] - dist[b] || a - b);
      assert.deepEqual([...hammingRanking(pq, i, pdb)], order);
    }
  }
});

Deno.test("MAP@k with k at least the database size equals MAP@all", () => {
  const rng = new Rng(11);
  const q = codes(randomPm1(rng, 10, 16, 10)), db = codes(randomPm1(rng, 40, 16, 20));
  const ql = labels(randomLabels(rng, 10, 6, false)), dl = labels(randomLabels(rng, 40, 6, false));
  const r = evaluate(q, ql, db, dl, { mapAtK: [40, 41, 10_000] });
  for (let t = 0; t < 3; t++) {
    close(r.mapAtK.standard[t], r.mapAll, "standard");
    close(r.mapAtK.legacy[t], r.mapAll, "legacy");
  }
});

Deno.test("results are plain JSON-serialisable data", () => {
  const r = evaluate(codes([CODE_A, CODE_C]), labels([CLASS0, CLASS0]), DB, DB_LABELS, {
    perQuery: true,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

Deno.test("default precision@N list is 1, 100, 500, then multiples of 1000 up to the database", () => {
  assert.deepEqual(defaultPrecisionNs(2173), [1, 100, 500, 1000, 2000]);
  assert.deepEqual(defaultPrecisionNs(50), [1]);
  const r = evaluate(codes([CODE_A]), labels([CLASS0]), DB, DB_LABELS);
  assert.deepEqual(r.precisionAtN.n, [1]);
});

// ---------------------------------------------------------------------------------------------
// Four directions
// ---------------------------------------------------------------------------------------------

Deno.test("evaluateDirections wires I2T, T2I, I2I and T2T to the right code sets", () => {
  const rng = new Rng(21);
  const K = 32, nQ = 15, nDb = 70;
  const ql = labels(randomLabels(rng, nQ, 6, false)), dl = labels(randomLabels(rng, nDb, 6, false));
  const imageQuery = codes(randomPm1(rng, nQ, K, nQ)), textQuery = codes(randomPm1(rng, nQ, K, nQ));
  const imageDb = codes(randomPm1(rng, nDb, K, nDb)), textDb = codes(randomPm1(rng, nDb, K, nDb));
  const all = evaluateDirections({
    imageQuery,
    textQuery,
    imageDb,
    textDb,
    queryLabels: ql,
    dbLabels: dl,
  });
  assert.deepEqual(Object.keys(all), ["I2T", "T2I", "I2I", "T2T"]);
  assert.deepEqual(all.I2T, evaluate(imageQuery, ql, textDb, dl));
  assert.deepEqual(all.T2I, evaluate(textQuery, ql, imageDb, dl));
  assert.deepEqual(all.I2I, evaluate(imageQuery, ql, imageDb, dl));
  assert.deepEqual(all.T2T, evaluate(textQuery, ql, textDb, dl));
  // The four code pairs are different, so the four MAPs are too (guards against mis-wiring).
  const maps = new Set([all.I2T!.mapAll, all.T2I!.mapAll, all.I2I!.mapAll, all.T2T!.mapAll]);
  assert.equal(maps.size, 4);
  const some = evaluateDirections(
    { imageQuery, textQuery, imageDb, textDb, queryLabels: ql, dbLabels: dl },
    { directions: ["T2I"], mapAtK: [10] },
  );
  assert.deepEqual(Object.keys(some), ["T2I"]);
  assert.deepEqual(some.T2I, evaluate(textQuery, ql, imageDb, dl, { mapAtK: [10] }));
});

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

Deno.test("evaluate rejects inconsistent inputs with a one-line error", () => {
  const q = codes([CODE_A]);
  assert.throws(
    () => evaluate(codes([[1, 1, 1]]), labels([CLASS0]), DB, DB_LABELS),
    /evaluate: query and database code lengths differ \(3 vs 4 bits\)/,
  );
  assert.throws(
    () => evaluate(q, labels([CLASS0, CLASS0]), DB, DB_LABELS),
    /query codes have 1 items, queryLabels 2 rows/,
  );
  assert.throws(
    () => evaluate(q, labels([[1, 0]]), DB, DB_LABELS),
    /queryLabels has 2 classes, dbLabels 4/,
  );
  assert.throws(() => evaluate(q, labels([CLASS0]), DB, DB_LABELS, { mapAtK: [0] }), /mapAtK/);
  assert.throws(
    () => evaluate(q, labels([CLASS0]), DB, DB_LABELS, { precisionAtN: [2.5] }),
    /precisionAtN/,
  );
  assert.throws(
    () => evaluate(q, labels([CLASS0]), DB, DB_LABELS, { zeroRelevant: "drop" as "count" }),
    /zeroRelevant must be "count" or "exclude"/,
  );
  const empty: PackedCodes = { n: 0, bits: 4, words: 1, data: new Uint32Array(0) };
  assert.throws(
    () => evaluate(q, labels([CLASS0]), empty, { rows: 0, classes: 4, data: new Uint8Array(0) }),
    /the database is empty/,
  );
  assert.throws(
    () =>
      evaluateDirections(
        {
          imageQuery: q,
          textQuery: q,
          imageDb: DB,
          textDb: DB,
          queryLabels: labels([CLASS0]),
          dbLabels: DB_LABELS,
        },
        { directions: ["X2Y" as "I2T"] },
      ),
    /unknown direction 'X2Y'/,
  );
});
