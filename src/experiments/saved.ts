/**
 * What `deno task reproduce --save` keeps of a cell, under `<out>/saved/<cell id>/`: the trained
 * model (`model/`, {@link saveModel}), the binary codes of the query and database items in both
 * modalities as int8 ±1 matrices (n x K `.npy`), their labels (uint8 0/1, n x c `.npy`), the
 * split's dataset-row indices (int64 `.npy`) and a manifest `saved.json`. NumPy reads every
 * array with `numpy.load` (docs/saved-models.md); `deno task search` ranks with them.
 *
 * A cell's folder is written under a temporary name and renamed into place when complete, so a
 * folder named after a cell is always whole.
 *
 * @module
 */
import type { CrossModalDataset, LabelMatrix, PackedCodes, Split } from "../types.ts";
import { gatherLabelRows } from "../datasets/matrix.ts";
import { type NpyArray, readNpy, writeNpy } from "../datasets/formats/npy.ts";
import { packSigns, unpackCodes } from "../retrieval/codes.ts";
import type { CrossModalCodes } from "../retrieval/metrics.ts";
import type { HashModel, TrainingSetInfo } from "../models/model.ts";
import { loadModel, saveModel } from "../models/mod.ts";
import { readFileOr, writeTextAtomic } from "../io.ts";
import { cellId, type ExperimentSpec } from "./spec.ts";
import { TOOLKIT_VERSION } from "../version.ts";

/** Format tag of `saved.json`. */
export const SAVED_FORMAT = "cmh-saved-1";

/** The arrays of a saved cell: file name (in the cell's folder) and what it holds. */
export const SAVED_ARRAYS = {
  query_image_codes: "int8 ±1, n_query x K: image codes of the query items",
  query_text_codes: "int8 ±1, n_query x K: text codes of the query items",
  database_image_codes: "int8 ±1, n_database x K: image codes of the database items",
  database_text_codes: "int8 ±1, n_database x K: text codes of the database items",
  query_labels: "uint8 0/1, n_query x c: labels of the query items",
  database_labels: "uint8 0/1, n_database x c: labels of the database items",
  query_indices: "int64, n_query: dataset rows of the query items",
  database_indices: "int64, n_database: dataset rows of the database items",
  train_indices: "int64, n_train: dataset rows the model was trained on, in training order",
  validation_indices: "int64, n_validation: dataset rows of the validation slice",
} as const;

/** Name of one array of a saved cell (its file is `<name>.npy`). */
export type SavedArrayName = keyof typeof SAVED_ARRAYS;

/** The manifest `saved.json` of a saved cell. */
export interface SavedManifest {
  /** {@link SAVED_FORMAT}. */
  format: typeof SAVED_FORMAT;
  /** The cell's id (its result file is `<out>/<id>.json`). */
  id: string;
  /** The cell. */
  spec: ExperimentSpec;
  /** Method name as the model reports it, and code length K. */
  method: string;
  /** Code length K. */
  bits: number;
  /** Dataset name, rows, dimensions and label names (column c of the label arrays). */
  dataset: {
    name: string;
    variant?: string;
    rows: number;
    imageDim: number;
    textDim: number;
    labelNames: string[];
  };
  /** How the split was made, e.g. "seeded-permutation(seed=1)". */
  split: string;
  /** Code convention of the `*_codes.npy` arrays. */
  codes: "int8 +1/-1; row i = item i, column k = bit k; sign(0) = +1";
  /** The `.npy` files and what each holds. */
  arrays: Record<SavedArrayName, { file: string; shape: number[]; dtype: string }>;
  /** The saved model's folder (loadModel). */
  model: "model";
  /** Toolkit version that wrote the folder. */
  toolkit: string;
}

/** A saved cell read back by {@link loadSavedCell}. */
export interface SavedCell {
  /** The cell's folder. */
  dir: string;
  /** Its manifest. */
  manifest: SavedManifest;
  /** Packed codes: query/database x image/text. */
  codes: {
    queryImage: PackedCodes;
    queryText: PackedCodes;
    databaseImage: PackedCodes;
    databaseText: PackedCodes;
  };
  /** Labels of the query and database items. */
  labels: { query: LabelMatrix; database: LabelMatrix };
  /** Dataset rows of the query and database items. */
  indices: { query: Int32Array; database: Int32Array };
}

/** Folder of a cell's saved model and codes: `<out>/saved/<cell id>`. */
export function savedPath(out: string, spec: ExperimentSpec): string {
  return `${out}/saved/${cellId(spec)}`;
}

/** Codes as an int8 ±1 n x K `.npy` array (+1 where the bit is set). */
export function codesToNpy(codes: PackedCodes): NpyArray {
  return {
    dtype: "i1",
    shape: [codes.n, codes.bits],
    data: unpackCodes(codes),
    fortranOrder: false,
  };
}

/** Labels as a uint8 0/1 n x c `.npy` array. */
export function labelsToNpy(labels: LabelMatrix): NpyArray {
  return {
    dtype: "u1",
    shape: [labels.rows, labels.classes],
    data: Uint8Array.from(labels.data),
    fortranOrder: false,
  };
}

/** Row indices as an int64 `.npy` vector (NumPy's index type). */
export function indicesToNpy(rows: Int32Array): NpyArray {
  const data = new BigInt64Array(rows.length);
  for (let i = 0; i < rows.length; i++) data[i] = BigInt(rows[i]);
  return { dtype: "i8", shape: [rows.length], data, fortranOrder: false };
}

/** What {@link saveCell} writes. */
export interface SaveCellInput {
  /** The cell. */
  spec: ExperimentSpec;
  /** The trained model (the one that produced `codes`). */
  model: HashModel;
  /** The training set it was built for. */
  info: TrainingSetInfo;
  /** The dataset and the cell's split. */
  dataset: CrossModalDataset;
  /** The cell's split. */
  split: Split;
  /** Codes of the query and database items, both modalities. */
  codes: CrossModalCodes;
}

/**
 * Write a saved cell into `dir` (normally {@link savedPath}): into a temporary sibling folder
 * first, renamed onto `dir` when complete (an older folder of the same cell is replaced).
 */
export async function saveCell(dir: string, input: SaveCellInput): Promise<SavedManifest> {
  const { spec, model, info, dataset: ds, split, codes } = input;
  const parent = dir.replace(/\/[^/]*$/, "") || ".";
  await Deno.mkdir(parent, { recursive: true });
  const tmp = `${dir}.partial-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await saveModel(model, info, `${tmp}/model`);
    const arrays: Record<SavedArrayName, NpyArray> = {
      query_image_codes: codesToNpy(codes.imageQuery),
      query_text_codes: codesToNpy(codes.textQuery),
      database_image_codes: codesToNpy(codes.imageDb),
      database_text_codes: codesToNpy(codes.textDb),
      query_labels: labelsToNpy(gatherLabelRows(ds.labels, split.query)),
      database_labels: labelsToNpy(gatherLabelRows(ds.labels, split.database)),
      query_indices: indicesToNpy(split.query),
      database_indices: indicesToNpy(split.database),
      train_indices: indicesToNpy(split.train),
      validation_indices: indicesToNpy(split.validation),
    };
    const listed = {} as SavedManifest["arrays"];
    for (const [name, arr] of Object.entries(arrays) as [SavedArrayName, NpyArray][]) {
      await writeNpy(`${tmp}/${name}.npy`, arr);
      listed[name] = { file: `${name}.npy`, shape: [...arr.shape], dtype: arr.dtype };
    }
    const manifest: SavedManifest = {
      format: SAVED_FORMAT,
      id: cellId(spec),
      spec,
      method: model.method,
      bits: model.bits,
      dataset: {
        name: spec.dataset,
        ...(spec.variant ? { variant: spec.variant } : {}),
        rows: ds.labels.rows,
        imageDim: ds.image.cols,
        textDim: ds.text.cols,
        labelNames: [...ds.labelNames],
      },
      split: split.convention,
      codes: "int8 +1/-1; row i = item i, column k = bit k; sign(0) = +1",
      arrays: listed,
      model: "model",
      toolkit: TOOLKIT_VERSION,
    };
    await writeTextAtomic(`${tmp}/saved.json`, JSON.stringify(manifest, null, 2) + "\n");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
    return manifest;
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Read and check a saved cell's manifest; a one-line error when `dir` is not a saved cell. */
export async function readSavedManifest(dir: string): Promise<SavedManifest> {
  const path = `${dir}/saved.json`;
  const text = new TextDecoder().decode(
    await readFileOr(
      path,
      "not a saved cell (no saved.json); save cells with 'deno task reproduce --save', then " +
        "pass <out>/saved/<cell id>",
    ),
  );
  let m: SavedManifest;
  try {
    m = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not valid JSON (corrupted saved cell)`);
  }
  if (m?.format !== SAVED_FORMAT || !m.arrays || !m.dataset) {
    throw new Error(`${path}: not a saved-cell manifest (format '${m?.format}')`);
  }
  return m;
}

/** One array of a saved cell, checked against its manifest entry. */
async function readArray(dir: string, m: SavedManifest, name: SavedArrayName): Promise<NpyArray> {
  const entry = m.arrays[name];
  if (!entry) throw new Error(`${dir}/saved.json: array '${name}' is not listed`);
  const arr = await readNpy(`${dir}/${entry.file}`);
  if (arr.dtype !== entry.dtype || arr.shape.join(",") !== entry.shape.join(",")) {
    throw new Error(
      `${dir}/${entry.file}: ${arr.dtype} (${arr.shape.join(", ")}), expected ${entry.dtype} ` +
        `(${entry.shape.join(", ")}) as saved.json lists`,
    );
  }
  return arr;
}

/** ±1 int8 n x K array back to packed codes. */
function npyToCodes(a: NpyArray): PackedCodes {
  return packSigns(a.data as Int8Array, a.shape[0], a.shape[1]);
}

/** Read a saved cell's codes, labels and indices (not the model: {@link loadSavedModel}). */
export async function loadSavedCell(dir: string): Promise<SavedCell> {
  const manifest = await readSavedManifest(dir);
  const get = (n: SavedArrayName) => readArray(dir, manifest, n);
  const labels = (a: NpyArray): LabelMatrix => ({
    rows: a.shape[0],
    classes: a.shape[1],
    data: a.data as Uint8Array,
  });
  const rows = (a: NpyArray): Int32Array => Int32Array.from(a.data as BigInt64Array, Number);
  return {
    dir,
    manifest,
    codes: {
      queryImage: npyToCodes(await get("query_image_codes")),
      queryText: npyToCodes(await get("query_text_codes")),
      databaseImage: npyToCodes(await get("database_image_codes")),
      databaseText: npyToCodes(await get("database_text_codes")),
    },
    labels: {
      query: labels(await get("query_labels")),
      database: labels(await get("database_labels")),
    },
    indices: {
      query: rows(await get("query_indices")),
      database: rows(await get("database_indices")),
    },
  };
}

/** The trained model of a saved cell ({@link loadModel} on its `model/` folder). */
export async function loadSavedModel(
  dir: string,
): Promise<{ model: HashModel; info: TrainingSetInfo }> {
  return await loadModel(`${dir}/model`);
}
