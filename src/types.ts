/**
 * Plain data types shared by every module: matrices, datasets, splits and packed codes.
 * Data flows one way: dataset -> model -> trainer -> codes -> metrics -> report.
 *
 * @module
 */

/** A dense row-major Float32 matrix. */
export interface DenseMatrix {
  /** Discriminant: dense. */
  readonly kind: "dense";
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** rows * cols values, row-major. */
  readonly data: Float32Array;
}

/** A compressed-sparse-row Float32 matrix (for large bag-of-words text sides). */
export interface CsrMatrix {
  /** Discriminant: compressed sparse rows. */
  readonly kind: "csr";
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** rows + 1 offsets into `indices` / `values`. */
  readonly indptr: Int32Array;
  /** Column index of each stored value (length nnz). */
  readonly indices: Int32Array;
  /** Stored values (length nnz). */
  readonly values: Float32Array;
}

/** Either matrix representation. */
export type Matrix = DenseMatrix | CsrMatrix;

/** Multi-hot labels: rows x classes of 0/1 bytes, row-major. */
export interface LabelMatrix {
  /** Number of rows (items). */
  readonly rows: number;
  /** Number of label classes c. */
  readonly classes: number;
  /** rows * classes bytes, 0 or 1, row-major. */
  readonly data: Uint8Array;
}

/** A paired image-text dataset with labels. Row i of each part describes the same pair. */
export interface CrossModalDataset {
  /** Name carried into every output (e.g. "wikipedia", "mirflickr25k-simimg", "synthetic"). */
  readonly name: string;
  /** Image-side features (n x d_v). */
  readonly image: Matrix;
  /** Text-side features (n x d_t). */
  readonly text: Matrix;
  /** Multi-hot labels (n x c). Single-label datasets have one 1 per row. */
  readonly labels: LabelMatrix;
  /** Names of the c label columns. */
  readonly labelNames: readonly string[];
  /** Where the data came from (files, variables, checksums or generator parameters). */
  readonly provenance: string;
  /**
   * Published split when the dataset defines one by rows (Wikipedia: first 2,173 rows are the
   * training/database pairs, the rest the test/query pairs).
   */
  readonly fixedSplit?: { readonly queryStart: number; readonly queryEnd: number };
  /**
   * Fixed split given as row indices (a user's `split.json`, src/datasets/npy_dir.ts): query
   * and database rows, and optionally the training rows (a subset of the database).
   */
  readonly splitIndices?: {
    readonly query: Int32Array;
    readonly database: Int32Array;
    readonly train?: Int32Array;
  };
  /** Sizes of the default seeded split for this dataset, when its files give them. */
  readonly splitSizes?: { readonly query?: number; readonly train?: number };
}

/** Index sets of an evaluation protocol. Indices are rows of the dataset. */
export interface Split {
  /** Query items (never used for training or model selection). */
  readonly query: Int32Array;
  /** Retrieval database. */
  readonly database: Int32Array;
  /**
   * Training pairs, minus validation (a subset of the database, unless the dataset's own split
   * gives a disjoint database).
   */
  readonly train: Int32Array;
  /** Held-out validation items from the training side, for model selection. */
  readonly validation: Int32Array;
  /** How the split was made, e.g. "seeded-permutation(seed=1)". */
  readonly convention: string;
}

/** Binary codes packed 32 bits per Uint32 word; bit k of item i is 1 iff code_ik = +1. */
export interface PackedCodes {
  /** Number of items. */
  readonly n: number;
  /** Code length K. */
  readonly bits: number;
  /** Words per item = ceil(bits / 32). */
  readonly words: number;
  /** n * words packed words, row-major. Unused high bits of the last word are 0. */
  readonly data: Uint32Array;
}

/** The four retrieval directions: query modality -> database modality. */
export type Direction = "I2T" | "T2I" | "I2I" | "T2T";

/** All directions, in report order. */
export const DIRECTIONS: readonly Direction[] = ["I2T", "T2I", "I2I", "T2T"];

/** The typed arrays numeric file data decodes into (MAT variables, .npy arrays). */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;
