/**
 * Reader for MATLAB 7.3 MAT-files, which are HDF5 files (with a 512-byte MATLAB text header
 * in the HDF5 user block), through the npm package `h5wasm` (libhdf5 compiled to wasm; its
 * Node build reads host files directly, so large files are not copied into memory).
 *
 * MATLAB's v7.3 conventions, as followed here:
 * - Each variable is a top-level dataset (or group, for sparse arrays and structs) with a
 *   string attribute `MATLAB_class` ("double", "single", "uint8", ..., "logical", "char",
 *   "cell", "struct").
 * - HDF5 stores data in C order, MATLAB in column-major order, so MATLAB writes the dimension
 *   list reversed: a rows x cols MATLAB matrix is an HDF5 dataset of shape [cols, rows]. The
 *   flat HDF5 buffer is therefore exactly MATLAB's column-major buffer, and this reader
 *   returns dims = reverse(HDF5 shape) with the data unchanged — the same
 *   {@link MatVariable} representation as the MAT v5 reader in `mat.ts`.
 * - Sparse arrays are groups with attribute `MATLAB_sparse` (= number of rows) holding
 *   datasets `ir`, `jc` and `data` (`data` may be absent for logical sparse arrays).
 * - Empty arrays are datasets with attribute `MATLAB_empty` whose contents are the dims.
 * - Complex arrays are compound {real, imag} datasets: rejected.
 * - Names starting with '#' (`#refs#`, `#subsystem#`) are MATLAB internals and skipped.
 *
 * Datasets without a `MATLAB_class` attribute (files written by other HDF5 tools) get their
 * class from the HDF5 element type; their dimension order follows `order` (default
 * "matlab", i.e. reversed; use "c" for files written from C-order arrays, e.g. by h5py).
 *
 * @module
 */
import type { MatClass, MatNumericClass, MatTypedArray } from "./mat.ts";
import type { MatVariable, MatVariableInfo } from "./mat.ts";
import { convertArray } from "./mat.ts";

type H5Module = typeof import("npm:h5wasm@0.10.3/node");
type H5Dataset = import("npm:h5wasm@0.10.3/node").Dataset;
type H5Group = import("npm:h5wasm@0.10.3/node").Group;

let h5Promise: Promise<H5Module> | null = null;

/** The h5wasm module (Node build, host filesystem), loaded on first use. */
export async function h5wasmModule(): Promise<H5Module> {
  if (!h5Promise) {
    h5Promise = (async () => {
      const mod = await import("npm:h5wasm@0.10.3/node");
      await mod.ready;
      return mod;
    })();
  }
  return await h5Promise;
}

/** Options of {@link readMat73} and {@link inspectMat73}. */
export interface ReadMat73Options {
  /** Variables to read (each must exist and be supported). Default: all top-level variables. */
  readonly variables?: readonly string[];
  /**
   * Dimension order for datasets without a `MATLAB_class` attribute: "matlab" (reverse the
   * HDF5 shape; default) or "c" (HDF5 shape is rows, cols).
   */
  readonly order?: "matlab" | "c";
}

const H5T_INTEGER = 0, H5T_FLOAT = 1, H5T_STRING = 3, H5T_COMPOUND = 6;

function attrString(obj: H5Dataset | H5Group, name: string): string | null {
  const a = obj.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (typeof v === "string") return v.replace(/\0+$/, "");
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/\0+$/, "");
  return String(v);
}

function attrNumber(obj: H5Dataset | H5Group, name: string): number | null {
  const a = obj.attrs[name];
  if (!a) return null;
  const v = a.value;
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  if (ArrayBuffer.isView(v)) return Number((v as unknown as ArrayLike<number | bigint>)[0]);
  return Number(v);
}

function classFromType(meta: { type: number; size: number; signed: boolean }): MatClass {
  if (meta.type === H5T_FLOAT) {
    return meta.size === 4 ? "single" : meta.size === 8 ? "double" : "unknown";
  }
  if (meta.type === H5T_INTEGER) {
    const bits = meta.size * 8;
    if (![8, 16, 32, 64].includes(bits)) return "unknown";
    return `${meta.signed ? "int" : "uint"}${bits}` as MatNumericClass;
  }
  if (meta.type === H5T_STRING) return "char";
  return "unknown";
}

const NUMERIC = new Set([
  "double",
  "single",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
]);

interface Entry {
  info: MatVariableInfo;
  reason: string | null;
  read(): MatVariable;
}

function describe(
  name: string,
  obj: H5Dataset | H5Group,
  path: string,
  order: "matlab" | "c",
): Entry {
  const where = `${path}: variable '${name}'`;
  const mclass = attrString(obj, "MATLAB_class");
  const isGroup = !("shape" in obj);
  if (isGroup) {
    const g = obj as H5Group;
    const nrows = attrNumber(g, "MATLAB_sparse");
    if (nrows !== null) {
      const jc = g.get("jc") as H5Dataset | null;
      const cols = jc && jc.shape ? jc.shape.reduce((a, b) => a * b, 1) - 1 : 0;
      const logical = mclass === "logical";
      const info: MatVariableInfo = {
        name,
        class: "sparse",
        dims: [nrows, cols],
        complex: false,
        logical,
        compressed: false,
      };
      const data = g.get("data") as H5Dataset | null;
      const complex = data !== null && data.metadata.type === H5T_COMPOUND;
      return {
        info: { ...info, complex },
        reason: complex ? "complex arrays are not supported (real data expected)" : null,
        read: () => {
          const irD = g.get("ir") as H5Dataset | null;
          if (!jc || !irD) throw new Error(`${where}: sparse group lacks 'ir' or 'jc'`);
          const jcA = convertArray(jc.value as MatTypedArray, Int32Array) as Int32Array;
          const nnz = jcA[cols];
          const irA = irD.shape && irD.shape.reduce((a, b) => a * b, 1) > 0
            ? (convertArray(irD.value as MatTypedArray, Int32Array) as Int32Array)
            : new Int32Array(0);
          if (irA.length < nnz) {
            throw new Error(`${where}: sparse 'ir' has ${irA.length} entries, expected ${nnz}`);
          }
          let values: Float64Array | null = null;
          if (data) {
            values = (convertArray(data.value as MatTypedArray, Float64Array) as Float64Array)
              .slice(0, nnz);
            if (values.length < nnz) {
              throw new Error(
                `${where}: sparse 'data' has ${values.length} values, expected ${nnz}`,
              );
            }
          } else if (!logical && nnz > 0) {
            throw new Error(`${where}: sparse group lacks 'data'`);
          }
          return {
            type: "sparse",
            name,
            class: "sparse",
            logical,
            dims: [nrows, cols],
            ir: irA.slice(0, nnz),
            jc: jcA,
            values,
          };
        },
      };
    }
    const cls = (mclass ?? "struct") as MatClass;
    return {
      info: { name, class: cls, dims: [1, 1], complex: false, logical: false, compressed: false },
      reason: `class '${cls}' is not supported (numeric, logical, sparse or char expected)`,
      read: () => {
        throw new Error(`${where}: class '${cls}' is not supported`);
      },
    };
  }
  const ds = obj as H5Dataset;
  const meta = ds.metadata;
  const shape = ds.shape ?? [];
  const matlabOrder = mclass !== null || order === "matlab";
  const empty = attrNumber(ds, "MATLAB_empty");
  let dims: number[];
  if (empty) {
    const v = ds.value as MatTypedArray | null;
    dims = v && ArrayBuffer.isView(v)
      ? Array.from(v as ArrayLike<number | bigint>, Number)
      : [0, 0];
  } else {
    dims = matlabOrder ? shape.slice().reverse() : shape.slice();
  }
  if (dims.length === 1) dims = matlabOrder ? [1, dims[0]] : [dims[0], 1];
  if (dims.length === 0) dims = [1, 1];
  const logical = mclass === "logical";
  const complex = meta.type === H5T_COMPOUND;
  let cls: MatClass = logical ? "uint8" : (mclass as MatClass | null) ?? classFromType(meta);
  if (!mclass && meta.type === H5T_STRING) cls = "char";
  const info: MatVariableInfo = { name, class: cls, dims, complex, logical, compressed: false };
  let reason: string | null = null;
  if (complex) reason = "complex arrays are not supported (real data expected)";
  else if (cls !== "char" && !NUMERIC.has(cls)) {
    reason = `class '${cls}' is not supported (numeric, logical, sparse or char expected)`;
  } else if (cls !== "char" && meta.type !== H5T_INTEGER && meta.type !== H5T_FLOAT) {
    reason = `HDF5 element type ${meta.type} is not numeric`;
  }
  return {
    info,
    reason,
    read: (): MatVariable => {
      const n = dims.reduce((a, b) => a * b, 1);
      if (cls === "char") {
        const v = ds.value;
        if (typeof v === "string") return { type: "char", name, class: "char", dims, rows: [v] };
        const codes = empty ? new Uint16Array(0) : (v as ArrayLike<number>);
        const r = dims[0], c = r === 0 ? 0 : n / r;
        const rows: string[] = [];
        for (let i = 0; i < r; i++) {
          let s = "";
          for (let j = 0; j < c; j++) s += String.fromCharCode(Number(codes[i + j * r]));
          rows.push(s);
        }
        return { type: "char", name, class: "char", dims, rows };
      }
      const numCls = cls as MatNumericClass;
      if (empty || n === 0) {
        return { type: "numeric", name, class: numCls, logical, dims, data: new Float64Array(0) };
      }
      const v = ds.value;
      if (!ArrayBuffer.isView(v)) throw new Error(`${where}: could not read numeric data`);
      let data = v as MatTypedArray;
      if (!matlabOrder && dims.length >= 2) {
        // C-order rows x cols -> column-major
        const [r, c] = [dims[0], n / dims[0]];
        const t = new (data.constructor as Float64ArrayConstructor)(n) as MatTypedArray;
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j];
        data = t;
      }
      if (data.length !== n) {
        throw new Error(`${where}: has ${data.length} values, expected ${dims.join("x")}=${n}`);
      }
      return { type: "numeric", name, class: numCls, logical, dims, data };
    },
  };
}

async function withFile<T>(path: string, fn: (f: H5Group) => T): Promise<T> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: file not found`);
    throw e;
  }
  if (!(await isHdf5File(path))) {
    throw new Error(`${path}: not an HDF5 / MAT v7.3 file (no HDF5 signature found)`);
  }
  const h5 = await h5wasmModule();
  let f: InstanceType<H5Module["File"]>;
  try {
    f = new h5.File(path, "r");
  } catch (e) {
    throw new Error(`${path}: cannot open as HDF5 / MAT v7.3 (${(e as Error).message})`);
  }
  if (!f.file_id || f.file_id < 0n) {
    throw new Error(`${path}: cannot open as HDF5 / MAT v7.3 file`);
  }
  try {
    return fn(f);
  } finally {
    f.close();
  }
}

function entries(f: H5Group, path: string, order: "matlab" | "c"): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const key of f.keys()) {
    if (key.startsWith("#")) continue;
    const obj = f.get(key);
    if (!obj || !("attrs" in obj)) continue;
    out.set(key, describe(key, obj as H5Dataset | H5Group, path, order));
  }
  return out;
}

/** List the variables of a MAT v7.3 file (name, class, MATLAB dims) without reading data. */
export async function inspectMat73(
  path: string,
  opts: ReadMat73Options = {},
): Promise<MatVariableInfo[]> {
  return await withFile(
    path,
    (f) => [...entries(f, path, opts.order ?? "matlab").values()].map((e) => e.info),
  );
}

/**
 * Read variables of a MAT v7.3 (HDF5) file into a Map name -> {@link MatVariable}, in the same
 * representation as the MAT v5 reader (MATLAB dims, column-major data).
 */
export async function readMat73(
  path: string,
  opts: ReadMat73Options = {},
): Promise<Map<string, MatVariable>> {
  return await withFile(path, (f) => {
    const all = entries(f, path, opts.order ?? "matlab");
    const out = new Map<string, MatVariable>();
    const names = opts.variables ?? [...all.keys()];
    for (const name of names) {
      const e = all.get(name);
      if (!e) {
        throw new Error(
          `${path}: variable '${name}' not found (file has: ${
            all.size ? [...all.keys()].join(", ") : "no variables"
          })`,
        );
      }
      if (e.reason) {
        if (opts.variables) throw new Error(`${path}: variable '${name}': ${e.reason}`);
        out.set(name, {
          type: "unsupported",
          name,
          class: e.info.class,
          dims: e.info.dims,
          reason: e.reason,
        });
        continue;
      }
      out.set(name, e.read());
    }
    return out;
  });
}

/** Whether the file is HDF5 (signature at byte 0 or in a 512/1024/2048-byte user block). */
export async function isHdf5File(path: string): Promise<boolean> {
  const f = await Deno.open(path, { read: true });
  try {
    const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
    for (const off of [0, 512, 1024, 2048]) {
      const buf = new Uint8Array(8);
      await f.seek(off, Deno.SeekMode.Start);
      let got = 0;
      while (got < 8) {
        const k = await f.read(buf.subarray(got));
        if (k === null) break;
        got += k;
      }
      if (got < 8) return false;
      if (sig.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    f.close();
  }
}
