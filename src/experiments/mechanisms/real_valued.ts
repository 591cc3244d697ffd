/**
 * The discrete-code positive control (docs/mechanisms.md, amendment 3): retrieval with a
 * trained model's real-valued outputs instead of their signs, so no quantisation at all.
 * {@link realValuedOutputs} reads CPAH's and DFAH's continuous hash outputs (tanh of the hash
 * layer, evaluation mode) through their public parts; {@link realValuedMapAll} ranks the
 * database by inner product with each query (ties have probability zero for real values; they
 * are broken by database order) and averages the precision at each relevant item (relevant =
 * sharing a label); {@link realValuedDiagnostics} records both directions on a cell's split.
 *
 * @module
 */
import type { Tensor2D } from "../../tensor_types.ts";
import type { CrossModalDataset, LabelMatrix, Matrix, Split } from "../../types.ts";
import { gatherLabelRows, gatherRows } from "../../datasets/matrix.ts";
import { forwardInBatches, type HashModel } from "../../models/model.ts";
import { branchForward, type CpahModel } from "../../models/cpah/model.ts";
import type { DfahModel } from "../../models/dfah/model.ts";

/** Continuous outputs (n x K, row-major) of a model's image and text hash functions. */
export interface RealValuedEncoder {
  /** Code length K. */
  bits: number;
  /** The image side's continuous outputs of the rows of `x`. */
  image(x: Matrix): Float32Array;
  /** The text side's continuous outputs of the rows of `y`. */
  text(y: Matrix): Float32Array;
}

/**
 * The continuous outputs of a trained CPAH or DFAH model (the values whose signs are its
 * codes), or undefined for any other model.
 */
export function realValuedOutputs(model: HashModel): RealValuedEncoder | undefined {
  const m = model as unknown as { method?: string; bits: number };
  if (m.method === "cpah") {
    const c = model as unknown as CpahModel;
    return {
      bits: c.bits,
      image: (x) =>
        forwardInBatches(x, c.bits, (b: Tensor2D) => branchForward(c.image, b, false).h),
      text: (y) => forwardInBatches(y, c.bits, (b: Tensor2D) => branchForward(c.text, b, false).h),
    };
  }
  if (m.method === "dfah") {
    const d = model as unknown as DfahModel;
    const bits = d.headV.outDim;
    return {
      bits,
      image: (x) => forwardInBatches(x, bits, (b) => d.headV.apply(d.Ev.apply(b, false), "tanh")),
      text: (y) => forwardInBatches(y, bits, (b) => d.headT.apply(d.Et.apply(b, false), "tanh")),
    };
  }
  return undefined;
}

/**
 * MAP@all of real-valued codes: for each query, the database ranked by inner product (ties by
 * database order), AP = mean precision at the ranks of the relevant items (sharing a label);
 * queries without a relevant item count as AP 0.
 */
export function realValuedMapAll(
  query: Float32Array,
  queryLabels: LabelMatrix,
  db: Float32Array,
  dbLabels: LabelMatrix,
  bits: number,
): number {
  const nq = queryLabels.rows, nd = dbLabels.rows, c = queryLabels.classes;
  if (query.length !== nq * bits || db.length !== nd * bits || dbLabels.classes !== c) {
    throw new Error(
      `realValuedMapAll: ${query.length} query values for ${nq} x ${bits}, ${db.length} ` +
        `database values for ${nd} x ${bits}, classes ${c} / ${dbLabels.classes}`,
    );
  }
  const score = new Float64Array(nd);
  const order = new Int32Array(nd);
  let total = 0;
  for (let q = 0; q < nq; q++) {
    for (let j = 0; j < nd; j++) {
      let s = 0;
      for (let k = 0; k < bits; k++) s += query[q * bits + k] * db[j * bits + k];
      score[j] = s;
      order[j] = j;
    }
    order.sort((a, b) => score[b] - score[a] || a - b);
    let hits = 0, ap = 0;
    for (let r = 0; r < nd; r++) {
      const j = order[r];
      let rel = false;
      for (let a = 0; a < c && !rel; a++) {
        rel = queryLabels.data[q * c + a] === 1 && dbLabels.data[j * c + a] === 1;
      }
      if (rel) ap += ++hits / (r + 1);
    }
    total += hits ? ap / hits : 0;
  }
  return nq ? total / nq : NaN;
}

/**
 * MAP@all of a trained model's real-valued outputs on a split, I→T and T→I (the query set
 * against the database, as the cell's own evaluation), as `realMapI2T` / `realMapT2I`; empty
 * for models without continuous outputs.
 */
export function realValuedDiagnostics(
  model: HashModel,
  ds: CrossModalDataset,
  split: Split,
): Record<string, number> {
  const enc = realValuedOutputs(model);
  if (!enc) return {};
  const q = split.query, db = split.database;
  const ql = gatherLabelRows(ds.labels, q) as LabelMatrix;
  const dl = gatherLabelRows(ds.labels, db) as LabelMatrix;
  const imageQ = enc.image(gatherRows(ds.image, q)), textQ = enc.text(gatherRows(ds.text, q));
  const imageDb = enc.image(gatherRows(ds.image, db)), textDb = enc.text(gatherRows(ds.text, db));
  return {
    realMapI2T: realValuedMapAll(imageQ, ql, textDb, dl, enc.bits),
    realMapT2I: realValuedMapAll(textQ, ql, imageDb, dl, enc.bits),
  };
}
