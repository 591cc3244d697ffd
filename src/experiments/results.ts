/**
 * The result file of one experiment cell: its schema ({@link CellResult}), where it lives,
 * reading it (with earlier vocabulary upgraded) and writing it atomically. Reports, figures and
 * notebooks read results through this module only; nothing here runs a model.
 *
 * @module
 */
import type { BackendInfo } from "../accel/backend.ts";
import type { Direction } from "../types.ts";
import type { RetrievalMetrics } from "../retrieval/metrics.ts";
import type { EpochRecord } from "../train.ts";
import { upgradeConfig } from "../models/mod.ts";
import { writeTextAtomic } from "../io.ts";
import { withoutMachinePaths } from "../datasets/datasets.ts";
import { cellId, type ExperimentSpec } from "./spec.ts";
import type { Manipulation } from "../models/manipulation.ts";

/** Result file format tag. */
export const RESULT_FORMAT = "cmh-result-1";

/** Everything one cell produced; written as `<out>/<cellId>.json`. */
export interface CellResult {
  /** Format tag ({@link RESULT_FORMAT}). */
  format: typeof RESULT_FORMAT;
  /** The cell's id ({@link cellId}); the file is `<out>/<id>.json`. */
  id: string;
  /** The cell. */
  spec: ExperimentSpec;
  /** The method's full config (hyper-parameters and ablation flags). */
  config: object;
  /** The dataset: name, provenance, dimensions, classes and the split's sizes. */
  dataset: {
    name: string;
    provenance: string;
    imageDim: number;
    textDim: number;
    classes: number;
    split: {
      convention: string;
      query: number;
      database: number;
      train: number;
      validation: number;
    };
  };
  /** The backend the cell ran on (name, version, kernels). */
  backend: BackendInfo;
  /**
   * Versions of the toolkit, TensorFlow.js and Deno, and the git commit of the source tree that
   * computed the cell ("+dirty" when tracked files differed from it; absent in results written
   * before it was recorded, or when the source was not a git checkout).
   */
  versions: { toolkit: string; tfjs: string; deno: string; commit?: string };
  /** The training record: per-epoch history, the selected epoch, seconds. */
  training: {
    history: EpochRecord[];
    /** Epoch (0-based) whose weights produced the codes: the best validation epoch. */
    selectedEpoch: number;
    seconds: number;
    /** Epochs trained (absent in results written before early stopping existed). */
    epochsRun?: number;
    /** Whether early stopping ended training before the cell's epochs. */
    stoppedEarly?: boolean;
  };
  /** Metrics per direction (I2T, T2I, I2I, T2T): query set against the database. */
  metrics: Record<Direction, RetrievalMetrics>;
  /** Seconds spent encoding the query and database sets and computing the metrics. */
  encodeSeconds: number;
  /**
   * Numbers recorded about the trained model by the runner's `diagnose` hook (e.g. the
   * quantisation gap of the mechanism study, src/experiments/mechanisms/run.ts); absent
   * otherwise.
   */
  diagnostics?: Record<string, number>;
  /**
   * The manipulation checks of a CPAH or DFAH cell (src/models/manipulation.ts): whether the
   * modules its ablations switch off are doing their job, on the validation slice at the
   * selected epoch. Absent for methods without such modules and in results written before the
   * checks existed.
   */
  manipulation?: Manipulation;
  /** ISO time the cell started. */
  started: string;
  /** ISO time the cell finished. */
  finished: string;
}

/** Path of a cell's result file. */
export function resultPath(out: string, spec: ExperimentSpec): string {
  return `${out}/${cellId(spec)}.json`;
}

/** Read and check a result file; one clear error for a corrupted or foreign file. */
export async function readResult(path: string): Promise<CellResult> {
  const text = await Deno.readTextFile(path);
  let r: CellResult;
  try {
    r = JSON.parse(text);
  } catch {
    throw new Error(
      `${path}: corrupted result file (not valid JSON); delete it to rerun that cell`,
    );
  }
  if (r?.format !== RESULT_FORMAT || !r.spec || !r.metrics) {
    throw new Error(
      `${path}: not a result file (format '${r?.format}', expected '${RESULT_FORMAT}')`,
    );
  }
  return upgradeResult(r);
}

/** Loss names of earlier result files and their names today. */
const RENAMED_TERMS: Record<string, string> = { D: "disc", bFlipped: "flipped" };

/**
 * A result in today's vocabulary: the method's config fields (the registry's upgradeConfig)
 * and the loss terms of the training history (CPAH's `D` -> `disc`, `bFlipped` -> `flipped`),
 * and data file paths relative to the data directory (`<data dir>/...`), so result files of
 * earlier runs read like new ones. Values are unchanged.
 */
export function upgradeResult(r: CellResult): CellResult {
  r.config = upgradeConfig(r.spec.method, r.config ?? {});
  if (r.dataset?.provenance) r.dataset.provenance = withoutMachinePaths(r.dataset.provenance);
  for (const h of r.training?.history ?? []) {
    if (!Object.keys(h.losses).some((k) => k in RENAMED_TERMS)) continue;
    h.losses = Object.fromEntries(
      Object.entries(h.losses).map(([k, v]) => [RENAMED_TERMS[k] ?? k, v]),
    );
  }
  return r;
}

/** Read every result file in a directory (sorted by name). */
export async function readResults(out: string): Promise<CellResult[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${out}: results directory does not exist`);
    }
    throw e;
  }
  names.sort();
  return await Promise.all(names.map((n) => readResult(`${out}/${n}`)));
}

/** What {@link readFolderResults} found in a results directory. */
export interface FolderResults {
  /** Every result file's result, sorted by file name. */
  results: CellResult[];
  /** Files ending in .json that were left out, each with why (not a result file, corrupted). */
  skipped: { file: string; reason: string }[];
}

/**
 * Every result file in a results directory, whichever run wrote it (the report of a directory
 * covers all of them); JSON files that are not result files, or are corrupted, are listed in
 * `skipped` instead of failing. A directory that does not exist holds no results.
 */
export async function readFolderResults(out: string): Promise<FolderResults> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(out)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { results: [], skipped: [] };
    throw e;
  }
  names.sort();
  const found: FolderResults = { results: [], skipped: [] };
  for (const n of names) {
    try {
      found.results.push(await readResult(`${out}/${n}`));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // removed since the listing
      found.skipped.push({ file: `${out}/${n}`, reason: (e as Error).message });
    }
  }
  return found;
}

/** Write a cell's result file atomically (a reader sees the old file or the new one). */
export async function writeResult(out: string, result: CellResult): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  await writeTextAtomic(resultPath(out, result.spec), JSON.stringify(result));
}
