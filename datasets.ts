/**
 * `@cmh/hashing/datasets`: the data layer — dataset loaders (the built-in benchmarks, generated
 * data, a user's folder of arrays), splits, MAT and `.npy` file readers, and matrix helpers.
 * See docs/data.md.
 *
 * @module
 */
export type {
  CrossModalDataset,
  CsrMatrix,
  DenseMatrix,
  LabelMatrix,
  Matrix,
  NumericArray,
  Split,
} from "./src/types.ts";
export {
  checkDatasetName,
  DATASET_NAMES,
  DATASET_VARIANTS,
  type DatasetName,
  defaultDataDir,
  loadDataset,
  type LoadDatasetOptions,
  MIRFLICKR_LABELS,
  NPY_DEFAULTS_DATASET,
  WIKIPEDIA_CATEGORIES,
} from "./src/datasets/datasets.ts";
export {
  DEFAULT_SPLIT_SIZES,
  defaultSplitSizes,
  makeSplit,
  SPLIT_CONVENTIONS,
  type SplitConvention,
  type SplitOptions,
} from "./src/datasets/split.ts";
export {
  hasIndexSplit,
  isNpyDataset,
  loadNpyDataset,
  NPY_DATASET_PREFIX,
  type NpyDatasetOptions,
  type NpySplitFile,
  parseNpyDataset,
  parseSplitFile,
} from "./src/datasets/npy_dir.ts";
export { synthetic, SYNTHETIC_DEFAULTS, type SyntheticOptions } from "./src/datasets/synthetic.ts";
export { SIMULATED_DEFAULTS, type SimulatedImageOptions } from "./src/datasets/simulated.ts";
export {
  denseMatrix,
  describeMatrix,
  gatherLabelRows,
  gatherRows,
  labelMatrix,
  toDense,
} from "./src/datasets/matrix.ts";
export { inspectMatFile, type MatFormat, readMatFile } from "./src/datasets/formats/matfile.ts";
export type {
  MatCharVariable,
  MatClass,
  MatNumericClass,
  MatNumericVariable,
  MatSparseVariable,
  MatTypedArray,
  MatUnsupportedVariable,
  MatVariable,
  MatVariableInfo,
} from "./src/datasets/formats/mat.ts";
// .npy files: every export of npy.ts (parse / read / encode / write, conversions to matrices).
export * from "./src/datasets/formats/npy.ts";
export { readZipEntries } from "./src/datasets/formats/zip.ts";
