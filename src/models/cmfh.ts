/**
 * CMFH, Collective Matrix Factorization Hashing (Guiguang Ding, Yuchen Guo & Jile Zhou,
 * "Collective Matrix Factorization Hashing for Multimodal Data", CVPR 2014): an unsupervised
 * shallow cross-modal hashing baseline that learns one latent representation V shared by both
 * modalities of a pair, and linear maps from each modality's features to it.
 *
 * In the paper's notation (columns are items; here the code stores items as rows):
 * X1 (d1 x n, image) and X2 (d2 x n, text), centred on their training means; V (k x n) the
 * unified latent factors; U_m (d_m x k) the factor bases; P_m (k x d_m) the hash projections.
 * The objective ({@link cmfhObjective}) is
 *
 *   lambda ||X1 - U1 V||^2 + (1 - lambda) ||X2 - U2 V||^2
 *     + mu (||V - P1 X1||^2 + ||V - P2 X2||^2)
 *     + gamma (||U1||^2 + ||U2||^2 + ||P1||^2 + ||P2||^2 + ||V||^2),
 *
 * minimised by alternating the exact block minimisers (so it never increases):
 * - P_m = V X_m^T (X_m X_m^T + (gamma / mu) I)^-1 ({@link updateP});
 * - U1 = X1 V^T (V V^T + (gamma / lambda) I)^-1, U2 = X2 V^T (V V^T + (gamma / (1-lambda)) I)^-1
 *   ({@link updateU});
 * - V = (lambda U1^T U1 + (1-lambda) U2^T U2 + (2 mu + gamma) I)^-1
 *       (lambda U1^T X1 + (1-lambda) U2^T X2 + mu (P1 X1 + P2 X2)) ({@link updateV}).
 *
 * Order per iteration: P, then U, then V, so the V kept at the end is the exact V-step for
 * the final U and P. Initialisation: V, U_m, P_m uniform in [0, 1) from the seeded Rng (as
 * the authors' release uses rand); with this order only V's draw matters. Stopping: when an
 * iteration lowers the objective by less than `tolerance` (0.01, the threshold of the
 * authors' release), or after `maxIterations` (100).
 *
 * Cost: the Cholesky factors of X_m^T X_m + (gamma / mu) I are computed once, X_m^T V is shared
 * by the P and U steps and the objective ({@link cmfhObjectiveFactored}, no n x d_m
 * reconstruction), and the products go through float64 BLAS when available
 * (src/accel/dblas.ts): an iteration is O(n (d1 + d2) k) plus O((d1^2 + d2^2) k).
 *
 * Codes ({@link unifiedCodes}): the database (training) pairs get the unified codes
 * sign(V - mean(V)) (row means over the training items; since X1, X2 are centred, the V-step
 * gives rows of mean ~0, so this is the paper's sign(V)); a query of one modality gets
 * sign(P_m (x - mean_m) - mean(V)). Defaults: lambda = 0.5, mu = 100, gamma = 0.01.
 *
 * On Wikipedia these updates land 0.005-0.011 MAP above the published CMFH row (mean of 5
 * seeds). The authors' release (solveCMFH, v1.0) differs from the paper's exact minimisers:
 * ridge gamma where they have gamma / lambda (U) and gamma / mu (P), order U, V, P, and a stop
 * on an objective of unsquared norms; a diagnostic run with those rules landed within 0.003
 * of the published row. They do not guarantee a monotone objective, so they are not used here.
 *
 * Evaluation: the image and text database codes are both the unified codes. For the training
 * pairs use {@link Cmfh.trainingCodes}; for other pairs with both modalities,
 * {@link Cmfh.encodeDatabase} solves the V-step with the learned U, P (equal, for the training
 * pairs, to the stored codes). I->T compares encodeImage(query) with them, T->I
 * encodeText(query).
 *
 * @module
 */
import type { NamedArrays } from "../nn/mod.ts";
import { packSigns } from "../retrieval/codes.ts";
import { Rng } from "../random.ts";
import type { LabelMatrix, Matrix, PackedCodes } from "../types.ts";
import {
  addDiagonal,
  addScaled,
  columnMeans,
  fromMatrix,
  identity,
  type Mat,
  mat,
  subtractRow,
  transpose,
} from "../linalg.ts";
import {
  choleskyLower,
  gram,
  lowerSolve,
  lowerTSolve,
  mul,
  mulNT,
  mulTN,
  spdSolve,
} from "../accel/dblas.ts";
import { ClosedFormModel, type HashModel, type TrainingSetInfo } from "./model.ts";
import { checkCols, checkDims, checkPairs, encodeLinear, readEntry } from "./shallow.ts";

const FILE = "CMFH";

/** Configuration of CMFH (plain JSON data). */
export interface CmfhConfig {
  /** Code length k. */
  bits: number;
  /** Weight of the image factorisation (text gets 1 - lambda); in (0, 1). */
  lambda: number;
  /** Weight of the hash-projection terms ||V - P_m X_m||^2. */
  mu: number;
  /** Weight of the Frobenius regulariser on U1, U2, P1, P2, V. */
  gamma: number;
  /** Iteration cap. */
  maxIterations: number;
  /** Stop when an iteration lowers the objective by less than this (absolute). */
  tolerance: number;
  /** Seed of the random initialisation. */
  seed: number;
}

/** The defaults (lambda = 0.5, mu = 100, gamma = 0.01; release's threshold 0.01). */
export const CMFH_DEFAULTS: Readonly<Omit<CmfhConfig, "bits">> = {
  lambda: 0.5,
  mu: 100,
  gamma: 0.01,
  maxIterations: 100,
  tolerance: 0.01,
  seed: 1,
};

/** A validated config: the defaults, overridden; throws a one-line error on a bad value. */
export function cmfhConfig(bits: number, overrides: Partial<CmfhConfig> = {}): CmfhConfig {
  const c: CmfhConfig = { ...CMFH_DEFAULTS, ...overrides, bits: overrides.bits ?? bits };
  const bad = (k: string, want: string) => {
    throw new Error(
      `${FILE}: config.${k} is ${(c as unknown as Record<string, unknown>)[k]}, expected ${want}`,
    );
  };
  if (!Number.isInteger(c.bits) || c.bits < 1) bad("bits", "an integer >= 1");
  if (!(c.lambda > 0 && c.lambda < 1)) bad("lambda", "a number in (0, 1)");
  if (!(Number.isFinite(c.mu) && c.mu > 0)) bad("mu", "a finite number > 0");
  if (!(Number.isFinite(c.gamma) && c.gamma > 0)) bad("gamma", "a finite number > 0");
  if (!Number.isInteger(c.maxIterations) || c.maxIterations < 1) {
    bad("maxIterations", "an integer >= 1");
  }
  if (!(Number.isFinite(c.tolerance) && c.tolerance >= 0)) bad("tolerance", "a finite number >= 0");
  if (!Number.isInteger(c.seed)) bad("seed", "an integer");
  const known = Object.keys(CMFH_DEFAULTS).concat("bits");
  const unknown = Object.keys(c).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${FILE}: unknown config key(s) ${unknown.join(", ")}`);
  return c;
}

/** The weights of the objective. */
export type CmfhWeights = Pick<CmfhConfig, "lambda" | "mu" | "gamma">;

/** The variables of CMFH, items as rows: v is n x k (= V^T), u_m is d_m x k, p_m is k x d_m. */
export interface CmfhFactors {
  /** U1, image factor basis (d1 x k). */
  u1: Mat;
  /** U2, text factor basis (d2 x k). */
  u2: Mat;
  /** P1, image hash projection (k x d1). */
  p1: Mat;
  /** P2, text hash projection (k x d2). */
  p2: Mat;
  /** V^T, the unified latent factors of the training items (n x k). */
  v: Mat;
}

/** The CMFH objective (see the module comment) for centred x1 (n x d1), x2 (n x d2). */
export function cmfhObjective(x1: Mat, x2: Mat, f: CmfhFactors, w: CmfhWeights): number {
  const vx1 = mulNT(f.v, f.u1), vx2 = mulNT(f.v, f.u2);
  const px1 = mulNT(x1, f.p1), px2 = mulNT(x2, f.p2);
  const sq = (a: Mat, b: Mat) => {
    let s = 0;
    for (let i = 0; i < a.data.length; i++) s += (a.data[i] - b.data[i]) ** 2;
    return s;
  };
  const norm = (a: Mat) => sq(a, mat(a.rows, a.cols));
  return w.lambda * sq(x1, vx1) + (1 - w.lambda) * sq(x2, vx2) +
    w.mu * (sq(f.v, px1) + sq(f.v, px2)) +
    w.gamma * (norm(f.u1) + norm(f.u2) + norm(f.p1) + norm(f.p2) + norm(f.v));
}

/** Sum of the elementwise products of two same-shape matrices. */
function inner(a: Mat, b: Mat): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

/**
 * {@link cmfhObjective} without the n x d_m reconstructions, from xv_m = X_m^T V (d_m x k, items
 * as rows: x_m^T v) and sq_m = ||X_m||^2: ||X_m - U_m V||^2 = ||X_m||^2 - 2 <X_m^T V, U_m> +
 * <V^T V, U_m^T U_m>. Equal to it up to rounding; training keeps xv_m for the next P and U steps.
 */
export function cmfhObjectiveFactored(
  x1: Mat,
  x2: Mat,
  f: CmfhFactors,
  w: CmfhWeights,
  xv: readonly [Mat, Mat],
  sq: readonly [number, number],
): number {
  const vtv = mulTN(f.v, f.v);
  const fit = (u: Mat, m: 0 | 1) => sq[m] - 2 * inner(xv[m], u) + inner(vtv, mulTN(u, u));
  const hash = (x: Mat, p: Mat) => {
    const px = mulNT(x, p);
    let s = 0;
    for (let i = 0; i < px.data.length; i++) s += (f.v.data[i] - px.data[i]) ** 2;
    return s;
  };
  const norm = (a: Mat) => inner(a, a);
  return w.lambda * fit(f.u1, 0) + (1 - w.lambda) * fit(f.u2, 1) +
    w.mu * (hash(x1, f.p1) + hash(x2, f.p2)) +
    w.gamma * (norm(f.u1) + norm(f.u2) + norm(f.p1) + norm(f.p2) + norm(f.v));
}

/**
 * The lower Cholesky factor of X_m X_m^T + (gamma / mu) I, the matrix {@link updateP} solves
 * with (it does not change during training: computed once per modality).
 */
export function pFactor(x: Mat, w: CmfhWeights, g = gram(x)): Mat {
  return choleskyLower(addDiagonal(g, w.gamma / w.mu));
}

/**
 * P_m = V X_m^T (X_m X_m^T + (gamma / mu) I)^-1 (k x d_m); `factor` = {@link pFactor} and
 * `xtv` = X_m V^T (items as rows: x^T v) if known.
 */
export function updateP(
  x: Mat,
  v: Mat,
  w: CmfhWeights,
  factor = pFactor(x, w),
  xtv = mulTN(x, v),
): Mat {
  return transpose(lowerTSolve(factor, lowerSolve(factor, xtv)));
}

/**
 * U_m = X_m V^T (V V^T + ridge I)^-1 (d_m x k); ridge = gamma/lambda (image), gamma/(1-lambda)
 * (text); `xtv` = X_m V^T if known.
 */
export function updateU(x: Mat, v: Mat, ridge: number, xtv = mulTN(x, v)): Mat {
  return transpose(spdSolve(addDiagonal(mulTN(v, v), ridge), transpose(xtv)));
}

/** The unified V (n x k) for fixed U, P: the closed form above, for every row of x1, x2. */
export function updateV(x1: Mat, x2: Mat, f: Omit<CmfhFactors, "v">, w: CmfhWeights): Mat {
  const { lambda: l, mu, gamma } = w;
  const a = addScaled(mulTN(f.u1, f.u1), l, mulTN(f.u2, f.u2), 1 - l);
  const m = addDiagonal(a, 2 * mu + gamma);
  const rhs = addScaled(
    mul(x1, addScaled(f.u1, l, transpose(f.p1), mu)),
    1,
    mul(x2, addScaled(f.u2, 1 - l, transpose(f.p2), mu)),
    1,
  );
  return mul(rhs, spdSolve(m, identity(m.rows))); // M symmetric: rhs M^-1
}

/** Codes sign(v - threshold) of the rows of v (sign(0) = +1), packed. */
export function unifiedCodes(v: Mat, threshold: ArrayLike<number>): PackedCodes {
  const vals = new Float64Array(v.data.length);
  for (let i = 0; i < v.rows; i++) {
    for (let j = 0; j < v.cols; j++) vals[i * v.cols + j] = v.data[i * v.cols + j] - threshold[j];
  }
  return packSigns(vals, v.rows, v.cols);
}

/** One training run of CMFH on centred x1, x2 (see the module comment); objective per iteration. */
export function trainCmfh(
  x1: Mat,
  x2: Mat,
  c: CmfhConfig,
  log?: (line: string) => void,
): { factors: CmfhFactors; objective: number[]; converged: boolean } {
  const n = x1.rows, k = c.bits, rng = new Rng(c.seed);
  const uniform = (r: number, cols: number, g: Rng) => {
    const m = mat(r, cols);
    for (let i = 0; i < m.data.length; i++) m.data[i] = g.uniform();
    return m;
  };
  const f: CmfhFactors = {
    v: uniform(n, k, rng.fork(1)),
    u1: uniform(x1.cols, k, rng.fork(2)),
    u2: uniform(x2.cols, k, rng.fork(3)),
    p1: uniform(k, x1.cols, rng.fork(4)),
    p2: uniform(k, x2.cols, rng.fork(5)),
  };
  const t0 = performance.now(), r1 = pFactor(x1, c), r2 = pFactor(x2, c);
  const sq = [inner(x1, x1), inner(x2, x2)] as const;
  let xv = [mulTN(x1, f.v), mulTN(x2, f.v)] as const;
  const objective = [cmfhObjectiveFactored(x1, x2, f, c, xv, sq)];
  log?.(`CMFH: covariance factors in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (let it = 0; it < c.maxIterations; it++) {
    f.p1 = updateP(x1, f.v, c, r1, xv[0]);
    f.p2 = updateP(x2, f.v, c, r2, xv[1]);
    f.u1 = updateU(x1, f.v, c.gamma / c.lambda, xv[0]);
    f.u2 = updateU(x2, f.v, c.gamma / (1 - c.lambda), xv[1]);
    f.v = updateV(x1, x2, f, c);
    xv = [mulTN(x1, f.v), mulTN(x2, f.v)];
    objective.push(cmfhObjectiveFactored(x1, x2, f, c, xv, sq));
    const done = objective[it] - objective[it + 1] < c.tolerance;
    if ((it + 1) % 10 === 0 || done) {
      const time = ((performance.now() - t0) / 1000).toFixed(1);
      log?.(`CMFH: iteration ${it + 1}, objective ${objective[it + 1].toPrecision(8)} (${time} s)`);
    }
    if (done) return { factors: f, objective, converged: true };
  }
  return { factors: f, objective, converged: false };
}

/** What {@link Cmfh.fit} reports. */
export interface CmfhFitReport {
  /** Objective at initialisation, then after each iteration (non-increasing). */
  objective: number[];
  /** Iterations run. */
  iterations: number;
  /** Whether the tolerance stopped the loop (false: the iteration cap did). */
  converged: boolean;
  /** Wall-clock training time in seconds. */
  seconds: number;
}

/** The CMFH hashing model; see the module comment. */
export class Cmfh extends ClosedFormModel<
  Record<"p1" | "p2" | "u1" | "u2" | "mean1" | "mean2" | "threshold" | "codes", Float32Array>
> implements HashModel {
  /** Method name. */
  readonly method = "cmfh";
  /** Code length. */
  readonly bits: number;
  /** The validated configuration. */
  readonly config: Readonly<CmfhConfig>;
  readonly #d1: number;
  readonly #d2: number;
  #n = 0;

  /** An untrained model for the given feature dimensions. */
  constructor(info: Pick<TrainingSetInfo, "imageDim" | "textDim">, config: CmfhConfig) {
    super(FILE);
    this.config = Object.freeze(cmfhConfig(config.bits, config));
    checkDims(FILE, info);
    this.bits = this.config.bits;
    this.#d1 = info.imageDim;
    this.#d2 = info.textDim;
  }

  /**
   * Alternating training on all given pairs (row i of image and text is pair i; CMFH is
   * unsupervised, so `labels` is only checked for its row count when given). Parameters are
   * kept in Float32, as {@link state} stores them. `log` receives progress lines.
   */
  fit(
    image: Matrix,
    text: Matrix,
    labels?: LabelMatrix,
    log?: (line: string) => void,
  ): CmfhFitReport {
    const t0 = performance.now();
    checkPairs(FILE, image, text, labels?.rows ?? image.rows, this.#d1, this.#d2);
    const r1 = fromMatrix(image), r2 = fromMatrix(text);
    const mean1 = columnMeans(r1), mean2 = columnMeans(r2);
    const { factors: f, objective, converged } = trainCmfh(
      subtractRow(r1, mean1),
      subtractRow(r2, mean2),
      this.config,
      log,
    );
    const threshold = columnMeans(f.v), codes = new Float32Array(f.v.data.length);
    for (let i = 0; i < f.v.rows; i++) {
      for (let j = 0; j < this.bits; j++) {
        codes[i * this.bits + j] = f.v.data[i * this.bits + j] >= threshold[j] ? 1 : -1;
      }
    }
    this.#n = image.rows;
    this.params = {
      p1: Float32Array.from(transpose(f.p1).data), // stored d1 x k, as centeredProjection wants
      p2: Float32Array.from(transpose(f.p2).data),
      u1: Float32Array.from(f.u1.data),
      u2: Float32Array.from(f.u2.data),
      mean1: Float32Array.from(mean1),
      mean2: Float32Array.from(mean2),
      threshold: Float32Array.from(threshold),
      codes,
    };
    const seconds = (performance.now() - t0) / 1000;
    return { objective, iterations: objective.length - 1, converged, seconds };
  }

  /** Image query codes: sign(P1 (x - mean1) - mean(V)), packed. */
  encodeImage(x: Matrix): PackedCodes {
    const p = this.params;
    checkCols(FILE, x, this.#d1, "x (image features)");
    return encodeLinear(x, p.mean1, p.p1, this.bits, p.threshold);
  }

  /** Text query codes: sign(P2 (y - mean2) - mean(V)), packed. */
  encodeText(y: Matrix): PackedCodes {
    const p = this.params;
    checkCols(FILE, y, this.#d2, "y (text features)");
    return encodeLinear(y, p.mean2, p.p2, this.bits, p.threshold);
  }

  /**
   * Unified database codes of pairs with both modalities: the V-step with the learned U, P
   * on the centred features, thresholded at mean(V). For the training pairs this reproduces
   * {@link Cmfh.trainingCodes} (up to Float32 rounding of the stored parameters).
   */
  encodeDatabase(image: Matrix, text: Matrix): PackedCodes {
    const p = this.params, k = this.bits;
    checkPairs(FILE, image, text, image.rows, this.#d1, this.#d2);
    const f = {
      u1: mat(this.#d1, k, Float64Array.from(p.u1)),
      u2: mat(this.#d2, k, Float64Array.from(p.u2)),
      p1: transpose(mat(this.#d1, k, Float64Array.from(p.p1))),
      p2: transpose(mat(this.#d2, k, Float64Array.from(p.p2))),
    };
    const x1 = subtractRow(fromMatrix(image), p.mean1), x2 = subtractRow(fromMatrix(text), p.mean2);
    return unifiedCodes(updateV(x1, x2, f, this.config), p.threshold);
  }

  /** The unified codes sign(V - mean(V)) learned for the training pairs (the database). */
  trainingCodes(): PackedCodes {
    const p = this.params;
    return packSigns(p.codes, this.#n, this.bits);
  }

  /** "cmfh.P1T" (d1 x k), "cmfh.P2T", "cmfh.U1", "cmfh.U2", means, threshold, training codes. */
  state(): NamedArrays {
    const p = this.params, k = this.bits, d1 = this.#d1, d2 = this.#d2;
    const e = (data: Float32Array, shape: number[]) => ({ shape, data: data.slice() });
    return {
      "cmfh.P1T": e(p.p1, [d1, k]),
      "cmfh.P2T": e(p.p2, [d2, k]),
      "cmfh.U1": e(p.u1, [d1, k]),
      "cmfh.U2": e(p.u2, [d2, k]),
      "cmfh.mean1": e(p.mean1, [d1]),
      "cmfh.mean2": e(p.mean2, [d2]),
      "cmfh.threshold": e(p.threshold, [k]),
      "cmfh.B": e(p.codes, [this.#n, k]),
    };
  }

  /** Restore from {@link state} (shapes must match this model's dimensions). */
  loadState(state: NamedArrays, source: string): void {
    const k = this.bits, d1 = this.#d1, d2 = this.#d2;
    const b = state["cmfh.B"];
    const n = b && b.shape.length === 2 ? b.shape[0] : -1;
    const get = (key: string, shape: number[]) => readEntry(state, key, shape, source, "cmfh");
    this.params = {
      p1: get("cmfh.P1T", [d1, k]),
      p2: get("cmfh.P2T", [d2, k]),
      u1: get("cmfh.U1", [d1, k]),
      u2: get("cmfh.U2", [d2, k]),
      mean1: get("cmfh.mean1", [d1]),
      mean2: get("cmfh.mean2", [d2]),
      threshold: get("cmfh.threshold", [k]),
      codes: get("cmfh.B", [Math.max(n, 0), k]),
    };
    this.#n = n;
  }
}

/** Build an untrained CMFH model (a {@link HashModel} factory like the learned methods). */
export function createCmfh(
  info: Pick<TrainingSetInfo, "imageDim" | "textDim">,
  config: CmfhConfig,
): Cmfh {
  return new Cmfh(info, config);
}
