/**
 * Conversions of MAT variables (column-major, as stored) into the row-major matrix types of
 * src/types.ts: dense, CSR, labels, plain values.
 *
 * @module
 */
import type { CsrMatrix, DenseMatrix, LabelMatrix, Matrix } from "../../types.ts";
import { columnMajorToDense, cscToCsr } from "../matrix.ts";
import { convertArray } from "./mat_elements.ts";
import type { MatNumericVariable, MatSparseVariable, MatVariable, MatVariableInfo } from "./mat.ts";

export function dimsString(dims: readonly number[]): string {
  return dims.length ? dims.join("x") : "0x0";
}

/** The 2-D size of a variable (trailing singleton dimensions allowed), or throw. */
export function matrixDims(v: MatVariable | MatVariableInfo, where: string): [number, number] {
  const d = v.dims;
  const extra = d.slice(2).some((x) => x !== 1);
  if (d.length < 2 || extra) {
    throw new Error(
      `${where}: has ${d.length} dimensions (${dimsString(d)}); expected a 2-D matrix`,
    );
  }
  return [d[0], d[1]];
}

function requireNumeric(v: MatVariable, where: string): MatNumericVariable | MatSparseVariable {
  if (v.type === "unsupported") throw new Error(`${where}: ${v.reason}`);
  if (v.type === "char") throw new Error(`${where}: is a char array; expected a numeric matrix`);
  return v;
}

/**
 * A numeric or sparse 2-D variable as a row-major Float32 {@link DenseMatrix}.
 * `where` names the file and variable in errors (e.g. "wikiData.mat: variable 'I_tr'").
 */
export function matToDense(v: MatVariable, where = `variable '${v.name}'`): DenseMatrix {
  const x = requireNumeric(v, where);
  const [rows, cols] = matrixDims(x, where);
  if (x.type === "sparse") {
    const csr = matToCsr(x, where);
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let k = csr.indptr[r]; k < csr.indptr[r + 1]; k++) {
        out[r * cols + csr.indices[k]] = csr.values[k];
      }
    }
    return { kind: "dense", rows, cols, data: out };
  }
  return columnMajorToDense(x.data, rows, cols, where);
}

/** A numeric or sparse 2-D variable as a row-major {@link CsrMatrix}. */
export function matToCsr(v: MatVariable, where = `variable '${v.name}'`): CsrMatrix {
  const x = requireNumeric(v, where);
  const [rows, cols] = matrixDims(x, where);
  if (x.type === "sparse") return cscToCsr(rows, cols, x.ir, x.jc, x.values, where);
  // dense -> CSR straight from column-major data
  const d = x.data;
  const big = d instanceof BigInt64Array || d instanceof BigUint64Array;
  const val = (i: number) => (big ? Number(d[i]) : (d[i] as number));
  const counts = new Int32Array(rows + 1);
  for (let i = 0; i < d.length; i++) if (val(i) !== 0) counts[(i % rows) + 1]++;
  for (let r = 0; r < rows; r++) counts[r + 1] += counts[r];
  const nnz = counts[rows];
  const indices = new Int32Array(nnz), values = new Float32Array(nnz);
  const fill = counts.slice(0, rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      const x2 = val(c * rows + r);
      if (x2 !== 0) {
        const p = fill[r]++;
        indices[p] = c;
        values[p] = x2;
      }
    }
  }
  return { kind: "csr", rows, cols, indptr: counts, indices, values };
}

/** Dense for numeric variables, CSR for sparse ones. */
export function matToMatrix(v: MatVariable, where = `variable '${v.name}'`): Matrix {
  return v.type === "sparse" ? matToCsr(v, where) : matToDense(v, where);
}

/**
 * A 0/1 multi-hot variable (any numeric class, logical, or sparse) as a row-major
 * {@link LabelMatrix}. Any value other than 0 or 1 throws, naming the first offending cell.
 */
export function matToLabels(v: MatVariable, where = `variable '${v.name}'`): LabelMatrix {
  const x = requireNumeric(v, where);
  const [rows, cols] = matrixDims(x, where);
  const out = new Uint8Array(rows * cols);
  const bad = (r: number, c: number, val: unknown): never => {
    throw new Error(`${where}: value ${val} at row ${r}, column ${c}; expected 0/1 labels`);
  };
  if (x.type === "sparse") {
    for (let c = 0; c < cols; c++) {
      for (let k = x.jc[c]; k < x.jc[c + 1]; k++) {
        const val = x.values === null ? 1 : x.values[k];
        if (val !== 0 && val !== 1) bad(x.ir[k], c, val);
        out[x.ir[k] * cols + c] = val;
      }
    }
  } else {
    const d = x.data;
    for (let c = 0; c < cols; c++) {
      for (let r = 0; r < rows; r++) {
        const val = Number(d[c * rows + r]);
        if (val !== 0 && val !== 1) bad(r, c, d[c * rows + r]);
        out[r * cols + c] = val;
      }
    }
  }
  return { rows, classes: cols, data: out };
}

/** All values of a numeric variable as plain numbers (column-major), e.g. a label vector. */
export function matValues(v: MatVariable, where = `variable '${v.name}'`): Float64Array {
  const x = requireNumeric(v, where);
  if (x.type === "sparse") return Float64Array.from(matToDense(x, where).data);
  return convertArray(x.data, Float64Array) as Float64Array;
}
