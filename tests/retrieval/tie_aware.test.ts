import assert from "node:assert/strict";
import { packSigns } from "../../src/retrieval/codes.ts";
import { evaluate, evaluateDirections } from "../../src/retrieval/metrics.ts";
import { harmonicTable, tieGroupSum } from "../../src/retrieval/ranking.ts";
import { npyToLabels, readNpy } from "../../src/datasets/formats/npy.ts";
import { Rng } from "../../src/random.ts";
import type { LabelMatrix, PackedCodes } from "../../src/types.ts";

function labels(rows: number[][]): LabelMatrix {
  return { rows: rows.length, classes: rows[0].length, data: Uint8Array.from(rows.flat()) };
}

function codes(rows: number[][]): PackedCodes {
  return packSigns(rows.flat(), rows.length, rows[0].length);
}

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

/** Every permutation of 0..n-1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return out;
}

/**
 * Brute force: for every order of the database, rank by (distance, position in that order) and
 * compute AP@all and standard AP@k; return their averages over all orders. Averaging over every
 * order of the whole database is the same as averaging over every order within each distance.
 */
function bruteForce(dist: number[], rel: number[], ks: number[]): { ap: number; apk: number[] } {
  const n = dist.length;
  const R = rel.reduce((a, b) => a + b, 0);
  const perms = permutations(n);
  let ap = 0;
  const apk = ks.map(() => 0);
  for (const p of perms) {
    const pos = new Array(n);
    p.forEach((j, i) => (pos[j] = i));
    const order = [...Array(n).keys()].sort((a, b) => dist[a] - dist[b] || pos[a] - pos[b]);
    let hits = 0, sum = 0;
    const sumK = ks.map(() => 0);
    order.forEach((j, r) => {
      if (!rel[j]) return;
      hits++;
      const prec = hits / (r + 1);
      sum += prec;
      ks.forEach((k, t) => {
        if (r + 1 <= k) sumK[t] += prec;
      });
    });
    ap += R > 0 ? sum / R : 0;
    ks.forEach((k, t) => (apk[t] += R > 0 ? sumK[t] / Math.min(k, R) : 0));
  }
  return { ap: ap / perms.length, apk: apk.map((s) => s / perms.length) };
}

function hamming(a: number[], b: number[]): number {
  return a.reduce((s, v, k) => s + (v === b[k] ? 0 : 1), 0);
}

Deno.test("tie-aware MAP@all and MAP@k equal the average over every order of the database", () => {
  const rng = new Rng(28);
  const ks = [1, 2, 3, 5, 7, 100];
  for (let trial = 0; trial < 24; trial++) {
    const nDb = 3 + (trial % 5); // 3..7 items: up to 5040 orders
    const K = 1 + (trial % 3); // 1..3 bits: many ties
    const classes = 3;
    const pm1 = () => Array.from({ length: K }, () => (rng.uniform() < 0.5 ? -1 : 1));
    const lab = () => Array.from({ length: classes }, () => (rng.uniform() < 0.4 ? 1 : 0));
    const q = [pm1(), pm1()];
    const db = Array.from({ length: nDb }, pm1);
    const ql = [lab(), lab()];
    const dl = Array.from({ length: nDb }, lab);
    const r = evaluate(codes(q), labels(ql), codes(db), labels(dl), {
      mapAtK: ks,
      precisionAtN: [1],
    });
    let ap = 0;
    const apk = ks.map(() => 0);
    for (let i = 0; i < q.length; i++) {
      const dist = db.map((b) => hamming(q[i], b));
      const rel = dl.map((l) => (l.some((v, c) => v && ql[i][c]) ? 1 : 0));
      const b = bruteForce(dist, rel, ks);
      ap += b.ap / q.length;
      b.apk.forEach((v, t) => (apk[t] += v / q.length));
    }
    close(r.mapAllTieAware!, ap, `trial ${trial} tie-aware MAP@all`);
    ks.forEach((k, t) => close(r.mapAtK.tieAware![t], apk[t], `trial ${trial} tie-aware MAP@${k}`));
  }
});

Deno.test("tie-aware MAP equals the stable-tie MAP when no two database items tie", () => {
  // 8 database items with distinct distances 0..7 from the query (K = 7).
  const K = 7;
  const q = [Array(K).fill(1)];
  const db = Array.from(
    { length: K + 1 },
    (_, d) => Array.from({ length: K }, (_, k) => (k < d ? -1 : 1)),
  );
  const dl = [[1], [0], [1], [1], [0], [0], [1], [0]];
  const r = evaluate(codes(q), labels([[1]]), codes(db), labels(dl), { mapAtK: [1, 3, 6] });
  close(r.mapAllTieAware!, r.mapAll, "MAP@all");
  r.mapAtK.standard.forEach((s, t) => close(r.mapAtK.tieAware![t], s, `MAP@${r.mapAtK.k[t]}`));
});

Deno.test("tie-aware AP of one all-tied group is the closed form of the issue's sum", () => {
  // 5 items, 2 relevant, all at one distance: AP = (1/2) (2/5) Σ_{t=1..5} (1 + (t-1)/4) / t.
  let s = 0;
  for (let t = 1; t <= 5; t++) s += (1 + (t - 1) / 4) / t;
  const expected = (2 / 5) * s / 2;
  const H = harmonicTable(5);
  close(tieGroupSum(0, 0, 5, 2, 5, H) / 2, expected, "closed form");
  const db = Array.from({ length: 5 }, () => [1, 1]);
  const r = evaluate(codes([[1, -1]]), labels([[1]]), codes(db), labels([[0], [1], [0], [1], [0]]));
  close(r.mapAllTieAware!, expected, "evaluate");
});

Deno.test("tie-aware metrics match an independent exact-rational implementation (fixture)", async () => {
  const dir = new URL("../fixtures/peer_codes/", import.meta.url).pathname;
  const expected = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/peer_codes_expected.json", import.meta.url)),
  );
  const load = async (name: string) => {
    const a = await readNpy(`${dir}${name}.npy`);
    return packSigns(Array.from(a.data as Float32Array), a.shape[0], a.shape[1]);
  };
  const metrics = evaluateDirections({
    imageQuery: await load("query_image_codes"),
    textQuery: await load("query_text_codes"),
    imageDb: await load("database_image_codes"),
    textDb: await load("database_text_codes"),
    queryLabels: npyToLabels(await readNpy(`${dir}query_labels.npy`)),
    dbLabels: npyToLabels(await readNpy(`${dir}database_labels.npy`)),
  }, { mapAtK: expected.ks });
  for (const [d, e] of Object.entries(expected.directions) as [string, Record<string, never>][]) {
    const m = metrics[d as "I2T"]!;
    close(m.mapAll, e.map_all_stable, `${d} stable MAP@all`, 1e-6);
    close(m.mapAllTieAware!, e.map_all_tie_aware, `${d} tie-aware MAP@all`, 1e-6);
    (e.map_at_k_tie_aware as number[]).forEach((v, t) =>
      close(m.mapAtK.tieAware![t], v, `${d} tie-aware MAP@${expected.ks[t]}`, 1e-6)
    );
  }
});
