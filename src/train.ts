/**
 * The training core shared by all methods: epochs of seeded mini-batches over the training
 * split, the model's per-batch step, the epoch-end discrete step, validation MAP every N
 * epochs on the held-out validation slice (never the query set), a progress line per epoch,
 * a NaN guard, checkpoints with resume, and a tensor-leak check.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { CrossModalDataset, LabelMatrix } from "./types.ts";
import type { Batch, HashModel, LossTerms } from "./models/model.ts";
import { Rng } from "./random.ts";
import { gatherLabelRows, gatherRows } from "./datasets/matrix.ts";
import { mapAll } from "./retrieval/metrics.ts";
import { hasCheckpoint, readCheckpoint, writeCheckpoint } from "./nn/checkpoint.ts";
import type { NamedArrays } from "./nn/mod.ts";

/** Rows of a dataset used for training and validation. */
export interface TrainData {
  /** The dataset the rows index. */
  dataset: CrossModalDataset;
  /** Training rows (the model was built for exactly these, in this order). */
  train: Int32Array;
  /** Validation rows (queries against the training rows as database); may be empty. */
  validation: Int32Array;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Epochs to train; default the model config's `epochs` (the method's default). */
  epochs?: number;
  /** Pairs per batch; default the model config's `batchSize` (the method's default). */
  batchSize?: number;
  /** Seed of batch order and per-step randomness; default the model config's `seed`. */
  seed?: number;
  /** Validate every this many epochs (and after the last); 0 = never. Default 1. */
  evalEvery?: number;
  /** Restore the weights of the best validation epoch at the end (default true when validating). */
  selectBest?: boolean;
  /**
   * Early stopping: stop when this many epochs have passed since the best validation score
   * (validation every epoch assumed; with evalEvery > 1 it counts epochs, not evaluations).
   * Default: the model config's `patience` (the method's default), else no early stopping.
   */
  patience?: number;
  /** Checkpoint directory: written after every epoch; with `resume`, continued from. */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` when there is one (default true). */
  resume?: boolean;
  /** Progress line sink (default console.log); `null` silences. */
  log?: ((line: string) => void) | null;
  /** Label for progress lines, e.g. "cpah 32 bits seed 1". */
  label?: string;
  /** Throw when the tensor count grows across epochs (default true). */
  leakCheck?: boolean;
  /** Drop a last batch smaller than this (BatchNorm needs > 1 item). Default 2. */
  minBatch?: number;
}

/** What one epoch did. */
export interface EpochRecord {
  /** Epoch (0-based). */
  epoch: number;
  /** Mean of each loss term over the epoch's batches, plus the discrete step's terms. */
  losses: LossTerms;
  /**
   * The model's diagnostics of the epoch (`HashModel.epochDiagnostics`; finite values only),
   * when it has any: e.g. a discriminator's accuracy, the quantisation gap. Absent in results
   * written before diagnostics existed.
   */
  diagnostics?: Record<string, number>;
  /** Validation MAP@all, when evaluated this epoch. */
  validation?: { I2T: number; T2I: number };
  /** Seconds the epoch took (validation included). */
  seconds: number;
}

/** Result of training. */
export interface TrainResult {
  /** One record per epoch trained, in order. */
  history: EpochRecord[];
  /** Epoch whose weights the model holds at the end (best validation, or the last). */
  selectedEpoch: number;
  /** Training seconds summed over epochs (including epochs done before a resume). */
  seconds: number;
  /** Whether training continued from a checkpoint. */
  resumedFrom?: number;
  /** Epochs actually trained (fewer than asked when early stopping fired). */
  epochsRun: number;
  /** Whether early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
}

/** Turn label rows into a 0/1 float tensor. */
export function labelTensor(labels: LabelMatrix): tf.Tensor2D {
  const f = new Float32Array(labels.data.length);
  for (let i = 0; i < f.length; i++) f[i] = labels.data[i];
  return tf.tensor2d(f, [labels.rows, labels.classes]);
}

/** Build the tensors of one batch (positions into `data.train`). */
export function makeBatch(data: TrainData, pos: Int32Array): Batch {
  const rows = new Int32Array(pos.length);
  for (let i = 0; i < pos.length; i++) rows[i] = data.train[pos[i]];
  const img = gatherRows(data.dataset.image, rows);
  const txt = gatherRows(data.dataset.text, rows);
  return {
    pos,
    image: tf.tensor2d(img.data, [img.rows, img.cols]),
    text: tf.tensor2d(txt.data, [txt.rows, txt.cols]),
    labels: labelTensor(gatherLabelRows(data.dataset.labels, rows)),
  };
}

/** Validation MAP@all (I->T, T->I): validation rows as queries, training rows as database. */
export function validationMap(model: HashModel, data: TrainData): { I2T: number; T2I: number } {
  const ds = data.dataset;
  const q = data.validation, db = data.train;
  const qImg = model.encodeImage(gatherRows(ds.image, q));
  const qTxt = model.encodeText(gatherRows(ds.text, q));
  const dImg = model.encodeImage(gatherRows(ds.image, db));
  const dTxt = model.encodeText(gatherRows(ds.text, db));
  const ql = gatherLabelRows(ds.labels, q), dl = gatherLabelRows(ds.labels, db);
  return {
    I2T: mapAll(qImg, ql, dTxt, dl),
    T2I: mapAll(qTxt, ql, dImg, dl),
  };
}

function fmtTerms(t: LossTerms): string {
  return Object.entries(t).filter(([k]) => !k.startsWith("share."))
    .map(([k, v]) => `${k} ${fmtNum(v)}`).join("  ");
}

function fmtNum(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
}

function fmtSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s - 60 * m)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** An option of {@link train}, else the model config's field of that name; an integer >= min. */
function fromConfig(
  model: HashModel,
  opts: TrainOptions,
  key: "epochs" | "batchSize" | "seed",
  min: number,
): number {
  const v = opts[key] ?? (model.config as Record<string, unknown>)[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new Error(
      `train: ${key} is ${JSON.stringify(v)}, expected an integer${
        min > -Infinity ? ` >= ${min}` : ""
      } (opts.${key}, else the model config's ${key})`,
    );
  }
  return v;
}

/**
 * Train `model` on `data`. Epochs, batch size and seed default to the model config's (the
 * method's defaults for its dataset: the one place that sets them). Deterministic for a given
 * seed and backend. With a checkpoint directory, every finished epoch is saved and a rerun
 * continues after the last saved epoch.
 */
export async function train(
  model: HashModel,
  data: TrainData,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const epochs = fromConfig(model, opts, "epochs", 0);
  const batchSize = fromConfig(model, opts, "batchSize", 1);
  const seed = fromConfig(model, opts, "seed", -Infinity);
  const log = opts.log === null ? () => {} : (opts.log ?? console.log);
  const evalEvery = opts.evalEvery ?? 1;
  const validate = evalEvery > 0 && data.validation.length > 0;
  const selectBest = opts.selectBest ?? validate;
  const minBatch = opts.minBatch ?? 2;
  const label = opts.label ? `${opts.label} ` : "";
  const n = data.train.length;

  let history: EpochRecord[] = [];
  let best: { score: number; epoch: number; state: NamedArrays } | undefined;
  let start = 0;
  let resumedFrom: number | undefined;

  if (opts.checkpointDir && (opts.resume ?? true) && await hasCheckpoint(opts.checkpointDir)) {
    const ck = await readCheckpoint(opts.checkpointDir);
    const meta = ck.meta as {
      epoch: number;
      history: EpochRecord[];
      best?: { score: number; epoch: number };
    };
    model.loadState(pick(ck.arrays, "model/"), `${opts.checkpointDir}/state.json`);
    history = meta.history;
    start = meta.epoch + 1;
    resumedFrom = meta.epoch;
    if (meta.best) best = { ...meta.best, state: pick(ck.arrays, "best/") };
    log(`${label}resuming after epoch ${meta.epoch + 1} from ${opts.checkpointDir}`);
  }

  let baselineTensors: number | undefined;
  const doneSeconds = () => history.reduce((s, r) => s + r.seconds, 0);

  const configPatience = (model.config as Record<string, unknown>).patience;
  const patience = opts.patience ??
    (typeof configPatience === "number" ? configPatience : undefined);
  if (patience !== undefined && (!Number.isInteger(patience) || patience < 1)) {
    throw new Error(`train: patience must be an integer >= 1, got ${patience}`);
  }
  const exhausted = (epoch: number) =>
    patience !== undefined && selectBest && best !== undefined && epoch - best.epoch >= patience;
  let stoppedEarly = history.length > 0 && exhausted(history[history.length - 1].epoch);
  for (let epoch = start; epoch < epochs && !stoppedEarly; epoch++) {
    const t0 = performance.now();
    model.beginEpoch(epoch);
    const epochRng = new Rng(seed).fork(1000 + epoch);
    const order = epochRng.permutation(n);
    const sums: LossTerms = {};
    let batches = 0;
    for (let b = 0; b * batchSize < n; b++) {
      const pos = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
      if (pos.length < minBatch) continue;
      const batch = makeBatch(data, pos);
      let terms: LossTerms;
      try {
        terms = model.trainStep(batch, { epoch, batch: b, rng: epochRng.fork(b) });
      } finally {
        tf.dispose([batch.image, batch.text, batch.labels]);
      }
      for (const [k, v] of Object.entries(terms)) {
        if (!Number.isFinite(v)) {
          throw new Error(
            `${label}NaN guard: loss term '${k}' is ${v} at epoch ${epoch + 1}, batch ${b + 1}`,
          );
        }
        sums[k] = (sums[k] ?? 0) + v;
      }
      batches++;
    }
    const losses: LossTerms = {};
    for (const [k, v] of Object.entries(sums)) losses[k] = v / Math.max(1, batches);
    const discrete = model.endEpoch(epoch);
    for (const [k, v] of Object.entries(discrete)) {
      if (!Number.isFinite(v)) {
        throw new Error(
          `${label}NaN guard: discrete-step term '${k}' is ${v} at epoch ${epoch + 1}`,
        );
      }
      losses[k] = v;
    }
    const rec: EpochRecord = { epoch, losses, seconds: 0 };
    const diagnostics = finiteValues(model.epochDiagnostics?.(epoch) ?? {});
    if (Object.keys(diagnostics).length) rec.diagnostics = diagnostics;
    const last = epoch + 1 === epochs;
    if (validate && ((epoch + 1) % evalEvery === 0 || last)) {
      rec.validation = validationMap(model, data);
      const score = (rec.validation.I2T + rec.validation.T2I) / 2;
      if (selectBest && (!best || score > best.score)) {
        best = { score, epoch, state: model.state() };
      }
    }
    rec.seconds = (performance.now() - t0) / 1000;
    history.push(rec);

    if (opts.checkpointDir) {
      const arrays: NamedArrays = prefixed(model.state(), "model/");
      if (best) Object.assign(arrays, prefixed(best.state, "best/"));
      await writeCheckpoint(opts.checkpointDir, {
        epoch,
        history,
        best: best ? { score: best.score, epoch: best.epoch } : undefined,
        method: model.method,
        bits: model.bits,
      }, arrays);
    }

    const done = epoch + 1, total = epochs;
    const elapsed = doneSeconds();
    const eta = (elapsed / done) * (total - done);
    const val = rec.validation
      ? ` | val I2T ${rec.validation.I2T.toFixed(4)} T2I ${rec.validation.T2I.toFixed(4)}`
      : "";
    log(
      `${label}epoch ${done}/${total}  ${fmtTerms(losses)}${val} | ${fmtSeconds(rec.seconds)}` +
        ` ETA ${fmtSeconds(eta)}`,
    );

    const tensors = tf.memory().numTensors;
    if (baselineTensors === undefined) baselineTensors = tensors;
    else if ((opts.leakCheck ?? true) && tensors > baselineTensors) {
      throw new Error(
        `${label}tensor leak: ${
          tensors - baselineTensors
        } more tensors after epoch ${done} than after the first`,
      );
    }
    if (exhausted(epoch) && epoch + 1 < epochs) {
      stoppedEarly = true;
      log(
        `${label}early stop after epoch ${done}: no better validation MAP for ${patience} ` +
          `epochs (best: epoch ${best!.epoch + 1})`,
      );
    }
  }

  const lastRun = history.length ? history[history.length - 1].epoch : epochs - 1;
  let selectedEpoch = lastRun;
  if (selectBest && best && best.epoch !== lastRun) {
    model.loadState(best.state, "best validation state");
    selectedEpoch = best.epoch;
  }
  return {
    history,
    selectedEpoch,
    seconds: doneSeconds(),
    resumedFrom,
    epochsRun: history.length,
    stoppedEarly,
  };
}

/** The entries of `r` whose values are finite numbers. */
function finiteValues(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => Number.isFinite(v)));
}

function prefixed(a: NamedArrays, p: string): NamedArrays {
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(a)) out[p + k] = v;
  return out;
}

function pick(a: NamedArrays, p: string): NamedArrays {
  const out: NamedArrays = {};
  for (const [k, v] of Object.entries(a)) if (k.startsWith(p)) out[k.slice(p.length)] = v;
  return out;
}
