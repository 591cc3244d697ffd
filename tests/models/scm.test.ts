/**
 * Tests of the SCM baseline (src/models/scm.ts): the label similarity and its O(n) cross term,
 * the eigen-property of SCM-Orth, the residual update of SCM-Seq, learning on synthetic data
 * (well above random projections), determinism and state round-trip, config errors, and the
 * published Wikipedia numbers when the data is present.
 */
import assert from "node:assert/strict";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { makeSplit } from "../../src/datasets/split.ts";
import { gatherLabelRows, gatherRows } from "../../src/datasets/matrix.ts";
import { mapAll } from "../../src/retrieval/metrics.ts";
import {
  addDiagonal,
  columnMeans,
  fromMatrix,
  type Mat,
  mat,
  matMul,
  matMulTN,
  subtractRow,
  transpose,
} from "../../src/linalg.ts";
import {
  labelSimilarity,
  normalizedLabels,
  Scm,
  scmConfig,
  semanticCorrelation,
  trainScmOrth,
  trainScmSeq,
} from "../../src/models/scm.ts";
import { RandomProjection } from "../../src/models/random_projection.ts";
import type { CrossModalDataset, PackedCodes } from "../../src/types.ts";

const small = () =>
  synthetic({ n: 300, imageDim: 24, textDim: 12, classes: 5, labelsPerItem: 2, seed: 1 });

function centred(ds: CrossModalDataset): { x: Mat; y: Mat } {
  const xr = fromMatrix(ds.image), yr = fromMatrix(ds.text);
  return { x: subtractRow(xr, columnMeans(xr)), y: subtractRow(yr, columnMeans(yr)) };
}

function maxAbs(a: Mat, b: Mat): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

function signs(x: Mat, w: Mat, col: number): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let j = 0; j < x.cols; j++) s += x.data[i * x.cols + j] * w.data[j * w.cols + col];
    out[i] = s >= 0 ? 1 : -1;
  }
  return out;
}

Deno.test("S = 2 L~ L~^T - 1: unit diagonal, in [-1, 1], -1 for disjoint labels; X^T S Y in O(n)", () => {
  const labels = { rows: 3, classes: 3, data: Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 1]) };
  const lt = normalizedLabels(labels);
  assert.ok(Math.abs(lt.data[0] - Math.SQRT1_2) < 1e-15);
  const s = labelSimilarity(labels);
  assert.ok(Math.abs(s.data[0] - 1) < 1e-12 && Math.abs(s.data[4] - 1) < 1e-12);
  assert.ok(Math.abs(s.data[1] - (2 * Math.SQRT1_2 - 1)) < 1e-12); // cos = 1/sqrt(2)
  assert.equal(s.data[2], -1); // no shared label
  const ds = small(), { x, y } = centred(ds);
  const explicit = matMulTN(x, matMul(labelSimilarity(ds.labels), y));
  const fast = semanticCorrelation(x, y, normalizedLabels(ds.labels));
  assert.ok(maxAbs(fast, explicit) < 1e-9 * Math.max(...Array.from(explicit.data, Math.abs)));
  // uncentred data keeps the -(X^T 1)(Y^T 1)^T term
  const xr = fromMatrix(ds.image), yr = fromMatrix(ds.text);
  const explicitRaw = matMulTN(xr, matMul(labelSimilarity(ds.labels), yr));
  assert.ok(maxAbs(semanticCorrelation(xr, yr, normalizedLabels(ds.labels)), explicitRaw) < 1e-6);
});

Deno.test("SCM-Orth: W_x^T Cxx W_x = I, W_x^T A W_x = diag(lambda^2), W_y^T Cyy W_y = I, W_x^T Cxy W_y = diag(lambda)", () => {
  const ds = small(), { x, y } = centred(ds), bits = 5, gamma = 1e-6;
  const p = trainScmOrth(x, y, ds.labels, bits, gamma);
  const cxx = addDiagonal(matMulTN(x, x), gamma), cyy = addDiagonal(matMulTN(y, y), gamma);
  const cxy = semanticCorrelation(x, y, normalizedLabels(ds.labels));
  for (let i = 0; i < cxy.data.length; i++) cxy.data[i] *= bits;
  const a = matMul(cxy, matMul(invertSpd(cyy), transpose(cxy)));
  const gx = matMulTN(p.wx, matMul(cxx, p.wx)), ax = matMulTN(p.wx, matMul(a, p.wx));
  const gy = matMulTN(p.wy, matMul(cyy, p.wy)), xy = matMulTN(p.wx, matMul(cxy, p.wy));
  for (let i = 0; i < bits; i++) {
    assert.ok(p.eigenvalues[i] > 0 && (i === 0 || p.eigenvalues[i] <= p.eigenvalues[i - 1]));
    for (let j = 0; j < bits; j++) {
      const lam = p.eigenvalues[i], d = i === j ? 1 : 0;
      assert.ok(Math.abs(gx.data[i * bits + j] - d) < 1e-8, `Wx^T Cxx Wx [${i},${j}]`);
      assert.ok(Math.abs(gy.data[i * bits + j] - d) < 1e-6, `Wy^T Cyy Wy [${i},${j}]`);
      assert.ok(
        Math.abs(ax.data[i * bits + j] - d * lam) < 1e-8 * p.eigenvalues[0],
        `A [${i},${j}]`,
      );
      assert.ok(
        Math.abs(xy.data[i * bits + j] - d * Math.sqrt(lam)) < 1e-6 * Math.sqrt(p.eigenvalues[0]),
      );
    }
  }
});

function invertSpd(a: Mat): Mat {
  const n = a.rows, id = mat(n, n);
  for (let i = 0; i < n; i++) id.data[i * n + i] = 1;
  // Gauss-Jordan is enough for a test oracle on a small SPD matrix
  const m = mat(n, 2 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      m.data[i * 2 * n + j] = a.data[i * n + j];
      m.data[i * 2 * n + n + j] = id.data[i * n + j];
    }
  }
  for (let c = 0; c < n; c++) {
    const piv = m.data[c * 2 * n + c];
    for (let j = 0; j < 2 * n; j++) m.data[c * 2 * n + j] /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m.data[r * 2 * n + c];
      for (let j = 0; j < 2 * n; j++) m.data[r * 2 * n + j] -= f * m.data[c * 2 * n + j];
    }
  }
  const out = mat(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out.data[i * n + j] = m.data[i * 2 * n + n + j];
  }
  return out;
}

Deno.test("SCM-Seq residual: X^T R_t Y tracks R_t = cS - sum b_x b_y^T and each bit removes its own correlation", () => {
  const ds = small(), { x, y } = centred(ds), bits = 8, n = ds.labels.rows;
  const s = labelSimilarity(ds.labels), r = mat(n, n, s.data.map((v) => v * bits));
  const norms = [r.data.reduce((a, v) => a + v * v, 0)];
  trainScmSeq(x, y, ds.labels, bits, 1e-6, false, (_t, before, after, p) => {
    assert.ok(
      maxAbs(before, matMulTN(x, matMul(r, y))) < 1e-7 * bits * n,
      "before = X^T R_{t-1} Y",
    );
    const bx = signs(x, p.wx, 0), by = signs(y, p.wy, 0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r.data[i * n + j] -= bx[i] * by[j];
    norms.push(r.data.reduce((a, v) => a + v * v, 0));
    assert.ok(maxAbs(after, matMulTN(x, matMul(r, y))) < 1e-7 * bits * n, "after = X^T R_t Y");
    // the learned direction's relaxed correlation drops by exactly ||X w_x||_1 ||Y w_y||_1
    const corr = (c: Mat) => matMulTN(p.wx, matMul(c, p.wy)).data[0];
    const l1 = (m: Mat, w: Mat) => matMul(m, w).data.reduce((a, v) => a + Math.abs(v), 0);
    const drop = corr(before) - corr(after);
    assert.ok(Math.abs(drop - l1(x, p.wx) * l1(y, p.wy)) < 1e-8 * drop);
    assert.ok(corr(before) > 0);
  });
  assert.ok(
    norms[1] < norms[0] && norms[2] < norms[1],
    `first bits shrink ||R||: ${norms.slice(0, 3)}`,
  );
});

function map2(
  enc: { i: (m: typeof ds.image) => PackedCodes; t: (m: typeof ds.text) => PackedCodes },
  ds: CrossModalDataset,
): [number, number] {
  const split = makeSplit(ds, { convention: "first", query: 100, validation: 0 });
  const g = (rows: Int32Array) => ({
    i: gatherRows(ds.image, rows),
    t: gatherRows(ds.text, rows),
    l: gatherLabelRows(ds.labels, rows),
  });
  const q = g(split.query), d = g(split.database);
  return [mapAll(enc.i(q.i), q.l, enc.t(d.t), d.l), mapAll(enc.t(q.t), q.l, enc.i(d.i), d.l)];
}
const ds = synthetic({ n: 700, imageDim: 32, textDim: 16, classes: 6, labelsPerItem: 2, seed: 3 });

// measured: orth 0.52 / 0.51, seq 0.56 / 0.55, random projections 0.41 / 0.41
Deno.test("SCM-Orth and SCM-Seq learn well above random projections on synthetic data", () => {
  const split = makeSplit(ds, { convention: "first", query: 100, validation: 0 });
  const tr = split.train, info = { imageDim: 32, textDim: 16 };
  const rp = new RandomProjection(info, { bits: 16, seed: 1 });
  const [ri, rt] = map2({ i: (m) => rp.encodeImage(m), t: (m) => rp.encodeText(m) }, ds);
  rp.dispose();
  for (const [variant, bits] of [["orth", 6], ["seq", 16]] as const) {
    const m = new Scm(info, scmConfig(bits, { variant }));
    m.fit(gatherRows(ds.image, tr), gatherRows(ds.text, tr), gatherLabelRows(ds.labels, tr));
    const [i2t, t2i] = map2({ i: (x) => m.encodeImage(x), t: (y) => m.encodeText(y) }, ds);
    assert.ok(
      i2t > ri + 0.08 && t2i > rt + 0.08,
      `${variant}: ${i2t}, ${t2i} vs random ${ri}, ${rt}`,
    );
  }
});

Deno.test("SCM is deterministic and state() / loadState() round-trips the codes", () => {
  const info = { imageDim: 32, textDim: 16 }, cfg = scmConfig(12);
  const a = new Scm(info, cfg), b = new Scm(info, cfg);
  a.fit(ds.image, ds.text, ds.labels);
  b.fit(ds.image, ds.text, ds.labels);
  assert.deepEqual(a.encodeImage(ds.image), b.encodeImage(ds.image));
  assert.deepEqual(a.encodeText(ds.text), b.encodeText(ds.text));
  const c = new Scm(info, cfg);
  assert.throws(() => c.encodeImage(ds.image), /not trained/);
  c.loadState(a.state(), "test-state");
  assert.deepEqual(c.encodeImage(ds.image), a.encodeImage(ds.image));
  assert.deepEqual(c.encodeText(ds.text), a.encodeText(ds.text));
  assert.deepEqual(c.state(), a.state());
  const bad = a.state();
  delete bad["scm.Wy"];
  assert.throws(() => c.loadState(bad, "f.json"), /f\.json: entry 'scm.Wy' is missing/);
  assert.deepEqual(a.trainStep(), {});
  assert.equal(a.method, "scm-seq");
});

Deno.test("SCM config: defaults, one-line errors", () => {
  assert.deepEqual(scmConfig(16), { bits: 16, variant: "seq", gamma: 1e-6, ccaFallback: true });
  assert.throws(() => scmConfig(0), /config.bits is 0, expected an integer >= 1/);
  assert.throws(() => scmConfig(8, { variant: "x" as "seq" }), /config.variant is 'x'/);
  assert.throws(() => scmConfig(8, { gamma: -1 }), /config.gamma is -1/);
  assert.throws(() => scmConfig(8, { ccaFallback: 1 as unknown as boolean }), /ccaFallback is 1/);
  assert.throws(
    () => scmConfig(8, { foo: 1 } as Partial<ReturnType<typeof scmConfig>>),
    /unknown config key/,
  );
  assert.throws(() => new Scm({ imageDim: 4, textDim: 3 }, scmConfig(8)), /at most imageDim = 4/);
  const m = new Scm({ imageDim: 32, textDim: 16 }, scmConfig(8));
  assert.throws(() => m.fit(ds.image, ds.image, ds.labels), /text has 32 columns, expected 16/);
});

Deno.test("SCM-Seq CCA fallback: the bits before it are the plain algorithm's, the rest CCA directions", () => {
  const info = { imageDim: 32, textDim: 16 };
  const plain = new Scm(info, scmConfig(16, { ccaFallback: false }));
  const rPlain = plain.fit(ds.image, ds.text, ds.labels);
  const fb = new Scm(info, scmConfig(16));
  const r = fb.fit(ds.image, ds.text, ds.labels);
  assert.equal(rPlain.fallbackFrom, null);
  const t = r.fallbackFrom ?? 16;
  for (let i = 1; i < t; i++) assert.ok(r.eigenvalues[i] <= r.eigenvalues[i - 1]);
  if (t < 16) assert.ok(rPlain.eigenvalues[t] > rPlain.eigenvalues[t - 1]);
  const [wa, wb] = [plain.state()["scm.Wx"].data, fb.state()["scm.Wx"].data];
  for (let j = 0; j < 32; j++) {
    for (let k = 0; k < t; k++) assert.equal(wa[j * 16 + k], wb[j * 16 + k]);
  }
});
