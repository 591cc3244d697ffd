/**
 * DFAH's discrete step (src/models/dfah/discrete.ts): the P-step and B-step are exact block
 * minimisers of J(B, P) (J never increases, B stays binary), and the step is bit for bit the
 * recorded one.
 */
import assert from "node:assert/strict";
import { Rng } from "../../src/random.ts";
import {
  discreteObjective,
  type DiscreteProblem,
  discreteStep,
  updateB,
  updateP,
} from "../../src/models/dfah/mod.ts";
import { fusionContribution } from "../../src/models/dfah/diagnostics.ts";
import { close, sha256 } from "../test_utils.ts";

function randomProblem(seed: number, n = 60, K = 12, c = 5): DiscreteProblem {
  const rng = new Rng(seed);
  const u = () => Float32Array.from({ length: n * K }, () => 2 * rng.uniform() - 1);
  const L = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < c; a++) L[i * c + a] = rng.uniform() < 0.3 ? 1 : 0;
  }
  return {
    n,
    bits: K,
    classes: c,
    U: u(),
    Hv: u(),
    Ht: u(),
    L, // some rows may be all zero and some classes unused: rho > 0 keeps P unique
    lambda: 0.2 + 2 * rng.uniform(),
    mu: 0.2 + 2 * rng.uniform(),
    rho: 0.1 + 2 * rng.uniform(),
  };
}

Deno.test("the discrete step never increases J(B, P) across half-steps and keeps B binary", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const p = randomProblem(seed);
    const rng = new Rng(100 + seed);
    const B0 = Float32Array.from({ length: p.n * p.bits }, () => (rng.uniform() < 0.5 ? -1 : 1));
    const P0 = Float64Array.from(rng.normals(p.classes * p.bits));
    const res = discreteStep(p, B0, 4, P0);
    assert.equal(res.objectives.length, 1 + 2 * 4);
    for (let i = 1; i < res.objectives.length; i++) {
      const prev = res.objectives[i - 1], cur = res.objectives[i];
      assert.ok(cur <= prev + 1e-9 * Math.abs(prev), `seed ${seed}: J rose at half-step ${i}`);
    }
    assert.ok(res.B.every((b) => b === 1 || b === -1), "B left {-1, +1}");
    close(res.objectives.at(-1)!, discreteObjective(res.B, res.P, p), 1e-12, "final J");
    assert.ok(res.flipped > 0 && res.flipped < 1);
  }
});

Deno.test("updateB is the exact minimiser over B: no single bit flip lowers J", () => {
  const p = randomProblem(21, 15, 6, 4);
  const P = Float64Array.from(new Rng(1).normals(p.classes * p.bits));
  const B = updateB(P, p);
  const J = discreteObjective(B, P, p);
  for (let e = 0; e < B.length; e++) {
    const f = B.slice();
    f[e] = -f[e];
    assert.ok(discreteObjective(f, P, p) >= J - 1e-9 * J, `flipping entry ${e} lowered J`);
  }
});

Deno.test("updateP solves the normal equations and no perturbation of P lowers J", () => {
  const p = randomProblem(22, 30, 5, 4);
  const rng = new Rng(2);
  const B = Float32Array.from({ length: p.n * p.bits }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const P = updateP(B, p);
  const { n, classes: c, bits: K } = p;
  // (L^T L + rho I) P - L^T B = 0
  for (let a = 0; a < c; a++) {
    for (let k = 0; k < K; k++) {
      let r = p.rho * P[a * K + k];
      for (let i = 0; i < n; i++) {
        const la = p.L[i * c + a];
        if (!la) continue;
        let lp = 0;
        for (let b = 0; b < c; b++) lp += p.L[i * c + b] * P[b * K + k];
        r += la * (lp - B[i * K + k]);
      }
      assert.ok(Math.abs(r) < 1e-9, `normal-equation residual ${r} at (${a}, ${k})`);
    }
  }
  const J = discreteObjective(B, P, p);
  for (let t = 0; t < 20; t++) {
    const Q = P.map((x) => x + 1e-3 * rng.normal());
    assert.ok(discreteObjective(B, Q, p) >= J, "a perturbed P lowered J");
  }
});

Deno.test("the discrete step is bit for bit the recorded one (P-step factorisation unchanged)", async () => {
  // SHA-256, per problem, of the bytes of updateP's P and of discreteStep's P, B and J (binary
  // and relaxed) on multi-label (correlated classes: a full Cholesky factor), 24-class and
  // single-label (diagonal L^T L) problems, recorded with DFAH's own in-place Cholesky before
  // the P-step used linalg.ts's cholesky; recorded again when the relaxed B-step moved to the
  // sphere of binary codes (the binary outputs' bytes were checked unchanged by that move).
  const problems = [
    randomProblem(31),
    randomProblem(32, 200, 64, 24),
    { ...randomProblem(33, 80, 16, 10), L: singleLabels(80, 10, 33) },
  ];
  const digests: string[] = [];
  for (const [i, p] of problems.entries()) {
    const rng = new Rng(200 + i);
    const B0 = Float32Array.from({ length: p.n * p.bits }, () => (rng.uniform() < 0.5 ? -1 : 1));
    const outputs: ArrayBufferView[] = [updateP(B0, p)];
    for (const binary of [true, false]) {
      const res = discreteStep(p, B0, 3, undefined, binary);
      outputs.push(res.P, res.B, Float64Array.from(res.objectives));
    }
    const bytes = outputs.flatMap((a) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)]);
    digests.push(await sha256(Uint8Array.from(bytes)));
  }
  assert.deepEqual(digests, [
    "7ee5ce524001780c08cad61def4dfe7f711a0470f24d28260fbc32a1eeead077",
    "380645d1fce5cfb0e0cb08198ff5aa9ff9b32a138e94aac270fb0e0f56d7a270",
    "44a4c0fba66328e003365a3c3b3077f2a5fcfcbf9db27e7754b645b24984527b",
  ]);
});

function singleLabels(n: number, c: number, seed: number): Float32Array {
  const rng = new Rng(seed), L = new Float32Array(n * c);
  for (let i = 0; i < n; i++) L[i * c + rng.int(c)] = 1;
  return L;
}

Deno.test("fusionDecisive: with the default B-step weights, U decides exactly the signs where it disagrees with the labels", () => {
  // Single-label items, two per class; the fused outputs U follow the class code except on a
  // known set of entries, where they take the other sign with magnitude 0.8.
  const n = 40, K = 8, c = 4;
  const rng = new Rng(11);
  const L = new Float32Array(n * c);
  for (let i = 0; i < n; i++) L[i * c + (i % c)] = 1;
  const classCode = Float32Array.from({ length: c * K }, () => (rng.uniform() < 0.5 ? -1 : 1));
  const U = new Float32Array(n * K), zero = new Float32Array(n * K);
  let disagree = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const b = classCode[(i % c) * K + k];
      const flip = rng.uniform() < 0.15;
      if (flip) disagree++;
      U[i * K + k] = flip ? -0.8 * b : 0.9 * b;
    }
  }
  const p: DiscreteProblem = {
    n,
    bits: K,
    classes: c,
    U,
    Hv: zero,
    Ht: zero,
    L,
    lambda: 0,
    mu: 0.01,
    rho: 1,
  };
  // Start from the label-consistent code, so that L P is the class code.
  const B0 = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) B0[i * K + k] = classCode[(i % c) * K + k];
  }
  const res = discreteStep(p, B0, 1);
  const f = fusionContribution(p, res.B, res.P);
  assert.ok(disagree > 0);
  close(f.fusionDecisive, disagree / (n * K), 1e-12, "U decides its disagreements");
  // With the label regression dominant (mu = 1, lambda = 1, heads agreeing with the labels),
  // U decides nothing: the check can fail.
  const heads = Float32Array.from(B0, (b) => 0.9 * b);
  const dominated = { ...p, Hv: heads, Ht: heads, lambda: 1, mu: 1 };
  const r2 = discreteStep(dominated, B0, 1);
  assert.equal(fusionContribution(dominated, r2.B, r2.P).fusionDecisive, 0);
});
