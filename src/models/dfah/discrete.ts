/**
 * DFAH's discrete optimisation (claim 4): the closed-form P-step and B-step, exact block
 * minimisers of J(B, P) (derivation in src/models/dfah/mod.ts), in plain float64 arithmetic.
 *
 * @module
 */
import { cholesky, mat } from "../../linalg.ts";
import { signStep } from "../terms.ts";

// Discrete optimisation (claim 4): plain float64 arithmetic, exact and deterministic

/** The data of one discrete step: J(B, P) in the module header is defined over these. */
export interface DiscreteProblem {
  /** Training pairs n. */
  n: number;
  /** Code length K. */
  bits: number;
  /** Label classes c. */
  classes: number;
  /** n x K fused outputs (or (H^v + H^t)/2 under noFusion). */
  U: Float32Array;
  /** n x K image-head outputs. */
  Hv: Float32Array;
  /** n x K text-head outputs. */
  Ht: Float32Array;
  /** n x c labels (0/1), row-major. */
  L: Float32Array;
  /** B-step weight λ of the head outputs H^v + H^t. */
  lambda: number;
  /** Weight μ of the label regression ‖B − L P‖². */
  mu: number;
  /** Ridge ρ of the P-step (> 0). */
  rho: number;
}

/** Check the shapes and finiteness of a problem; `fn` names the caller in errors. */
export function checkProblem(p: DiscreteProblem, fn: string): void {
  const nk = p.n * p.bits;
  for (const k of ["U", "Hv", "Ht"] as const) {
    if (p[k].length !== nk) {
      throw new Error(`${fn}: problem.${k} has length ${p[k].length}, expected n*K=${nk}`);
    }
  }
  if (p.L.length !== p.n * p.classes) {
    throw new Error(
      `${fn}: problem.L has length ${p.L.length}, expected n*c=${p.n * p.classes}`,
    );
  }
  if (!(p.rho > 0)) throw new Error(`${fn}: problem.rho must be > 0, got ${p.rho}`);
}

/** Nonzero (column, value) lists of the label rows. */
export function labelRows(p: DiscreteProblem): { idx: Int32Array[]; val: Float64Array[] } {
  const idx: Int32Array[] = [], val: Float64Array[] = [];
  for (let i = 0; i < p.n; i++) {
    const cols: number[] = [], vals: number[] = [];
    for (let a = 0; a < p.classes; a++) {
      const v = p.L[i * p.classes + a];
      if (v !== 0) {
        cols.push(a);
        vals.push(v);
      }
    }
    idx.push(Int32Array.from(cols));
    val.push(Float64Array.from(vals));
  }
  return { idx, val };
}

/** L P (n x K, float64). */
export function labelTimesP(p: DiscreteProblem, P: Float64Array): Float64Array {
  const K = p.bits;
  const out = new Float64Array(p.n * K);
  const { idx, val } = labelRows(p);
  for (let i = 0; i < p.n; i++) {
    for (let t = 0; t < idx[i].length; t++) {
      const a = idx[i][t], v = val[i][t];
      for (let k = 0; k < K; k++) out[i * K + k] += v * P[a * K + k];
    }
  }
  return out;
}

/**
 * P-step: P = (L^T L + rho I)^-1 L^T B, the exact minimiser of J over P (c x K, float64),
 * solved by Cholesky factorisation (the matrix is symmetric positive definite for rho > 0).
 */
export function updateP(B: Float32Array, p: DiscreteProblem): Float64Array {
  checkProblem(p, "updateP");
  const { n, classes: c, bits: K } = p;
  if (B.length !== n * K) {
    throw new Error(`updateP: B has length ${B.length}, expected n*K=${n * K}`);
  }
  const A = new Float64Array(c * c);
  const R = new Float64Array(c * K);
  const { idx, val } = labelRows(p);
  for (let i = 0; i < n; i++) {
    const ix = idx[i], vx = val[i];
    for (let s = 0; s < ix.length; s++) {
      const a = ix[s], va = vx[s];
      for (let t = 0; t < ix.length; t++) A[a * c + ix[t]] += va * vx[t];
      for (let k = 0; k < K; k++) R[a * K + k] += va * B[i * K + k];
    }
  }
  for (let a = 0; a < c; a++) A[a * c + a] += p.rho;
  // Cholesky A = C C^T (lower triangular C).
  let C: Float64Array;
  try {
    C = cholesky(mat(c, c, A)).data;
  } catch {
    throw new Error(`updateP: L^T L + rho I is not positive definite`);
  }
  // Solve C Y = R, then C^T P = Y, column by column of R (all K columns at once). Unlike
  // linalg.ts's solveLower / solveLowerT, zero entries of C are not skipped: P keeps exactly the
  // floats it always had (0 * Infinity and the sign of zero included).
  const P = R;
  for (let i = 0; i < c; i++) {
    for (let k = 0; k < i; k++) {
      const f = C[i * c + k];
      for (let q = 0; q < K; q++) P[i * K + q] -= f * P[k * K + q];
    }
    const d = C[i * c + i];
    for (let q = 0; q < K; q++) P[i * K + q] /= d;
  }
  for (let i = c - 1; i >= 0; i--) {
    for (let k = i + 1; k < c; k++) {
      const f = C[k * c + i];
      for (let q = 0; q < K; q++) P[i * K + q] -= f * P[k * K + q];
    }
    const d = C[i * c + i];
    for (let q = 0; q < K; q++) P[i * K + q] /= d;
  }
  return P;
}

/**
 * B-step: B = sign(U + lambda (H^v + H^t) + mu L P) with sign(0) = +1, the exact minimiser of J
 * over binary B for fixed P (n x K of ±1). With `binary` false (the `relaxed` ablation) the
 * binary set {−1, +1}^(n x K) is relaxed to the sphere it lies on, ‖B‖² = nK (RMS 1), and
 * nothing else changes: J = (1 + 2 lambda + mu) ‖B‖² − 2 <B, M> + const is then minimised by
 * the B of that norm closest in direction to M = U + lambda (H^v + H^t) + mu L P, i.e.
 * B = sqrt(nK) M / ‖M‖ (B = 1 everywhere for M = 0). Relaxed codes thus live at the scale of
 * binary ones and differ from them in discreteness only.
 */
export function updateB(P: Float64Array, p: DiscreteProblem, binary = true): Float32Array {
  checkProblem(p, "updateB");
  const K = p.bits;
  if (P.length !== p.classes * K) {
    throw new Error(`updateB: P has length ${P.length}, expected c*K=${p.classes * K}`);
  }
  const LP = labelTimesP(p, P);
  const M = new Float64Array(p.n * K);
  let sq = 0;
  for (let e = 0; e < M.length; e++) {
    M[e] = p.U[e] + p.lambda * (p.Hv[e] + p.Ht[e]) + p.mu * LP[e];
    sq += M[e] * M[e];
  }
  const B = new Float32Array(p.n * K);
  if (binary) {
    signStep(M, B);
    return B;
  }
  if (sq === 0) return B.fill(1);
  const scale = Math.sqrt(M.length / sq);
  for (let e = 0; e < B.length; e++) B[e] = M[e] * scale;
  return B;
}

/**
 * J(B, P) = ||B - U||^2 + lambda (||B - H^v||^2 + ||B - H^t||^2) + mu ||B - L P||^2
 * + mu rho ||P||^2 (float64 sums) — the objective both steps minimise exactly.
 */
export function discreteObjective(B: Float32Array, P: Float64Array, p: DiscreteProblem): number {
  checkProblem(p, "discreteObjective");
  const LP = labelTimesP(p, P);
  let fit = 0, mod = 0, lab = 0, reg = 0;
  for (let e = 0; e < B.length; e++) {
    const b = B[e];
    fit += (b - p.U[e]) ** 2;
    mod += (b - p.Hv[e]) ** 2 + (b - p.Ht[e]) ** 2;
    lab += (b - LP[e]) ** 2;
  }
  for (let e = 0; e < P.length; e++) reg += P[e] * P[e];
  return fit + p.lambda * mod + p.mu * (lab + p.rho * reg);
}

/** Result of {@link discreteStep}. */
export interface DiscreteResult {
  /** The unified codes B (n x K), ±1 unless relaxed. */
  B: Float32Array;
  /** The label projection P (c x K). */
  P: Float64Array;
  /** J at the start (when a start P is given), then after every half-step (P, B, P, B, ...). */
  objectives: number[];
  /** Fraction of entries of B whose sign differs from the starting B's. */
  flipped: number;
}

/**
 * `rounds` rounds of (P-step, B-step) from B0 (and P0, only used for the first J); `binary`
 * false runs the real-valued B-step of the `relaxed` ablation ({@link updateB}).
 */
export function discreteStep(
  p: DiscreteProblem,
  B0: Float32Array,
  rounds: number,
  P0?: Float64Array,
  binary = true,
): DiscreteResult {
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`discreteStep: rounds must be a positive integer, got ${rounds}`);
  }
  const objectives: number[] = [];
  if (P0) objectives.push(discreteObjective(B0, P0, p));
  let B = B0, P = P0 ?? new Float64Array(p.classes * p.bits);
  for (let r = 0; r < rounds; r++) {
    P = updateP(B, p);
    objectives.push(discreteObjective(B, P, p));
    B = updateB(P, p, binary);
    objectives.push(discreteObjective(B, P, p));
  }
  let diff = 0;
  for (let e = 0; e < B.length; e++) if ((B[e] >= 0) !== (B0[e] >= 0)) diff++;
  return { B, P, objectives, flipped: diff / Math.max(1, B.length) };
}
