/**
 * The per-query scan (src/retrieval/ranking.ts, WebAssembly kernel src/accel/hamming_kernel.ts
 * and its JavaScript fallback) against a naive reference: distances bit by bit from the ±1
 * values, a full sort by (distance, index), relevance from the 0/1 label matrix, and every sum
 * taken over the relevant items in database order — the order the kernels add in — so the
 * results must be equal bit for bit.
 */
import assert from "node:assert/strict";
import { packSigns } from "../../src/retrieval/codes.ts";
import { evaluate, mapAll } from "../../src/retrieval/metrics.ts";
import { createHammingScanner, setHammingWasmEnabled } from "../../src/accel/hamming_kernel.ts";
import { Rng } from "../../src/random.ts";
import type { LabelMatrix } from "../../src/types.ts";

/** Codes drawn around a few prototypes (many ties in distance, many equal codes). */
function tiedSigns(rng: Rng, n: number, bits: number, protos: Float32Array): Float32Array {
  const v = new Float32Array(n * bits);
  const np = protos.length / bits;
  for (let i = 0; i < n; i++) {
    const p = rng.int(np);
    for (let k = 0; k < bits; k++) {
      v[i * bits + k] = rng.uniform() < 0.08 ? rng.uniform() - 0.5 : protos[p * bits + k];
    }
  }
  return v;
}

function randomLabels(rng: Rng, n: number, classes: number): LabelMatrix {
  const data = Uint8Array.from(
    { length: n * classes },
    () => (rng.uniform() < 2 / classes ? 1 : 0),
  );
  for (let c = 0; c < classes; c++) data[c] = 0; // row 0 has no label: R = 0 for query 0
  return { rows: n, classes, data };
}

interface Reference {
  ap: number[]; // per query, 0 when R = 0
  relevant: number[]; // R per query
  std: number[][]; // AP@k numerators per query (standard)
  leg: number[][]; // AP@k numerators per query (legacy)
  hits: number[][]; // relevant items among the top N per query
}

function reference(
  q: Float32Array,
  db: Float32Array,
  bits: number,
  ql: LabelMatrix,
  dl: LabelMatrix,
  ks: number[],
  ns: number[],
): Reference {
  const nq = ql.rows, ndb = dl.rows, c = ql.classes;
  const out: Reference = { ap: [], relevant: [], std: [], leg: [], hits: [] };
  for (let i = 0; i < nq; i++) {
    const dist: number[] = [], rel: boolean[] = [];
    for (let j = 0; j < ndb; j++) {
      let d = 0;
      for (let k = 0; k < bits; k++) {
        if ((q[i * bits + k] >= 0) !== (db[j * bits + k] >= 0)) d++;
      }
      dist.push(d);
      let shares = false;
      for (let t = 0; t < c; t++) shares ||= ql.data[i * c + t] === 1 && dl.data[j * c + t] === 1;
      rel.push(shares);
    }
    const order = [...dist.keys()].sort((a, b) => dist[a] - dist[b] || a - b);
    const rank = new Array<number>(ndb), relPos = new Array<number>(ndb);
    let seen = 0;
    order.forEach((j, r) => {
      rank[j] = r + 1;
      if (rel[j]) relPos[j] = ++seen;
    });
    let num = 0;
    const std = ks.map(() => 0), leg = ks.map(() => 0);
    for (let j = 0; j < ndb; j++) {
      if (!rel[j]) continue;
      const term = relPos[j] / rank[j];
      num += term;
      ks.forEach((k, t) => {
        if (rank[j] <= k) std[t] += term;
        if (relPos[j] <= k) leg[t] += term;
      });
    }
    out.ap.push(seen > 0 ? num / seen : 0);
    out.relevant.push(seen);
    out.std.push(std);
    out.leg.push(leg);
    out.hits.push(ns.map((n) => order.slice(0, n).filter((j) => rel[j]).length));
  }
  return out;
}

function mean(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length > 0 ? s / values.length : 0;
}

Deno.test("the WebAssembly scan is available in this runtime", () => {
  const rows = { n: 1, words: 1, data: new Uint32Array(1) };
  assert.ok(createHammingScanner(rows, rows, rows, rows, 32) !== undefined);
});

for (const bits of [16, 32, 64, 128]) {
  Deno.test(`scan equals the naive reference bit for bit, ${bits} bits, 1-3 label words`, () => {
    const rng = new Rng(500 + bits);
    const nq = 23, ndb = 611;
    const protos = Float32Array.from({ length: 12 * bits }, () => rng.uniform() - 0.5);
    const qv = tiedSigns(rng, nq, bits, protos), dbv = tiedSigns(rng, ndb, bits, protos);
    const q = packSigns(qv, nq, bits), db = packSigns(dbv, ndb, bits);
    const ks = [1, 10, 50, 700], ns = [1, 7, 100, 611];
    for (const classes of [24, 40, 81]) {
      const ql = randomLabels(rng, nq, classes), dl = randomLabels(rng, ndb, classes);
      const ref = reference(qv, dbv, bits, ql, dl, ks, ns);
      const counted = ref.ap.map((_, i) => i).filter((i) => ref.relevant[i] > 0);
      for (const wasm of [true, false]) {
        const what = `${bits} bits, ${classes} classes, ${wasm ? "wasm" : "JavaScript"}`;
        setHammingWasmEnabled(wasm);
        try {
          assert.equal(mapAll(q, ql, db, dl), mean(ref.ap), `mapAll, ${what}`);
          assert.equal(
            mapAll(q, ql, db, dl, "exclude"),
            mean(counted.map((i) => ref.ap[i])),
            `mapAll exclude, ${what}`,
          );
          const lean = evaluate(q, ql, db, dl, { mapAtK: [], precisionAtN: [], perQuery: true });
          assert.deepEqual(lean.perQueryAP, ref.ap, `lean per-query AP, ${what}`);
          const full = evaluate(q, ql, db, dl, { mapAtK: ks, precisionAtN: ns, perQuery: true });
          assert.deepEqual(full.perQueryAP, ref.ap, `per-query AP, ${what}`);
          const atK = (num: number[][]) =>
            ks.map((k, t) =>
              mean(ref.ap.map((_, i) => {
                const m = Math.min(k, ref.relevant[i]);
                return m > 0 ? num[i][t] / m : 0;
              }))
            );
          assert.deepEqual(full.mapAtK.standard, atK(ref.std), `MAP@k standard, ${what}`);
          assert.deepEqual(full.mapAtK.legacy, atK(ref.leg), `MAP@k legacy, ${what}`);
          assert.deepEqual(
            full.precisionAtN.precision,
            ns.map((n, t) => mean(ref.hits.map((h) => h[t] / n))),
            `P@N, ${what}`,
          );
        } finally {
          setHammingWasmEnabled(true);
        }
      }
    }
  });
}
