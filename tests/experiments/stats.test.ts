/** Paired statistics of the ablation tables, checked against tabulated and textbook values. */
import assert from "node:assert/strict";
import {
  erfc,
  formatDiff,
  formatEffect,
  formatP,
  formatSigned,
  holm,
  incompleteBeta,
  logGamma,
  minimalDetectableEffect,
  normalCdf,
  pairedComparison,
  pairedTPower,
  tCdf,
  tQuantile,
  verdict,
} from "../../src/experiments/stats.ts";
import { Rng } from "../../src/random.ts";

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("logGamma and the incomplete beta function match known values", () => {
  near(logGamma(1), 0, 1e-13, "lgamma(1)");
  near(logGamma(5), Math.log(24), 1e-12, "lgamma(5)");
  near(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12, "lgamma(1/2)");
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_0.5(a, a) = 0.5
  near(incompleteBeta(0.3, 1, 1), 0.3, 1e-12, "I(1,1)");
  near(incompleteBeta(0.6, 3, 1), 0.216, 1e-12, "I(3,1)");
  near(incompleteBeta(0.5, 4.5, 4.5), 0.5, 1e-12, "I(a,a)");
});

Deno.test("Student's t quantiles equal the printed table (two-sided 95%)", () => {
  // t_{0.975, df} from standard tables.
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [4, 2.776], [9, 2.262], [29, 2.045]];
  for (const [df, t] of table) near(tQuantile(0.975, df), t, 5e-4, `t(0.975, ${df})`);
  near(tCdf(0, 5), 0.5, 1e-15, "symmetry");
  near(tCdf(2.015, 5), 0.95, 2e-4, "one-sided 95% at df 5");
  near(tCdf(-2.015, 5), 0.05, 2e-4, "lower tail");
  // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t) / pi.
  near(tCdf(1.7, 1), 0.5 + Math.atan(1.7) / Math.PI, 1e-12, "Cauchy");
});

Deno.test("a paired t-test reproduces a worked example", () => {
  // Differences 1, 2, 3, 4, 5 (mean 3, sd sqrt(2.5)): t = 3 / (sqrt(2.5)/sqrt(5)) = 4.2426,
  // df 4, two-sided p = 0.01324; 95% CI = 3 +- 2.7764 * 0.70711.
  const c = pairedComparison([2, 4, 6, 8, 10], [1, 2, 3, 4, 5]);
  near(c.mean, 3, 1e-12, "mean");
  near(c.sd, Math.sqrt(2.5), 1e-12, "sd");
  near(c.p, 0.01324, 5e-5, "p");
  near(c.ci[0], 3 - 2.7764 * Math.sqrt(0.5), 1e-3, "ci low");
  near(c.ci[1], 3 + 2.7764 * Math.sqrt(0.5), 1e-3, "ci high");
  assert.ok(Number.isNaN(pairedComparison([1], [0]).p), "one pair has no test");
  assert.equal(pairedComparison([1, 2], [1, 2]).p, 1);
  assert.throws(() => pairedComparison([1, 2], [1]), /2 ablation values against 1 full/);
});

Deno.test("Holm's correction steps down and stays monotone", () => {
  // p = 0.01, 0.04, 0.03, 0.005 (m = 4): sorted 0.005*4 = 0.02, 0.01*3 = 0.03,
  // 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06.
  const adj = holm([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((v, i) => near(adj[i], v, 1e-12, `p${i}`));
  const withNaN = holm([0.02, NaN, 0.2]);
  near(withNaN[0], 0.04, 1e-12, "family of 2");
  assert.ok(Number.isNaN(withNaN[1]));
  near(withNaN[2], 0.2, 1e-12, "capped by the running max");
  assert.equal(holm([0.9, 0.8])[0], 1);
});

Deno.test("verdicts say what the corrected test found", () => {
  const lower = pairedComparison([1, 1.1, 0.9, 1, 1.05], [2, 2.1, 1.9, 2, 2.05]);
  assert.equal(verdict(lower, 0.001), "significantly lower than full");
  assert.equal(verdict(lower, 0.2), "no significant difference at 5%");
  assert.equal(verdict(lower, NaN), "too few seeds to test");
});

Deno.test("differences print signed with four decimals, and a rounded zero never as −0.0000", () => {
  assert.equal(formatSigned(0.01234), "+0.0123");
  assert.equal(formatSigned(-0.004), "−0.0040");
  assert.equal(formatSigned(-0.00004), "+0.0000");
  assert.equal(formatSigned(-0), "+0.0000");
  const c = pairedComparison([0.5, 0.52, 0.51], [0.5, 0.5, 0.5]);
  assert.match(formatDiff(c), /^\+0\.0100 \[[−+]0\.\d{4}, \+0\.\d{4}\]$/);
  assert.equal(formatDiff(pairedComparison([0.5], [0.4])), "+0.1000");
  assert.equal(formatDiff(pairedComparison([], [])), "—");
  assert.equal(formatP(0.0004), "<0.001");
  assert.equal(formatP(0.04213), "0.042");
  assert.equal(formatP(NaN), "—");
});

Deno.test("the normal CDF and erfc match tabulated values on both branches", () => {
  near(normalCdf(1.959963984540054), 0.975, 1e-12, "Φ(z 0.975)");
  near(normalCdf(-3), 0.0013498980316301, 1e-14, "Φ(-3)");
  near(normalCdf(0.8416212335729143), 0.8, 1e-12, "Φ(z 0.8)");
  near(erfc(3), 2.209049699858544e-5, 1e-17, "erfc(3), continued fraction");
  near(erfc(1), 0.15729920705028513, 1e-15, "erfc(1), series");
  near(erfc(-1), 2 - 0.15729920705028513, 1e-15, "erfc(-1)");
});

Deno.test("paired t power: the size at no effect, the textbook power at d = 1 with 10 pairs", () => {
  // With no effect the test rejects at its level.
  near(pairedTPower(0, 1, 5), 0.05, 1e-6, "size, 5 pairs");
  near(pairedTPower(0, 2, 12, 0.01), 0.01, 1e-6, "size, 12 pairs, alpha 0.01");
  // One-sample / paired t-test, d = 1, n = 10, two-sided 5%: power 0.8031 (Cohen's tables;
  // G*Power gives 0.8030969).
  near(pairedTPower(1, 1, 10), 0.8031, 5e-4, "d 1, n 10");
  // Only the ratio effect / sd matters, and the sign of the effect does not.
  near(pairedTPower(-0.02, 0.02, 10), pairedTPower(1, 1, 10), 1e-9, "scale and sign");
  assert.ok(Number.isNaN(pairedTPower(1, 1, 1)), "one pair");
  assert.ok(Number.isNaN(pairedTPower(1, 0, 5)), "no spread");
  assert.throws(() => pairedTPower(1, 1, 5, 1.5), /alpha must be in \(0, 1\)/);
});

Deno.test("the minimal detectable effect has 80% power, shrinks with seeds and tends to (z + z) sd / sqrt(n)", () => {
  for (const n of [2, 3, 5, 10, 20]) {
    const d = minimalDetectableEffect(0.01, n);
    near(pairedTPower(d, 0.01, n), 0.8, 1e-6, `power at the MDE, n ${n}`);
  }
  const m5 = minimalDetectableEffect(1, 5), m10 = minimalDetectableEffect(1, 10);
  assert.ok(m10 < m5, "more seeds detect less");
  assert.ok(
    minimalDetectableEffect(1, 10, { alpha: 0.05 / 7 }) > m10,
    "a stricter level needs more",
  );
  // Large n: the normal approximation (z 0.975 + z 0.8) = 2.8016 standard errors.
  near(minimalDetectableEffect(1, 2000) * Math.sqrt(2000), 2.8016, 0.005, "large n");
  assert.ok(Number.isNaN(minimalDetectableEffect(1, 1)));
  assert.ok(Number.isNaN(minimalDetectableEffect(0, 5)));
  assert.equal(formatEffect(0.012345), "0.0123");
  assert.equal(formatEffect(NaN), "—");
});

Deno.test("simulated paired experiments at the MDE reject about 80% of the time", () => {
  // 5 seeds, differences ~ N(MDE, 1): the share of two-sided 5% rejections of the paired t-test.
  const n = 5, trials = 20000, rng = new Rng(7);
  const mde = minimalDetectableEffect(1, n);
  const crit = tQuantile(0.975, n - 1);
  let rejected = 0;
  for (let t = 0; t < trials; t++) {
    const d = Array.from({ length: n }, () => mde + rng.normal());
    const mean = d.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    if (Math.abs(mean / (sd / Math.sqrt(n))) > crit) rejected++;
  }
  // Binomial SD at 0.8 over 20000 trials is 0.0028: 4 SDs.
  near(rejected / trials, 0.8, 0.012, "rejection rate at the MDE");
});
