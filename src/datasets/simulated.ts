/**
 * A SIMULATED image side for datasets whose real image features are not available (here:
 * MIRFlickr-25K, whose shared files hold only the text and label sides). The features are
 * generated from the REAL labels, so retrieval experiments can run end to end; numbers
 * obtained with them are NOT comparable to published image results, and every dataset
 * built with them says so in its name (`mirflickr25k-simimg`) and provenance.
 *
 * Generative model, per item i with real multi-hot labels l_i (k_i = |l_i| labels):
 * - label-driven latent factors: per-label prototypes a_c ~ N(0, I_r) (r = `latentDim`),
 *     z_i = (Σ_c l_ic a_c) / sqrt(max(1, k_i)) + `withinStd` · e_i,   e_i ~ N(0, I_r)
 *   (e_i is item-specific variation of how the labels look);
 * - label-independent nuisance factors u_i ~ N(0, I_q) (q = `nuisanceDim`; scene, lighting,
 *   viewpoint — anything unrelated to the labels);
 * - pre-activation of each of the `dim` units:
 *     p_i = W z_i / sqrt(r) + `nuisance` · V u_i / sqrt(q) + `noise` · η_i − τ,
 *   W (dim x r), V (dim x q) ~ N(0, 1) entries; η_i ~ N(0, 1) independently per unit (drawn
 *   by inverse-CDF lookup in a 65,536-entry quantile table, tails clipped at about ±4.3σ);
 * - ReLU, like CNN fc7 features: x_i = max(0, p_i). The threshold τ = s · Φ⁻¹(`sparsity`),
 *   with s the pre-activation standard deviation, makes about a `sparsity` fraction of the
 *   values exactly zero.
 * The default 4096-d output mirrors the fc7 features the published methods use.
 *
 * @module
 */
import type { DenseMatrix, LabelMatrix } from "../types.ts";
import { Rng } from "../random.ts";

/** Parameters of {@link simulateImageFeatures}. */
export interface SimulatedImageOptions {
  /** Feature dimension (default 4096, like fc7). */
  readonly dim?: number;
  /** Label-driven latent dimension r (default 16). */
  readonly latentDim?: number;
  /** Label-independent nuisance dimension q (default 16). */
  readonly nuisanceDim?: number;
  /** Std of the item-specific latent variation e_i (default 0.7). */
  readonly withinStd?: number;
  /** Strength of the nuisance factors (default 1). */
  readonly nuisance?: number;
  /** Std of the per-unit noise η (default 1). */
  readonly noise?: number;
  /** Target fraction of exact zeros after the ReLU, in (0, 1) (default 0.7). */
  readonly sparsity?: number;
  /** Seed (default 0). */
  readonly seed?: number;
}

/** Defaults of {@link SimulatedImageOptions}. */
export const SIMULATED_DEFAULTS: Required<SimulatedImageOptions> = {
  dim: 4096,
  latentDim: 16,
  nuisanceDim: 16,
  withinStd: 0.7,
  nuisance: 1,
  noise: 1,
  sparsity: 0.7,
  seed: 0,
};

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function probit(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`probit: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425, hi = 1 - lo;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > hi) return -probit(1 - p);
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Fill in and check options. */
export function simulatedOptions(
  opts: SimulatedImageOptions = {},
): Required<SimulatedImageOptions> {
  const o: Required<SimulatedImageOptions> = { ...SIMULATED_DEFAULTS };
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined) (o as Record<string, number>)[k] = v;
  }
  for (const k of ["dim", "latentDim"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) {
      throw new Error(`simulated image side: ${k} must be an integer >= 1, got ${o[k]}`);
    }
  }
  if (!Number.isInteger(o.nuisanceDim) || o.nuisanceDim < 0) {
    throw new Error(
      `simulated image side: nuisanceDim must be an integer >= 0, got ${o.nuisanceDim}`,
    );
  }
  for (const k of ["withinStd", "nuisance", "noise"] as const) {
    if (!Number.isFinite(o[k]) || o[k] < 0) {
      throw new Error(`simulated image side: ${k} must be a finite number >= 0, got ${o[k]}`);
    }
  }
  if (!(o.sparsity > 0 && o.sparsity < 1)) {
    throw new Error(`simulated image side: sparsity must be in (0, 1), got ${o.sparsity}`);
  }
  return o;
}

/** One-line description of the generator and its parameters, for provenance strings. */
export function describeSimulation(opts: SimulatedImageOptions = {}): string {
  const o = simulatedOptions(opts);
  return `SIMULATED image features (src/datasets/simulated.ts; not real images): ` +
    `x = relu(W z/sqrt(r) + nuisance*V u/sqrt(q) + noise*eta - tau), z = label prototypes ` +
    `of the REAL labels + withinStd*e; ${
      Object.entries(o).map(([k, v]) => `${k}=${v}`).join(", ")
    }`;
}

/**
 * Simulate non-negative image features (n x dim) from real labels with the model described
 * in this module's documentation. Deterministic per seed.
 */
export function simulateImageFeatures(
  labels: LabelMatrix,
  opts: SimulatedImageOptions = {},
): DenseMatrix {
  const o = simulatedOptions(opts);
  const { rows: n, classes } = labels;
  const d = o.dim, r = o.latentDim, q = o.nuisanceDim;
  const rng = new Rng(o.seed);
  const protoRng = rng.fork(1), wRng = rng.fork(2), vRng = rng.fork(3);
  const itemRng = rng.fork(4), noiseRng = rng.fork(5);
  const A = protoRng.normals(classes * r); // prototypes, classes x r
  const W = wRng.normals(d * r);
  const V = vRng.normals(d * q);
  // Row layout for axpy loops over the d units (contiguous, no reductions, unrolled by 4):
  // Mt[c] = (W a_c) / sqrt(r): the label part of prototype c, one row of d values;
  // Gt[j] = withinStd W[:, j] / sqrt(r) (j < r), or nuisance V[:, j - r] / sqrt(q).
  const g = r + q, g4 = g + ((4 - (g % 4)) % 4);
  const Mt = new Float64Array(classes * d);
  for (let c = 0; c < classes; c++) {
    for (let u = 0; u < d; u++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += W[u * r + j] * A[c * r + j];
      Mt[c * d + u] = s / Math.sqrt(r);
    }
  }
  const Gt = new Float64Array(g4 * d); // zero rows pad g up to a multiple of 4
  for (let u = 0; u < d; u++) {
    for (let j = 0; j < r; j++) Gt[j * d + u] = (o.withinStd * W[u * r + j]) / Math.sqrt(r);
    for (let j = 0; j < q; j++) Gt[(r + j) * d + u] = (o.nuisance * V[u * q + j]) / Math.sqrt(q);
  }
  // pre-activation variance: label part ~1 (prototype sum / sqrt k has unit variance per
  // direction), item part withinStd^2, nuisance^2, noise^2
  const s = Math.sqrt(1 + o.withinStd ** 2 + o.nuisance ** 2 + o.noise ** 2);
  const tau = s * probit(o.sparsity);
  const noise = fastNormals(noiseRng);
  const out = new Float32Array(n * d);
  const row = new Float64Array(d);
  const coef = new Float64Array(g4);
  for (let i = 0; i < n; i++) {
    noise(row, o.noise, -tau);
    let k = 0;
    for (let c = 0; c < classes; c++) if (labels.data[i * classes + c]) k++;
    const scale = 1 / Math.sqrt(Math.max(1, k));
    for (let c = 0; c < classes; c++) {
      if (!labels.data[i * classes + c]) continue;
      const mc = c * d;
      for (let u = 0; u < d; u++) row[u] += scale * Mt[mc + u];
    }
    for (let j = 0; j < g; j++) coef[j] = itemRng.normal();
    for (let j = 0; j < g4; j += 4) {
      const c0 = coef[j], c1 = coef[j + 1], c2 = coef[j + 2], c3 = coef[j + 3];
      const o0 = j * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
      for (let u = 0; u < d; u++) {
        row[u] += c0 * Gt[o0 + u] + c1 * Gt[o1 + u] + c2 * Gt[o2 + u] + c3 * Gt[o3 + u];
      }
    }
    const oi = i * d;
    for (let u = 0; u < d; u++) out[oi + u] = row[u] > 0 ? row[u] : 0;
  }
  return { kind: "dense", rows: n, cols: d, data: out };
}

let NORMAL_TABLE: Float64Array | null = null;

/**
 * A fast filler of approximately standard-normal values for the bulk per-unit noise: inverse-CDF
 * sampling on a 65,536-entry table of N(0, 1) quantiles (tails clipped at about ±4.3σ), driven
 * by a local xoshiro128** stream seeded from `rng`. Fills `out[i] = std * η_i + shift`.
 */
function fastNormals(rng: Rng): (out: Float64Array, std: number, shift: number) => void {
  if (!NORMAL_TABLE) {
    NORMAL_TABLE = new Float64Array(65536);
    for (let k = 0; k < 65536; k++) NORMAL_TABLE[k] = probit((k + 0.5) / 65536);
  }
  const T = NORMAL_TABLE;
  let s0 = rng.nextUint32() | 1,
    s1 = rng.nextUint32(),
    s2 = rng.nextUint32(),
    s3 = rng.nextUint32();
  return (out, std, shift) => {
    for (let i = 0; i < out.length; i += 2) {
      const x = Math.imul(s1, 5);
      const w = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = std * T[w & 0xffff] + shift;
      if (i + 1 < out.length) out[i + 1] = std * T[w >>> 16] + shift;
    }
  };
}
