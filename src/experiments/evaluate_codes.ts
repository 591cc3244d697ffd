/**
 * Scoring retrieval codes produced anywhere (`deno task evaluate`, src/experiments/evaluate.ts):
 * a folder in the layout that `deno task reproduce --save` writes — `query_image_codes.npy`,
 * `query_text_codes.npy`, `database_image_codes.npy`, `database_text_codes.npy` (n x K codes:
 * int8/float ±1, 0/1 uint8/bool, or real-valued with the sign taken; see
 * src/retrieval/code_arrays.ts), `query_labels.npy` and `database_labels.npy` (n x c, 0/1). Either
 * modality may be absent: a direction is scored when its query and database codes exist. The
 * evaluation records the folder's name and each array's SHA-256, never the machine path, and its
 * `metrics` has the shape of a result file's.
 *
 * @module
 */
import { parseNpy } from "../datasets/formats/npy.ts";
import { npyToLabels } from "../datasets/formats/npy.ts";
import { readFileOr } from "../io.ts";
import { type CodeEncoding, codesFromNpy } from "../retrieval/code_arrays.ts";
import {
  DEFAULT_MAP_AT_K,
  evaluate,
  type RetrievalMetrics,
  type ZeroRelevantPolicy,
} from "../retrieval/metrics.ts";
import type { Direction, LabelMatrix, PackedCodes } from "../types.ts";
import { DIRECTIONS } from "../types.ts";
import { TOOLKIT_VERSION } from "../version.ts";

/** Format tag of `evaluation.json`. */
export const EVALUATION_FORMAT = "cmh-evaluation-1";

/** The code arrays of a codes folder (file `<name>.npy`). */
export const CODE_ARRAYS = [
  "query_image_codes",
  "query_text_codes",
  "database_image_codes",
  "database_text_codes",
] as const;

/** The label arrays of a codes folder (file `<name>.npy`), both required. */
export const LABEL_ARRAYS = ["query_labels", "database_labels"] as const;

/** Name of an array of a codes folder. */
export type CodesArrayName = (typeof CODE_ARRAYS)[number] | (typeof LABEL_ARRAYS)[number];

/** What was read from one array file. */
export interface ArrayRecord {
  /** Shape of the array. */
  shape: number[];
  /** NumPy dtype code without byte order, e.g. "i1". */
  dtype: string;
  /** SHA-256 of the file's bytes (hex). */
  sha256: string;
  /** For codes: how the values were read ("0/1", "±1" or "sign"). */
  encoding?: CodeEncoding;
}

/** A codes folder read by {@link readCodesDir}. */
export interface CodesDir {
  /** The folder's name (its last path component). */
  name: string;
  /** The arrays present, with shape, dtype and checksum. */
  files: Partial<Record<CodesArrayName, ArrayRecord>>;
  /** The packed codes present. */
  codes: Partial<Record<(typeof CODE_ARRAYS)[number], PackedCodes>>;
  /** Labels of the query and database items. */
  labels: { query: LabelMatrix; database: LabelMatrix };
}

/** The query and database code arrays of each direction. */
export const DIRECTION_ARRAYS: Record<
  Direction,
  readonly [(typeof CODE_ARRAYS)[number], (typeof CODE_ARRAYS)[number]]
> = {
  I2T: ["query_image_codes", "database_text_codes"],
  T2I: ["query_text_codes", "database_image_codes"],
  I2I: ["query_image_codes", "database_image_codes"],
  T2T: ["query_text_codes", "database_text_codes"],
};

/** The last path component of a folder path. */
export function folderName(dir: string): string {
  const parts = dir.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] || dir;
}

/** SHA-256 of some bytes, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Read a codes folder: the label arrays (required) and the code arrays present, checked for
 * consistent rows and code lengths.
 *
 * @throws a one-line error naming the file and what was expected.
 */
export async function readCodesDir(dir: string): Promise<CodesDir> {
  const base = dir.replace(/\/+$/, "") || "/";
  try {
    if (!(await Deno.stat(base)).isDirectory) throw new Error(`${base}: not a folder`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${base}: folder not found (expected a folder of .npy codes and labels)`);
    }
    throw e;
  }
  const files: CodesDir["files"] = {};
  const read = async (name: CodesArrayName) => {
    const path = `${base}/${name}.npy`;
    const bytes = await readFileOr(path, "file not found");
    const arr = parseNpy(bytes, path);
    files[name] = { shape: [...arr.shape], dtype: arr.dtype, sha256: await sha256Hex(bytes) };
    return { arr, path };
  };
  const labels = {} as CodesDir["labels"];
  for (const name of LABEL_ARRAYS) {
    if (!(await exists(`${base}/${name}.npy`))) {
      throw new Error(
        `${base}/${name}.npy: file not found (expected 0/1 labels of shape (n, classes))`,
      );
    }
    const { arr, path } = await read(name);
    labels[name === "query_labels" ? "query" : "database"] = npyToLabels(arr, path);
  }
  if (labels.query.classes !== labels.database.classes) {
    throw new Error(
      `${base}/query_labels.npy: ${labels.query.classes} classes; expected ${labels.database.classes} as in database_labels.npy`,
    );
  }
  const codes: CodesDir["codes"] = {};
  let bits: { name: string; bits: number } | undefined;
  for (const name of CODE_ARRAYS) {
    const path = `${base}/${name}.npy`;
    if (!(await exists(path))) continue;
    const { arr } = await read(name);
    const c = codesFromNpy(arr, path);
    const rows = name.startsWith("query") ? labels.query.rows : labels.database.rows;
    const side = name.startsWith("query") ? "query_labels.npy" : "database_labels.npy";
    if (c.codes.n !== rows) {
      throw new Error(`${path}: ${c.codes.n} rows; expected ${rows} as in ${side}`);
    }
    if (bits && bits.bits !== c.codes.bits) {
      throw new Error(
        `${path}: ${c.codes.bits} bits; expected ${bits.bits} as in ${bits.name}.npy`,
      );
    }
    bits ??= { name, bits: c.codes.bits };
    codes[name] = c.codes;
    files[name]!.encoding = c.encoding;
  }
  const out: CodesDir = { name: folderName(base), files, codes, labels };
  if (directionsOf(out).length === 0) {
    throw new Error(
      `${base}: no direction can be scored; expected query and database codes of one ` +
        "modality pair, e.g. query_image_codes.npy with database_text_codes.npy (I→T)",
    );
  }
  return out;
}

/** The directions a codes folder can score (both of their code arrays present). */
export function directionsOf(c: CodesDir): Direction[] {
  return DIRECTIONS.filter((d) => DIRECTION_ARRAYS[d].every((n) => c.codes[n] !== undefined));
}

/** Options of {@link evaluateCodesDir}. */
export interface EvaluateCodesOptions {
  /** Cut-offs k of MAP@k (default {@link DEFAULT_MAP_AT_K}). */
  mapAtK?: readonly number[];
  /** Queries with no relevant item: "count" (default) or "exclude". */
  zeroRelevant?: ZeroRelevantPolicy;
}

/** The content of `evaluation.json`. */
export interface EvaluationFile {
  /** {@link EVALUATION_FORMAT}. */
  format: typeof EVALUATION_FORMAT;
  /** The codes folder: its name and its arrays (shape, dtype, SHA-256, how codes were read). */
  source: { name: string; files: CodesDir["files"] };
  /** Code length K, queries, database items and label classes. */
  bits: number;
  /** Number of query items. */
  queries: number;
  /** Number of database items. */
  database: number;
  /** Number of label classes. */
  classes: number;
  /** Metrics per direction scored, shaped as a result file's `metrics`. */
  metrics: Partial<Record<Direction, RetrievalMetrics>>;
  /** Toolkit version that scored the codes. */
  toolkit: string;
}

/** An evaluation and its per-query APs (stable-tie and tie-aware) per direction. */
export interface CodesEvaluation {
  /** What `evaluation.json` holds. */
  file: EvaluationFile;
  /** Per direction, each counted query's AP@all: stable-tie and tie-aware. */
  perQuery: Partial<Record<Direction, { stable: number[]; tieAware: number[] }>>;
  /** The labels scored against (what a comparison by query checks is the same). */
  labels: CodesDir["labels"];
}

/** Score every direction a codes folder has (see {@link directionsOf}). */
export function evaluateCodesDir(c: CodesDir, opts: EvaluateCodesOptions = {}): CodesEvaluation {
  const metrics: EvaluationFile["metrics"] = {};
  const perQuery: CodesEvaluation["perQuery"] = {};
  let bits = 0;
  for (const d of directionsOf(c)) {
    const [q, db] = DIRECTION_ARRAYS[d];
    const m = evaluate(c.codes[q]!, c.labels.query, c.codes[db]!, c.labels.database, {
      mapAtK: opts.mapAtK ?? DEFAULT_MAP_AT_K,
      zeroRelevant: opts.zeroRelevant ?? "count",
      perQuery: true,
    });
    const { perQueryAP, perQueryTieAwareAP, ...rest } = m;
    metrics[d] = rest;
    perQuery[d] = { stable: perQueryAP ?? [], tieAware: perQueryTieAwareAP ?? [] };
    bits = m.bits;
  }
  return {
    file: {
      format: EVALUATION_FORMAT,
      source: { name: c.name, files: c.files },
      bits,
      queries: c.labels.query.rows,
      database: c.labels.database.rows,
      classes: c.labels.query.classes,
      metrics,
      toolkit: TOOLKIT_VERSION,
    },
    perQuery,
    labels: c.labels,
  };
}
