/**
 * Benchmarks of the retrieval metrics at MIRFlickr-25K scale: 2,000 queries x 18,015 database
 * items, random codes, 24-class multi-label random labels (each label on with p = 0.2, at least
 * one per row, roughly MIRFlickr's label density).
 *
 * Run: `deno bench -A bench/metrics_bench.ts`
 *
 * @module
 */
import { packSigns } from "../src/retrieval/codes.ts";
import { evaluate, evaluateDirections, mapAll } from "../src/retrieval/metrics.ts";
import { Rng } from "../src/random.ts";
import type { LabelMatrix, PackedCodes } from "../src/types.ts";

const N_QUERY = 2000;
const N_DB = 18015;
const CLASSES = 24;

function randomCodes(rng: Rng, n: number, bits: number): PackedCodes {
  const v = new Float32Array(n * bits);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform() - 0.5;
  return packSigns(v, n, bits);
}

function randomLabels(rng: Rng, n: number, classes: number, p: number): LabelMatrix {
  const data = new Uint8Array(n * classes);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) data[i * classes + c] = rng.uniform() < p ? 1 : 0;
    data[i * classes + rng.int(classes)] = 1;
  }
  return { rows: n, classes, data };
}

const rng = new Rng(2024);
const queryLabels = randomLabels(rng, N_QUERY, CLASSES, 0.2);
const dbLabels = randomLabels(rng, N_DB, CLASSES, 0.2);
const codes = new Map<
  number,
  { q: PackedCodes; db: PackedCodes; q2: PackedCodes; db2: PackedCodes }
>();
for (const bits of [16, 32, 64]) {
  codes.set(bits, {
    q: randomCodes(rng, N_QUERY, bits),
    db: randomCodes(rng, N_DB, bits),
    q2: randomCodes(rng, N_QUERY, bits),
    db2: randomCodes(rng, N_DB, bits),
  });
}

for (const bits of [16, 32, 64]) {
  const c = codes.get(bits)!;
  Deno.bench(`MAP@all 2000x18015, ${bits} bits (one direction)`, { group: "mapAll" }, () => {
    mapAll(c.q, queryLabels, c.db, dbLabels);
  });
}

const c64 = codes.get(64)!;
Deno.bench("evaluate() all metrics 2000x18015, 64 bits (one direction)", () => {
  evaluate(c64.q, queryLabels, c64.db, dbLabels);
});

Deno.bench("evaluateDirections() all metrics, 4 directions, 64 bits", () => {
  evaluateDirections({
    imageQuery: c64.q,
    textQuery: c64.q2,
    imageDb: c64.db,
    textDb: c64.db2,
    queryLabels,
    dbLabels,
  });
});
