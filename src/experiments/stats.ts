/**
 * Paired statistics for ablation tables: each ablation against the full model over the same
 * seeds. The paired differences d_s = ablation_s - full_s give a mean, a 95% confidence
 * interval from Student's t distribution with n - 1 degrees of freedom, and a two-sided paired
 * t-test p-value; the p-values of one table are then Holm-corrected (step-down
 * family-wise error control), and each row gets a plain-words verdict.
 *
 * The t distribution is computed here: its CDF through the regularised incomplete beta
 * function (continued fraction, Lentz's method), its quantile by bisection on the CDF. Checked
 * against tabulated values in tests.
 *
 * @module
 */

/** log Gamma(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~15 digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b), 0 <= x <= 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new Error(`incompleteBeta: x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t distribution with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`tCdf: df must be > 0, got ${df}`);
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The quantile t_p of Student's t distribution (bisection on {@link tCdf}). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`tQuantile: p must be in (0, 1), got ${p}`);
  let lo = -1e3, hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** One paired comparison: ablation minus full over the same seeds. */
export interface PairedComparison {
  /** Number of pairs (seeds present in both). */
  n: number;
  /** Mean of the differences ablation - full. */
  mean: number;
  /** Sample standard deviation of the differences (n - 1). */
  sd: number;
  /** 95% confidence interval of the mean difference (NaN with fewer than 2 pairs). */
  ci: [number, number];
  /** Two-sided paired t-test p-value (NaN with fewer than 2 pairs; 1 when all differences are 0). */
  p: number;
}

/** Paired t statistics of `ablation` against `full` (arrays aligned by seed). */
export function pairedComparison(ablation: number[], full: number[]): PairedComparison {
  if (ablation.length !== full.length) {
    throw new Error(
      `pairedComparison: ${ablation.length} ablation values against ${full.length} full ones`,
    );
  }
  const d = ablation.map((a, i) => a - full[i]);
  const n = d.length;
  const mean = n ? d.reduce((s, x) => s + x, 0) / n : NaN;
  if (n < 2) return { n, mean, sd: NaN, ci: [NaN, NaN], p: NaN };
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const half = tQuantile(0.975, n - 1) * se;
  const p = se === 0 ? (mean === 0 ? 1 : 0) : 2 * (1 - tCdf(Math.abs(mean / se), n - 1));
  return { n, mean, sd, ci: [mean - half, mean + half], p };
}

/**
 * Holm's step-down correction of a family of p-values (order kept; NaN stays NaN and does
 * not count towards the family size).
 */
export function holm(p: number[]): number[] {
  const idx = p.map((_, i) => i).filter((i) => !Number.isNaN(p[i]));
  idx.sort((a, b) => p[a] - p[b]);
  const m = idx.length;
  const out = p.map(() => NaN);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[i]));
    out[i] = running;
  });
  return out;
}

/** A plain-words verdict for a Holm-corrected p-value at level `alpha` (default 0.05). */
export function verdict(c: PairedComparison, pHolm: number, alpha = 0.05): string {
  if (Number.isNaN(pHolm)) return "too few seeds to test";
  if (pHolm >= alpha) return `no significant difference at ${Math.round(alpha * 100)}%`;
  return c.mean < 0 ? "significantly lower than full" : "significantly higher than full";
}

/**
 * A signed difference with four decimals, "+0.0123" or "−0.0040" (a minus sign, U+2212); a
 * value that rounds to zero is "+0.0000", never "−0.0000".
 */
export function formatSigned(x: number): string {
  const r = Math.abs(x).toFixed(4);
  return (x < 0 && Number(r) !== 0 ? "−" : "+") + r;
}

/** "+0.0123 [−0.0040, +0.0286]" (signed mean and 95% CI), a bare mean with one pair, or "—". */
export function formatDiff(c: PairedComparison): string {
  if (!Number.isFinite(c.mean)) return "—";
  return Number.isFinite(c.ci[0])
    ? `${formatSigned(c.mean)} [${formatSigned(c.ci[0])}, ${formatSigned(c.ci[1])}]`
    : formatSigned(c.mean);
}

/** A p-value for a table: "<0.001", "0.042", or "—". */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return "—";
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** The complementary error function erfc(x) (series below |x| 2.5, continued fraction above). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    // erf(x) = 2/sqrt(pi) Σ (-1)^k x^(2k+1) / (k! (2k+1))
    let term = x, sum = x;
    for (let k = 1; k < 200; k++) {
      term *= (-x * x) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/sqrt(pi) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), from the tail.
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** CDF of the standard normal distribution. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * Power of the two-sided paired t-test at level `alpha` with `n` pairs when the true mean
 * difference is `effect` and the standard deviation of the differences is `sd`: the
 * probability that |T| exceeds t_{1−α/2, n−1} under the noncentral t distribution with
 * noncentrality effect·sqrt(n)/sd. Computed exactly up to quadrature: T = (Z + λ)/S with
 * S = sqrt(V/(n−1)), V ~ χ²(n−1), so power = E_S[Φ(λ − c S) + Φ(−λ − c S)], integrated over
 * the density of S by Simpson's rule. NaN with fewer than 2 pairs or sd not > 0.
 */
export function pairedTPower(effect: number, sd: number, n: number, alpha = 0.05): number {
  if (!(alpha > 0 && alpha < 1)) {
    throw new Error(`pairedTPower: alpha must be in (0, 1), got ${alpha}`);
  }
  if (!(n >= 2) || !(sd > 0) || !Number.isFinite(effect)) return NaN;
  const c = tQuantile(1 - alpha / 2, n - 1);
  return tTestPower((Math.abs(effect) * Math.sqrt(n)) / sd, n - 1, c);
}

/** P(|T| > c) for T noncentral t with `df` degrees of freedom and noncentrality `lambda`. */
function tTestPower(lambda: number, df: number, c: number): number {
  // Density of S = sqrt(V/df), V ~ χ²(df): f(s) = 2 df s · χ²_df(df s²).
  const logNorm = Math.log(2 * df) - (df / 2) * Math.log(2) - logGamma(df / 2);
  const density = (s: number) => {
    if (s <= 0) return df === 1 ? Math.sqrt(2 / Math.PI) : 0; // the limit at 0
    const v = df * s * s;
    return Math.exp(logNorm + Math.log(s) + (df / 2 - 1) * Math.log(v) - v / 2);
  };
  const top = 1 + 12 * Math.sqrt(2 / df) + (df === 1 ? 10 : 0);
  const steps = 800, h = top / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const s = i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    sum += w * density(s) * (normalCdf(lambda - c * s) + normalCdf(-lambda - c * s));
  }
  return Math.min(1, (sum * h) / 3);
}

/**
 * The minimal detectable effect of a two-sided paired t-test: the smallest true mean
 * difference (in the units of `sd`) detected with probability `power` (default 0.8) at level
 * `alpha` (default 0.05) with `n` pairs whose differences have standard deviation `sd`
 * ({@link pairedTPower}, solved by bisection). NaN with fewer than 2 pairs or sd not > 0.
 */
export function minimalDetectableEffect(
  sd: number,
  n: number,
  opts: { alpha?: number; power?: number } = {},
): number {
  const alpha = opts.alpha ?? 0.05, power = opts.power ?? 0.8;
  if (!(power > alpha && power < 1)) {
    throw new Error(`minimalDetectableEffect: power must be in (alpha, 1), got ${power}`);
  }
  if (!(alpha > 0 && alpha < 1)) {
    throw new Error(`minimalDetectableEffect: alpha must be in (0, 1), got ${alpha}`);
  }
  if (!(n >= 2) || !(sd > 0)) return NaN;
  // Solve for the noncentrality λ = effect·sqrt(n)/sd, then scale.
  const c = tQuantile(1 - alpha / 2, n - 1);
  let lo = 0, hi = 1;
  while (tTestPower(hi, n - 1, c) < power) hi *= 2;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (tTestPower(mid, n - 1, c) < power) lo = mid;
    else hi = mid;
  }
  return ((lo + hi) / 2) * sd / Math.sqrt(n);
}

/** "0.0123" (an unsigned effect size with four decimals), or "—". */
export function formatEffect(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : "—";
}
