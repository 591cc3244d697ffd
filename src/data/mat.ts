/**
 * Reader for MATLAB 5.0 MAT-files (the "-v5/-v6/-v7" format), written from MathWorks'
 * published MAT-file format description.
 *
 * File layout: a 128-byte header (116 bytes of text, 8 bytes subsystem-data offset, a 2-byte
 * version 0x0100 and the 2-byte endian indicator "MI"; reading "IM" means the file is
 * little-endian), then a sequence of data elements. Each element has an 8-byte tag
 * (uint32 type, uint32 byte count) or, for payloads of at most 4 bytes, the 4-byte "small
 * data element" tag (byte count in the upper 16 bits, type in the lower 16) with the payload
 * in the following 4 bytes. Payloads are padded to 8 bytes, except top-level miCOMPRESSED
 * elements, whose payload is one zlib stream holding one complete element.
 *
 * A variable is an miMATRIX element whose sub-elements are: array flags (class, complex /
 * global / logical bits, nzmax), dimensions (int32), name (int8), then the data: the real
 * part (numeric classes; stored in any miTYPE, converted to the class's type), or for sparse
 * arrays the row indices `ir`, column pointers `jc` and values `pr`. Logical sparse arrays
 * may have no `pr` (all stored values are true). Complex arrays, cells, structs and objects
 * are not supported: requesting one throws a clear error; reading a whole file reports them
 * as {@link MatUnsupportedVariable} entries without decoding them.
 *
 * Data stays in MATLAB column-major order inside {@link MatVariable}; the helpers
 * {@link matToDense}, {@link matToCsr}, {@link matToLabels} produce the row-major types of
 * `src/types.ts`.
 *
 * Only requested variables are decompressed in full; others are skipped after reading their
 * header (for compressed elements, a partial inflate of the first bytes recovers the name).
 *
 * @module
 */
import { constants as zconst, inflateSync } from "node:zlib";
import type { CsrMatrix, DenseMatrix, LabelMatrix, Matrix } from "../types.ts";
import { columnMajorToDense, cscToCsr } from "./matrix.ts";

/** MATLAB numeric array classes. */
export type MatNumericClass =
  | "double"
  | "single"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64";

/** All MATLAB array classes this reader can name. */
export type MatClass =
  | MatNumericClass
  | "cell"
  | "struct"
  | "object"
  | "char"
  | "sparse"
  | "function"
  | "opaque"
  | "unknown";

/** Typed arrays holding numeric variables' values. */
export type MatTypedArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Header of a variable, available without decoding its data. */
export interface MatVariableInfo {
  readonly name: string;
  readonly class: MatClass;
  /** MATLAB dimensions (rows, cols, ...). */
  readonly dims: readonly number[];
  readonly complex: boolean;
  readonly logical: boolean;
  /** Whether the element was stored compressed (always false for v7.3 files). */
  readonly compressed: boolean;
}

/** A dense numeric (or logical) array, values in MATLAB column-major order. */
export interface MatNumericVariable {
  readonly type: "numeric";
  readonly name: string;
  readonly class: MatNumericClass;
  /** True for MATLAB `logical` arrays (class uint8). */
  readonly logical: boolean;
  readonly dims: readonly number[];
  /**
   * prod(dims) values, column-major (first dimension fastest), in the element type the writer
   * stored them in. MATLAB stores integer-valued doubles in the smallest integer type that
   * holds them (e.g. a 0/1 `double` matrix as uint8), so `data` may be narrower than `class`;
   * its values are exactly the variable's values. Use {@link matValues} for a Float64Array.
   */
  readonly data: MatTypedArray;
}

/** A 2-D sparse array in MATLAB's compressed-sparse-column form. */
export interface MatSparseVariable {
  readonly type: "sparse";
  readonly name: string;
  readonly class: "sparse";
  readonly logical: boolean;
  readonly dims: readonly [number, number];
  /** Row index of each stored value (length nnz). */
  readonly ir: Int32Array;
  /** Column pointers (length cols + 1); jc[cols] = nnz. */
  readonly jc: Int32Array;
  /** Stored values (length nnz), or null for logical sparse arrays stored without values. */
  readonly values: Float64Array | null;
}

/** A char array; each row of the MATLAB array becomes one string. */
export interface MatCharVariable {
  readonly type: "char";
  readonly name: string;
  readonly class: "char";
  readonly dims: readonly number[];
  readonly rows: readonly string[];
}

/** A variable this reader does not decode (complex, cell, struct, object, ...). */
export interface MatUnsupportedVariable {
  readonly type: "unsupported";
  readonly name: string;
  readonly class: MatClass;
  readonly dims: readonly number[];
  /** Why it was not decoded. */
  readonly reason: string;
}

/** A variable read from a MAT-file. */
export type MatVariable =
  | MatNumericVariable
  | MatSparseVariable
  | MatCharVariable
  | MatUnsupportedVariable;

/** Options of {@link readMat}. */
export interface ReadMatOptions {
  /**
   * Variables to read. Each must exist and be supported, else readMat throws. Other variables
   * are skipped without decoding. Default: all variables (unsupported ones are returned as
   * {@link MatUnsupportedVariable} entries instead of throwing).
   */
  readonly variables?: readonly string[];
}

// miTYPE codes
const MI_INT8 = 1,
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

type AnyCtor =
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

const MI_CTOR: Record<number, AnyCtor> = {
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

const MX_CLASS: Record<number, MatClass> = {
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

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
function fail(path: string, msg: string): never {
  throw new Error(`${path}: ${msg}`);
}

interface Tag {
  type: number;
  nbytes: number;
  /** Offset of the payload. */
  data: number;
  /** Offset of the next element (padding included). */
  next: number;
}

/** Parse a tag at `pos` (handles the small data element format). Null if `end` is too close. */
function readTag(dv: DataView, pos: number, end: number, le: boolean): Tag | null {
  if (pos + 8 > end) return null;
  const w = dv.getUint32(pos, le);
  if (w >>> 16 !== 0) {
    return { type: w & 0xffff, nbytes: w >>> 16, data: pos + 4, next: pos + 8 };
  }
  const nbytes = dv.getUint32(pos + 4, le);
  return { type: w, nbytes, data: pos + 8, next: pos + 8 + ((nbytes + 7) & ~7) };
}

/** Decode a numeric payload into its own typed array (a copy; byte-swapped if needed). */
function decodePayload(
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

interface MatrixHeader {
  info: MatVariableInfo;
  nzmax: number;
  /** Offset just after the name sub-element. */
  body: number;
}

/**
 * Parse the array flags, dimensions and name of an miMATRIX payload [start, end).
 * Returns null if the bytes end before the name is complete (caller reads more).
 */
function parseMatrixHeader(
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

function unsupportedReason(info: MatVariableInfo): string | null {
  if (info.complex) return "complex arrays are not supported (real data expected)";
  if (info.class === "sparse" || info.class === "char" || isNumericClass(info.class)) return null;
  return `class '${info.class}' is not supported (numeric, logical, sparse or char expected)`;
}

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Decode the data sub-elements of a supported miMATRIX payload. */
function decodeMatrix(
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
  if (n === 0) {
    return {
      type: "numeric",
      name,
      class: cls,
      logical: info.logical,
      dims: info.dims,
      data: new CLASS_CTOR[cls](0),
    };
  }
  const t = next(h.body, "real part");
  const raw = decodePayload(bytes, t, le, path, name);
  if (raw.length !== n) {
    fail(path, `variable '${name}' has ${raw.length} values, expected ${info.dims.join("x")}=${n}`);
  }
  return {
    type: "numeric",
    name,
    class: cls,
    logical: info.logical,
    dims: info.dims,
    data: raw,
  };
}

/** Sequential random-access reads of a file. */
class FileBytes {
  constructor(readonly file: Deno.FsFile, readonly size: number, readonly path: string) {}

  async read(pos: number, len: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(len, this.size - pos));
    const out = new Uint8Array(n);
    await this.file.seek(pos, Deno.SeekMode.Start);
    let got = 0;
    while (got < n) {
      const k = await this.file.read(out.subarray(got));
      if (k === null) break;
      got += k;
    }
    if (got < n) fail(this.path, `unexpected end of file at byte ${pos + got}`);
    return out;
  }
}

interface Header {
  text: string;
  littleEndian: boolean;
}

/** Parse and check the 128-byte header; throws if this is not a MAT v5 file. */
function parseHeader(head: Uint8Array, path: string): Header {
  const text = new TextDecoder("latin1").decode(head.subarray(0, Math.min(116, head.length)));
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44) {
    fail(path, "is an HDF5 file (MAT v7.3?); use readMat73 / loadMat, not the MAT v5 reader");
  }
  if (text.startsWith("MATLAB 7.3")) {
    fail(path, "is a MAT v7.3 (HDF5) file; use readMat73 / loadMat, not the MAT v5 reader");
  }
  if (head.length < 128) fail(path, `too short for a MAT-file (${head.length} bytes)`);
  const e0 = String.fromCharCode(head[126]), e1 = String.fromCharCode(head[127]);
  let le: boolean;
  if (e0 === "I" && e1 === "M") le = true;
  else if (e0 === "M" && e1 === "I") le = false;
  else {
    fail(
      path,
      `not a MATLAB 5.0 MAT-file (endian indicator '${e0}${e1}', expected 'IM' or 'MI')`,
    );
  }
  const version = new DataView(head.buffer, head.byteOffset).getUint16(124, le);
  if (version !== 0x0100) {
    fail(path, `unsupported MAT-file version 0x${version.toString(16)} (expected 0x0100)`);
  }
  return { text: text.replace(/[\s\0]+$/, ""), littleEndian: le };
}

interface ElementVisit {
  info: MatVariableInfo;
  /** Decode the whole variable. */
  decode(): Promise<MatVariable>;
}

/** Walk the top-level elements, giving each variable's header and a lazy decoder. */
async function walk(
  path: string,
  visit: (e: ElementVisit) => Promise<boolean | void>,
): Promise<Header> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) fail(path, "file not found");
    throw e;
  }
  try {
    const size = (await file.stat()).size;
    const fb = new FileBytes(file, size, path);
    const header = parseHeader(await fb.read(0, Math.min(128, size)), path);
    const le = header.littleEndian;
    let pos = 128;
    while (pos + 8 <= size) {
      const tagBytes = await fb.read(pos, 8);
      const tag = readTag(new DataView(tagBytes.buffer), 0, 8, le)!;
      const start = pos;
      if (tag.type === MI_COMPRESSED) {
        const nbytes = tag.nbytes;
        if (start + 8 + nbytes > size) {
          fail(path, `compressed element at byte ${start} is truncated`);
        }
        pos = start + 8 + nbytes;
        let h: MatrixHeader | null = null;
        let isMatrix = true;
        for (let want = 256;; want *= 8) {
          const len = Math.min(want, nbytes);
          const inner = inflate(await fb.read(start + 8, len), len < nbytes, path, start);
          const idv = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
          const it = readTag(idv, 0, inner.length, le);
          if (it && (it.type !== MI_MATRIX || it.nbytes === 0)) {
            isMatrix = false; // not a variable (or an empty one): skip
            break;
          }
          if (it) {
            h = parseMatrixHeader(
              inner,
              it.data,
              it.data + it.nbytes,
              inner.length,
              le,
              true,
              path,
            );
          }
          if (h || len === nbytes) break;
        }
        if (!isMatrix) continue;
        if (!h) fail(path, `malformed compressed variable header at byte ${start}`);
        const hdr = h;
        const stop = await visit({
          info: hdr.info,
          decode: async () => {
            const all = inflate(await fb.read(start + 8, nbytes), false, path, start);
            const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
            const it = readTag(dv, 0, all.length, le)!;
            if (it.data + it.nbytes > all.length) {
              fail(path, `variable '${hdr.info.name}' is truncated inside its compressed element`);
            }
            return decodeMatrix(all, hdr, it.data + it.nbytes, le, path);
          },
        });
        if (stop) break;
      } else if (tag.type === MI_MATRIX) {
        pos = start + tag.next;
        if (start + 8 + tag.nbytes > size) fail(path, `element at byte ${start} is truncated`);
        if (tag.nbytes === 0) continue;
        let h: MatrixHeader | null = null;
        for (let want = 512;; want *= 8) {
          const len = Math.min(want, tag.nbytes);
          const buf = await fb.read(start + 8, len);
          h = parseMatrixHeader(buf, 0, tag.nbytes, len, le, false, path);
          if (h || len === tag.nbytes) break;
        }
        if (!h) fail(path, `malformed variable header at byte ${start}`);
        const hdr = h;
        const stop = await visit({
          info: hdr.info,
          decode: async () => {
            const buf = await fb.read(start + 8, tag.nbytes);
            return decodeMatrix(buf, hdr, tag.nbytes, le, path);
          },
        });
        if (stop) break;
      } else {
        pos = start + tag.next; // other top-level elements carry no variables
      }
    }
    return header;
  } finally {
    file.close();
  }
}

function inflate(comp: Uint8Array, partial: boolean, path: string, at: number): Uint8Array {
  try {
    const out = partial
      ? inflateSync(comp, { finishFlush: zconst.Z_SYNC_FLUSH })
      : inflateSync(comp);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    fail(path, `corrupt compressed element at byte ${at}: ${(e as Error).message}`);
  }
}

/**
 * List the variables of a MAT v5 file (name, class, dims, flags) without decoding their data.
 * Cheap even for large files: compressed elements are only partly inflated.
 */
export async function inspectMat(path: string): Promise<MatVariableInfo[]> {
  const out: MatVariableInfo[] = [];
  await walk(path, (e) => {
    if (e.info.name !== "") out.push(e.info);
    return Promise.resolve();
  });
  return out;
}

/**
 * Read variables of a MAT v5 file into a Map name -> {@link MatVariable}.
 *
 * With `variables`, only those are decoded; a missing or unsupported one throws a one-line
 * error naming the file and variable. Without it, every named variable is returned
 * (unsupported ones as `type: "unsupported"` entries).
 */
export async function readMat(
  path: string,
  opts: ReadMatOptions = {},
): Promise<Map<string, MatVariable>> {
  const wanted = opts.variables ? new Set(opts.variables) : null;
  const out = new Map<string, MatVariable>();
  const seen: string[] = [];
  await walk(path, async (e) => {
    const info = e.info;
    if (info.name === "") return;
    seen.push(info.name);
    if (wanted && !wanted.has(info.name)) return;
    const reason = unsupportedReason(info);
    if (reason) {
      if (wanted) fail(path, `variable '${info.name}': ${reason}`);
      out.set(info.name, {
        type: "unsupported",
        name: info.name,
        class: info.class,
        dims: info.dims,
        reason,
      });
    } else {
      out.set(info.name, await e.decode());
    }
    if (wanted && out.size === wanted.size) return true;
  });
  if (wanted) {
    for (const v of wanted) {
      if (!out.has(v)) {
        fail(
          path,
          `variable '${v}' not found (file has: ${seen.length ? seen.join(", ") : "no variables"})`,
        );
      }
    }
  }
  return out;
}

/** MATLAB-style size string, e.g. "2173x128". */
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
