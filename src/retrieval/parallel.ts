/**
 * MAP@all on several cores: the queries are split into contiguous ranges, each evaluated by a
 * Web Worker running the same single-core code (src/retrieval/metrics.ts), and the per-query APs are
 * summed in query order on the calling thread — so the result is bit-identical to
 * {@link mapAll}, whatever the number of workers (tested). Memory stays bounded as in the
 * single-core path: a worker holds the codes, the labels and O(database) workspace, never a
 * queries x database matrix.
 *
 * Workers pay a start-up cost (about 0.1-0.2 s each: loading this module graph), so this pays
 * off for large evaluations (NUS-WIDE scale: 2,100 x 193,734); `bench/eval_scale.ts` measures
 * it.
 *
 * @module
 */
import { evaluate, mapAll, type ZeroRelevantPolicy } from "./metrics.ts";
import type { LabelMatrix, PackedCodes } from "../types.ts";

/** A worker's job: a query range and everything needed to evaluate it. */
export interface MapJob {
  query: PackedCodes;
  queryLabels: LabelMatrix;
  db: PackedCodes;
  dbLabels: LabelMatrix;
  zeroRelevant: ZeroRelevantPolicy;
}

/** What a worker sends back: the APs of its counted queries, in query order. */
export interface MapJobResult {
  ap: number[];
  counted: number;
}

/** Evaluate one job (what each worker runs). */
export function runMapJob(job: MapJob): MapJobResult {
  const r = evaluate(job.query, job.queryLabels, job.db, job.dbLabels, {
    mapAtK: [],
    precisionAtN: [],
    zeroRelevant: job.zeroRelevant,
    perQuery: true,
  });
  return { ap: r.perQueryAP ?? [], counted: r.countedQueries };
}

function sliceCodes(c: PackedCodes, from: number, to: number): PackedCodes {
  return {
    n: to - from,
    bits: c.bits,
    words: c.words,
    data: c.data.slice(from * c.words, to * c.words),
  };
}

function sliceLabels(l: LabelMatrix, from: number, to: number): LabelMatrix {
  return {
    rows: to - from,
    classes: l.classes,
    data: l.data.slice(from * l.classes, to * l.classes),
  };
}

/** Options of {@link mapAllParallel}. */
export interface ParallelOptions {
  /** Number of workers (default: navigator.hardwareConcurrency); 1 runs on this thread. */
  workers?: number;
  /** What queries with no relevant item count as (default "count"). */
  zeroRelevant?: ZeroRelevantPolicy;
}

/**
 * MAP@all of `query` against `db` on `workers` cores, bit-identical to {@link mapAll}.
 * Inputs are validated by the single-core code (each worker's slice, and the whole when
 * `workers` is 1).
 */
export async function mapAllParallel(
  query: PackedCodes,
  queryLabels: LabelMatrix,
  db: PackedCodes,
  dbLabels: LabelMatrix,
  opts: ParallelOptions = {},
): Promise<number> {
  const zeroRelevant = opts.zeroRelevant ?? "count";
  const want = opts.workers ?? navigator.hardwareConcurrency ?? 1;
  if (!Number.isInteger(want) || want < 1) {
    throw new Error(`mapAllParallel: workers must be an integer >= 1, got ${want}`);
  }
  const workers = Math.min(want, query.n);
  if (workers <= 1) return mapAll(query, queryLabels, db, dbLabels, zeroRelevant);
  if (query.n !== queryLabels.rows) {
    throw new Error(
      `mapAllParallel: query codes have ${query.n} items, queryLabels ${queryLabels.rows} rows`,
    );
  }
  const bounds = Array.from({ length: workers + 1 }, (_, i) => Math.round((i * query.n) / workers));
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const job: MapJob = {
        query: sliceCodes(query, bounds[w], bounds[w + 1]),
        queryLabels: sliceLabels(queryLabels, bounds[w], bounds[w + 1]),
        db,
        dbLabels,
        zeroRelevant,
      };
      return runInWorker(job);
    }),
  );
  let sum = 0, counted = 0;
  for (const p of parts) {
    for (const ap of p.ap) sum += ap; // query order, as the single-core accumulator adds them
    counted += p.counted;
  }
  return counted > 0 ? sum / counted : 0;
}

function runInWorker(job: MapJob): Promise<MapJobResult> {
  const worker = new Worker(new URL("./parallel_worker.ts", import.meta.url), { type: "module" });
  return new Promise<MapJobResult>((resolve, reject) => {
    worker.onmessage = (
      e: MessageEvent<{ ok: true; result: MapJobResult } | { ok: false; error: string }>,
    ) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => {
      worker.terminate();
      e.preventDefault();
      reject(new Error(`mapAllParallel: worker failed: ${e.message}`));
    };
    worker.postMessage(job);
  });
}
