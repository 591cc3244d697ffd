/**
 * One experiment cell, end to end: data -> model -> trainer -> codes -> metrics -> result file
 * (src/experiments/results.ts). Each step is a named function; {@link runCell} chains them.
 *
 * @module
 */
import { backendInfo, initBackend } from "../accel/backend.ts";
import type { CrossModalDataset, Direction, LabelMatrix, Split } from "../types.ts";
import { loadDataset } from "../datasets/datasets.ts";
import { makeSplit } from "../datasets/split.ts";
import { gatherLabelRows, gatherRows } from "../datasets/matrix.ts";
import {
  type CrossModalCodes,
  evaluateDirections,
  type RetrievalMetrics,
} from "../retrieval/metrics.ts";
import { isTrainable, method } from "../models/mod.ts";
import { type HashModel, trainingSetInfo } from "../models/model.ts";
import { train } from "../train.ts";
import type { Manipulation } from "../models/manipulation.ts";
import { canonicalData, cellId, configOverrides, type ExperimentSpec } from "./spec.ts";
import { type CellResult, RESULT_FORMAT, writeResult } from "./results.ts";
import { saveCell, savedPath } from "./saved.ts";
import { TOOLKIT_VERSION } from "../version.ts";
import { gitCommit } from "./provenance.ts";

/** Options of {@link runCell} and runGrid (src/experiments/grid.ts). */
export interface RunOptions {
  /** Data directory (default: env HASH_DATA_DIR, else the repository's data/). */
  dataDir?: string;
  /** Results directory. */
  out: string;
  /** Progress sink (default console.log). */
  log?: (line: string) => void;
  /** Validate every N epochs (default 1; 0 = never, no model selection). */
  evalEvery?: number;
  /** Override the batch size of the method's config. */
  batchSize?: number;
  /**
   * Keep each cell's trained model, codes, labels and split under `<out>/saved/<cell id>/`
   * (src/experiments/saved.ts; `reproduce --save`). Default false.
   */
  save?: boolean;
  /**
   * Numbers to record about a cell's model after training (the selected epoch's weights and
   * stored outputs), before it is encoded and disposed; written to the result's `diagnostics`.
   * Return undefined to record nothing. Also given the cell's data and split.
   */
  diagnose?: (
    model: HashModel,
    spec: ExperimentSpec,
    ds: CrossModalDataset,
    split: Split,
  ) => Record<string, number> | undefined;
}

/** Datasets by (name, variant, generator settings): loaded once per grid. */
export class DatasetCache {
  #cache = new Map<string, CrossModalDataset>();
  /** A cache on a data directory (default: env HASH_DATA_DIR, else the repository's data/). */
  constructor(readonly dataDir?: string) {}
  /**
   * Load (or reuse) a dataset; `data` are generator settings (ExperimentSpec.data, only for
   * generated datasets).
   */
  async get(
    name: string,
    variant?: string,
    data?: Record<string, number>,
  ): Promise<CrossModalDataset> {
    const settings = canonicalData(name, data);
    const key = `${name}/${variant ?? ""}/${JSON.stringify(settings ?? {})}`;
    let ds = this.#cache.get(key);
    if (!ds) {
      ds = await loadDataset(name, {
        dataDir: this.dataDir,
        variant,
        ...(settings ? { synthetic: settings } : {}),
      });
      this.#cache.set(key, ds);
    }
    return ds;
  }
}

/** The model config of a cell: the method's defaults with the cell's ablation and epochs. */
export function cellConfig(spec: ExperimentSpec, opts: Pick<RunOptions, "batchSize"> = {}): object {
  const entry = method(spec.method, "spec.method");
  const overrides: Record<string, unknown> = {
    ...configOverrides(spec.method, spec.dataset, spec.overrides),
  };
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
  if (isTrainable(entry)) {
    overrides.epochs = spec.epochs;
    if (opts.batchSize) overrides.batchSize = opts.batchSize;
  }
  return entry.config(spec.dataset, spec.bits, overrides, { seed: spec.seed });
}

/** Codes of a split's query and database rows in both modalities, with their labels. */
export function encodeSplit(
  model: HashModel,
  ds: CrossModalDataset,
  split: Split,
): CrossModalCodes {
  const q = split.query, db = split.database;
  const dbImage = gatherRows(ds.image, db), dbText = gatherRows(ds.text, db);
  // Unified database codes (both modalities of a pair, e.g. CMFH) serve both directions.
  const unified = model.encodeDatabase?.(dbImage, dbText);
  return {
    imageQuery: model.encodeImage(gatherRows(ds.image, q)),
    textQuery: model.encodeText(gatherRows(ds.text, q)),
    imageDb: unified ?? model.encodeImage(dbImage),
    textDb: unified ?? model.encodeText(dbText),
    queryLabels: gatherLabelRows(ds.labels, q) as LabelMatrix,
    dbLabels: gatherLabelRows(ds.labels, db) as LabelMatrix,
  };
}

/**
 * Evaluate a model on a split: codes of the query and database rows in both modalities, and
 * every metric in all four directions (query set against the database).
 */
export function evaluateModel(
  model: HashModel,
  ds: CrossModalDataset,
  split: Split,
): Record<Direction, RetrievalMetrics> {
  return evaluateDirections(encodeSplit(model, ds, split)) as Record<Direction, RetrievalMetrics>;
}

/** What a result file records about the dataset and the split of a cell. */
function datasetRecord(ds: CrossModalDataset, split: Split): CellResult["dataset"] {
  return {
    name: ds.name,
    provenance: ds.provenance,
    imageDim: ds.image.cols,
    textDim: ds.text.cols,
    classes: ds.labels.classes,
    split: {
      convention: split.convention,
      query: split.query.length,
      database: split.database.length,
      train: split.train.length,
      validation: split.validation.length,
    },
  };
}

/**
 * A trained model's manipulation checks (`HashModel.manipulationCheck`) on the validation
 * slice, with the gradient shares the trainer sampled in the selected epoch; undefined for a
 * model without the checks.
 */
export function manipulationOf(
  model: HashModel,
  ds: CrossModalDataset,
  split: Split,
  training: CellResult["training"],
): Manipulation | undefined {
  if (!model.manipulationCheck) return undefined;
  const m = model.manipulationCheck(
    gatherRows(ds.image, split.validation),
    gatherRows(ds.text, split.validation),
  );
  const selected = training.history.find((r) => r.epoch === training.selectedEpoch);
  const shares = Object.entries(selected?.diagnostics ?? {})
    .filter(([k]) => k.startsWith("gradShare."))
    .map(([k, v]) => [k.slice("gradShare.".length), v]);
  if (shares.length) m.gradShare = Object.fromEntries(shares);
  return m;
}

/** Options of {@link runCell} beyond {@link RunOptions}. */
export interface CellOptions {
  /** Datasets already loaded (a grid shares one cache). */
  cache?: DatasetCache;
  /** The backend is already `spec.backend` (a grid sets it once); default: set it here. */
  backendReady?: boolean;
}

/**
 * Run one cell and write its result file: data (dataset, split, training-set info) -> model
 * (the registry's config and factory) -> trainer (methods of kind "trained"; checkpointed,
 * resumable) -> codes -> metrics -> result file. Returns the result.
 */
export async function runCell(
  spec: ExperimentSpec,
  opts: RunOptions,
  cellOpts: CellOptions | DatasetCache = {},
): Promise<CellResult> {
  const { cache = new DatasetCache(opts.dataDir), backendReady = false } =
    cellOpts instanceof DatasetCache ? { cache: cellOpts } : cellOpts;
  const log = opts.log ?? console.log;
  const started = new Date().toISOString();
  const id = cellId(spec);
  if (!backendReady) await initBackend({ name: spec.backend });
  const ds = await cache.get(spec.dataset, spec.variant, spec.data);
  const split = makeSplit(ds, { convention: spec.split, seed: spec.seed });
  const info = trainingSetInfo(ds, split);

  const entry = method(spec.method, "spec.method");
  const config = cellConfig(spec, opts);
  const model = entry.create(info, config);
  let training: CellResult["training"] = { history: [], selectedEpoch: -1, seconds: 0 };
  const ckDir = `${opts.out}/.checkpoints/${id}`;
  if (isTrainable(entry)) {
    const data = { dataset: ds, train: split.train, validation: split.validation };
    const cfg = config as { batchSize: number; patience?: number };
    const res = await train(model, data, {
      epochs: spec.epochs,
      batchSize: cfg.batchSize,
      patience: cfg.patience,
      seed: spec.seed,
      evalEvery: opts.evalEvery ?? 1,
      checkpointDir: ckDir,
      log,
      label: `${spec.method}-${spec.ablation} ${spec.bits}b s${spec.seed}`,
    });
    training = {
      history: res.history,
      selectedEpoch: res.selectedEpoch,
      seconds: res.seconds,
      epochsRun: res.epochsRun,
      stoppedEarly: res.stoppedEarly,
    };
  } else if (entry.fit) {
    // Closed form: fitted to every training pair (nothing is selected, so nothing is held out).
    const rows = Int32Array.from([...split.train, ...split.validation]);
    const seconds = entry.fit(model, {
      image: gatherRows(ds.image, rows),
      text: gatherRows(ds.text, rows),
      labels: gatherLabelRows(ds.labels, rows),
    }, (line) => log(`${id}: ${line}`));
    training = { history: [], selectedEpoch: -1, seconds };
  }

  const diagnostics = opts.diagnose?.(model, spec, ds, split);
  const manipulation = manipulationOf(model, ds, split, training);
  const t0 = performance.now();
  const codes = encodeSplit(model, ds, split);
  const metrics = evaluateDirections(codes) as Record<Direction, RetrievalMetrics>;
  const encodeSeconds = (performance.now() - t0) / 1000;
  try {
    if (opts.save) {
      const dir = savedPath(opts.out, spec);
      await saveCell(dir, { spec, model, info, dataset: ds, split, codes });
      log(`saved ${dir}/ (model, codes, labels, split)`);
    }
  } finally {
    model.dispose();
  }

  const backend = await backendInfo();
  const commit = await gitCommit();
  const result: CellResult = {
    format: RESULT_FORMAT,
    id,
    spec,
    config,
    dataset: datasetRecord(ds, split),
    backend,
    versions: {
      toolkit: TOOLKIT_VERSION,
      tfjs: backend.tfjs,
      deno: backend.deno,
      ...(commit ? { commit } : {}),
    },
    training,
    metrics,
    encodeSeconds,
    ...(diagnostics ? { diagnostics } : {}),
    ...(manipulation ? { manipulation } : {}),
    started,
    finished: new Date().toISOString(),
  };
  await writeResult(opts.out, result);
  await Deno.remove(ckDir, { recursive: true }).catch(() => {});
  return result;
}
