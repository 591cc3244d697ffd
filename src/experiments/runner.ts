/**
 * Runs experiment cells and grids. A cell: load the dataset, make the split, build the model,
 * train it (checkpointed, resumable), encode query and database in both modalities, evaluate
 * the four directions, and write one result JSON atomically. A grid skips cells whose result
 * file exists and is valid, so an interrupted run loses nothing that had finished and never
 * reads a half-written file.
 *
 * @module
 */
import { type BackendInfo, backendInfo, initBackend } from "../accel/backend.ts";
import type { CrossModalDataset, Direction, LabelMatrix, Split } from "../types.ts";
import { loadDataset } from "../datasets/datasets.ts";
import { makeSplit } from "../datasets/split.ts";
import { gatherLabelRows, gatherRows } from "../datasets/matrix.ts";
import { evaluateDirections, type RetrievalMetrics } from "../retrieval/metrics.ts";
import { isTrainable, method, upgradeConfig } from "../models/mod.ts";
import { type HashModel, trainingSetInfo } from "../models/model.ts";
import { type EpochRecord, train } from "../train.ts";
import { cellId, type ExperimentSpec } from "./spec.ts";
import { TOOLKIT_VERSION } from "../version.ts";

/** Result file format tag. */
export const RESULT_FORMAT = "cmh-result-1";

/** Everything one cell produced; written as `<out>/<cellId>.json`. */
export interface CellResult {
  format: typeof RESULT_FORMAT;
  id: string;
  spec: ExperimentSpec;
  /** The method's full config (hyper-parameters and ablation flags). */
  config: object;
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
  backend: BackendInfo;
  versions: { toolkit: string; tfjs: string; deno: string };
  training: { history: EpochRecord[]; selectedEpoch: number; seconds: number };
  /** Metrics per direction (I2T, T2I, I2I, T2T): query set against the database. */
  metrics: Record<Direction, RetrievalMetrics>;
  encodeSeconds: number;
  started: string;
  finished: string;
}

/** Options of {@link runCell} and {@link runGrid}. */
export interface RunOptions {
  /** Data directory (default: env HASH_DATA_DIR, else ../shared/data). */
  dataDir?: string;
  /** Results directory. */
  out: string;
  /** Progress sink (default console.log). */
  log?: (line: string) => void;
  /** Validate every N epochs (default 1; 0 = never, no model selection). */
  evalEvery?: number;
  /** Override the batch size of the method's config. */
  batchSize?: number;
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
 * so result files of earlier runs read like new ones. Values are unchanged.
 */
export function upgradeResult(r: CellResult): CellResult {
  r.config = upgradeConfig(r.spec.method, r.config ?? {});
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

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${Date.now()}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value));
  await Deno.rename(tmp, path);
}

export { trainingSetInfo } from "../models/model.ts";

/** Datasets by (name, variant): loaded once per grid. */
export class DatasetCache {
  #cache = new Map<string, CrossModalDataset>();
  constructor(readonly dataDir?: string) {}
  /** Load (or reuse) a dataset. */
  async get(name: string, variant?: string): Promise<CrossModalDataset> {
    const key = `${name}/${variant ?? ""}`;
    let ds = this.#cache.get(key);
    if (!ds) {
      ds = await loadDataset(name, { dataDir: this.dataDir, variant });
      this.#cache.set(key, ds);
    }
    return ds;
  }
}

/** Run one cell and write its result file. Returns the result. */
export async function runCell(
  spec: ExperimentSpec,
  opts: RunOptions,
  cache = new DatasetCache(opts.dataDir),
): Promise<CellResult> {
  const log = opts.log ?? console.log;
  const started = new Date().toISOString();
  const id = cellId(spec);
  await initBackend({ name: spec.backend });
  const ds = await cache.get(spec.dataset, spec.variant);
  const split = makeSplit(ds, { convention: spec.split, seed: spec.seed });
  const info = trainingSetInfo(ds, split);

  const entry = method(spec.method, "spec.method");
  const trainable = isTrainable(entry);
  const overrides: Record<string, unknown> = {};
  if (spec.ablation !== "full") {
    if (!entry.ablations.some((a) => a.flag === spec.ablation)) {
      throw new Error(
        `spec.ablation: '${spec.ablation}' is not an ablation of ${spec.method}; expected full${
          entry.ablations.map((a) => `, ${a.flag}`).join("")
        }`,
      );
    }
    overrides[spec.ablation] = true;
  }
  if (trainable) {
    overrides.epochs = spec.epochs;
    if (opts.batchSize) overrides.batchSize = opts.batchSize;
  }
  const config = entry.config(spec.dataset, spec.bits, overrides, { seed: spec.seed });
  const model: HashModel = entry.create(info, config);
  let training: CellResult["training"] = { history: [], selectedEpoch: -1, seconds: 0 };
  if (trainable) {
    const ckDir = `${opts.out}/.checkpoints/${id}`;
    const batchSize = (config as { batchSize: number }).batchSize;
    const res = await train(model, {
      dataset: ds,
      train: split.train,
      validation: split.validation,
    }, {
      epochs: spec.epochs,
      batchSize,
      seed: spec.seed,
      evalEvery: opts.evalEvery ?? 1,
      checkpointDir: ckDir,
      log,
      label: `${spec.method}-${spec.ablation} ${spec.bits}b s${spec.seed}`,
    });
    training = { history: res.history, selectedEpoch: res.selectedEpoch, seconds: res.seconds };
  }

  const t0 = performance.now();
  const q = split.query, db = split.database;
  const metrics = evaluateDirections({
    imageQuery: model.encodeImage(gatherRows(ds.image, q)),
    textQuery: model.encodeText(gatherRows(ds.text, q)),
    imageDb: model.encodeImage(gatherRows(ds.image, db)),
    textDb: model.encodeText(gatherRows(ds.text, db)),
    queryLabels: gatherLabelRows(ds.labels, q) as LabelMatrix,
    dbLabels: gatherLabelRows(ds.labels, db) as LabelMatrix,
  }) as Record<Direction, RetrievalMetrics>;
  const encodeSeconds = (performance.now() - t0) / 1000;
  model.dispose();

  const backend = await backendInfo();
  const result: CellResult = {
    format: RESULT_FORMAT,
    id,
    spec,
    config,
    dataset: {
      name: ds.name,
      provenance: ds.provenance,
      imageDim: ds.image.cols,
      textDim: ds.text.cols,
      classes: ds.labels.classes,
      split: {
        convention: split.convention,
        query: q.length,
        database: db.length,
        train: split.train.length,
        validation: split.validation.length,
      },
    },
    backend,
    versions: { toolkit: TOOLKIT_VERSION, tfjs: backend.tfjs, deno: backend.deno },
    training,
    metrics,
    encodeSeconds,
    started,
    finished: new Date().toISOString(),
  };
  await Deno.mkdir(opts.out, { recursive: true });
  await writeJsonAtomic(resultPath(opts.out, spec), result);
  await Deno.remove(`${opts.out}/.checkpoints/${id}`, { recursive: true }).catch(() => {});
  return result;
}

/** Outcome of {@link runGrid}. */
export interface GridOutcome {
  results: CellResult[];
  ran: number;
  skipped: number;
  seconds: number;
}

/**
 * Run every cell of a grid that has no valid result yet. A corrupted result file stops the
 * grid with a clear error (it is never silently overwritten).
 */
export async function runGrid(specs: ExperimentSpec[], opts: RunOptions): Promise<GridOutcome> {
  const log = opts.log ?? console.log;
  const cache = new DatasetCache(opts.dataDir);
  const results: CellResult[] = [];
  let ran = 0, skipped = 0, spent = 0;
  const todo: ExperimentSpec[] = [];
  for (const spec of specs) {
    const path = resultPath(opts.out, spec);
    let exists = false;
    try {
      await Deno.stat(path);
      exists = true;
    } catch { /* not finished yet */ }
    if (exists) {
      results.push(await readResult(path));
      skipped++;
    } else todo.push(spec);
  }
  if (skipped) {
    log(`grid: ${skipped} of ${specs.length} cells already finished in ${opts.out}; skipping them`);
  }
  for (const [i, spec] of todo.entries()) {
    const t0 = performance.now();
    const r = await runCell(spec, opts, cache);
    const s = (performance.now() - t0) / 1000;
    spent += s;
    ran++;
    results.push(r);
    const eta = (spent / ran) * (todo.length - ran);
    log(
      `cell ${i + 1}/${todo.length} done: ${r.id}  MAP I2T ${r.metrics.I2T.mapAll.toFixed(4)} ` +
        `T2I ${r.metrics.T2I.mapAll.toFixed(4)}  ${s.toFixed(1)}s  grid ETA ${Math.round(eta)}s`,
    );
  }
  return { results, ran, skipped, seconds: spent };
}
