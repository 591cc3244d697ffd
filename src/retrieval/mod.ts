/**
 * Retrieval: packed binary codes and label bitsets, Hamming distances and ranking, and the
 * metrics of every direction (MAP@all, MAP@k standard and legacy, precision@N, PR by radius).
 *
 * @module
 */
export {
  checkLabelMatrix,
  checkPackedCodes,
  hamming,
  packDense,
  type PackedLabels,
  packLabels,
  packRowBits,
  packSigns,
  popcount32,
  sharesLabel,
  unpackCodes,
} from "./codes.ts";
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
} from "./metrics.ts";
