/**
 * A seeded synthetic multi-label cross-modal dataset, for fast experiments and tests.
 *
 * Generative model (all draws from {@link Rng} forks of `seed`):
 * 1. Labels: item i gets k_i ~ Uniform{1..labelsPerItem} distinct classes, drawn without
 *    replacement with mildly skewed class popularity w_c ∝ 1/sqrt(c+1).
 * 2. Shared latent: class prototypes P_c ~ N(0, I_r) (r = `latentDim`);
 *    z_i = (Σ_{c ∈ labels_i} P_c) / sqrt(k_i) + `itemStd` · e_i, e_i ~ N(0, I_r).
 *    The e_i term is pair-specific but shared by both modalities.
 * 3. Each modality m (image, text) is a different random nonlinear view of z_i plus
 *    label-independent nuisance u_i^m ~ N(0, I_q) (q = `nuisanceDim`):
 *      h = tanh(A_m z_i / sqrt(r) + `nuisance` · B_m u_i^m / sqrt(q) + b_m)   (H = `hiddenDim`)
 *      x = C_m h / sqrt(H) + `noise` · ε,  ε ~ N(0, I_d)
 *    with A_m, B_m, C_m ~ N(0, 1) and b_m ~ N(0, 0.25). The text view is then made
 *    non-negative (ReLU), like bag-of-words / tf-idf features.
 * 4. Two mechanism knobs, both 0 by default (and then without any effect: the data are bit for
 *    bit those of a generator without them):
 *    - `shift`: the image view's latent input becomes z_i + `shift` · δ, where δ is ONE fixed
 *      random direction for every image (drawn as N(0, I_r) and rescaled to length sqrt(r), so
 *      its coordinates have RMS 1, the scale of the class part of z). The text view still sees
 *      z_i: the image features' distribution moves away from what the text side encodes. As
 *      the offset enters before the tanh, a large shift also saturates hidden units of the image
 *      view, which removes label information as well as moving the distribution.
 *    - `disagreement`: exactly round(`disagreement` · n) pairs, chosen at random, get a TEXT
 *      view generated from another, randomly chosen item's latent z_j (j ≠ i; the pair keeps
 *      its own nuisance and noise draws and its own labels), so the two sides of those pairs
 *      disagree. Every other text row is unchanged.
 *    Each knob draws from its own {@link Rng} fork (taken after the others), so turning one on
 *    changes nothing else: `shift` changes only image rows, `disagreement` only the chosen text
 *    rows.
 * 5. The knobs of docs/mechanisms.md, amendments 2 and 3, each creating one module's problem
 *    (all off by default, each from its own fork, so earlier data stay bit for bit the same):
 *    - `shortcut`: `privateDim` extra text columns, a noisy random projection of the labels on
 *      the training rows and of another random item's labels elsewhere — a modality-private
 *      factor in separable directions that predicts the labels on the training pairs only;
 *    - `gap`: every image row moves by `gap` · D g_i (D fixed, imageDim x `gapDim`; g_i ~
 *      N(0, I) per item) — a spread of the image distribution the text distribution lacks,
 *      which BatchNorm does not remove;
 *    - `trainDisagreement`: a share of the TRAINING pairs gets a text view from another
 *      training item's latent; the other rows keep their own.
 *    With any of them on, the data carry their own split (`splitIndices`): the last `testRows`
 *    rows are the queries; with `databaseRows` > 0 the rows before them are a database disjoint
 *    from the training pairs (the rows before that), else the database is every other row and
 *    the training pairs are the database. `oracle` = 1 applies each knob's known right answer
 *    (the positive controls): the shortcut columns zeroed, the gap not added, the disagreeing
 *    pairs left out of the split's training rows.
 *
 * So labels are recoverable from either modality, but only through a nonlinear map and past
 * nuisance and noise: random-projection hashing stays clearly below a trained model.
 *
 * @module
 */
import type { CrossModalDataset, DenseMatrix, LabelMatrix } from "../types.ts";
import { Rng } from "../random.ts";

/** Parameters of {@link synthetic}. */
export interface SyntheticOptions {
  /** Number of pairs (default 3000). */
  readonly n?: number;
  /** Image feature dimension (default 256). */
  readonly imageDim?: number;
  /** Text feature dimension (default 128). */
  readonly textDim?: number;
  /** Number of classes (default 10). */
  readonly classes?: number;
  /** Maximum labels per item; the count is uniform in 1..this (default 3; 1 = single-label). */
  readonly labelsPerItem?: number;
  /** Standard deviation of the additive feature noise (default 0.5). */
  readonly noise?: number;
  /** Strength of the label-independent nuisance factors (default 1). */
  readonly nuisance?: number;
  /** Standard deviation of the pair-specific shared latent variation (default 0.5). */
  readonly itemStd?: number;
  /** Shared latent dimension r (default 16). */
  readonly latentDim?: number;
  /** Nuisance dimension q per modality (default 16). */
  readonly nuisanceDim?: number;
  /** Hidden width H of each modality's nonlinear view (default 64). */
  readonly hiddenDim?: number;
  /** Seed (default 0). */
  readonly seed?: number;
  /**
   * Strength of a fixed random offset added to the IMAGE view's latent input (identical for
   * every image; a direction of length sqrt(latentDim) times this): the image features'
   * distribution moves away from what the text side encodes. A finite number >= 0 (default 0,
   * no offset).
   */
  readonly shift?: number;
  /**
   * Fraction of pairs whose TEXT view is generated from another (randomly chosen) item's
   * latent, so the two sides of those pairs disagree; labels stay those of the pair. Exactly
   * round(disagreement · n) pairs are affected. In [0, 1] (default 0, none).
   */
  readonly disagreement?: number;
  /**
   * Strength of a TEXT-private label shortcut (docs/mechanisms.md, amendment 2): the text rows
   * get `privateDim` extra columns, a noisy random projection of the labels scaled by this on
   * the training-side rows and of another random item's labels on the test rows, so the
   * shortcut predicts the labels on the training pairs only. A finite number >= 0 (default 0:
   * no extra columns).
   */
  readonly shortcut?: number;
  /** Number of shortcut columns appended to the text rows when `shortcut` > 0 (default 16). */
  readonly privateDim?: number;
  /**
   * Strength of a modality gap in the IMAGE rows that BatchNorm cannot remove (amendment 2):
   * every image row moves by `gap` · D g_i, with D a fixed random imageDim x `gapDim` matrix
   * (N(0, 1) entries) and g_i ~ N(0, I) drawn per item, independent of the labels; the text
   * rows have no such spread. A finite number >= 0 (default 0, none).
   */
  readonly gap?: number;
  /** Number of gap directions (default 8). */
  readonly gapDim?: number;
  /**
   * Fraction of the TRAINING-side pairs whose text view is generated from another item's
   * latent (amendment 2; the test rows keep their own text): exactly
   * round(`trainDisagreement` · (n − testRows)) pairs. In [0, 1] (default 0, none).
   */
  readonly trainDisagreement?: number;
  /**
   * Rows at the end kept as the test rows of amendment 2's knobs (the shortcut does not hold
   * there, trainDisagreement leaves them alone) and given as the query set of the generator's
   * own split (`splitIndices`). An integer >= 1 and < n (default 500).
   */
  readonly testRows?: number;
  /**
   * Rows just before the test rows kept as a retrieval database disjoint from the training
   * pairs (amendment 3): like the test rows, the shortcut does not hold there and
   * trainDisagreement leaves them alone; the generator's split then has query = the last
   * `testRows` rows, database = these rows, train = the rows before them. An integer >= 0
   * (default 0: the database is the training-side rows, as in amendment 2).
   */
  readonly databaseRows?: number;
  /**
   * 1 = the positive-control oracle of amendment 2: each of `shortcut`, `gap` and
   * `trainDisagreement` that is on gets its known right answer — the shortcut columns masked to
   * zero (the true common inputs as a fixed mask), the gap taken away from the image rows (the
   * true alignment), the disagreeing pairs left out of the training rows of the generator's
   * split (the clean pairs). 0 or 1 (default 0).
   */
  readonly oracle?: number;
}

/** The defaults of {@link SyntheticOptions}, filled in. */
export const SYNTHETIC_DEFAULTS: Required<SyntheticOptions> = {
  n: 3000,
  imageDim: 256,
  textDim: 128,
  classes: 10,
  labelsPerItem: 3,
  noise: 0.5,
  nuisance: 1,
  itemStd: 0.5,
  latentDim: 16,
  nuisanceDim: 16,
  hiddenDim: 64,
  seed: 0,
  shift: 0,
  disagreement: 0,
  shortcut: 0,
  privateDim: 16,
  gap: 0,
  gapDim: 8,
  trainDisagreement: 0,
  testRows: 500,
  databaseRows: 0,
  oracle: 0,
};

/**
 * The options left out of the provenance at their default value (the mechanism knobs and
 * their settings), so data generated without them keep their provenance.
 */
const KNOBS_OFF_BY_DEFAULT: readonly string[] = [
  "shift",
  "disagreement",
  "shortcut",
  "privateDim",
  "gap",
  "gapDim",
  "trainDisagreement",
  "testRows",
  "databaseRows",
  "oracle",
];

/** Amendment 2's knobs: any of them on gives the data the generator's own split. */
const TRAIN_TEST_KNOBS = [
  "shortcut",
  "gap",
  "trainDisagreement",
  "oracle",
  "databaseRows",
] as const;

function checkInt(v: number, name: string, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`synthetic: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

function checkNonNeg(v: number, name: string): void {
  if (!Number.isFinite(v) || v < 0) {
    throw new Error(`synthetic: ${name} must be a finite number >= 0, got ${v}`);
  }
}

/** Draw multi-hot labels: k ~ U{1..maxK} distinct classes per item, skewed popularity. */
function drawLabels(n: number, classes: number, maxK: number, rng: Rng): LabelMatrix {
  const w = Array.from({ length: classes }, (_, c) => 1 / Math.sqrt(c + 1));
  const data = new Uint8Array(n * classes);
  const avail = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    const k = 1 + rng.int(maxK);
    for (let c = 0; c < classes; c++) avail[c] = w[c];
    for (let j = 0; j < k; j++) {
      let total = 0;
      for (let c = 0; c < classes; c++) total += avail[c];
      let u = rng.uniform() * total, c = 0;
      while (c < classes - 1 && (u -= avail[c]) >= 0) c++;
      while (avail[c] === 0) c = (c + 1) % classes; // guard against rounding at the end
      data[i * classes + c] = 1;
      avail[c] = 0;
    }
  }
  return { rows: n, classes, data };
}

/** One modality: x = C tanh(A z/sqrt(r) + s B u/sqrt(q) + b)/sqrt(H) + noise ε. */
function view(
  z: Float64Array,
  n: number,
  r: number,
  dim: number,
  o: Required<SyntheticOptions>,
  rng: Rng,
  nonNegative: boolean,
): DenseMatrix {
  const H = o.hiddenDim, q = o.nuisanceDim;
  const A = rng.normals(H * r, 1 / Math.sqrt(r));
  const B = rng.normals(H * q, q > 0 ? o.nuisance / Math.sqrt(q) : 0);
  const b = rng.normals(H, 0.5);
  const C = rng.normals(dim * H, 1 / Math.sqrt(H));
  const noiseRng = rng.fork(1), nuisRng = rng.fork(2);
  const out = new Float32Array(n * dim);
  const h = new Float64Array(H), u = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < q; k++) u[k] = nuisRng.normal();
    const zi = i * r;
    for (let j = 0; j < H; j++) {
      let s = b[j];
      for (let k = 0; k < r; k++) s += A[j * r + k] * z[zi + k];
      for (let k = 0; k < q; k++) s += B[j * q + k] * u[k];
      h[j] = Math.tanh(s);
    }
    const oi = i * dim;
    for (let d = 0; d < dim; d++) {
      let s = 0;
      const cd = d * H;
      for (let j = 0; j < H; j++) s += C[cd + j] * h[j];
      s += o.noise * noiseRng.normal();
      out[oi + d] = nonNegative && s < 0 ? 0 : s;
    }
  }
  return { kind: "dense", rows: n, cols: dim, data: out };
}

/**
 * The options with defaults filled in, validated: throws a one-line error naming the first
 * invalid option (an unknown name included).
 */
export function syntheticOptions(opts: SyntheticOptions = {}): Required<SyntheticOptions> {
  const o: Required<SyntheticOptions> = { ...SYNTHETIC_DEFAULTS };
  for (const [k, v] of Object.entries(opts)) {
    if (!(k in SYNTHETIC_DEFAULTS)) {
      throw new Error(
        `synthetic: unknown option '${k}'; expected one of ${
          Object.keys(SYNTHETIC_DEFAULTS).join(", ")
        }`,
      );
    }
    if (v !== undefined) (o as Record<string, number>)[k] = v;
  }
  checkInt(o.n, "n", 1);
  checkInt(o.imageDim, "imageDim", 1);
  checkInt(o.textDim, "textDim", 1);
  checkInt(o.classes, "classes", 2);
  checkInt(o.labelsPerItem, "labelsPerItem", 1);
  checkInt(o.latentDim, "latentDim", 1);
  checkInt(o.nuisanceDim, "nuisanceDim", 0);
  checkInt(o.hiddenDim, "hiddenDim", 1);
  checkNonNeg(o.noise, "noise");
  checkNonNeg(o.nuisance, "nuisance");
  checkNonNeg(o.itemStd, "itemStd");
  checkNonNeg(o.shift, "shift");
  checkNonNeg(o.shortcut, "shortcut");
  checkNonNeg(o.gap, "gap");
  checkInt(o.privateDim, "privateDim", 1);
  checkInt(o.gapDim, "gapDim", 1);
  checkInt(o.testRows, "testRows", 1);
  checkInt(o.databaseRows, "databaseRows", 0);
  if (o.oracle !== 0 && o.oracle !== 1) {
    throw new Error(`synthetic: oracle must be 0 or 1, got ${o.oracle}`);
  }
  if (
    !Number.isFinite(o.trainDisagreement) || o.trainDisagreement < 0 || o.trainDisagreement > 1
  ) {
    throw new Error(
      `synthetic: trainDisagreement must be a number in [0, 1], got ${o.trainDisagreement}`,
    );
  }
  if (TRAIN_TEST_KNOBS.some((k) => o[k] !== 0)) {
    const trainRows = o.n - o.testRows - o.databaseRows;
    if (trainRows < 2) {
      throw new Error(
        `synthetic: testRows + databaseRows must leave at least 2 training rows of n ${o.n}, ` +
          `got ${o.testRows} + ${o.databaseRows}`,
      );
    }
    if (o.databaseRows > 0 && o.databaseRows < trainRows) {
      throw new Error(
        `synthetic: databaseRows must be 0 or at least the ${trainRows} training rows ` +
          `(the split draws training pairs up to the database size), got ${o.databaseRows}`,
      );
    }
  }
  if (!Number.isFinite(o.disagreement) || o.disagreement < 0 || o.disagreement > 1) {
    throw new Error(`synthetic: disagreement must be a number in [0, 1], got ${o.disagreement}`);
  }
  if (o.disagreement > 0 && o.n < 2) {
    throw new Error(
      `synthetic: disagreement needs n >= 2 (another item to take from), got n ${o.n}`,
    );
  }
  if (o.labelsPerItem > o.classes) {
    throw new Error(
      `synthetic: labelsPerItem (${o.labelsPerItem}) must not exceed classes (${o.classes})`,
    );
  }
  return o;
}

/** The latent rows of every item with `shift` · δ added (δ: length sqrt(r), from `rng`). */
function shifted(z: Float64Array, r: number, shift: number, rng: Rng): Float64Array {
  if (shift === 0) return z;
  const d = rng.normals(r);
  let norm = 0;
  for (let j = 0; j < r; j++) norm += d[j] * d[j];
  const scale = (shift * Math.sqrt(r)) / Math.sqrt(norm);
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = z[i] + scale * d[i % r];
  return out;
}

/**
 * Which pairs disagree and whose latent their text view takes: `donor[i]` is the item whose
 * latent generates text row i (i itself for the round(fraction · n) pairs not chosen).
 */
export function disagreementDonors(n: number, fraction: number, rng: Rng): Int32Array {
  const donor = new Int32Array(n);
  for (let i = 0; i < n; i++) donor[i] = i;
  const m = Math.round(fraction * n);
  if (m === 0) return donor;
  const chosen = rng.permutation(n).subarray(0, m);
  for (const i of chosen) {
    const j = rng.int(n - 1); // uniform over the other n - 1 items
    donor[i] = j >= i ? j + 1 : j;
  }
  return donor;
}

/** The latent rows taken from each row's donor. */
function fromDonors(z: Float64Array, r: number, donor: Int32Array): Float64Array {
  let changed = false;
  for (let i = 0; i < donor.length && !changed; i++) changed = donor[i] !== i;
  if (!changed) return z;
  const out = new Float64Array(z.length);
  for (let i = 0; i < donor.length; i++) {
    out.set(z.subarray(donor[i] * r, (donor[i] + 1) * r), i * r);
  }
  return out;
}

/** The rows of one label row's classes, as a multi-hot Float64Array. */
function labelRow(labels: LabelMatrix, i: number): Float64Array {
  const out = new Float64Array(labels.classes);
  for (let c = 0; c < labels.classes; c++) out[c] = labels.data[i * labels.classes + c];
  return out;
}

/**
 * The text rows with `privateDim` shortcut columns appended (amendment 2): row i gets
 * `shortcut` · Q l / sqrt(k) + N(0, I), Q ~ N(0, 1) (privateDim x classes), l the labels of
 * item i on the first `trainSide` rows and those of another random item on the test rows, k
 * their count. With `masked` (the oracle) the columns are zeros.
 */
function withShortcut(
  text: DenseMatrix,
  labels: LabelMatrix,
  o: Required<SyntheticOptions>,
  trainSide: number,
  rng: Rng,
  masked: boolean,
): DenseMatrix {
  const n = text.rows, p = o.privateDim, c = labels.classes, cols = text.cols + p;
  const Q = rng.normals(p * c);
  const noiseRng = rng.fork(1), donorRng = rng.fork(2);
  const out = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) {
    out.set(text.data.subarray(i * text.cols, (i + 1) * text.cols), i * cols);
    let src = i;
    if (i >= trainSide) {
      const j = donorRng.int(n - 1);
      src = j >= i ? j + 1 : j;
    }
    const l = labelRow(labels, src);
    let k = 0;
    for (let a = 0; a < c; a++) k += l[a];
    for (let d = 0; d < p; d++) {
      let s = 0;
      for (let a = 0; a < c; a++) if (l[a]) s += Q[d * c + a];
      const v = (o.shortcut * s) / Math.sqrt(k) + noiseRng.normal();
      out[i * cols + text.cols + d] = masked ? 0 : v;
    }
  }
  return { kind: "dense", rows: n, cols, data: out };
}

/**
 * The image rows moved by `gap` · D g_i (amendment 2): D ~ N(0, 1/gapDim) (imageDim x gapDim,
 * so each coordinate's added variance is gap²), g_i ~ N(0, I) per item.
 */
function withGap(image: DenseMatrix, o: Required<SyntheticOptions>, rng: Rng): DenseMatrix {
  const n = image.rows, dim = image.cols, q = o.gapDim;
  const D = rng.normals(dim * q, 1 / Math.sqrt(q));
  const gRng = rng.fork(1);
  const out = Float32Array.from(image.data);
  const g = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < q; k++) g[k] = gRng.normal();
    for (let d = 0; d < dim; d++) {
      let s = 0;
      for (let k = 0; k < q; k++) s += D[d * q + k] * g[k];
      out[i * dim + d] += o.gap * s;
    }
  }
  return { kind: "dense", rows: n, cols: dim, data: out };
}

/**
 * The generator's own split when amendment 2's knobs are on: query = the last `testRows` rows;
 * with `databaseRows` 0 the database is every other row and train = the database, otherwise
 * the database is the `databaseRows` rows before the queries and train = the rows before it;
 * train leaves out the rows in `leftOut`.
 */
function ownSplit(o: Required<SyntheticOptions>, leftOut: ReadonlySet<number>) {
  const n = o.n, dbStart = n - o.testRows - o.databaseRows;
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  const train = range(0, dbStart).filter((i) => !leftOut.has(i));
  if (o.databaseRows === 0) {
    return { query: range(dbStart, n), database: range(0, dbStart), train };
  }
  return { query: range(n - o.testRows, n), database: range(dbStart, n - o.testRows), train };
}

/**
 * Generate the synthetic dataset (named "synthetic"). Same options, same data, bit for bit.
 */
export function synthetic(opts: SyntheticOptions = {}): CrossModalDataset {
  const o = syntheticOptions(opts);
  const rng = new Rng(o.seed);
  const labelRng = rng.fork(1), protoRng = rng.fork(2), itemRng = rng.fork(3);
  const imageRng = rng.fork(4), textRng = rng.fork(5);
  const shiftRng = rng.fork(6), disagreementRng = rng.fork(7); // after the others: no change there
  const shortcutRng = rng.fork(8), gapRng = rng.fork(9), trainDisRng = rng.fork(10);
  const { n, classes } = o, r = o.latentDim;
  const amended = TRAIN_TEST_KNOBS.some((k) => o[k] !== 0);
  const trainSide = n - o.testRows - o.databaseRows; // the rows train-only effects touch
  const labels = drawLabels(n, classes, o.labelsPerItem, labelRng);
  const P = protoRng.normals(classes * r);
  const z = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let c = 0; c < classes; c++) {
      if (labels.data[i * classes + c]) {
        k++;
        for (let j = 0; j < r; j++) z[i * r + j] += P[c * r + j];
      }
    }
    const s = 1 / Math.sqrt(k);
    for (let j = 0; j < r; j++) z[i * r + j] = z[i * r + j] * s + o.itemStd * itemRng.normal();
  }
  let image = view(shifted(z, r, o.shift, shiftRng), n, r, o.imageDim, o, imageRng, false);
  if (o.gap > 0 && o.oracle === 0) image = withGap(image, o, gapRng);
  const donors = disagreementDonors(n, o.disagreement, disagreementRng);
  const leftOut = new Set<number>();
  if (o.trainDisagreement > 0) {
    const own = disagreementDonors(trainSide, o.trainDisagreement, trainDisRng);
    for (let i = 0; i < trainSide; i++) {
      if (own[i] !== i) {
        donors[i] = own[i];
        leftOut.add(i);
      }
    }
  }
  let text = view(fromDonors(z, r, donors), n, r, o.textDim, o, textRng, true);
  if (o.shortcut > 0) {
    text = withShortcut(text, labels, o, trainSide, shortcutRng, o.oracle === 1);
  }
  const params = Object.entries(o)
    .filter(([k, v]) =>
      !(KNOBS_OFF_BY_DEFAULT.includes(k) && v === (SYNTHETIC_DEFAULTS as Record<string, number>)[k])
    )
    .map(([k, v]) => `${k}=${v}`).join(", ");
  return {
    name: "synthetic",
    image,
    text,
    labels,
    labelNames: Array.from({ length: classes }, (_, c) => `class${c}`),
    provenance: `synthetic data generated by src/datasets/synthetic.ts (${params}): ` +
      `labels -> shared latent factors -> two random tanh views + nuisance + Gaussian noise`,
    ...(amended ? { splitIndices: ownSplit(o, o.oracle === 1 ? leftOut : new Set()) } : {}),
  };
}
