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
};

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
 * Generate the synthetic dataset (named "synthetic"). Same options, same data, bit for bit.
 */
export function synthetic(opts: SyntheticOptions = {}): CrossModalDataset {
  const o: Required<SyntheticOptions> = { ...SYNTHETIC_DEFAULTS };
  for (const [k, v] of Object.entries(opts)) {
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
  if (o.labelsPerItem > o.classes) {
    throw new Error(
      `synthetic: labelsPerItem (${o.labelsPerItem}) must not exceed classes (${o.classes})`,
    );
  }
  const rng = new Rng(o.seed);
  const labelRng = rng.fork(1), protoRng = rng.fork(2), itemRng = rng.fork(3);
  const imageRng = rng.fork(4), textRng = rng.fork(5);
  const { n, classes } = o, r = o.latentDim;
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
  const image = view(z, n, r, o.imageDim, o, imageRng, false);
  const text = view(z, n, r, o.textDim, o, textRng, true);
  const params = Object.entries(o).map(([k, v]) => `${k}=${v}`).join(", ");
  return {
    name: "synthetic",
    image,
    text,
    labels,
    labelNames: Array.from({ length: classes }, (_, c) => `class${c}`),
    provenance: `synthetic data generated by src/datasets/synthetic.ts (${params}): ` +
      `labels -> shared latent factors -> two random tanh views + nuisance + Gaussian noise`,
  };
}
