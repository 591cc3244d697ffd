/**
 * Helpers for the plain matrix types of `src/types.ts`: construction and validation of dense,
 * CSR and label matrices, conversions, row gathering (used to build training batches), a
 * finite-value check that names the file and variable, and column statistics.
 *
 * All matrices are row-major. MATLAB / Fortran data is column-major: convert it with
 * {@link columnMajorToDense} at the file boundary.
 *
 * @module
 */
import type { CsrMatrix, DenseMatrix, LabelMatrix, Matrix } from "../types.ts";

/** Any array of numbers a reader may produce (bigint arrays are converted by value). */
export type NumericArrayLike = ArrayLike<number> | BigInt64Array | BigUint64Array;

function checkDims(rows: number, cols: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new Error(`${what}: dimensions must be non-negative integers, got ${rows}x${cols}`);
  }
}

/** Check the dimensions and that `length` values fill rows x cols (`has` leads the count). */
function checkSize(length: number, rows: number, cols: number, what: string, has = ""): void {
  checkDims(rows, cols, what);
  if (length !== rows * cols) {
    throw new Error(`${what}: ${has}${length} values, expected ${rows}x${cols}=${rows * cols}`);
  }
}

/** `data` checked to hold rows x cols values, or a new zero-filled array of that size. */
function sized<T extends { length: number }>(
  rows: number,
  cols: number,
  data: T | undefined,
  make: (n: number) => T,
  what: string,
): T {
  if (data) {
    checkSize(data.length, rows, cols, what, "data has ");
    return data;
  }
  checkDims(rows, cols, what);
  return make(rows * cols);
}

/**
 * Make a dense row-major matrix. Without `data` the matrix is zero-filled; with `data` its
 * length must be rows * cols (the array is used as is, not copied).
 */
export function denseMatrix(
  rows: number,
  cols: number,
  data?: Float32Array,
  what = "denseMatrix",
): DenseMatrix {
  const d = sized(rows, cols, data, (n) => new Float32Array(n), what);
  return { kind: "dense", rows, cols, data: d };
}

/** Check the structural invariants of a dense matrix; throws a one-line error naming `what`. */
export function validateDense(m: DenseMatrix, what = "matrix"): DenseMatrix {
  if (m.kind !== "dense") throw new Error(`${what}: expected a dense matrix, got kind '${m.kind}'`);
  checkDims(m.rows, m.cols, what);
  if (!(m.data instanceof Float32Array)) throw new Error(`${what}: data must be a Float32Array`);
  checkSize(m.data.length, m.rows, m.cols, what, "data has ");
  return m;
}

/**
 * Check the structural invariants of a CSR matrix: indptr monotone from 0 to nnz, column
 * indices in range and strictly increasing within each row.
 */
export function validateCsr(m: CsrMatrix, what = "matrix"): CsrMatrix {
  if (m.kind !== "csr") throw new Error(`${what}: expected a CSR matrix, got kind '${m.kind}'`);
  checkDims(m.rows, m.cols, what);
  const { indptr, indices, values } = m;
  if (indptr.length !== m.rows + 1) {
    throw new Error(`${what}: indptr has ${indptr.length} entries, expected rows+1=${m.rows + 1}`);
  }
  const nnz = indptr[m.rows];
  if (indptr[0] !== 0 || indices.length !== nnz || values.length !== nnz) {
    throw new Error(
      `${what}: indptr must run from 0 to nnz with indices/values of length nnz ` +
        `(indptr[0]=${
          indptr[0]
        }, indptr[rows]=${nnz}, indices=${indices.length}, values=${values.length})`,
    );
  }
  for (let r = 0; r < m.rows; r++) {
    const a = indptr[r], b = indptr[r + 1];
    if (b < a) throw new Error(`${what}: indptr decreases at row ${r}`);
    let prev = -1;
    for (let k = a; k < b; k++) {
      const c = indices[k];
      if (c < 0 || c >= m.cols || c <= prev) {
        throw new Error(
          `${what}: row ${r} has column index ${c}, expected increasing indices in [0, ${m.cols})`,
        );
      }
      prev = c;
    }
  }
  return m;
}

/** Make a label matrix (rows x classes of 0/1 bytes); checks length and that values are 0/1. */
export function labelMatrix(
  rows: number,
  classes: number,
  data?: Uint8Array,
  what = "labels",
): LabelMatrix {
  const d = sized(rows, classes, data, (n) => new Uint8Array(n), what);
  for (let i = 0; i < d.length; i++) {
    if (d[i] > 1) {
      throw new Error(
        `${what}: value ${d[i]} at row ${Math.floor(i / classes)}, column ${
          i % classes
        }; labels must be 0/1`,
      );
    }
  }
  return { rows, classes, data: d };
}

/**
 * Transpose column-major values (MATLAB / Fortran order) into a row-major Float32 dense
 * matrix. Blocked for cache friendliness; bigint inputs are converted by value.
 */
export function columnMajorToDense(
  src: NumericArrayLike,
  rows: number,
  cols: number,
  what = "matrix",
): DenseMatrix {
  checkSize(src.length, rows, cols, what);
  const s = isBigIntArray(src) ? Float64Array.from(src, Number) : src;
  const out = new Float32Array(rows * cols);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let c = c0; c < c1; c++) {
        const base = c * rows;
        for (let r = r0; r < r1; r++) out[r * cols + c] = s[base + r];
      }
    }
  }
  return { kind: "dense", rows, cols, data: out };
}

/** Row-major values of any numeric type as a Float32 dense matrix (copied). */
export function rowMajorToDense(
  src: NumericArrayLike,
  rows: number,
  cols: number,
  what = "matrix",
): DenseMatrix {
  checkSize(src.length, rows, cols, what);
  const out = isBigIntArray(src)
    ? Float32Array.from(src, Number)
    : Float32Array.from(src as ArrayLike<number>);
  return { kind: "dense", rows, cols, data: out };
}

function isBigIntArray(a: unknown): a is BigInt64Array | BigUint64Array {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** Dense copy of a CSR matrix. */
export function csrToDense(m: CsrMatrix): DenseMatrix {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    const o = r * m.cols;
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) out[o + m.indices[k]] = m.values[k];
  }
  return { kind: "dense", rows: m.rows, cols: m.cols, data: out };
}

/** CSR copy of a dense matrix (exact zeros are dropped). */
export function denseToCsr(m: DenseMatrix): CsrMatrix {
  let nnz = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i] !== 0) nnz++;
  const indptr = new Int32Array(m.rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < m.rows; r++) {
    const o = r * m.cols;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[o + c];
      if (v !== 0) {
        indices[k] = c;
        values[k++] = v;
      }
    }
    indptr[r + 1] = k;
  }
  return { kind: "csr", rows: m.rows, cols: m.cols, indptr, indices, values };
}

/** The matrix as dense (a CSR matrix is converted; a dense one is returned as is). */
export function toDense(m: Matrix): DenseMatrix {
  return m.kind === "dense" ? m : csrToDense(m);
}

/**
 * Build a CSR matrix from MATLAB-style compressed-sparse-column arrays (`ir` row indices,
 * `jc` column pointers, `pr` values; `pr` null means all stored values are 1, as in logical
 * sparse matrices). Duplicate-free input is assumed (MATLAB guarantees it).
 */
export function cscToCsr(
  rows: number,
  cols: number,
  ir: ArrayLike<number>,
  jc: ArrayLike<number>,
  pr: ArrayLike<number> | null,
  what = "sparse matrix",
): CsrMatrix {
  checkDims(rows, cols, what);
  if (jc.length !== cols + 1) {
    throw new Error(`${what}: jc has ${jc.length} entries, expected cols+1=${cols + 1}`);
  }
  const nnz = jc[cols];
  if (jc[0] !== 0 || nnz > ir.length || (pr !== null && nnz > pr.length)) {
    throw new Error(
      `${what}: inconsistent sparse arrays (jc[0]=${jc[0]}, nnz=${nnz}, ir=${ir.length}, pr=${
        pr?.length ?? "none"
      })`,
    );
  }
  const indptr = new Int32Array(rows + 1);
  for (let k = 0; k < nnz; k++) {
    const r = ir[k];
    if (r < 0 || r >= rows) throw new Error(`${what}: row index ${r} out of range [0, ${rows})`);
    indptr[r + 1]++;
  }
  for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r];
  const next = indptr.slice(0, rows);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let c = 0; c < cols; c++) {
    const a = jc[c], b = jc[c + 1];
    if (b < a || b > nnz) throw new Error(`${what}: jc decreases or exceeds nnz at column ${c}`);
    for (let k = a; k < b; k++) {
      const p = next[ir[k]]++;
      indices[p] = c;
      values[p] = pr === null ? 1 : pr[k];
    }
  }
  return { kind: "csr", rows, cols, indptr, indices, values };
}

/**
 * Copy the given rows of a dense or CSR matrix into a new dense matrix, in the given order
 * (rows may repeat). This is how training batches are built.
 */
export function gatherRows(m: Matrix, rows: ArrayLike<number>): DenseMatrix {
  const n = rows.length, cols = m.cols;
  const out = new Float32Array(n * cols);
  if (m.kind === "dense") {
    const d = m.data;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (!(r >= 0 && r < m.rows)) {
        throw new Error(`gatherRows: row ${r} out of range [0, ${m.rows})`);
      }
      out.set(d.subarray(r * cols, r * cols + cols), i * cols);
    }
  } else {
    const { indptr, indices, values } = m;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (!(r >= 0 && r < m.rows)) {
        throw new Error(`gatherRows: row ${r} out of range [0, ${m.rows})`);
      }
      const o = i * cols;
      for (let k = indptr[r]; k < indptr[r + 1]; k++) out[o + indices[k]] = values[k];
    }
  }
  return { kind: "dense", rows: n, cols, data: out };
}

/** Copy the given rows of a label matrix, in order. */
export function gatherLabelRows(l: LabelMatrix, rows: ArrayLike<number>): LabelMatrix {
  const n = rows.length, c = l.classes;
  const out = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (!(r >= 0 && r < l.rows)) {
      throw new Error(`gatherLabelRows: row ${r} out of range [0, ${l.rows})`);
    }
    out.set(l.data.subarray(r * c, r * c + c), i * c);
  }
  return { rows: n, classes: c, data: out };
}

/** Stack matrices vertically (all must have the same number of columns). CSR stays CSR. */
export function vstack(parts: readonly Matrix[], what = "vstack"): Matrix {
  const rows = stackedRows(parts, (p) => p.cols, "column", what), cols = parts[0].cols;
  if (parts.every((p) => p.kind === "csr")) {
    const ps = parts as CsrMatrix[];
    const nnz = ps.reduce((s, p) => s + p.indptr[p.rows], 0);
    const indptr = new Int32Array(rows + 1);
    const indices = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    let r0 = 0, k0 = 0;
    for (const p of ps) {
      const pn = p.indptr[p.rows];
      indices.set(p.indices.subarray(0, pn), k0);
      values.set(p.values.subarray(0, pn), k0);
      for (let r = 1; r <= p.rows; r++) indptr[r0 + r] = k0 + p.indptr[r];
      r0 += p.rows;
      k0 += pn;
    }
    return { kind: "csr", rows, cols, indptr, indices, values };
  }
  const data = concatenated(parts.map((p) => toDense(p).data), (n) => new Float32Array(n));
  return { kind: "dense", rows, cols, data };
}

/** Stack label matrices vertically (same number of classes). */
export function vstackLabels(parts: readonly LabelMatrix[], what = "vstackLabels"): LabelMatrix {
  const rows = stackedRows(parts, (p) => p.classes, "class", what);
  const data = concatenated(parts.map((p) => p.data), (n) => new Uint8Array(n));
  return { rows, classes: parts[0].classes, data };
}

/** The total rows of `parts`, checked to be at least one part, all of the same `width`. */
function stackedRows<P extends { readonly rows: number }>(
  parts: readonly P[],
  width: (p: P) => number,
  noun: string,
  what: string,
): number {
  if (parts.length === 0) throw new Error(`${what}: nothing to stack`);
  const w = width(parts[0]);
  for (const p of parts) {
    if (width(p) !== w) throw new Error(`${what}: ${noun} counts differ (${w} vs ${width(p)})`);
  }
  return parts.reduce((s, p) => s + p.rows, 0);
}

/** The arrays one after another, in a new array from `make`. */
function concatenated<T extends Float32Array | Uint8Array>(
  arrays: readonly T[],
  make: (n: number) => T,
): T {
  const out = make(arrays.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/**
 * Throw a one-line error if any stored value is NaN or +-Infinity. `where` names the file and
 * variable (e.g. "wikiData.mat: variable 'I_tr'"); the message adds the first offending cell.
 */
export function assertFinite(m: Matrix, where: string): void {
  const v = m.kind === "dense" ? m.data : m.values;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) {
      let r: number, c: number;
      if (m.kind === "dense") {
        r = Math.floor(i / m.cols);
        c = i % m.cols;
      } else {
        r = 0;
        while (m.indptr[r + 1] <= i) r++;
        c = m.indices[i];
      }
      throw new Error(
        `${where}: non-finite value ${x} at row ${r}, column ${c}; expected finite numbers`,
      );
    }
  }
}

/**
 * Rows of a label matrix that have no label at all (indices, ascending).
 */
export function emptyLabelRows(l: LabelMatrix): number[] {
  const out: number[] = [];
  for (let r = 0; r < l.rows; r++) {
    let any = 0;
    const o = r * l.classes;
    for (let c = 0; c < l.classes; c++) any |= l.data[o + c];
    if (!any) out.push(r);
  }
  return out;
}

/** Throw a one-line error if some label row is all zero (every item needs a label). */
export function assertLabelled(l: LabelMatrix, where: string): void {
  const empty = emptyLabelRows(l);
  if (empty.length > 0) {
    throw new Error(
      `${where}: ${empty.length} all-zero label row(s) (first: row ${
        empty[0]
      }); every item needs at least one label`,
    );
  }
}

/**
 * One-hot labels from class indices (e.g. Wikipedia categories 1..10 with `base` 1). Every
 * index must be an integer in [base, base + classes).
 */
export function labelsFromClassIndices(
  idx: NumericArrayLike,
  classes: number,
  base: number,
  where: string,
): LabelMatrix {
  const n = idx.length;
  const data = new Uint8Array(n * classes);
  for (let i = 0; i < n; i++) {
    const v = Number(idx[i]);
    const k = v - base;
    if (!Number.isInteger(k) || k < 0 || k >= classes) {
      throw new Error(
        `${where}: class index ${v} at row ${i}; expected an integer in ${base}..${
          base + classes - 1
        }`,
      );
    }
    data[i * classes + k] = 1;
  }
  return { rows: n, classes, data };
}

/** Per-column statistics of a matrix (over all rows; CSR zeros included). */
export interface ColumnStats {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
}

/** Column mean, population standard deviation, min and max (double precision accumulation). */
export function columnStats(m: Matrix): ColumnStats {
  const { rows, cols } = m;
  const sum = new Float64Array(cols), sq = new Float64Array(cols);
  const min = new Float64Array(cols).fill(rows > 0 ? Infinity : NaN);
  const max = new Float64Array(cols).fill(rows > 0 ? -Infinity : NaN);
  if (m.kind === "dense") {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = m.data[o + c];
        sum[c] += v;
        sq[c] += v * v;
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
  } else {
    const count = new Int32Array(cols);
    for (let k = 0; k < m.indptr[rows]; k++) {
      const c = m.indices[k], v = m.values[k];
      count[c]++;
      sum[c] += v;
      sq[c] += v * v;
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
    for (let c = 0; c < cols; c++) {
      if (count[c] < rows) {
        if (min[c] > 0) min[c] = 0;
        if (max[c] < 0) max[c] = 0;
      }
    }
  }
  const mean = new Float64Array(cols), std = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    mean[c] = rows > 0 ? sum[c] / rows : NaN;
    std[c] = rows > 0 ? Math.sqrt(Math.max(0, sq[c] / rows - mean[c] * mean[c])) : NaN;
  }
  return { mean, std, min, max };
}

/** Describe a matrix shape for messages, e.g. "2173x128 dense". */
export function describeMatrix(m: Matrix): string {
  return `${m.rows}x${m.cols} ${m.kind}`;
}
