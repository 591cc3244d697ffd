/**
 * The data layer: MAT v5 / v7.3 and .npy readers, matrix helpers, dataset loaders, synthetic
 * and simulated data, and evaluation splits. See docs/data.md.
 *
 * @module
 */
export * from "./matrix.ts";
export * from "./mat.ts";
export * from "./hdf5.ts";
export * from "./matfile.ts";
export * from "./npy.ts";
export * from "./synthetic.ts";
export * from "./simulated.ts";
export * from "./datasets.ts";
export * from "./split.ts";
