/**
 * Tests of SCM's whitened eigen-solver (src/models/scm_solver.ts) against the direct d_x x d_x
 * formulation it replaces (symmetricEigen of Rx^-1 Cxy Cyy^-1 Cxy^T Rx^-T): the determined
 * directions agree up to sign for a factored (low-rank) and an explicit cross term, and the
 * completion beyond the rank stays Cxx-orthonormal with (numerically) zero eigenvalues.
 */
import assert from "node:assert/strict";
import { randn } from "../test_utils.ts";
import {
  addDiagonal,
  cholesky,
  type Mat,
  mat,
  matMul,
  matMulNT,
  matMulTN,
  solveLower,
  solveLowerT,
  solveSpd,
  symmetricEigen,
  transpose,
} from "../../src/linalg.ts";
import { Rng } from "../../src/random.ts";
import { whitenedTop } from "../../src/models/scm_solver.ts";

/** The former solver: full eigen-decomposition of the d_x x d_x whitened matrix. */
function direct(cxx: Mat, cyy: Mat, cxy: Mat, k: number) {
  const rx = cholesky(cxx), dx = cxx.rows, z = solveSpd(cyy, transpose(cxy));
  const c = solveLower(rx, transpose(solveLower(rx, matMul(cxy, z))));
  const { values, vectors } = symmetricEigen(c), top = mat(dx, k);
  for (let i = 0; i < dx; i++) {
    for (let j = 0; j < k; j++) top.data[i * k + j] = vectors.data[i * dx + j];
  }
  const wx = solveLowerT(rx, top), wy = matMul(z, wx);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < wy.rows; i++) wy.data[i * k + j] /= Math.sqrt(values[j]);
  }
  return { wx, wy, eigenvalues: values.slice(0, k) };
}

function problem(rank: number) {
  const rng = new Rng(3), n = 200, dx = 40, dy = 25;
  const x = randn(n, dx, rng), y = randn(n, dy, rng);
  const cxx = addDiagonal(matMulTN(x, x), 1e-6), cyy = addDiagonal(matMulTN(y, y), 1e-6);
  const u = randn(dx, rank, rng), v = randn(dy, rank, rng);
  const rx = cholesky(cxx), ry = cholesky(cyy);
  return { cxx, cyy, rx, ry, u, v, cxy: matMulNT(u, v), x, y };
}

/** max over entries of | |a| - |b| | on the first k columns (same-sign-insensitive). */
function upToSign(a: Mat, b: Mat, k: number): number {
  let m = 0;
  for (let j = 0; j < k; j++) {
    let dot = 0;
    for (let i = 0; i < a.rows; i++) dot += a.data[i * a.cols + j] * b.data[i * b.cols + j];
    const s = dot >= 0 ? 1 : -1;
    for (let i = 0; i < a.rows; i++) {
      m = Math.max(m, Math.abs(a.data[i * a.cols + j] - s * b.data[i * b.cols + j]));
    }
  }
  return m;
}

function scale(m: Mat): number {
  return Math.max(...Array.from(m.data, Math.abs));
}

Deno.test("whitenedTop (factored and explicit cross term) = the direct d_x x d_x solver on the determined directions", () => {
  const rank = 6, k = 5, p = problem(rank), ref = direct(p.cxx, p.cyy, p.cxy, k);
  const factored = whitenedTop(
    p.rx,
    p.ry,
    { f: solveLower(p.rx, p.u), k: solveLower(p.ry, p.v) },
    k,
  );
  const pExplicit = transpose(solveLower(p.ry, transpose(solveLower(p.rx, p.cxy))));
  const explicit = whitenedTop(p.rx, p.ry, { p: pExplicit }, k);
  for (const got of [factored, explicit]) {
    for (let j = 0; j < k; j++) {
      assert.ok(Math.abs(got.eigenvalues[j] - ref.eigenvalues[j]) < 1e-10 * ref.eigenvalues[0]);
    }
    assert.ok(upToSign(got.wx, ref.wx, k) < 1e-8 * scale(ref.wx), "w_x");
    assert.ok(upToSign(got.wy, ref.wy, k) < 1e-8 * scale(ref.wy), "w_y");
  }
  // a full-rank explicit cross term (the CCA fallback's X^T Y)
  const cca = matMulTN(p.x, p.y), refCca = direct(p.cxx, p.cyy, cca, 8);
  const pc = transpose(solveLower(p.ry, transpose(solveLower(p.rx, cca))));
  const gotCca = whitenedTop(p.rx, p.ry, { p: pc }, 8);
  assert.ok(upToSign(gotCca.wx, refCca.wx, 8) < 1e-8 * scale(refCca.wx));
});

Deno.test("whitenedTop beyond the rank: W_x^T Cxx W_x = I, zero eigenvalues for the completion", () => {
  const rank = 3, k = 10, p = problem(rank);
  const got = whitenedTop(p.rx, p.ry, { f: solveLower(p.rx, p.u), k: solveLower(p.ry, p.v) }, k);
  const g = matMulTN(got.wx, matMul(p.cxx, got.wx));
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) assert.ok(Math.abs(g.data[i * k + j] - (i === j ? 1 : 0)) < 1e-8);
  }
  for (let j = rank; j < k; j++) assert.ok(got.eigenvalues[j] < 1e-12 * got.eigenvalues[0]);
  for (let j = 1; j < rank; j++) assert.ok(got.eigenvalues[j] <= got.eigenvalues[j - 1]);
});
