/**
 * Retrieval: packed binary codes and label bitsets (codes.ts), Hamming distances and ranking,
 * and the metrics of every direction: MAP@all, MAP@k standard and legacy, precision@N, PR by
 * radius (metrics.ts, with the per-query kernels in ranking.ts), and MAP@all on several cores
 * (parallel.ts).
 *
 * @module
 */
export * from "./codes.ts";
export * from "./metrics.ts";
export { mapAllParallel, type ParallelOptions } from "./parallel.ts";
