/**
 * A user's own data as a dataset: a folder of NumPy arrays, named `npy:<folder name>`.
 *
 * Files (row i of each is the same image-text pair):
 * - `image.npy` — n x d_image image features (any numeric dtype; finite);
 * - `text.npy` — n x d_text text features (float, or 0/1 bag-of-words), or instead `text.npz`,
 *   a SciPy sparse CSR matrix written by `scipy.sparse.save_npz` (compressed or not);
 * - `labels.npy` — n x c labels, 0/1 (bool or any integer dtype); every row needs a label;
 * - `label_names.txt` (optional) — c lines, the label names (default "class0", "class1", ...);
 * - `split.json` (optional) — the evaluation split:
 *   `{"query": [rows], "database": [rows], "train": [rows]}` (indices of rows; `database`
 *   defaults to every other row, `train`, a subset of the database, to the whole database),
 *   used as the dataset's fixed split; or `{"query": Q, "train": T}` (numbers), the sizes of the default
 *   seeded split; without the file the default seeded split is used (query = n / 6, train =
 *   the rest).
 *
 * The dataset's provenance records the folder's name and each file's size and SHA-256, never
 * the path of the machine that read it. Every problem is one line naming the file and what was
 * expected.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { npyToLabels, parseNpy } from "./formats/npy.ts";
import type { NpyArray } from "./formats/npy.ts";
import { readZipEntries } from "./formats/zip.ts";
import { assertFinite, assertLabelled, validateCsr } from "./matrix.ts";
import { readFileOr } from "../io.ts";
import type { CrossModalDataset, CsrMatrix, DenseMatrix, Matrix } from "../types.ts";

/** Prefix of the dataset names of user folders: `npy:<folder name>`. */
export const NPY_DATASET_PREFIX = "npy:";

/** Whether a dataset name (or `--dataset` value) names a folder of arrays (`npy:...`). */
export function isNpyDataset(name: string): boolean {
  return name.startsWith(NPY_DATASET_PREFIX);
}

/**
 * `npy:DIR` split into the dataset's name (`npy:<last component of DIR>`) and the folder's
 * absolute path (DIR resolved against the current directory).
 *
 * @throws a one-line error when `value` is not `npy:` followed by a folder path.
 */
export function parseNpyDataset(value: string): { name: string; dir: string } {
  const dir = value.slice(NPY_DATASET_PREFIX.length).replace(/\/+$/, "");
  if (!isNpyDataset(value) || dir === "") {
    throw new Error(`'${value}' is not npy:DIR (a folder holding image.npy, text.npy, labels.npy)`);
  }
  const abs = resolve(dir);
  return { name: `${NPY_DATASET_PREFIX}${basename(abs)}`, dir: abs };
}

/** Options of {@link loadNpyDataset}. */
export interface NpyDatasetOptions {
  /** Text-side representation: "dense" (default) or "csr" (sparse). */
  readonly textFormat?: "dense" | "csr";
  /** Put SHA-256 checksums of the files in the provenance (default true). */
  readonly checksums?: boolean;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const h = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function bigToNumber(a: NpyArray): ArrayLike<number> {
  const d = a.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, Number);
  return d as ArrayLike<number>;
}

/** A 2-D numeric array as a dense Float32 matrix; `where` names the file. */
function denseOf(a: NpyArray, where: string, what: string): DenseMatrix {
  if (a.shape.length !== 2) {
    throw new Error(`${where}: array has shape (${a.shape.join(", ")}); expected ${what}`);
  }
  const [rows, cols] = a.shape;
  const m: DenseMatrix = {
    kind: "dense",
    rows,
    cols,
    data: Float32Array.from(bigToNumber(a)),
  };
  assertFinite(m, where);
  return m;
}

/** The CSR matrix of a `scipy.sparse.save_npz` file (format csr). */
async function readSparseText(path: string, bytes: Uint8Array): Promise<CsrMatrix> {
  const entries = await readZipEntries(bytes, path);
  const get = (name: string) => {
    const e = entries.get(`${name}.npy`);
    if (!e) {
      throw new Error(
        `${path}: no '${name}.npy' inside; expected a SciPy CSR matrix (scipy.sparse.save_npz)`,
      );
    }
    return parseNpy(e, `${path}: ${name}.npy`);
  };
  const format = entries.get("format.npy");
  if (format) {
    // a NumPy bytes scalar ('|S3'): the value follows the header
    const v2 = format[6] >= 2;
    const dv = new DataView(format.buffer, format.byteOffset, format.byteLength);
    const start = v2 ? 12 + dv.getUint32(8, true) : 10 + dv.getUint16(8, true);
    const text = new TextDecoder().decode(format.subarray(start)).replace(/\0/g, "");
    if (text !== "csr") {
      throw new Error(
        `${path}: sparse format '${text}'; expected csr (save text.tocsr() with save_npz)`,
      );
    }
  }
  const shape = Array.from(bigToNumber(get("shape")));
  if (shape.length !== 2) throw new Error(`${path}: shape.npy holds ${shape}; expected (n, d)`);
  const m: CsrMatrix = {
    kind: "csr",
    rows: shape[0],
    cols: shape[1],
    indptr: Int32Array.from(bigToNumber(get("indptr"))),
    indices: Int32Array.from(bigToNumber(get("indices"))),
    values: Float32Array.from(bigToNumber(get("data"))),
  };
  validateCsr(m, path);
  assertFinite(m, path);
  return m;
}

function toCsr(m: DenseMatrix): CsrMatrix {
  const indptr = new Int32Array(m.rows + 1);
  const idx: number[] = [], vals: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[r * m.cols + c];
      if (v !== 0) {
        idx.push(c);
        vals.push(v);
      }
    }
    indptr[r + 1] = idx.length;
  }
  return {
    kind: "csr",
    rows: m.rows,
    cols: m.cols,
    indptr,
    indices: Int32Array.from(idx),
    values: Float32Array.from(vals),
  };
}

function toDense(m: CsrMatrix): DenseMatrix {
  const data = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      data[r * m.cols + m.indices[k]] = m.values[k];
    }
  }
  return { kind: "dense", rows: m.rows, cols: m.cols, data };
}

/** What a `split.json` gives: index sets (a fixed split) or the seeded split's sizes. */
export type NpySplitFile =
  | { kind: "indices"; query: Int32Array; database: Int32Array; train?: Int32Array }
  | { kind: "sizes"; query?: number; train?: number };

/**
 * Parse and check a `split.json` text for a dataset of `n` rows; `where` names the file.
 *
 * @throws a one-line error naming the file, the field and what was expected.
 */
export function parseSplitFile(text: string, n: number, where: string): NpySplitFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error(`${where}: not valid JSON; expected {"query": [...], "database": [...]}`);
  }
  if (typeof j !== "object" || j === null || Array.isArray(j)) {
    throw new Error(`${where}: expected a JSON object with query, database and train`);
  }
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["query", "database", "train"].includes(k)) {
      throw new Error(`${where}: unknown field '${k}'; expected query, database, train`);
    }
  }
  if (o.query === undefined || typeof o.query === "number") {
    for (const k of ["query", "train"] as const) {
      if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) >= 1)) {
        throw new Error(`${where}: ${k} must be a positive integer (a size), got ${o[k]}`);
      }
    }
    if (o.database !== undefined) {
      throw new Error(
        `${where}: database is a list of rows and needs query as a list of rows too`,
      );
    }
    return { kind: "sizes", query: o.query as number, train: o.train as number | undefined };
  }
  const rows = (k: string, v: unknown): Int32Array => {
    if (!Array.isArray(v) || v.length === 0) {
      throw new Error(`${where}: ${k} must be a non-empty list of row indices`);
    }
    const seen = new Set<number>();
    for (const x of v) {
      if (!Number.isInteger(x) || x < 0 || x >= n) {
        throw new Error(`${where}: ${k} holds ${x}; expected row indices in [0, ${n})`);
      }
      if (seen.has(x)) throw new Error(`${where}: ${k} holds row ${x} twice`);
      seen.add(x);
    }
    return Int32Array.from(v as number[]).sort();
  };
  const query = rows("query", o.query);
  const q = new Set(query);
  const database = o.database === undefined
    ? Int32Array.from({ length: n }, (_, i) => i).filter((i) => !q.has(i))
    : rows("database", o.database);
  if (database.length === 0) throw new Error(`${where}: the query leaves no database rows`);
  const both = database.find((x) => q.has(x));
  if (both !== undefined) {
    throw new Error(`${where}: row ${both} is in both query and database; expected disjoint sets`);
  }
  if (o.train === undefined) return { kind: "indices", query, database };
  const train = rows("train", o.train);
  const db = new Set(database);
  const outside = train.find((x) => !db.has(x));
  if (outside !== undefined) {
    throw new Error(`${where}: train row ${outside} is not in the database; expected a subset`);
  }
  if (train.length < 2) throw new Error(`${where}: train needs at least 2 rows`);
  return { kind: "indices", query, database, train };
}

/**
 * Load the folder `dir` as the dataset `npy:<folder name>` (see the module documentation).
 *
 * @throws a one-line error naming the file and what was expected.
 */
export async function loadNpyDataset(
  dir: string,
  opts: NpyDatasetOptions = {},
): Promise<CrossModalDataset> {
  const abs = resolve(dir);
  const name = `${NPY_DATASET_PREFIX}${basename(abs)}`;
  try {
    if (!(await Deno.stat(abs)).isDirectory) throw new Error(`${abs}: not a folder`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `${abs}: folder not found (dataset '${name}' needs image.npy, text.npy, labels.npy; ` +
          "give its path as npy:DIR)",
      );
    }
    throw e;
  }
  const records: string[] = [];
  const read = async (file: string, what: string) => {
    const path = `${abs}/${file}`;
    const bytes = await readFileOr(path, `file not found; dataset '${name}' needs it (${what})`);
    records.push(
      `${file} (${bytes.length} bytes${
        opts.checksums === false ? "" : `, sha256 ${await sha256(bytes)}`
      })`,
    );
    return { path, bytes };
  };
  const img = await read("image.npy", "n x d image features");
  const image = denseOf(parseNpy(img.bytes, img.path), img.path, "(n, d_image) image features");
  const sparse = !(await isFile(`${abs}/text.npy`)) && (await isFile(`${abs}/text.npz`));
  let text: Matrix;
  if (sparse) {
    const t = await read("text.npz", "n x d text features, SciPy CSR");
    const csr = await readSparseText(t.path, t.bytes);
    text = opts.textFormat === "csr" ? csr : toDense(csr);
  } else {
    const t = await read("text.npy", "n x d text features; or text.npz, a SciPy CSR matrix");
    const dense = denseOf(parseNpy(t.bytes, t.path), t.path, "(n, d_text) text features");
    text = opts.textFormat === "csr" ? toCsr(dense) : dense;
  }
  const lab = await read("labels.npy", "n x c 0/1 labels");
  const labels = npyToLabels(parseNpy(lab.bytes, lab.path), lab.path);
  assertLabelled(labels, lab.path);
  const n = labels.rows;
  if (image.rows !== n) {
    throw new Error(`${img.path}: ${image.rows} rows; expected ${n} as in labels.npy`);
  }
  if (text.rows !== n) {
    throw new Error(
      `${abs}/${
        sparse ? "text.npz" : "text.npy"
      }: ${text.rows} rows; expected ${n} as in labels.npy`,
    );
  }
  if (n < 3) throw new Error(`${lab.path}: ${n} rows; expected at least 3 pairs`);
  let labelNames = Array.from({ length: labels.classes }, (_, i) => `class${i}`);
  if (await isFile(`${abs}/label_names.txt`)) {
    const t = await read("label_names.txt", "label names");
    const lines = new TextDecoder().decode(t.bytes).split(/\r?\n/).map((s) => s.trim())
      .filter((s) => s !== "");
    if (lines.length !== labels.classes) {
      throw new Error(
        `${t.path}: ${lines.length} label names; expected ${labels.classes} (one per column of labels.npy)`,
      );
    }
    labelNames = lines;
  }
  let split: NpySplitFile | undefined;
  if (await isFile(`${abs}/split.json`)) {
    const s = await read("split.json", "the split");
    split = parseSplitFile(new TextDecoder().decode(s.bytes), n, s.path);
  }
  return {
    name,
    image,
    text,
    labels,
    labelNames,
    provenance: `folder '${basename(abs)}' of NumPy arrays: ${records.join(", ")}`,
    ...(split?.kind === "indices"
      ? {
        splitIndices: {
          query: split.query,
          database: split.database,
          ...(split.train ? { train: split.train } : {}),
        },
      }
      : {}),
    ...(split?.kind === "sizes" && (split.query || split.train)
      ? { splitSizes: { query: split.query, train: split.train } }
      : {}),
  };
}

/**
 * Whether the folder of an `npy:DIR` value holds a `split.json` with index sets (then its
 * default split convention is "fixed"). Reads the file synchronously; false when absent or
 * unreadable (the loader reports problems).
 */
export function hasIndexSplit(dir: string): boolean {
  try {
    const j = JSON.parse(Deno.readTextFileSync(`${dir}/split.json`));
    return Array.isArray(j?.query);
  } catch {
    return false;
  }
}
