/**
 * Float64 BLAS / LAPACK through FFI for the shallow baselines' linear algebra (SCM, CMFH):
 * `cblas_dgemm`, `cblas_dsyrk`, `cblas_dtrsm` and LAPACK `dpotrf_` from the same CBLAS library
 * that src/accel/blas.ts uses for float32 ({@link BLAS_CANDIDATES}, env HASH_BLAS_LIB).
 *
 * Every function here computes exactly what its plain-TypeScript counterpart in src/linalg.ts
 * computes, in float64 (only the order of the floating-point sums differs, so results agree to
 * rounding, ~1e-15 relative). When FFI is not permitted, no library exporting these symbols is
 * found, or env HASH_BLAS is "off", they fall back to the src/linalg.ts loops. The library's
 * thread count is its own (OPENBLAS_NUM_THREADS); nothing here changes it.
 *
 * @module
 */
import * as js from "../linalg.ts";
import { type Mat, mat } from "../linalg.ts";
import { readEnv } from "../io.ts";
import { BLAS_CANDIDATES } from "./blas.ts";

const i32 = (n: number) => Array<"i32">(n).fill("i32");
const SYMBOLS = {
  cblas_dgemm: {
    parameters: [...i32(6), "f64", "buffer", "i32", "buffer", "i32", "f64", "buffer", "i32"],
    result: "void",
  },
  cblas_dsyrk: {
    parameters: [...i32(5), "f64", "buffer", "i32", "f64", "buffer", "i32"],
    result: "void",
  },
  cblas_dtrsm: {
    parameters: [...i32(7), "f64", "buffer", "i32", "buffer", "i32"],
    result: "void",
  },
  dsyevr_: {
    parameters: [...Array(21).fill("buffer"), "usize", "usize", "usize"],
    result: "void",
  },
  dpotrf_: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"], result: "void" },
} as const;

type DLib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const ROW = 101, NO = 111, T = 112, LOWER = 122, NON_UNIT = 131, LEFT = 141;

let loaded: { lib: DLib | null; path?: string } | undefined;

function ffiAllowed(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** The loaded library's symbols, or null (no FFI, no library, or HASH_BLAS=off). */
function lib(): DLib | null {
  if (loaded) return loaded.lib;
  loaded = { lib: null };
  if (readEnv("HASH_BLAS") === "off" || !ffiAllowed()) return null;
  const requested = readEnv("HASH_BLAS_LIB");
  for (const path of requested ? [requested] : BLAS_CANDIDATES) {
    try {
      loaded = { lib: Deno.dlopen(path, SYMBOLS).symbols, path };
      break;
    } catch {
      // next candidate
    }
  }
  return loaded.lib;
}

/** Where the float64 routines come from: "<library path>" or "TypeScript loops". */
export function float64Backend(): string {
  return lib() ? `float64 BLAS/LAPACK via ${loaded!.path}` : "float64 TypeScript loops";
}

/** Products below this many multiply-adds stay in TypeScript (FFI call overhead). */
const SMALL = 1 << 15;

function gemm(a: Mat, ta: boolean, b: Mat, tb: boolean): Mat | null {
  const L = lib();
  const m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols, n = tb ? b.rows : b.cols;
  if (!L || m * n * k < SMALL || m === 0 || n === 0 || k === 0) return null;
  const out = mat(m, n);
  L.cblas_dgemm(
    ROW,
    ta ? T : NO,
    tb ? T : NO,
    m,
    n,
    k,
    1,
    a.data,
    a.cols,
    b.data,
    b.cols,
    0,
    out.data,
    n,
  );
  return out;
}

function inner(what: string, n1: number, n2: number): void {
  if (n1 !== n2) throw new Error(`dblas: ${what}: inner dimensions differ (${n1} vs ${n2})`);
}

/** A B (float64; BLAS dgemm when available, else {@link js.matMul}). */
export function mul(a: Mat, b: Mat): Mat {
  inner("mul", a.cols, b.rows);
  return gemm(a, false, b, false) ?? js.matMul(a, b);
}

/** A^T B (float64; BLAS dgemm when available, else {@link js.matMulTN}). */
export function mulTN(a: Mat, b: Mat): Mat {
  inner("mulTN", a.rows, b.rows);
  return gemm(a, true, b, false) ?? js.matMulTN(a, b);
}

/** A B^T (float64; BLAS dgemm when available, else {@link js.matMulNT}). */
export function mulNT(a: Mat, b: Mat): Mat {
  inner("mulNT", a.cols, b.cols);
  return gemm(a, false, b, true) ?? js.matMulNT(a, b);
}

/** The Gram matrix A^T A, both triangles filled (BLAS dsyrk when available). */
export function gram(a: Mat): Mat {
  const L = lib(), p = a.cols;
  if (!L || a.rows * p * p < SMALL || a.rows === 0 || p === 0) return js.matMulTN(a, a);
  const out = mat(p, p), C = out.data;
  L.cblas_dsyrk(ROW, LOWER, T, p, a.rows, 1, a.data, p, 0, C, p);
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) C[i * p + j] = C[j * p + i];
  return out;
}

/**
 * Cholesky factor L (lower, A = L L^T) of a symmetric positive definite A: LAPACK dpotrf when
 * available, else {@link js.cholesky}. Throws a one-line error if A is not positive definite.
 */
export function choleskyLower(a: Mat): Mat {
  const L = lib(), n = a.rows;
  if (a.rows !== a.cols) throw new Error(`dblas: choleskyLower: ${a.rows}x${a.cols} not square`);
  if (!L || n < 32) return js.cholesky(a);
  // row-major lower L = column-major upper U with A = U^T U: dpotrf with uplo 'U'
  const out = mat(n, n, a.data.slice()), D = out.data, info = new Int32Array(1);
  L.dpotrf_(new Uint8Array([85]), new Int32Array([n]), D, new Int32Array([n]), info);
  if (info[0] !== 0) {
    throw new Error(
      `dblas: choleskyLower: matrix is not positive definite (dpotrf info ${info[0]})`,
    );
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) D[i * n + j] = 0;
  return out;
}

function trsm(l: Mat, b: Mat, trans: boolean): Mat | null {
  const L = lib(), n = l.rows, m = b.cols;
  if (!L || n * n * m < SMALL || m === 0) return null;
  const out = mat(n, m, b.data.slice());
  L.cblas_dtrsm(ROW, LEFT, LOWER, trans ? T : NO, NON_UNIT, n, m, 1, l.data, n, out.data, m);
  return out;
}

/** Solve L X = B for lower-triangular L (BLAS dtrsm when available, else {@link js.solveLower}). */
export function lowerSolve(l: Mat, b: Mat): Mat {
  inner("lowerSolve", l.cols, b.rows);
  return trsm(l, b, false) ?? js.solveLower(l, b);
}

/** Solve L^T X = B for lower-triangular L (BLAS dtrsm when available, else {@link js.solveLowerT}). */
export function lowerTSolve(l: Mat, b: Mat): Mat {
  inner("lowerTSolve", l.rows, b.rows);
  return trsm(l, b, true) ?? js.solveLowerT(l, b);
}

/** Solve A X = B for symmetric positive definite A by its Cholesky factor. */
export function spdSolve(a: Mat, b: Mat): Mat {
  const l = choleskyLower(a);
  return lowerTSolve(l, lowerSolve(l, b));
}

/**
 * The k largest eigenvalues (descending) and their eigenvectors (columns of an n x k matrix) of
 * a symmetric matrix: LAPACK dsyevr (RANGE = 'I') when available, else the leading k of
 * {@link js.symmetricEigen}. Eigenvectors are unit vectors; their signs are the solver's.
 */
export function topEigen(a: Mat, k: number): { values: Float64Array; vectors: Mat } {
  const L = lib(), n = a.rows;
  if (a.rows !== a.cols || k < 0 || k > n) {
    throw new Error(`dblas: topEigen: ${k} eigenpairs of a ${a.rows}x${a.cols} matrix`);
  }
  if (!L || n < 64 || k === 0) {
    const e = js.symmetricEigen(a), vectors = mat(n, k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) vectors.data[i * k + j] = e.vectors.data[i * n + j];
    }
    return { values: e.values.slice(0, k), vectors };
  }
  const A = a.data.slice(),
    int = (v: number) => new Int32Array([v]),
    dbl = (v: number) => new Float64Array([v]);
  const m = int(0),
    w = new Float64Array(n),
    z = new Float64Array(n * k),
    isuppz = new Int32Array(2 * k);
  const info = int(0), ch = (c: string) => new Uint8Array([c.charCodeAt(0)]);
  const call = (work: Float64Array, lwork: number, iwork: Int32Array, liwork: number) =>
    L.dsyevr_(
      ch("V"),
      ch("I"),
      ch("L"),
      int(n),
      A,
      int(n),
      dbl(0),
      dbl(0),
      int(n - k + 1),
      int(n),
      dbl(0),
      m,
      w,
      z,
      int(n),
      isuppz,
      work,
      int(lwork),
      iwork,
      int(liwork),
      info,
      1n,
      1n,
      1n,
    );
  const wq = new Float64Array(1), iq = new Int32Array(1);
  call(wq, -1, iq, -1);
  call(new Float64Array(Math.ceil(wq[0])), Math.ceil(wq[0]), new Int32Array(iq[0]), iq[0]);
  if (info[0] !== 0 || m[0] !== k) {
    throw new Error(`dblas: topEigen: dsyevr info ${info[0]}, ${m[0]} of ${k} found`);
  }
  const values = new Float64Array(k), vectors = mat(n, k);
  for (let j = 0; j < k; j++) {
    const src = k - 1 - j; // ascending -> descending; z is column-major (column src)
    values[j] = w[src];
    for (let i = 0; i < n; i++) vectors.data[i * k + j] = z[src * n + i];
  }
  return { values, vectors };
}
