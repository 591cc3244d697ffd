/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: magic "\x93NUMPY", major and minor version bytes, a little-endian header length
 * (uint16 in v1, uint32 in v2/v3), then an ASCII (v1/v2) or UTF-8 (v3) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and a
 * newline so the data starts on a 64-byte boundary, then the raw array data.
 *
 * Supported dtypes: `f4`, `f8`, `u1`, `b1`, `i1`, `i2`, `u2`, `i4`, `u4`, `i8`, `u8` in either
 * byte order (`<`, `>`, `|`, `=`). Fortran-order arrays are returned in C order.
 *
 * @module
 */
import type { NumericArray } from "../../types.ts";
import { readFileOr } from "../../io.ts";
import type { DenseMatrix, LabelMatrix } from "../../types.ts";

/** dtype codes without byte order, e.g. "f4". */
export type NpyDtype = "f4" | "f8" | "u1" | "b1" | "i1" | "i2" | "u2" | "i4" | "u4" | "i8" | "u8";

/** Typed arrays an .npy array decodes into. */
export type NpyData = NumericArray;

/** A decoded .npy array (always C order in memory). */
export interface NpyArray {
  /** Element type (without byte order), e.g. "f4". */
  readonly dtype: NpyDtype;
  /** Array shape, e.g. [n, d]. */
  readonly shape: readonly number[];
  /** prod(shape) values in C (row-major) order. `b1` arrays come as 0/1 bytes. */
  readonly data: NpyData;
  /** Whether the file stored the array in Fortran order (the data here is C order anyway). */
  readonly fortranOrder: boolean;
}

const CTORS: Record<NpyDtype, { new (n: number): NpyData; BYTES_PER_ELEMENT: number }> = {
  f4: Float32Array,
  f8: Float64Array,
  u1: Uint8Array,
  b1: Uint8Array,
  i1: Int8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  i8: BigInt64Array,
  u8: BigUint64Array,
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reorder Fortran-order (first axis fastest) values into C order (last axis fastest). */
function fortranToC<T extends NpyData>(src: T, shape: readonly number[]): T {
  const n = src.length;
  const out = new (src.constructor as { new (n: number): T })(n);
  const nd = shape.length;
  if (nd < 2) {
    out.set(src as never);
    return out;
  }
  // strides for C order output
  const cStride = new Array<number>(nd);
  cStride[nd - 1] = 1;
  for (let k = nd - 2; k >= 0; k--) cStride[k] = cStride[k + 1] * shape[k + 1];
  const idx = new Array<number>(nd).fill(0);
  let c = 0;
  for (let f = 0; f < n; f++) {
    out[c] = src[f];
    // advance the Fortran multi-index (axis 0 fastest), tracking the C offset
    for (let k = 0; k < nd; k++) {
      idx[k]++;
      c += cStride[k];
      if (idx[k] < shape[k]) break;
      c -= cStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Parse .npy bytes. `where` (usually the file path) prefixes error messages. */
export function parseNpy(bytes: Uint8Array, where = "npy"): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${where}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number, hstart: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${where}: truncated .npy header`);
    hlen = dv.getUint32(8, true);
    hstart = 12;
  } else {
    throw new Error(`${where}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (hstart + hlen > bytes.length) throw new Error(`${where}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(hstart, hstart + hlen),
  );
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?)([a-zA-Z]\d+)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) {
    throw new Error(`${where}: malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  const order = descr[1], code = descr[2] as NpyDtype;
  if (!Object.hasOwn(CTORS, code)) {
    throw new Error(
      `${where}: unsupported dtype '${order}${code}' (supported: ${Object.keys(CTORS).join(", ")})`,
    );
  }
  const shape = shapeM[1].split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${where}: malformed shape (${shapeM[1]})`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const ctor = CTORS[code];
  const size = ctor.BYTES_PER_ELEMENT;
  const start = hstart + hlen;
  if (bytes.length - start < n * size) {
    throw new Error(
      `${where}: data has ${bytes.length - start} bytes, expected ${n * size} for shape (${
        shape.join(", ")
      }) of ${order}${code}`,
    );
  }
  const copy = bytes.slice(start, start + n * size);
  const fileLE = order === ">" ? false : order === "=" ? HOST_LE : true;
  if (size > 1 && fileLE !== HOST_LE) {
    for (let i = 0; i < copy.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = copy[a];
        copy[a] = copy[b];
        copy[b] = t;
      }
    }
  }
  let data = new (ctor as unknown as { new (b: ArrayBuffer, o: number, n: number): NpyData })(
    copy.buffer,
    0,
    n,
  );
  if (code === "b1") {
    for (let i = 0; i < n; i++) if (data[i] > 1) data[i] = 1;
  }
  const fortranOrder = fortran[1] === "True";
  if (fortranOrder) data = fortranToC(data, shape);
  return { dtype: code, shape, data, fortranOrder };
}

/** Read a .npy file. */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readFileOr(path, "file not found"), path);
}

/** Options of {@link encodeNpy}. */
export interface EncodeNpyOptions {
  /** Format version (1, 2 or 3); default 1. */
  readonly version?: 1 | 2 | 3;
  /** Store in Fortran order (the input data is C order either way). Default false. */
  readonly fortranOrder?: boolean;
  /** Byte order of the stored data; default little-endian. */
  readonly bigEndian?: boolean;
}

/** Encode a C-order array as .npy bytes. `data` must match the dtype's typed array. */
export function encodeNpy(
  arr: { dtype: NpyDtype; shape: readonly number[]; data: NpyData },
  opts: EncodeNpyOptions = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const { dtype, shape } = arr;
  const ctor = CTORS[dtype];
  if (!ctor) throw new Error(`encodeNpy: unsupported dtype '${dtype}'`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== n) {
    throw new Error(`encodeNpy: ${arr.data.length} values, expected ${n} for shape (${shape})`);
  }
  let data = arr.data;
  if (data.constructor !== (ctor as unknown)) {
    throw new Error(
      `encodeNpy: dtype '${dtype}' needs a ${ctor.name}, got ${data.constructor.name}`,
    );
  }
  if (opts.fortranOrder && shape.length >= 2) {
    // inverse of fortranToC: C -> Fortran is Fortran->C on the reversed shape
    data = fortranToC(data, [...shape].reverse());
  }
  const size = ctor.BYTES_PER_ELEMENT;
  const order = size === 1 ? "|" : opts.bigEndian ? ">" : "<";
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${order}${dtype}', 'fortran_order': ${
    opts.fortranOrder ? "True" : "False"
  }, 'shape': ${shapeStr}, }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, " ") + "\n";
  const head = new TextEncoder().encode(dict);
  const out = new Uint8Array(pre + head.length + n * size);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, head.length, true);
  else dv.setUint32(8, head.length, true);
  out.set(head, pre);
  const raw = new Uint8Array(data.buffer, data.byteOffset, n * size);
  const body = out.subarray(pre + head.length);
  body.set(raw);
  if (size > 1 && (opts.bigEndian ?? false) === HOST_LE) {
    for (let i = 0; i < body.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = body[a];
        body[a] = body[b];
        body[b] = t;
      }
    }
  }
  return out;
}

/** Write a C-order array to a .npy file (see {@link encodeNpy}). */
export async function writeNpy(
  path: string,
  arr: { dtype: NpyDtype; shape: readonly number[]; data: NpyData },
  opts: EncodeNpyOptions = {},
): Promise<void> {
  await Deno.writeFile(path, encodeNpy(arr, opts));
}

/** A 2-D .npy array as a Float32 dense matrix; `where` names the file in errors. */
export function npyToDense(arr: NpyArray, where = "npy"): DenseMatrix {
  if (arr.shape.length !== 2) {
    throw new Error(
      `${where}: array has shape (${arr.shape.join(", ")}); expected a 2-D matrix (n, d)`,
    );
  }
  const [rows, cols] = arr.shape;
  const d = arr.data;
  const out = new Float32Array(rows * cols);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < out.length; i++) out[i] = Number(d[i]);
  } else out.set(d);
  return { kind: "dense", rows, cols, data: out };
}

/** A 2-D 0/1 .npy array as a label matrix (other values throw). */
export function npyToLabels(arr: NpyArray, where = "npy"): LabelMatrix {
  if (arr.shape.length !== 2) {
    throw new Error(`${where}: array has shape (${arr.shape.join(", ")}); expected (n, classes)`);
  }
  const [rows, classes] = arr.shape;
  const out = new Uint8Array(rows * classes);
  for (let i = 0; i < out.length; i++) {
    const v = Number(arr.data[i]);
    if (v !== 0 && v !== 1) {
      throw new Error(
        `${where}: value ${v} at row ${Math.floor(i / classes)}, column ${
          i % classes
        }; expected 0/1 labels`,
      );
    }
    out[i] = v;
  }
  return { rows, classes, data: out };
}
