/** Tests of the Float64 linear algebra used by the shallow baselines (src/linalg.ts). */
import assert from "node:assert/strict";
import { randn } from "./test_utils.ts";
import {
  centeredProjection,
  cholesky,
  householderQr,
  type Mat,
  mat,
  matMul,
  matMulNT,
  matMulTN,
  qrColumns,
  solveLower,
  solveLowerT,
  solveSpd,
  symmetricEigen,
  transpose,
} from "../src/linalg.ts";
import { Rng } from "../src/random.ts";
import * as blas from "../src/accel/dblas.ts";

function maxAbsDiff(a: Mat, b: Mat): number {
  assert.deepEqual([a.rows, a.cols], [b.rows, b.cols]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

function eye(n: number): Mat {
  const m = mat(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

Deno.test("products: A B, A^T B and A B^T agree with the naive definition", () => {
  const rng = new Rng(1), a = randn(4, 3, rng), b = randn(3, 5, rng);
  const naive = mat(4, 5);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 5; j++) {
      for (let k = 0; k < 3; k++) naive.data[i * 5 + j] += a.data[i * 3 + k] * b.data[k * 5 + j];
    }
  }
  assert.ok(maxAbsDiff(matMul(a, b), naive) < 1e-12);
  assert.ok(maxAbsDiff(matMulTN(transpose(a), b), naive) < 1e-12);
  assert.ok(maxAbsDiff(matMulNT(a, transpose(b)), naive) < 1e-12);
  assert.throws(() => matMul(a, a), /inner dimensions differ \(3 vs 4\)/);
});

Deno.test("symmetricEigen reconstructs A = V diag(values) V^T with orthonormal V, descending", () => {
  const rng = new Rng(2);
  for (const n of [1, 2, 3, 7, 40, 97]) {
    const b = randn(n, n, rng), a = matMul(b, transpose(b));
    for (let i = 0; i < n; i++) a.data[i * n + i] -= n / 2; // indefinite as well
    const { values, vectors } = symmetricEigen(a);
    for (let i = 1; i < n; i++) assert.ok(values[i] <= values[i - 1]);
    const vd = mat(n, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) vd.data[i * n + j] = vectors.data[i * n + j] * values[j];
    }
    const scale = Math.max(...Array.from(a.data, Math.abs));
    assert.ok(maxAbsDiff(matMulNT(vd, vectors), a) < 1e-12 * scale * n, `reconstruction n=${n}`);
    assert.ok(maxAbsDiff(matMulTN(vectors, vectors), eye(n)) < 1e-12 * n, `orthonormal n=${n}`);
  }
});

Deno.test("symmetricEigen handles repeated and zero eigenvalues (low rank, identity, zero)", () => {
  const rng = new Rng(3), u = randn(30, 3, rng), low = matMulNT(u, u);
  const { values } = symmetricEigen(low);
  assert.ok(values[2] > 1);
  for (let i = 3; i < 30; i++) assert.ok(Math.abs(values[i]) < 1e-12 * values[0]);
  const twos = eye(6);
  for (let i = 0; i < 6; i++) twos.data[i * 7] = 2;
  assert.deepEqual(Array.from(symmetricEigen(twos).values), [2, 2, 2, 2, 2, 2]);
  assert.deepEqual(Array.from(symmetricEigen(mat(4, 4)).values), [0, 0, 0, 0]);
  const diag = mat(3, 3, Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]));
  assert.deepEqual(Array.from(symmetricEigen(diag).values), [3, 2, 1]);
});

Deno.test("cholesky: L lower triangular, L L^T = A; solveSpd solves; non-SPD throws", () => {
  const rng = new Rng(4), b = randn(12, 12, rng), a = matMul(b, transpose(b));
  for (let i = 0; i < 12; i++) a.data[i * 13] += 0.5;
  const l = cholesky(a);
  for (let i = 0; i < 12; i++) for (let j = i + 1; j < 12; j++) assert.equal(l.data[i * 12 + j], 0);
  assert.ok(maxAbsDiff(matMulNT(l, l), a) < 1e-12 * 50);
  const rhs = randn(12, 3, rng), x = solveSpd(a, rhs);
  assert.ok(maxAbsDiff(matMul(a, x), rhs) < 1e-9);
  assert.throws(
    () => cholesky(mat(2, 2, Float64Array.from([1, 2, 2, 1]))),
    /not positive definite \(pivot 1/,
  );
});

Deno.test("centeredProjection: (x - mean) W for dense and CSR rows", () => {
  const x = { kind: "dense" as const, rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4]) };
  const csr = {
    kind: "csr" as const,
    rows: 2,
    cols: 2,
    indptr: Int32Array.from([0, 2, 4]),
    indices: Int32Array.from([0, 1, 0, 1]),
    values: Float32Array.from([1, 2, 3, 4]),
  };
  const w = [1, 0, 0, 1, 1, -1]; // W is 2 x 3: rows (1, 0, 0) and (1, 1, -1)
  const want = [1, 1, -1, 5, 3, -3]; // centred rows (0, 1) and (2, 3) times W
  assert.deepEqual(Array.from(centeredProjection(x, [1, 1], w, 3)), want);
  assert.deepEqual(Array.from(centeredProjection(csr, [1, 1], w, 3)), want);
  assert.throws(() => centeredProjection(x, [1], w, 3), /2 columns but mean has 1/);
});

function relDiff(a: Mat, b: Mat): number {
  return maxAbsDiff(a, b) / Math.max(...Array.from(b.data, Math.abs));
}

Deno.test("dblas (float64 BLAS/LAPACK or its fallback) agrees with the linalg loops on random matrices", () => {
  const rng = new Rng(7), a = randn(90, 70, rng), b = randn(90, 60, rng), c = randn(70, 60, rng);
  assert.ok(relDiff(blas.mulTN(a, b), matMulTN(a, b)) < 1e-13);
  assert.ok(relDiff(blas.mul(a, c), matMul(a, c)) < 1e-13);
  const d = randn(50, 60, rng);
  assert.ok(relDiff(blas.mulNT(c, d), matMulNT(c, d)) < 1e-13);
  const g = blas.gram(a);
  assert.ok(relDiff(g, matMulTN(a, a)) < 1e-13);
  for (let i = 0; i < 70; i++) {
    for (let j = 0; j < 70; j++) assert.equal(g.data[i * 70 + j], g.data[j * 70 + i]);
  }
  const spd = matMulTN(a, a);
  for (let i = 0; i < 70; i++) spd.data[i * 70 + i] += 1;
  const l = blas.choleskyLower(spd);
  assert.ok(relDiff(l, cholesky(spd)) < 1e-12);
  assert.ok(relDiff(blas.lowerSolve(l, c), solveLower(l, c)) < 1e-12);
  assert.ok(relDiff(blas.lowerTSolve(l, c), solveLowerT(l, c)) < 1e-12);
  assert.ok(relDiff(blas.spdSolve(spd, c), solveSpd(spd, c)) < 1e-12);
  const notSpd = mat(40, 40, spd.data.slice(0, 1600));
  notSpd.data[0] = -1;
  assert.throws(() => blas.choleskyLower(notSpd), /not positive definite/);
});

Deno.test("topEigen: the k largest eigenpairs of symmetricEigen (vectors up to sign)", () => {
  const rng = new Rng(8), x = randn(150, 120, rng), s = matMulTN(x, x), k = 9;
  const top = blas.topEigen(s, k), full = symmetricEigen(s);
  for (let j = 0; j < k; j++) {
    assert.ok(Math.abs(top.values[j] - full.values[j]) < 1e-10 * full.values[0]);
    let dot = 0;
    for (let i = 0; i < 120; i++) {
      dot += top.vectors.data[i * k + j] * full.vectors.data[i * 120 + j];
    }
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-9, `eigenvector ${j}`);
  }
});

Deno.test("householderQr / qrColumns: A = Q R, orthonormal Q, completion beyond the columns, zero column", () => {
  const rng = new Rng(9), a = randn(30, 6, rng);
  for (let i = 0; i < 30; i++) a.data[i * 6 + 3] = 0; // a zero column: the step is skipped
  const qr = householderQr(a), q = qrColumns(qr, 6);
  assert.ok(maxAbsDiff(matMul(q, qr.r), a) < 1e-12);
  for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) assert.equal(qr.r.data[i * 6 + j], 0);
  const q10 = qrColumns(qr, 10);
  assert.ok(maxAbsDiff(matMulTN(q10, q10), eye(10)) < 1e-12);
  const b = randn(30, 6, rng), qb = qrColumns(householderQr(b), 12);
  const proj = matMulTN(qb, b); // the completion (columns 6..11) is orthogonal to range(B)
  for (let i = 6; i < 12; i++) {
    for (let j = 0; j < 6; j++) assert.ok(Math.abs(proj.data[i * 6 + j]) < 1e-12);
  }
  assert.throws(() => householderQr(randn(3, 4, rng)), /more columns than rows/);
});
