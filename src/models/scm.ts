/**
 * SCM, Semantic Correlation Maximization (Dongqing Zhang & Wu-Jun Li, "Large-Scale Supervised
 * Multimodal Hashing with Semantic Correlation Maximization", AAAI 2014): a shallow supervised
 * cross-modal hashing baseline with linear hash functions h_x(x) = sign(x^T w_x) and
 * h_y(y) = sign(y^T w_y) on zero-centred features.
 *
 * The paper's model, with X (n x d_x, image) and Y (n x d_y, text) centred on the training
 * means and L the 0/1 label matrix:
 * - label similarity S = 2 L~ L~^T - E, where row i of L~ is l_i / ||l_i||_2 (cosine similarity
 *   of the label vectors mapped to [-1, 1]) and E is all ones ({@link normalizedLabels},
 *   {@link labelSimilarity});
 * - objective min ||sign(X Wx) sign(Y Wy)^T - c S||_F^2 with c the code length; dropping the
 *   signs and constraining the projections makes each bit a generalized eigenproblem
 *   [0, X^T S Y; Y^T S X, 0] w = lambda [X^T X + gamma I, 0; 0, Y^T Y + gamma I] w, solved in
 *   its reduced form X^T S Y (Y^T Y + gamma I)^-1 Y^T S X w_x = lambda^2 (X^T X + gamma I) w_x,
 *   w_y proportional to (Y^T Y + gamma I)^-1 Y^T S X w_x ({@link scmEigen}); X^T S Y is
 *   computed in O(n) without forming S ({@link semanticCorrelation});
 * - SCM-Orth ({@link trainScmOrth}): all c bits at once, the top c eigenvectors (orthogonal
 *   projections: W_x^T (X^T X + gamma I) W_x = I);
 * - SCM-Seq ({@link trainScmSeq}): bit t solves the same problem for the residual
 *   R_t = c S - sum_{k<t} sign(X w_x^k) sign(Y w_y^k)^T, i.e. X^T R_t Y is updated by
 *   subtracting (X^T b_x^k)(Y^T b_y^k)^T after each bit ({@link residualUpdate}).
 *
 * Setting: gamma = 1e-6 (the ridge on X^T X and Y^T Y; the authors' release uses this value).
 * SCM has no other hyper-parameter and no randomness: training is deterministic. By default
 * SCM-Seq also does what the authors' released code does when a bit's eigenvalue exceeds the
 * previous one: the remaining bits take CCA directions ({@link ScmConfig.ccaFallback}); with
 * it, the published Wikipedia SCM-Seq numbers are reproduced to the 4th decimal.
 *
 * Solver (src/models/scm_solver.ts): the eigenproblem is solved in whitened form through the
 * Cholesky factors of X^T X + gamma I and Y^T Y + gamma I, on the factored cross term (rank at
 * most classes + 1, plus one per learned SCM-Seq bit), so no d_x x d_x eigen-decomposition is
 * needed and the cost is dominated by the two covariances (float64 BLAS when available,
 * src/accel/dblas.ts). The determined directions are those of the direct formulation (up to
 * sign, which leaves the codes' Hamming distances unchanged).
 *
 * Limitation of SCM-Orth: X^T S Y has rank at most min(d_x, d_y, classes + 1), so at most that
 * many eigenvalues are non-zero (10 on Wikipedia's 10-d text side). Directions beyond that rank
 * are not determined by the objective (any vector of the null space is a solution); they are
 * the Householder completion of the determined ones, with their (zero) eigenvalues in
 * `eigenvalues`. Their w_y = Cyy^-1 Cxy^T w_x is numerically zero, so the text side of such
 * bits is set by rounding (as it was before). The same holds for CCA fallback bits beyond the
 * rank of X^T Y (SCM-Seq at 64 bits on Wikipedia). In v0.2.0 these directions came from a
 * full d_x x d_x eigen-solver; on Wikipedia (5 seeds, which only reorder the training rows)
 * the completion moves SCM-Orth's mean MAP by +0.010 to +0.022 (I->T) and +0.001 to +0.002
 * (T->I), SCM-Seq 64 bits by < 0.001; every other SCM and CMFH cell is unchanged.
 *
 * The class implements {@link HashModel} like the random-projection baseline (trainStep /
 * endEpoch do nothing); training is the closed-form {@link Scm.fit} on all training pairs.
 *
 * @module
 */
import type { NamedArrays } from "../nn/mod.ts";
import type { LabelMatrix, Matrix, PackedCodes } from "../types.ts";
import {
  addDiagonal,
  columnMeans,
  fromMatrix,
  type Mat,
  mat,
  matMulNT,
  matMulTN,
  subtractRow,
  transpose,
} from "../linalg.ts";
import { choleskyLower, gram, lowerSolve, mul, mulNT, mulTN } from "../accel/dblas.ts";
import { type WhitenedCross, whitenedTop } from "./scm_solver.ts";
import { ClosedFormModel, type HashModel, type TrainingSetInfo } from "./model.ts";
import { checkCols, checkDims, checkPairs, encodeLinear, readEntry } from "./shallow.ts";

const FILE = "SCM";

/** The two SCM variants. */
export type ScmVariant = "orth" | "seq";

/** Configuration of SCM (plain JSON data). */
export interface ScmConfig {
  /** Code length c. */
  bits: number;
  /** "orth" (all bits from one eigen-decomposition) or "seq" (bit by bit on the residual). */
  variant: ScmVariant;
  /** Ridge gamma added to X^T X and Y^T Y (paper / authors' code: 1e-6). */
  gamma: number;
  /**
   * SCM-Seq only: when a bit's eigenvalue exceeds the previous bit's (the residual stopped
   * shrinking), stop and give the remaining bits t..c the CCA directions c-t+1..1 (the top
   * CCA directions, last bit = first direction), as the authors' released trainSCM_seq does.
   * false = the plain sequential algorithm for every bit.
   */
  ccaFallback: boolean;
}

/** The paper's defaults (SCM-Seq is the variant the paper recommends). */
export const SCM_DEFAULTS: Readonly<Omit<ScmConfig, "bits">> = {
  variant: "seq",
  gamma: 1e-6,
  ccaFallback: true,
};

/** A validated config: the defaults, overridden; throws a one-line error on a bad value. */
export function scmConfig(bits: number, overrides: Partial<ScmConfig> = {}): ScmConfig {
  const c: ScmConfig = { ...SCM_DEFAULTS, ...overrides, bits: overrides.bits ?? bits };
  if (!Number.isInteger(c.bits) || c.bits < 1) {
    throw new Error(`${FILE}: config.bits is ${c.bits}, expected an integer >= 1`);
  }
  if (c.variant !== "orth" && c.variant !== "seq") {
    throw new Error(`${FILE}: config.variant is '${c.variant}', expected 'orth' or 'seq'`);
  }
  if (!(Number.isFinite(c.gamma) && c.gamma > 0)) {
    throw new Error(`${FILE}: config.gamma is ${c.gamma}, expected a finite number > 0`);
  }
  if (typeof c.ccaFallback !== "boolean") {
    throw new Error(`${FILE}: config.ccaFallback is ${c.ccaFallback}, expected true or false`);
  }
  const known = ["bits", "variant", "gamma", "ccaFallback"];
  const unknown = Object.keys(c).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${FILE}: unknown config key(s) ${unknown.join(", ")}`);
  return c;
}

/** Projections learned by SCM: column k of wx / wy is bit k's w_x / w_y. */
export interface ScmProjections {
  /** d_x x c. */
  wx: Mat;
  /** d_y x c. */
  wy: Mat;
  /** lambda^2 of each bit's generalized eigenproblem (squared relaxed correlation). */
  eigenvalues: Float64Array;
}

/** Rows of the label matrix L2-normalised: L~ (n x classes). All-zero rows stay zero. */
export function normalizedLabels(labels: LabelMatrix): Mat {
  const { rows, classes } = labels, out = mat(rows, classes);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < classes; c++) s += labels.data[i * classes + c];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < classes; c++) {
      out.data[i * classes + c] = labels.data[i * classes + c] * inv;
    }
  }
  return out;
}

/** The explicit n x n similarity S = 2 L~ L~^T - E (for inspection and tests; O(n^2)). */
export function labelSimilarity(labels: LabelMatrix): Mat {
  const lt = normalizedLabels(labels), s = matMulNT(lt, lt);
  for (let i = 0; i < s.data.length; i++) s.data[i] = 2 * s.data[i] - 1;
  return s;
}

/** X^T S Y = 2 (X^T L~)(Y^T L~)^T - (X^T 1)(Y^T 1)^T, in O(n (d_x + d_y) classes). */
export function semanticCorrelation(x: Mat, y: Mat, lt: Mat): Mat {
  const xl = matMulTN(x, lt), yl = matMulTN(y, lt), out = matMulNT(xl, yl);
  const sx = columnSums(x), sy = columnSums(y);
  for (let i = 0; i < x.cols; i++) {
    for (let j = 0; j < y.cols; j++) {
      out.data[i * y.cols + j] = 2 * out.data[i * y.cols + j] - sx[i] * sy[j];
    }
  }
  return out;
}

function columnSums(a: Mat): Float64Array {
  const s = columnMeans(a);
  for (let j = 0; j < s.length; j++) s[j] *= a.rows;
  return s;
}

/**
 * The top k solutions of the generalized eigenproblem of SCM for a cross term Cxy = X^T R Y:
 * Cxy Cyy^-1 Cxy^T w_x = lambda^2 Cxx w_x with Cxx = X^T X + gamma I, Cyy = Y^T Y + gamma I,
 * solved in whitened form through the Cholesky factors of Cxx and Cyy (src/models/scm_solver.ts).
 * Returns w_x with w_x^T Cxx w_x = 1 and w_y = Cyy^-1 Cxy^T w_x / lambda (so w_y^T Cyy w_y = 1)
 * for lambda^2 > 0; for a (numerically) zero eigenvalue w_y = Cyy^-1 Cxy^T w_x unscaled.
 */
export function scmEigen(
  cxx: Mat,
  cyy: Mat,
  cxy: Mat,
  k: number,
  rx = choleskyLower(cxx),
): ScmProjections {
  const ry = choleskyLower(cyy);
  return whitenedTop(rx, ry, whitenedExplicit(rx, ry, cxy), k);
}

/** P = Rx^-1 Cxy Ry^-T, explicit. */
function whitenedExplicit(rx: Mat, ry: Mat, cxy: Mat): WhitenedCross {
  return { p: transpose(lowerSolve(ry, transpose(lowerSolve(rx, cxy)))) };
}

/** [A | B] (same row count). */
function hcat(a: Mat, b: Mat, scaleB = 1): Mat {
  const c = a.cols + b.cols, out = mat(a.rows, c);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) out.data[i * c + j] = a.data[i * a.cols + j];
    for (let j = 0; j < b.cols; j++) out.data[i * c + a.cols + j] = scaleB * b.data[i * b.cols + j];
  }
  return out;
}

/** sign(M w) (sign(0) = +1) for the column vector M w, as n x 1. */
function signs(v: Mat): Mat {
  return mat(v.rows, 1, v.data.map((s) => (s >= 0 ? 1 : -1)));
}

/** Signs (sign(0) = +1) of X w, as a column vector n x 1. */
function signColumn(x: Mat, w: Mat, col: number): Mat {
  const out = mat(x.rows, 1), d = x.cols;
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x.data[i * d + j] * w.data[j * w.cols + col];
    out.data[i] = s >= 0 ? 1 : -1;
  }
  return out;
}

/**
 * The residual update of SCM-Seq: with R_t = R_{t-1} - b_x b_y^T (b_x = sign(X w_x),
 * b_y = sign(Y w_y)), the cross term X^T R_t Y = X^T R_{t-1} Y - (X^T b_x)(Y^T b_y)^T.
 * Returns the new cross term; `col` picks the bit's column of wx / wy.
 */
export function residualUpdate(cxy: Mat, x: Mat, y: Mat, wx: Mat, wy: Mat, col = 0): Mat {
  const xb = matMulTN(x, signColumn(x, wx, col)), yb = matMulTN(y, signColumn(y, wy, col));
  const out = mat(cxy.rows, cxy.cols, cxy.data.slice());
  for (let i = 0; i < cxy.rows; i++) {
    for (let j = 0; j < cxy.cols; j++) out.data[i * cxy.cols + j] -= xb.data[i] * yb.data[j];
  }
  return out;
}

/** The Cholesky factors of Cxx = X^T X + gamma I and Cyy = Y^T Y + gamma I. */
function factors(
  x: Mat,
  y: Mat,
  gamma: number,
  log?: (line: string) => void,
): { rx: Mat; ry: Mat } {
  const t0 = performance.now();
  const rx = choleskyLower(addDiagonal(gram(x), gamma));
  const ry = choleskyLower(addDiagonal(gram(y), gamma));
  log?.(`SCM: covariances and Cholesky factors (${x.cols} + ${y.cols} dims) in ${seconds(t0)} s`);
  return { rx, ry };
}

function seconds(t0: number): string {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

/**
 * The factors of c X^T S Y = U V^T ({@link semanticCorrelation}): U = [X^T L~, X^T 1] and
 * V = [2c Y^T L~, -c Y^T 1], so the cross term has rank at most classes + 1.
 */
function semanticFactors(x: Mat, y: Mat, labels: LabelMatrix, c: number): { u: Mat; v: Mat } {
  const lt = normalizedLabels(labels), ones = mat(x.rows, 1, new Float64Array(x.rows).fill(1));
  const yl = mulTN(y, lt);
  for (let i = 0; i < yl.data.length; i++) yl.data[i] *= 2 * c;
  return { u: hcat(mulTN(x, lt), mulTN(x, ones)), v: hcat(yl, mulTN(y, ones), -c) };
}

/** SCM-Orth on centred X, Y: the top `bits` eigenvectors of the problem for c S. */
export function trainScmOrth(
  x: Mat,
  y: Mat,
  labels: LabelMatrix,
  bits: number,
  gamma: number,
  log?: (line: string) => void,
): ScmProjections {
  const { rx, ry } = factors(x, y, gamma, log), { u, v } = semanticFactors(x, y, labels, bits);
  return whitenedTop(rx, ry, { f: lowerSolve(rx, u), k: lowerSolve(ry, v) }, bits);
}

/** SCM-Seq's result: the projections, and where the CCA fallback took over (if it did). */
export interface ScmSeqResult extends ScmProjections {
  /** First bit (0-based) given a CCA direction by the fallback, or null if none was. */
  fallbackFrom: number | null;
}

/**
 * SCM-Seq on centred X, Y: bit t is the top eigenvector for the residual R_{t-1} (R_0 = c S),
 * then the residual loses that bit's sign(X w_x) sign(Y w_y)^T ({@link residualUpdate}), kept
 * in factored form: X^T R_t Y = U V^T gains the column pair (X^T b_x, -Y^T b_y).
 * With `ccaFallback`, a bit whose eigenvalue exceeds the previous one ends the sequence and
 * the remaining bits keep CCA directions ({@link ScmConfig.ccaFallback}); their eigenvalues
 * are those of the CCA problem. `onBit` sees each learned bit's cross term before and after
 * its update (for inspection and tests).
 */
export function trainScmSeq(
  x: Mat,
  y: Mat,
  labels: LabelMatrix,
  bits: number,
  gamma: number,
  ccaFallback = false,
  onBit?: (t: number, before: Mat, after: Mat, p: ScmProjections) => void,
  log?: (line: string) => void,
): ScmSeqResult {
  const { rx, ry } = factors(x, y, gamma, log), t0 = performance.now();
  const wx = mat(x.cols, bits), wy = mat(y.cols, bits), eigenvalues = new Float64Array(bits);
  const setBit = (t: number, p: ScmProjections, col: number) => {
    const k = p.wx.cols;
    for (let i = 0; i < x.cols; i++) wx.data[i * bits + t] = p.wx.data[i * k + col];
    for (let i = 0; i < y.cols; i++) wy.data[i * bits + t] = p.wy.data[i * k + col];
    eigenvalues[t] = p.eigenvalues[col];
  };
  let { u, v } = semanticFactors(x, y, labels, bits);
  let f = lowerSolve(rx, u), k = lowerSolve(ry, v);
  for (let t = 0; t < bits; t++) {
    const p = whitenedTop(rx, ry, { f, k }, 1);
    if (ccaFallback && t > 0 && p.eigenvalues[0] > eigenvalues[t - 1]) {
      const cca = whitenedTop(rx, ry, whitenedExplicit(rx, ry, mulTN(x, y)), bits);
      for (let s = t; s < bits; s++) setBit(s, cca, bits - 1 - s);
      log?.(`SCM-Seq: bits ${t + 1}-${bits} from the CCA fallback (${seconds(t0)} s)`);
      return { wx, wy, eigenvalues, fallbackFrom: t };
    }
    setBit(t, p, 0);
    const xb = mulTN(x, signs(mul(x, p.wx))), yb = mulTN(y, signs(mul(y, p.wy)));
    f = hcat(f, lowerSolve(rx, xb));
    k = hcat(k, lowerSolve(ry, yb), -1);
    if (onBit) {
      const before = mulNT(u, v);
      u = hcat(u, xb);
      v = hcat(v, yb, -1);
      onBit(t, before, mulNT(u, v), p);
    }
    if ((t + 1) % 16 === 0 && t + 1 < bits) {
      log?.(`SCM-Seq: bit ${t + 1}/${bits} (${seconds(t0)} s)`);
    }
  }
  return { wx, wy, eigenvalues, fallbackFrom: null };
}

/** What {@link Scm.fit} reports. */
export interface ScmFitReport {
  /** lambda^2 per bit (see {@link ScmProjections}). */
  eigenvalues: Float64Array;
  /** SCM-Seq: first bit given a CCA direction ({@link ScmConfig.ccaFallback}), else null. */
  fallbackFrom: number | null;
  /** Wall-clock training time in seconds. */
  seconds: number;
}

/** The SCM hashing model; see the module comment. */
export class Scm
  extends ClosedFormModel<Record<"wx" | "wy" | "meanX" | "meanY" | "eigenvalues", Float32Array>>
  implements HashModel {
  /** "scm-orth" or "scm-seq". */
  readonly method: string;
  /** Code length. */
  readonly bits: number;
  /** The validated configuration. */
  readonly config: Readonly<ScmConfig>;
  readonly #dx: number;
  readonly #dy: number;

  /** An untrained model for the given feature dimensions. */
  constructor(info: Pick<TrainingSetInfo, "imageDim" | "textDim">, config: ScmConfig) {
    super(FILE);
    this.config = Object.freeze(scmConfig(config.bits, config));
    checkDims(FILE, info);
    if (this.config.bits > info.imageDim) {
      throw new Error(
        `${FILE}: config.bits is ${this.config.bits}, at most imageDim = ${info.imageDim}`,
      );
    }
    this.bits = this.config.bits;
    this.method = `scm-${this.config.variant}`;
    this.#dx = info.imageDim;
    this.#dy = info.textDim;
  }

  /**
   * Closed-form training on all given pairs (row i of image, text and labels is pair i):
   * centre both modalities on their means, then SCM-Orth or SCM-Seq. Parameters are kept in
   * Float32 (as {@link state} stores them) so a reloaded model encodes identically. `log`
   * receives one line per phase of a long fit.
   */
  fit(
    image: Matrix,
    text: Matrix,
    labels: LabelMatrix,
    log?: (line: string) => void,
  ): ScmFitReport {
    const t0 = performance.now();
    checkPairs(FILE, image, text, labels.rows, this.#dx, this.#dy);
    const xr = fromMatrix(image), yr = fromMatrix(text);
    const meanX = columnMeans(xr), meanY = columnMeans(yr);
    const x = subtractRow(xr, meanX), y = subtractRow(yr, meanY);
    const { bits, gamma, ccaFallback } = this.config;
    const p: ScmSeqResult = this.config.variant === "orth"
      ? { ...trainScmOrth(x, y, labels, bits, gamma, log), fallbackFrom: null }
      : trainScmSeq(x, y, labels, bits, gamma, ccaFallback, undefined, log);
    this.params = {
      wx: Float32Array.from(p.wx.data),
      wy: Float32Array.from(p.wy.data),
      meanX: Float32Array.from(meanX),
      meanY: Float32Array.from(meanY),
      eigenvalues: Float32Array.from(p.eigenvalues),
    };
    const seconds = (performance.now() - t0) / 1000;
    return { eigenvalues: p.eigenvalues, fallbackFrom: p.fallbackFrom, seconds };
  }

  /** sign((x - mean_x) W_x), packed. */
  encodeImage(x: Matrix): PackedCodes {
    const p = this.params;
    checkCols(FILE, x, this.#dx, "x (image features)");
    return encodeLinear(x, p.meanX, p.wx, this.bits);
  }

  /** sign((y - mean_y) W_y), packed. */
  encodeText(y: Matrix): PackedCodes {
    const p = this.params;
    checkCols(FILE, y, this.#dy, "y (text features)");
    return encodeLinear(y, p.meanY, p.wy, this.bits);
  }

  /** "scm.Wx", "scm.Wy", "scm.meanX", "scm.meanY", "scm.eigenvalues". */
  state(): NamedArrays {
    const p = this.params, K = this.bits;
    return {
      "scm.Wx": { shape: [this.#dx, K], data: p.wx.slice() },
      "scm.Wy": { shape: [this.#dy, K], data: p.wy.slice() },
      "scm.meanX": { shape: [this.#dx], data: p.meanX.slice() },
      "scm.meanY": { shape: [this.#dy], data: p.meanY.slice() },
      "scm.eigenvalues": { shape: [K], data: p.eigenvalues.slice() },
    };
  }

  /** Restore from {@link state} (shapes must match this model's dimensions). */
  loadState(state: NamedArrays, source: string): void {
    const K = this.bits;
    const get = (key: string, shape: number[]) => readEntry(state, key, shape, source, "scm");
    this.params = {
      wx: get("scm.Wx", [this.#dx, K]),
      wy: get("scm.Wy", [this.#dy, K]),
      meanX: get("scm.meanX", [this.#dx]),
      meanY: get("scm.meanY", [this.#dy]),
      eigenvalues: get("scm.eigenvalues", [K]),
    };
  }
}

/** Build an untrained SCM model (a {@link HashModel} factory like the learned methods). */
export function createScm(
  info: Pick<TrainingSetInfo, "imageDim" | "textDim">,
  config: ScmConfig,
): Scm {
  return new Scm(info, config);
}
