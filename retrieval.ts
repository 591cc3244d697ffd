/**
 * `@cmh/hashing/retrieval`: packed binary codes and label bitsets, Hamming distances and
 * ranking, every retrieval metric (MAP@all stable-tie and tie-aware, MAP@k standard, tie-aware
 * and legacy, precision@N, precision-recall by radius), MAP@all on several cores, and codes read
 * from any framework's arrays. Definitions: docs/methods.md, section 7.
 *
 * @module
 */
export type { DenseMatrix, Direction, LabelMatrix, PackedCodes } from "./src/types.ts";
export { DIRECTIONS } from "./src/types.ts";
export {
  hamming,
  packDense,
  type PackedLabels,
  packLabels,
  packSigns,
  sharesLabel,
  unpackCodes,
} from "./src/retrieval/codes.ts";
export {
  type CrossModalCodes,
  DEFAULT_MAP_AT_K,
  defaultPrecisionNs,
  type DirectionMetrics,
  type DirectionsOptions,
  type EmptyRetrievedPolicy,
  evaluate,
  evaluateDirections,
  type EvaluateOptions,
  hammingDistances,
  hammingRanking,
  mapAll,
  type MetricConventions,
  type RetrievalMetrics,
  type ZeroRelevantPolicy,
} from "./src/retrieval/metrics.ts";
export { harmonicTable, tieGroupSum } from "./src/retrieval/ranking.ts";
export { mapAllParallel, type ParallelOptions } from "./src/retrieval/parallel.ts";
export {
  type CodeEncoding,
  type CodesFromArray,
  codesFromNpy,
} from "./src/retrieval/code_arrays.ts";
export type { NpyArray, NpyData, NpyDtype } from "./src/datasets/formats/npy.ts";
