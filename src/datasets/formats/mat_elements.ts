/**
 * The data elements of a MAT v5 file (src/datasets/formats/mat.ts): tags, payload decoding into
 * typed arrays, the array-flags / dimensions / name header of a matrix, and the decoding of a
 * whole numeric, logical, char or sparse matrix.
 *
 * @module
 */
import type { MatClass, MatNumericClass, MatTypedArray } from "./mat.ts";
import type { MatVariable, MatVariableInfo } from "./mat.ts";

// miTYPE codes
export const MI_INT8 = 1,
  MI_UINT8 = 2,
  MI_INT16 = 3,
  MI_UINT16 = 4,
  MI_INT32 = 5,
  MI_UINT32 = 6,
  MI_SINGLE = 7,
  MI_DOUBLE = 9,
  MI_INT64 = 12,
  MI_UINT64 = 13,
  MI_MATRIX = 14,
  MI_COMPRESSED = 15,
  MI_UTF8 = 16,
  MI_UTF16 = 17,
  MI_UTF32 = 18;

export type AnyCtor =
  | Float64ArrayConstructor
  | Float32ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export const MI_CTOR: Record<number, AnyCtor> = {
  [MI_INT8]: Int8Array,
  [MI_UINT8]: Uint8Array,
  [MI_INT16]: Int16Array,
  [MI_UINT16]: Uint16Array,
  [MI_INT32]: Int32Array,
  [MI_UINT32]: Uint32Array,
  [MI_SINGLE]: Float32Array,
  [MI_DOUBLE]: Float64Array,
  [MI_INT64]: BigInt64Array,
  [MI_UINT64]: BigUint64Array,
  [MI_UTF8]: Uint8Array,
  [MI_UTF16]: Uint16Array,
  [MI_UTF32]: Uint32Array,
};

export const MX_CLASS: Record<number, MatClass> = {
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
  16: "function",
  17: "opaque",
};

/** Typed-array constructor of each numeric class. */
export const CLASS_CTOR: Readonly<Record<MatNumericClass, AnyCtor>> = {
  double: Float64Array,
  single: Float32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
};

export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether a class name is one of the numeric classes. */
export function isNumericClass(c: string): c is MatNumericClass {
  return Object.hasOwn(CLASS_CTOR, c);
}

/** Convert a typed array to another element type by value (bigint <-> number handled). */
export function convertArray(src: MatTypedArray, ctor: AnyCtor): MatTypedArray {
  if (src.constructor === ctor) return src;
  const srcBig = src instanceof BigInt64Array || src instanceof BigUint64Array;
  const dstBig = ctor === BigInt64Array || ctor === BigUint64Array;
  if (dstBig) {
    const out = new (ctor as BigInt64ArrayConstructor)(src.length);
    for (let i = 0; i < src.length; i++) out[i] = BigInt(src[i] as number | bigint);
    return out;
  }
  if (srcBig) {
    const out = new (ctor as Float64ArrayConstructor)(src.length);
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
    return out;
  }
  return new (ctor as Float64ArrayConstructor)(src as Float64Array);
}

/** A malformed-file error with the file name in front. */
export function fail(path: string, msg: string): never {
  throw new Error(`${path}: ${msg}`);
}

export interface Tag {
  type: number;
  nbytes: number;
  /** Offset of the payload. */
  data: number;
  /** Offset of the next element (padding included). */
  next: number;
}

/** Parse a tag at `pos` (handles the small data element format). Null if `end` is too close. */
export function readTag(dv: DataView, pos: number, end: number, le: boolean): Tag | null {
  if (pos + 8 > end) return null;
  const w = dv.getUint32(pos, le);
  if (w >>> 16 !== 0) {
    return { type: w & 0xffff, nbytes: w >>> 16, data: pos + 4, next: pos + 8 };
  }
  const nbytes = dv.getUint32(pos + 4, le);
  return { type: w, nbytes, data: pos + 8, next: pos + 8 + ((nbytes + 7) & ~7) };
}

/** Decode a numeric payload into its own typed array (a copy; byte-swapped if needed). */
export function decodePayload(
  bytes: Uint8Array,
  tag: Tag,
  le: boolean,
  path: string,
  name: string,
): MatTypedArray {
  const ctor = MI_CTOR[tag.type];
  if (!ctor) fail(path, `variable '${name}' has data of unsupported storage type ${tag.type}`);
  const size = ctor.BYTES_PER_ELEMENT;
  if (tag.nbytes % size !== 0) {
    fail(path, `variable '${name}' has ${tag.nbytes} data bytes, not a multiple of ${size}`);
  }
  const begin = tag.data;
  if (begin + tag.nbytes > bytes.length) {
    fail(path, `variable '${name}' is truncated (data runs past the end of its element)`);
  }
  const copy = bytes.slice(begin, begin + tag.nbytes);
  if (le !== HOST_LE && size > 1) {
    for (let i = 0; i < copy.length; i += size) {
      for (let a = i, b = i + size - 1; a < b; a++, b--) {
        const t = copy[a];
        copy[a] = copy[b];
        copy[b] = t;
      }
    }
  }
  return new ctor(copy.buffer, 0, tag.nbytes / size);
}

export interface MatrixHeader {
  info: MatVariableInfo;
  nzmax: number;
  /** Offset just after the name sub-element. */
  body: number;
}

/**
 * Parse the array flags, dimensions and name of an miMATRIX payload [start, end).
 * Returns null if the bytes end before the name is complete (caller reads more).
 */
export function parseMatrixHeader(
  bytes: Uint8Array,
  start: number,
  end: number,
  avail: number,
  le: boolean,
  compressed: boolean,
  path: string,
): MatrixHeader | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lim = Math.min(end, avail);
  const flagsTag = readTag(dv, start, lim, le);
  if (!flagsTag) return null;
  if (flagsTag.type !== MI_UINT32 || flagsTag.nbytes !== 8) {
    fail(
      path,
      `malformed array flags at byte ${start} (type ${flagsTag.type}, ${flagsTag.nbytes} bytes)`,
    );
  }
  if (flagsTag.next > lim) return null;
  const w0 = dv.getUint32(flagsTag.data, le);
  const nzmax = dv.getUint32(flagsTag.data + 4, le);
  const cls = MX_CLASS[w0 & 0xff] ?? "unknown";
  const flags = (w0 >>> 8) & 0xff;
  const dimsTag = readTag(dv, flagsTag.next, lim, le);
  if (!dimsTag) return null;
  if (dimsTag.type !== MI_INT32 || dimsTag.nbytes % 4 !== 0) {
    fail(path, `malformed dimensions array (type ${dimsTag.type}, ${dimsTag.nbytes} bytes)`);
  }
  if (dimsTag.next > lim) return null;
  const dims: number[] = [];
  for (let i = 0; i < dimsTag.nbytes / 4; i++) dims.push(dv.getInt32(dimsTag.data + 4 * i, le));
  const nameTag = readTag(dv, dimsTag.next, lim, le);
  if (!nameTag) return null;
  if (nameTag.data + nameTag.nbytes > lim) return null;
  if (nameTag.type !== MI_INT8 && nameTag.type !== MI_UINT8) {
    fail(path, `malformed array name (type ${nameTag.type})`);
  }
  const name = new TextDecoder().decode(
    bytes.subarray(nameTag.data, nameTag.data + nameTag.nbytes),
  );
  return {
    info: {
      name,
      class: cls,
      dims,
      complex: (flags & 0x08) !== 0,
      logical: (flags & 0x02) !== 0,
      compressed,
    },
    nzmax,
    body: nameTag.next,
  };
}

export function unsupportedReason(info: MatVariableInfo): string | null {
  if (info.complex) return "complex arrays are not supported (real data expected)";
  if (info.class === "sparse" || info.class === "char" || isNumericClass(info.class)) return null;
  return `class '${info.class}' is not supported (numeric, logical, sparse or char expected)`;
}

export function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Decode the data sub-elements of a supported miMATRIX payload. */
export function decodeMatrix(
  bytes: Uint8Array,
  h: MatrixHeader,
  end: number,
  le: boolean,
  path: string,
): MatVariable {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { info } = h;
  const name = info.name;
  const next = (pos: number, what: string): Tag => {
    const t = readTag(dv, pos, end, le);
    if (!t || t.data + t.nbytes > end) fail(path, `variable '${name}' is missing its ${what}`);
    return t;
  };
  const n = prod(info.dims);
  if (info.class === "sparse") {
    if (info.dims.length !== 2) fail(path, `sparse variable '${name}' is not 2-D`);
    const [rows, cols] = info.dims;
    const irTag = next(h.body, "row indices (ir)");
    const jcTag = next(irTag.next, "column pointers (jc)");
    const ir = convertArray(decodePayload(bytes, irTag, le, path, name), Int32Array) as Int32Array;
    const jc = convertArray(decodePayload(bytes, jcTag, le, path, name), Int32Array) as Int32Array;
    if (jc.length !== cols + 1) {
      fail(
        path,
        `sparse variable '${name}' has ${jc.length} column pointers, expected ${cols + 1}`,
      );
    }
    const nnz = jc[cols];
    if (nnz > ir.length || nnz < 0) {
      fail(path, `sparse variable '${name}' has nnz=${nnz} but ${ir.length} row indices`);
    }
    const prTag = readTag(dv, jcTag.next, end, le);
    let values: Float64Array | null = null;
    if (prTag && prTag.data + prTag.nbytes <= end && prTag.nbytes > 0) {
      const pr = convertArray(decodePayload(bytes, prTag, le, path, name), Float64Array);
      if (pr.length < nnz) {
        fail(path, `sparse variable '${name}' has ${pr.length} values, expected ${nnz}`);
      }
      values = (pr as Float64Array).slice(0, nnz);
    } else if (!info.logical && nnz > 0) {
      fail(path, `sparse variable '${name}' is missing its values (pr)`);
    }
    return {
      type: "sparse",
      name,
      class: "sparse",
      logical: info.logical,
      dims: [rows, cols],
      ir: ir.slice(0, nnz),
      jc,
      values,
    };
  }
  if (info.class === "char") {
    const t = next(h.body, "character data");
    let codes: ArrayLike<number>;
    if (t.type === MI_UTF8) {
      const s = new TextDecoder().decode(bytes.subarray(t.data, t.data + t.nbytes));
      codes = Array.from(s, (ch) => ch.codePointAt(0)!);
    } else {
      codes = decodePayload(bytes, t, le, path, name) as ArrayLike<number>;
    }
    if (codes.length !== n) {
      fail(path, `char variable '${name}' has ${codes.length} characters, expected ${n}`);
    }
    const r = info.dims[0] ?? 0;
    const c = r === 0 ? 0 : n / r;
    const rows: string[] = [];
    for (let i = 0; i < r; i++) {
      let s = "";
      for (let j = 0; j < c; j++) s += String.fromCodePoint(codes[i + j * r]);
      rows.push(s);
    }
    return { type: "char", name, class: "char", dims: info.dims, rows };
  }
  const cls = info.class as MatNumericClass;
  let data: MatTypedArray;
  if (n === 0) data = new CLASS_CTOR[cls](0);
  else {
    data = decodePayload(bytes, next(h.body, "real part"), le, path, name);
    if (data.length !== n) {
      fail(
        path,
        `variable '${name}' has ${data.length} values, expected ${info.dims.join("x")}=${n}`,
      );
    }
  }
  return { type: "numeric", name, class: cls, logical: info.logical, dims: info.dims, data };
}
