/** Multi-core MAP@all: bit-identical to the single-core result for any number of workers. */
import assert from "node:assert/strict";
import { packSigns } from "../../src/retrieval/codes.ts";
import { mapAll } from "../../src/retrieval/metrics.ts";
import { mapAllParallel } from "../../src/retrieval/parallel.ts";
import { Rng } from "../../src/random.ts";
import type { LabelMatrix } from "../../src/types.ts";

function data(seed: number, nq: number, ndb: number, bits: number, classes: number) {
  const rng = new Rng(seed);
  const codes = (n: number) =>
    packSigns(Float32Array.from({ length: n * bits }, () => rng.uniform() - 0.5), n, bits);
  const labels = (n: number): LabelMatrix => ({
    rows: n,
    classes,
    data: Uint8Array.from({ length: n * classes }, () => (rng.uniform() < 0.1 ? 1 : 0)),
  });
  return { q: codes(nq), ql: labels(nq), db: codes(ndb), dl: labels(ndb) };
}

Deno.test("mapAllParallel equals mapAll bit for bit with 1, 2 and 3 workers", async () => {
  for (const [bits, classes] of [[64, 24], [32, 40], [16, 5]]) {
    const { q, ql, db, dl } = data(bits, 301, 2000, bits, classes);
    for (const zeroRelevant of ["count", "exclude"] as const) {
      const single = mapAll(q, ql, db, dl, zeroRelevant);
      for (const workers of [1, 2, 3]) {
        const multi = await mapAllParallel(q, ql, db, dl, { workers, zeroRelevant });
        assert.equal(multi, single, `${bits} bits, ${classes} classes, ${workers} workers`);
      }
    }
  }
});

Deno.test("mapAllParallel reports a worker's input error and a bad worker count", async () => {
  const { q, ql, db } = data(1, 10, 50, 16, 4);
  const wrong: LabelMatrix = { rows: 49, classes: 4, data: new Uint8Array(49 * 4) };
  await assert.rejects(() => mapAllParallel(q, ql, db, wrong, { workers: 2 }), /dbLabels/);
  await assert.rejects(() => mapAllParallel(q, ql, db, wrong, { workers: 0 }), /workers/);
});
