import assert from "node:assert/strict";
import {
  assertFinite,
  assertLabelled,
  columnMajorToDense,
  columnStats,
  cscToCsr,
  csrToDense,
  denseMatrix,
  denseToCsr,
  gatherLabelRows,
  gatherRows,
  labelMatrix,
  labelsFromClassIndices,
  validateCsr,
  validateDense,
  vstack,
  vstackLabels,
} from "../../src/datasets/matrix.ts";
import { Rng } from "../../src/random.ts";
import type { CsrMatrix, DenseMatrix } from "../../src/types.ts";

/** A random sparse-ish dense matrix (about 70% zeros). */
function randomDense(rows: number, cols: number, seed: number): DenseMatrix {
  const r = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = r.uniform() < 0.3 ? r.normal() : 0;
  return denseMatrix(rows, cols, data);
}

Deno.test("gatherRows gives the same batch from dense and CSR storage, in the given order", () => {
  const d = randomDense(50, 13, 1);
  const c = denseToCsr(d);
  validateCsr(c);
  const rows = [7, 0, 49, 7, 23];
  const gd = gatherRows(d, rows), gc = gatherRows(c, rows);
  assert.deepEqual(gc, gd);
  for (let i = 0; i < rows.length; i++) {
    assert.deepEqual(
      Array.from(gd.data.subarray(i * 13, (i + 1) * 13)),
      Array.from(d.data.subarray(rows[i] * 13, (rows[i] + 1) * 13)),
    );
  }
  assert.throws(() => gatherRows(d, [50]), /row 50 out of range \[0, 50\)/);
  assert.throws(() => gatherRows(c, [-1]), /row -1 out of range/);
});

Deno.test("CSR <-> dense round-trips and column-major input is transposed correctly", () => {
  const d = randomDense(31, 70, 2);
  assert.deepEqual(csrToDense(denseToCsr(d)), d);
  // column-major 2x3 [[1,2,3],[4,5,6]] = [1,4,2,5,3,6]
  const m = columnMajorToDense([1, 4, 2, 5, 3, 6], 2, 3);
  assert.deepEqual(Array.from(m.data), [1, 2, 3, 4, 5, 6]);
  // larger than one 64x64 block
  const rows = 130, cols = 70, cm = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) cm[c * rows + r] = r * 1000 + c;
  const big = columnMajorToDense(cm, rows, cols);
  for (const [r, c] of [[0, 0], [129, 69], [64, 3], [77, 65]]) {
    assert.equal(big.data[r * cols + c], r * 1000 + c);
  }
  assert.deepEqual(Array.from(columnMajorToDense(new BigInt64Array([1n, 2n]), 1, 2).data), [1, 2]);
});

Deno.test("cscToCsr builds CSR from MATLAB ir/jc/pr (and all-ones without pr)", () => {
  // 3x4 [[0,1.5,0,0],[2,0,0,-3],[0,0,0,4]]
  const c = cscToCsr(3, 4, [1, 0, 1, 2], [0, 1, 2, 2, 4], [2, 1.5, -3, 4]);
  validateCsr(c);
  assert.deepEqual(Array.from(csrToDense(c).data), [0, 1.5, 0, 0, 2, 0, 0, -3, 0, 0, 0, 4]);
  const ones = cscToCsr(2, 2, [0, 1], [0, 1, 2], null);
  assert.deepEqual(Array.from(csrToDense(ones).data), [1, 0, 0, 1]);
  assert.throws(
    () => cscToCsr(2, 2, [0, 5], [0, 1, 2], null, "X.mat: variable 'S'"),
    /X\.mat: variable 'S': row index 5/,
  );
});

Deno.test("structural validation names what is wrong", () => {
  assert.throws(
    () => denseMatrix(2, 3, new Float32Array(5), "img"),
    /img: data has 5 values, expected 2x3=6/,
  );
  assert.throws(
    () => validateDense({ kind: "dense", rows: 2, cols: 2, data: new Float32Array(3) }),
    /3 values/,
  );
  const bad: CsrMatrix = {
    kind: "csr",
    rows: 2,
    cols: 3,
    indptr: new Int32Array([0, 2, 3]),
    indices: new Int32Array([2, 1, 0]),
    values: new Float32Array(3),
  };
  assert.throws(
    () => validateCsr(bad, "txt"),
    /txt: row 0 has column index 1, expected increasing/,
  );
  assert.throws(
    () => labelMatrix(1, 2, new Uint8Array([1, 3]), "lab"),
    /lab: value 3 at row 0, column 1/,
  );
});

Deno.test("assertFinite names the file/variable and the first bad cell, dense and CSR", () => {
  const d = denseMatrix(2, 3, new Float32Array([0, 1, 2, 3, NaN, 5]));
  assert.throws(
    () => assertFinite(d, "a.mat: variable 'X'"),
    /^Error: a\.mat: variable 'X': non-finite value NaN at row 1, column 1/,
  );
  const c = denseToCsr(denseMatrix(3, 2, new Float32Array([0, 0, 1, 0, 0, -Infinity])));
  assert.throws(
    () => assertFinite(c, "b.mat: variable 'Y'"),
    /b\.mat: variable 'Y': non-finite value -Infinity at row 2, column 1/,
  );
  assertFinite(randomDense(5, 5, 3), "ok");
});

Deno.test("label helpers: one-hot from class indices, gathering, stacking, empty rows", () => {
  const l = labelsFromClassIndices([1, 3, 2], 3, 1, "L");
  assert.deepEqual(Array.from(l.data), [1, 0, 0, 0, 0, 1, 0, 1, 0]);
  assert.throws(
    () => labelsFromClassIndices([1, 0], 3, 1, "f.mat: variable 'L'"),
    /class index 0 at row 1; expected an integer in 1\.\.3/,
  );
  assert.throws(() => labelsFromClassIndices([1.5], 3, 1, "L"), /class index 1\.5/);
  assert.deepEqual(Array.from(gatherLabelRows(l, [2, 0]).data), [0, 1, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(vstackLabels([l, l]).data.subarray(9)), Array.from(l.data));
  const empty = labelMatrix(3, 2, new Uint8Array([1, 0, 0, 0, 0, 1]));
  assert.throws(
    () => assertLabelled(empty, "x.mat: variable 'LAll'"),
    /1 all-zero label row\(s\) \(first: row 1\)/,
  );
});

Deno.test("vstack keeps CSR as CSR and matches stacking the dense forms", () => {
  const a = randomDense(4, 6, 4), b = randomDense(3, 6, 5);
  const sd = vstack([a, b]) as DenseMatrix;
  const sc = vstack([denseToCsr(a), denseToCsr(b)]);
  assert.equal(sc.kind, "csr");
  validateCsr(sc as CsrMatrix);
  assert.deepEqual(csrToDense(sc as CsrMatrix), sd);
  assert.deepEqual(Array.from(sd.data.subarray(24)), Array.from(b.data));
  assert.throws(() => vstack([a, randomDense(1, 5, 6)]), /column counts differ/);
});

Deno.test("columnStats match a direct computation for dense and CSR input", () => {
  const d = randomDense(40, 7, 7);
  const s = columnStats(d), sc = columnStats(denseToCsr(d));
  for (let c = 0; c < 7; c++) {
    const col = Array.from({ length: 40 }, (_, r) => d.data[r * 7 + c]);
    const mean = col.reduce((x, y) => x + y, 0) / 40;
    const std = Math.sqrt(col.reduce((x, y) => x + (y - mean) ** 2, 0) / 40);
    for (const st of [s, sc]) {
      assert.ok(Math.abs(st.mean[c] - mean) < 1e-9);
      assert.ok(Math.abs(st.std[c] - std) < 1e-6);
      assert.equal(st.min[c], Math.min(...col));
      assert.equal(st.max[c], Math.max(...col));
    }
  }
});
