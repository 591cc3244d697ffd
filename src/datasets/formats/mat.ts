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
import type { NumericArray } from "../../types.ts";
import {
  decodeMatrix,
  fail,
  type MatrixHeader,
  MI_COMPRESSED,
  MI_MATRIX,
  parseMatrixHeader,
  readTag,
  unsupportedReason,
} from "./mat_elements.ts";

export { CLASS_CTOR, convertArray, isNumericClass } from "./mat_elements.ts";
export {
  dimsString,
  matrixDims,
  matToCsr,
  matToDense,
  matToLabels,
  matToMatrix,
  matValues,
} from "./mat_convert.ts";

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
export type MatTypedArray = NumericArray;

/** Header of a variable, available without decoding its data. */
export interface MatVariableInfo {
  /** Variable name. */
  readonly name: string;
  /** MATLAB class (double, single, int8, ..., sparse, char, cell, struct). */
  readonly class: MatClass;
  /** MATLAB dimensions (rows, cols, ...). */
  readonly dims: readonly number[];
  /** Whether the array is complex (not decoded by this reader). */
  readonly complex: boolean;
  /** Whether it is a MATLAB `logical` array. */
  readonly logical: boolean;
  /** Whether the element was stored compressed (always false for v7.3 files). */
  readonly compressed: boolean;
}

/** A dense numeric (or logical) array, values in MATLAB column-major order. */
export interface MatNumericVariable {
  /** Discriminant: a dense numeric array. */
  readonly type: "numeric";
  /** Variable name. */
  readonly name: string;
  /** MATLAB numeric class (double, single, int8, ...). */
  readonly class: MatNumericClass;
  /** True for MATLAB `logical` arrays (class uint8). */
  readonly logical: boolean;
  /** MATLAB dimensions (rows, cols, ...). */
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
  /** Discriminant: a sparse array. */
  readonly type: "sparse";
  /** Variable name. */
  readonly name: string;
  /** MATLAB class: always sparse. */
  readonly class: "sparse";
  /** Whether it is a logical sparse array. */
  readonly logical: boolean;
  /** Dimensions (rows, cols). */
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
  /** Discriminant: a char array. */
  readonly type: "char";
  /** Variable name. */
  readonly name: string;
  /** MATLAB class: always char. */
  readonly class: "char";
  /** MATLAB dimensions (rows, cols, ...). */
  readonly dims: readonly number[];
  /** One string per row of the char array. */
  readonly rows: readonly string[];
}

/** A variable this reader does not decode (complex, cell, struct, object, ...). */
export interface MatUnsupportedVariable {
  /** Discriminant: not decoded. */
  readonly type: "unsupported";
  /** Variable name. */
  readonly name: string;
  /** MATLAB class. */
  readonly class: MatClass;
  /** MATLAB dimensions (rows, cols, ...). */
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
