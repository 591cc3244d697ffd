/**
 * The eigen-solver of SCM (src/models/scm.ts) in whitened form, so that it scales to feature
 * dimensions in the thousands without a d_x x d_x eigen-decomposition.
 *
 * SCM's generalized problem Cxy Cyy^-1 Cxy^T w_x = lambda^2 Cxx w_x, with the Cholesky factors
 * Cxx = Rx Rx^T and Cyy = Ry Ry^T and u = Rx^T w_x, is the symmetric problem P P^T u = lambda^2 u
 * for the whitened cross term P = Rx^-1 Cxy Ry^-T (d_x x d_y). Its non-zero eigenpairs are
 * obtained from a small matrix:
 * - factored cross term Cxy = U V^T (U d_x x r, V d_y x r; SCM's X^T S Y has r = classes + 1,
 *   SCM-Seq's residual adds one column per bit): P = F K^T with F = Rx^-1 U, K = Ry^-1 V; with
 *   the thin QR F = Q R, P P^T = Q (R K^T K R^T) Q^T, so u = Q a for the eigenvectors a of the
 *   r x r matrix R K^T K R^T ({@link whitenedTop} with `{ f, k }`);
 * - explicit cross term (the CCA fallback's X^T Y): the top eigenvectors v of P^T P (d_y x d_y,
 *   when d_y <= d_x) give u = P v / lambda; otherwise the top eigenvectors of P P^T.
 *
 * Then w_x = Rx^-T u and w_y = Cyy^-1 Cxy^T w_x / lambda = Ry^-T P^T u / lambda (unscaled when
 * lambda^2 is numerically zero, <= 1e-12 of the largest), exactly the quantities of the direct
 * d_x x d_x formulation. Directions beyond the problem's rank (more bits than non-zero
 * eigenvalues) are not determined by the objective; here they are the Householder completion
 * of the determined ones (the next columns of the orthogonal factor of their QR), with their
 * Rayleigh quotients ||P^T u||^2 (numerically zero) as eigenvalues.
 *
 * @module
 */
import { householderQr, type Mat, mat, qrColumns, symmetricEigen, transpose } from "../linalg.ts";
import { lowerTSolve, mul, mulTN, topEigen } from "../accel/dblas.ts";

/** The whitened cross term P = Rx^-1 Cxy Ry^-T: explicit (d_x x d_y) or as P = F K^T. */
export type WhitenedCross = { p: Mat } | { f: Mat; k: Mat };

/** The top k directions: w_x (d_x x k), w_y (d_y x k) and lambda^2 per direction. */
export interface WhitenedSolution {
  /** d_x x k; w_x^T Cxx w_x = I. */
  wx: Mat;
  /** d_y x k. */
  wy: Mat;
  /** lambda^2, descending for the determined directions. */
  eigenvalues: Float64Array;
}

/** P^T U (d_y x m) for d_x x m U. */
function crossT(c: WhitenedCross, u: Mat): Mat {
  return "p" in c ? mulTN(c.p, u) : mul(c.k, mulTN(c.f, u));
}

/** The determined eigenvectors u (d_x x m, orthonormal columns) and their eigenvalues. */
function determined(c: WhitenedCross, want: number): { u: Mat; values: Float64Array } {
  if ("f" in c) {
    const qr = householderQr(c.f), r = c.f.cols, kr = mul(c.k, transpose(qr.r)); // K R^T
    const m = Math.min(want, r), e = symmetricEigen(mulTN(kr, kr)); // R K^T K R^T
    const a = mat(r, m);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < m; j++) a.data[i * m + j] = e.vectors.data[i * r + j];
    }
    return { u: mul(qrColumns(qr, r), a), values: e.values.slice(0, m) };
  }
  const { p } = c;
  if (p.rows <= p.cols) {
    const e = topEigen(mul(p, transpose(p)), Math.min(want, p.rows));
    return { u: e.vectors, values: e.values };
  }
  const e = topEigen(mulTN(p, p), Math.min(want, p.cols));
  const u = mul(p, e.vectors), m = u.cols, tiny = 1e-12 * Math.max(e.values[0] ?? 0, 0);
  let kept = 0;
  while (kept < m && e.values[kept] > tiny) kept++;
  const out = mat(p.rows, kept);
  for (let j = 0; j < kept; j++) {
    const s = 1 / Math.sqrt(e.values[j]);
    for (let i = 0; i < p.rows; i++) out.data[i * kept + j] = u.data[i * m + j] * s;
  }
  return { u: out, values: e.values.slice(0, kept) };
}

/**
 * The top k solutions of SCM's problem for a whitened cross term (see the module comment);
 * `rx`, `ry` are the lower Cholesky factors of Cxx and Cyy.
 */
export function whitenedTop(rx: Mat, ry: Mat, c: WhitenedCross, k: number): WhitenedSolution {
  const dx = rx.rows;
  if (k > dx) throw new Error(`SCM: ${k} directions asked, only d_x = ${dx} exist`);
  const det = determined(c, k), m = det.u.cols;
  let u = det.u;
  if (m < k) {
    // completion: the next columns of the orthogonal factor of det.u's QR
    u = qrColumns(householderQr(det.u), k);
    for (let i = 0; i < dx; i++) {
      for (let j = 0; j < m; j++) u.data[i * k + j] = det.u.data[i * m + j];
    }
  }
  const pu = crossT(c, u), wy = lowerTSolve(ry, pu), eigenvalues = new Float64Array(k);
  eigenvalues.set(det.values);
  for (let j = m; j < k; j++) {
    let s = 0;
    for (let i = 0; i < pu.rows; i++) s += pu.data[i * k + j] ** 2;
    eigenvalues[j] = s;
  }
  const tiny = 1e-12 * Math.max(eigenvalues[0], 0);
  for (let j = 0; j < k; j++) {
    const lam = eigenvalues[j], scale = lam > tiny ? 1 / Math.sqrt(lam) : 1;
    for (let i = 0; i < wy.rows; i++) wy.data[i * k + j] *= scale;
  }
  return { wx: lowerTSolve(rx, u), wy, eigenvalues };
}
