/**
 * The data layer: MAT v5 / v7.3 and .npy readers, matrix helpers, dataset loaders, synthetic
 * and simulated data, and evaluation splits. See docs/data.md.
 *
 * @module
 */
export * from "./matrix.ts";
export * from "./formats/mat.ts";
export * from "./formats/hdf5.ts";
export * from "./formats/matfile.ts";
export * from "./formats/npy.ts";
export * from "./synthetic.ts";
export * from "./simulated.ts";
export * from "./datasets.ts";
export * from "./split.ts";
