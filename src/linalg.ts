/**
 * Small dense Float64 linear algebra for the shallow baselines (SCM, CMFH): row-major
 * matrices, products with either operand transposed, Cholesky factorisation and solves, a
 * Householder QR (thin factor and orthogonal completion), and a symmetric eigen-decomposition (Householder reduction to tridiagonal form followed by the
 * implicit symmetric QR iteration with Wilkinson shifts, Golub & Van Loan §8.3).
 *
 * Everything here is plain TypeScript on Float64Array, with no TensorFlow.js dependency. For
 * feature dimensions in the thousands the models call the same operations through
 * src/accel/dblas.ts (float64 BLAS/LAPACK when available, these loops otherwise).
 *
 * @module
 */
import type { Matrix } from "./types.ts";

const FILE = "linalg";
const EPS = 2.220446049250313e-16;

/** A dense row-major Float64 matrix. */
export interface Mat {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** rows * cols values, row-major. */
  readonly data: Float64Array;
}

/** A rows x cols matrix, zero-filled or wrapping `data` (which must have rows * cols values). */
export function mat(rows: number, cols: number, data?: Float64Array): Mat {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(`${FILE}: mat: invalid shape ${rows}x${cols}`);
  }
  if (data && data.length !== rows * cols) {
    throw new Error(`${FILE}: mat: data has ${data.length} values, expected ${rows * cols}`);
  }
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

/** A project {@link Matrix} (dense or CSR, Float32) as a dense Float64 matrix. */
export function fromMatrix(m: Matrix): Mat {
  const out = mat(m.rows, m.cols);
  if (m.kind === "dense") out.data.set(m.data);
  else {
    for (let r = 0; r < m.rows; r++) {
      for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
        out.data[r * m.cols + m.indices[k]] = m.values[k];
      }
    }
  }
  return out;
}

/** The n x n identity times `s`. */
export function identity(n: number, s = 1): Mat {
  const out = mat(n, n);
  for (let i = 0; i < n; i++) out.data[i * n + i] = s;
  return out;
}

/** A^T. */
export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  }
  return out;
}

function checkInner(what: string, n1: number, n2: number): void {
  if (n1 !== n2) throw new Error(`${FILE}: ${what}: inner dimensions differ (${n1} vs ${n2})`);
}

/** A B. */
export function matMul(a: Mat, b: Mat): Mat {
  checkInner("matMul", a.cols, b.rows);
  const out = mat(a.rows, b.cols), n = b.cols, A = a.data, B = b.data, C = out.data;
  for (let i = 0; i < a.rows; i++) {
    const ci = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = A[i * a.cols + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) C[ci + j] += aik * B[bk + j];
    }
  }
  return out;
}

/** A^T B (A is n x p, B is n x q; the result is p x q). */
export function matMulTN(a: Mat, b: Mat): Mat {
  checkInner("matMulTN", a.rows, b.rows);
  const p = a.cols, q = b.cols, out = mat(p, q), A = a.data, B = b.data, C = out.data;
  for (let r = 0; r < a.rows; r++) {
    const ar = r * p, br = r * q;
    for (let i = 0; i < p; i++) {
      const v = A[ar + i];
      if (v === 0) continue;
      const ci = i * q;
      for (let j = 0; j < q; j++) C[ci + j] += v * B[br + j];
    }
  }
  return out;
}

/** A B^T (A is p x n, B is q x n; the result is p x q). */
export function matMulNT(a: Mat, b: Mat): Mat {
  checkInner("matMulNT", a.cols, b.cols);
  const n = a.cols, out = mat(a.rows, b.rows), A = a.data, B = b.data, C = out.data;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += A[i * n + k] * B[j * n + k];
      C[i * b.rows + j] = s;
    }
  }
  return out;
}

/** alpha A + beta B (same shapes). */
export function addScaled(a: Mat, alpha: number, b: Mat, beta: number): Mat {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`${FILE}: addScaled: shapes differ (${a.rows}x${a.cols}, ${b.rows}x${b.cols})`);
  }
  const out = mat(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = alpha * a.data[i] + beta * b.data[i];
  return out;
}

/** A + s I (A square). */
export function addDiagonal(a: Mat, s: number): Mat {
  if (a.rows !== a.cols) throw new Error(`${FILE}: addDiagonal: ${a.rows}x${a.cols} not square`);
  const out = mat(a.rows, a.cols, a.data.slice());
  for (let i = 0; i < a.rows; i++) out.data[i * a.cols + i] += s;
  return out;
}

/** Squared Frobenius norm. */
export function frobeniusSq(a: Mat): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * a.data[i];
  return s;
}

/** Column means of A (length cols). */
export function columnMeans(a: Mat): Float64Array {
  const m = new Float64Array(a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) m[j] += a.data[i * a.cols + j];
  }
  for (let j = 0; j < a.cols; j++) m[j] /= Math.max(1, a.rows);
  return m;
}

/** A with `means` subtracted from every row (a new matrix). */
export function subtractRow(a: Mat, means: ArrayLike<number>): Mat {
  if (means.length !== a.cols) {
    throw new Error(`${FILE}: subtractRow: ${means.length} means for ${a.cols} columns`);
  }
  const out = mat(a.rows, a.cols, a.data.slice());
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] -= means[j];
  }
  return out;
}

/**
 * Cholesky factor of a symmetric positive definite A: lower-triangular L with A = L L^T.
 *
 * @throws a one-line error if A is not square or not (numerically) positive definite.
 */
export function cholesky(a: Mat): Mat {
  if (a.rows !== a.cols) throw new Error(`${FILE}: cholesky: ${a.rows}x${a.cols} not square`);
  const n = a.rows, L = mat(n, n), A = a.data, D = L.data;
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j];
    for (let k = 0; k < j; k++) s -= D[j * n + k] * D[j * n + k];
    if (!(s > 0)) {
      throw new Error(`${FILE}: cholesky: matrix is not positive definite (pivot ${j} is ${s})`);
    }
    const ljj = Math.sqrt(s);
    D[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j];
      for (let k = 0; k < j; k++) t -= D[i * n + k] * D[j * n + k];
      D[i * n + j] = t / ljj;
    }
  }
  return L;
}

/** Solve L X = B for lower-triangular L (forward substitution, column by column of B). */
export function solveLower(l: Mat, b: Mat): Mat {
  checkInner("solveLower", l.cols, b.rows);
  const n = l.rows, m = b.cols, X = mat(n, m, b.data.slice()), L = l.data, D = X.data;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const lik = L[i * n + k];
      if (lik === 0) continue;
      for (let j = 0; j < m; j++) D[i * m + j] -= lik * D[k * m + j];
    }
    const d = L[i * n + i];
    for (let j = 0; j < m; j++) D[i * m + j] /= d;
  }
  return X;
}

/** Solve L^T X = B for lower-triangular L (back substitution). */
export function solveLowerT(l: Mat, b: Mat): Mat {
  checkInner("solveLowerT", l.rows, b.rows);
  const n = l.rows, m = b.cols, X = mat(n, m, b.data.slice()), L = l.data, D = X.data;
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = L[k * n + i];
      if (lki === 0) continue;
      for (let j = 0; j < m; j++) D[i * m + j] -= lki * D[k * m + j];
    }
    const d = L[i * n + i];
    for (let j = 0; j < m; j++) D[i * m + j] /= d;
  }
  return X;
}

/** Solve A X = B for symmetric positive definite A (by its Cholesky factor). */
export function solveSpd(a: Mat, b: Mat): Mat {
  const l = cholesky(a);
  return solveLowerT(l, solveLower(l, b));
}

/** A Householder QR factorisation A = Q R of an m x r matrix (m >= r), from {@link householderQr}. */
export interface HouseholderQr {
  /** m x r: column j is the unit Householder vector of step j (zero above row j; all zero
   * when the step was skipped). Q = H_0 H_1 ... H_{r-1}, H_j = I - 2 v_j v_j^T. */
  reflectors: Mat;
  /** r x r upper-triangular R. */
  r: Mat;
}

/** Householder QR of an m x r matrix A (m >= r): A = Q R with Q orthogonal (m x m). */
export function householderQr(a: Mat): HouseholderQr {
  const m = a.rows, r = a.cols;
  if (r > m) throw new Error(`${FILE}: householderQr: ${m}x${r} has more columns than rows`);
  const A = a.data.slice(), V = mat(m, r), R = mat(r, r), dots = new Float64Array(r);
  for (let j = 0; j < r; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += A[i * r + j] * A[i * r + j];
    norm = Math.sqrt(norm);
    const x0 = A[j * r + j], alpha = x0 >= 0 ? -norm : norm;
    let vn = 0;
    for (let i = j; i < m; i++) {
      const v = i === j ? x0 - alpha : A[i * r + j];
      V.data[i * r + j] = v;
      vn += v * v;
    }
    vn = Math.sqrt(vn);
    if (norm === 0 || vn === 0) {
      for (let i = j; i < m; i++) V.data[i * r + j] = 0;
    } else {
      for (let i = j; i < m; i++) V.data[i * r + j] /= vn;
      dots.fill(0);
      for (let i = j; i < m; i++) {
        const v = V.data[i * r + j];
        for (let c = j; c < r; c++) dots[c] += v * A[i * r + c];
      }
      for (let i = j; i < m; i++) {
        const v2 = 2 * V.data[i * r + j];
        for (let c = j; c < r; c++) A[i * r + c] -= v2 * dots[c];
      }
    }
    for (let c = j; c < r; c++) R.data[j * r + c] = A[j * r + c];
  }
  return { reflectors: V, r: R };
}

/** The first k columns (k <= m) of the orthogonal factor Q of a {@link householderQr} (m x k). */
export function qrColumns(qr: HouseholderQr, k: number): Mat {
  const V = qr.reflectors, m = V.rows, r = V.cols;
  if (k > m) throw new Error(`${FILE}: qrColumns: ${k} columns asked of an ${m}x${m} Q`);
  const Q = mat(m, k), dots = new Float64Array(k);
  for (let c = 0; c < k; c++) Q.data[c * k + c] = 1;
  for (let j = r - 1; j >= 0; j--) {
    dots.fill(0);
    for (let i = j; i < m; i++) {
      const v = V.data[i * r + j];
      if (v !== 0) { for (let c = 0; c < k; c++) dots[c] += v * Q.data[i * k + c]; }
    }
    for (let i = j; i < m; i++) {
      const v2 = 2 * V.data[i * r + j];
      if (v2 !== 0) { for (let c = 0; c < k; c++) Q.data[i * k + c] -= v2 * dots[c]; }
    }
  }
  return Q;
}

/** Eigen-decomposition of a symmetric matrix: A = V diag(values) V^T. */
export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** n x n orthogonal matrix whose column i is the eigenvector of values[i]. */
  vectors: Mat;
}

/**
 * Eigen-decomposition of a symmetric matrix (only the lower triangle's symmetry is assumed;
 * the input is symmetrised as (A + A^T) / 2). Householder tridiagonalisation, then implicit
 * QR steps with Wilkinson shifts and deflation; eigenvalues sorted descending.
 *
 * @throws if A is not square or the iteration fails to converge.
 */
export function symmetricEigen(a: Mat): SymmetricEigen {
  if (a.rows !== a.cols) throw new Error(`${FILE}: symmetricEigen: ${a.rows}x${a.cols}`);
  const n = a.rows;
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) T[i * n + j] = 0.5 * (a.data[i * n + j] + a.data[j * n + i]);
  }
  const Q = identity(n).data;
  householderTridiagonal(T, Q, n);
  const d = new Float64Array(n), e = new Float64Array(Math.max(0, n - 1));
  for (let i = 0; i < n; i++) d[i] = T[i * n + i];
  for (let i = 0; i + 1 < n; i++) e[i] = T[(i + 1) * n + i];
  tridiagonalQr(d, e, Q, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
  const values = new Float64Array(n), vectors = mat(n, n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    for (let r = 0; r < n; r++) vectors.data[r * n + dst] = Q[r * n + src];
  });
  return { values, vectors };
}

/** In place: T <- H T H for Householder reflections H_k, Q <- Q H_k; T ends tridiagonal. */
function householderTridiagonal(T: Float64Array, Q: Float64Array, n: number): void {
  const v = new Float64Array(n), p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += T[i * n + k] * T[i * n + k];
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const x0 = T[(k + 1) * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    // v = x - alpha e1, normalised
    v.fill(0);
    for (let i = k + 1; i < n; i++) v[i] = T[i * n + k];
    v[k + 1] -= alpha;
    let vn = 0;
    for (let i = k + 1; i < n; i++) vn += v[i] * v[i];
    vn = Math.sqrt(vn);
    if (vn === 0) continue;
    for (let i = k + 1; i < n; i++) v[i] /= vn;
    // trailing block: B <- B - 2 v q^T - 2 q v^T with p = B v, q = p - (v^T p) v
    let kk = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      for (let j = k + 1; j < n; j++) s += T[i * n + j] * v[j];
      p[i] = s;
      kk += v[i] * s;
    }
    for (let i = k + 1; i < n; i++) p[i] -= kk * v[i];
    for (let i = k + 1; i < n; i++) {
      for (let j = k + 1; j < n; j++) T[i * n + j] -= 2 * (v[i] * p[j] + p[i] * v[j]);
    }
    // column / row k: (alpha, 0, ..., 0)
    for (let i = k + 1; i < n; i++) T[i * n + k] = T[k * n + i] = 0;
    T[(k + 1) * n + k] = T[k * n + k + 1] = alpha;
    // Q <- Q (I - 2 v v^T)
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let i = k + 1; i < n; i++) s += Q[r * n + i] * v[i];
      if (s === 0) continue;
      for (let i = k + 1; i < n; i++) Q[r * n + i] -= 2 * s * v[i];
    }
  }
}

/**
 * Implicit symmetric QR on the tridiagonal (d diagonal, e sub-diagonal), rotations accumulated
 * into the columns of Q. On return d holds the eigenvalues (unsorted).
 */
function tridiagonalQr(d: Float64Array, e: Float64Array, Q: Float64Array, n: number): void {
  const small = (i: number) => Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1]));
  let hi = n - 1, steps = 0;
  while (hi > 0) {
    if (small(hi - 1)) {
      e[hi - 1] = 0;
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && !small(lo - 1)) lo--;
    if (++steps > 60 * n) throw new Error(`${FILE}: symmetricEigen: QR iteration did not converge`);
    // Wilkinson shift from the trailing 2x2 block of the active part
    const t = (d[hi - 1] - d[hi]) / 2, b = e[hi - 1];
    const mu = d[hi] - (b * b) / (t + (t >= 0 ? 1 : -1) * Math.hypot(t, b));
    let x = d[lo] - mu, z = e[lo];
    for (let k = lo; k < hi; k++) {
      // rotation with c x - s z = r, s x + c z = 0
      let c = 1, s = 0;
      if (z !== 0) {
        if (Math.abs(z) > Math.abs(x)) {
          const tau = -x / z;
          s = 1 / Math.sqrt(1 + tau * tau);
          c = s * tau;
        } else {
          const tau = -z / x;
          c = 1 / Math.sqrt(1 + tau * tau);
          s = c * tau;
        }
      }
      if (k > lo) e[k - 1] = c * x - s * z; // the bulge at (k+1, k-1) is annihilated
      const a0 = d[k], b0 = e[k], c0 = d[k + 1];
      d[k] = c * c * a0 - 2 * c * s * b0 + s * s * c0;
      d[k + 1] = s * s * a0 + 2 * c * s * b0 + c * c * c0;
      e[k] = c * s * (a0 - c0) + (c * c - s * s) * b0;
      if (k + 1 < hi) {
        z = -s * e[k + 1]; // new bulge at (k+2, k)
        e[k + 1] *= c;
        x = e[k];
      }
      for (let r = 0; r < n; r++) {
        const qk = Q[r * n + k], qk1 = Q[r * n + k + 1];
        Q[r * n + k] = c * qk - s * qk1;
        Q[r * n + k + 1] = s * qk + c * qk1;
      }
    }
  }
}

/**
 * Rows of `x` centred by `mean` and projected by `w` (d x k, row-major): (x_i - mean) W for
 * every row i, in Float64 (n x k, row-major). This is the test-time map of the linear hash
 * functions; codes are the signs of the result.
 */
export function centeredProjection(
  x: Matrix,
  mean: ArrayLike<number>,
  w: ArrayLike<number>,
  k: number,
): Float64Array {
  const d = x.cols;
  if (mean.length !== d || w.length !== d * k) {
    throw new Error(
      `${FILE}: centeredProjection: ${d} columns but mean has ${mean.length} and W ${w.length} ` +
        `values (expected ${d} and ${d * k})`,
    );
  }
  const out = new Float64Array(x.rows * k), row = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < d; j++) row[j] = -mean[j];
    if (x.kind === "dense") {
      for (let j = 0; j < d; j++) row[j] += x.data[i * d + j];
    } else {
      for (let t = x.indptr[i]; t < x.indptr[i + 1]; t++) row[x.indices[t]] += x.values[t];
    }
    const o = i * k;
    for (let j = 0; j < d; j++) {
      const v = row[j];
      if (v === 0) continue;
      for (let c = 0; c < k; c++) out[o + c] += v * w[j * k + c];
    }
  }
  return out;
}
