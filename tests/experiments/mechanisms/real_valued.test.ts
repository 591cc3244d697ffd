/**
 * The discrete-code control's measure: MAP@all of real-valued codes ranks by inner product and
 * averages the precision at the relevant items; it agrees with the toolkit's MAP@all on ±1
 * codes whose Hamming distances to the query are all distinct.
 */
import assert from "node:assert/strict";
import { realValuedMapAll } from "../../../src/experiments/mechanisms/real_valued.ts";
import { mapAll } from "../../../src/retrieval/metrics.ts";
import { packSigns } from "../../../src/retrieval/codes.ts";
import type { LabelMatrix } from "../../../src/types.ts";

const labels = (rows: number[][]): LabelMatrix => ({
  rows: rows.length,
  classes: rows[0].length,
  data: Uint8Array.from(rows.flat()),
});

Deno.test("real-valued MAP@all: inner-product ranking, precision at each relevant item", () => {
  // One query (class 0); database scores 0.9 (irrelevant), 0.5 (relevant), 0.1 (relevant):
  // relevant at ranks 2 and 3, AP = (1/2 + 2/3) / 2.
  const q = Float32Array.from([1, 0]);
  const db = Float32Array.from([0.9, 0, 0.5, 0, 0.1, 0]);
  const ql = labels([[1, 0]]), dl = labels([[0, 1], [1, 1], [1, 0]]);
  assert.ok(Math.abs(realValuedMapAll(q, ql, db, dl, 2) - (1 / 2 + 2 / 3) / 2) < 1e-12);
  // A query with no relevant item counts as AP 0.
  assert.equal(realValuedMapAll(q, labels([[0, 0]]), db, dl, 2), 0);
  assert.throws(() => realValuedMapAll(q, ql, db, dl, 3), /realValuedMapAll/);
});

Deno.test("on ±1 codes with distinct Hamming distances it equals the toolkit's MAP@all", () => {
  // 4-bit codes at Hamming distance 0, 1, 2, 3, 4 from the query.
  const query = [1, 1, 1, 1];
  const db = [[1, 1, 1, 1], [1, 1, 1, -1], [1, 1, -1, -1], [1, -1, -1, -1], [-1, -1, -1, -1]];
  const ql = labels([[1, 0, 0]]);
  const dl = labels([[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1]]);
  const real = realValuedMapAll(Float32Array.from(query), ql, Float32Array.from(db.flat()), dl, 4);
  const packed = mapAll(
    packSigns(Float32Array.from(query), 1, 4),
    ql,
    packSigns(Float32Array.from(db.flat()), 5, 4),
    dl,
  );
  assert.ok(Math.abs(real - packed) < 1e-12, `${real} vs ${packed}`);
  assert.ok(Math.abs(real - (1 / 2 + 2 / 4 + 3 / 5) / 3) < 1e-12);
});
