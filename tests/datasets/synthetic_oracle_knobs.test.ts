/**
 * The generator's knobs of amendments 2 and 3 (docs/mechanisms.md): `shortcut` appends
 * label-predicting text columns that hold on the training rows only, `gap` spreads the image
 * rows along fixed directions, `trainDisagreement` corrupts training texts only; with any of
 * them on the data carry their own split (the last `testRows` rows query, optionally a
 * disjoint database), and `oracle=1` applies each knob's known right answer. At their defaults
 * nothing changes.
 */
import assert from "node:assert/strict";
import { synthetic, type SyntheticOptions } from "../../src/datasets/synthetic.ts";
import { makeSplit } from "../../src/datasets/split.ts";
import type { CrossModalDataset, DenseMatrix } from "../../src/types.ts";

const image = (ds: CrossModalDataset) => (ds.image as DenseMatrix).data as Float32Array;
const text = (ds: CrossModalDataset) => (ds.text as DenseMatrix).data as Float32Array;
const SMALL: SyntheticOptions = { n: 600, imageDim: 32, textDim: 24, testRows: 100, seed: 3 };

/** Row `i` of a dense matrix, as a plain array. */
function row(m: DenseMatrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}

/** Share of `rows` whose first label is the nearest class mean's (means fitted on `fit`). */
function nearestMeanAccuracy(
  ds: CrossModalDataset,
  cols: [number, number],
  fit: number[],
  rows: number[],
): number {
  const t = ds.text as DenseMatrix, c = ds.labels.classes, w = cols[1] - cols[0];
  const first = (i: number) => ds.labels.data.subarray(i * c, (i + 1) * c).indexOf(1);
  const mean = Array.from({ length: c }, () => new Float64Array(w));
  const count = new Float64Array(c);
  for (const i of fit) {
    const k = first(i);
    count[k]++;
    for (let d = 0; d < w; d++) mean[k][d] += t.data[i * t.cols + cols[0] + d];
  }
  mean.forEach((m, k) => m.forEach((_, d) => (m[d] /= Math.max(1, count[k]))));
  let hit = 0;
  for (const i of rows) {
    let best = -1, bestD = Infinity;
    for (let k = 0; k < c; k++) {
      if (!count[k]) continue;
      let s = 0;
      for (let d = 0; d < w; d++) s += (t.data[i * t.cols + cols[0] + d] - mean[k][d]) ** 2;
      if (s < bestD) [bestD, best] = [s, k];
    }
    if (best === first(i)) hit++;
  }
  return hit / rows.length;
}

Deno.test("amendment knobs at their defaults change nothing and give no split of their own", () => {
  const plain = synthetic({ n: 300 });
  const zeros = synthetic({
    n: 300,
    shortcut: 0,
    gap: 0,
    trainDisagreement: 0,
    oracle: 0,
    databaseRows: 0,
    testRows: 500,
    privateDim: 16,
    gapDim: 8,
  });
  assert.deepEqual(image(zeros), image(plain));
  assert.deepEqual(text(zeros), text(plain));
  assert.equal(zeros.provenance, plain.provenance);
  assert.equal(plain.splitIndices, undefined);
});

Deno.test("shortcut: extra text columns that predict the labels on the training rows only", () => {
  const off = synthetic({ ...SMALL, gap: 1 }); // same split, no shortcut
  const on = synthetic({ ...SMALL, gap: 1, shortcut: 4, privateDim: 8 });
  const t = on.text as DenseMatrix;
  assert.equal(t.cols, 24 + 8);
  for (const i of [0, 250, 599]) {
    assert.deepEqual(row(t, i).slice(0, 24), row(off.text as DenseMatrix, i), `row ${i}`);
  }
  assert.deepEqual(image(on), image(off));
  const train = Array.from({ length: 400 }, (_, i) => i),
    held = Array.from({ length: 100 }, (_, i) => 400 + i);
  const test = Array.from({ length: 100 }, (_, i) => 500 + i);
  assert.ok(nearestMeanAccuracy(on, [24, 32], train, held) > 0.6, "training-side rows");
  assert.ok(nearestMeanAccuracy(on, [24, 32], train, test) < 0.35, "test rows");
  // The oracle masks the shortcut columns and keeps the rest.
  const oracle = synthetic({ ...SMALL, gap: 1, shortcut: 4, privateDim: 8, oracle: 1 });
  for (let i = 0; i < 600; i++) {
    assert.deepEqual(row(oracle.text as DenseMatrix, i).slice(24), new Array(8).fill(0));
    assert.deepEqual(row(oracle.text as DenseMatrix, i).slice(0, 24), row(t, i).slice(0, 24));
  }
});

Deno.test("gap: image rows spread by about gap² per coordinate; text untouched; the oracle removes it", () => {
  const base = synthetic({ ...SMALL, trainDisagreement: 0.1 });
  const on = synthetic({ ...SMALL, trainDisagreement: 0.1, gap: 3 });
  assert.deepEqual(text(on), text(base));
  const variance = (x: Float32Array, cols: number) => {
    let total = 0;
    for (let d = 0; d < cols; d++) {
      let m = 0, v = 0;
      for (let i = 0; i < 600; i++) m += x[i * cols + d] / 600;
      for (let i = 0; i < 600; i++) v += (x[i * cols + d] - m) ** 2 / 599;
      total += v / cols;
    }
    return total;
  };
  const added = variance(image(on), 32) - variance(image(base), 32);
  assert.ok(Math.abs(added - 9) < 9 * 0.25, `added variance ${added}, expected about 9`);
  const oracle = synthetic({ ...SMALL, trainDisagreement: 0.1, gap: 3, oracle: 1 });
  assert.deepEqual(image(oracle), image(base));
});

Deno.test("trainDisagreement corrupts training texts only; the oracle trains on the clean pairs", () => {
  const base = synthetic({ ...SMALL, gap: 0.5 });
  const on = synthetic({ ...SMALL, gap: 0.5, trainDisagreement: 0.25 });
  const t0 = base.text as DenseMatrix, t1 = on.text as DenseMatrix;
  const changed = Array.from({ length: 600 }, (_, i) => i)
    .filter((i) => row(t0, i).some((v, d) => v !== row(t1, i)[d]));
  assert.equal(changed.length, Math.round(0.25 * 500));
  assert.ok(changed.every((i) => i < 500), "test rows untouched");
  assert.deepEqual(image(on), image(base));
  assert.deepEqual([...on.splitIndices!.train!], Array.from({ length: 500 }, (_, i) => i));
  const oracle = synthetic({ ...SMALL, gap: 0.5, trainDisagreement: 0.25, oracle: 1 });
  assert.deepEqual(text(oracle), text(on), "the oracle's texts are the corrupted ones");
  const clean = [...oracle.splitIndices!.train!];
  assert.equal(clean.length, 500 - changed.length);
  assert.ok(changed.every((i) => !clean.includes(i)));
  assert.deepEqual([...oracle.splitIndices!.database], Array.from({ length: 500 }, (_, i) => i));
});

Deno.test("the generator's own split: queries last, an optional disjoint database, used by makeSplit", () => {
  const ds = synthetic({ ...SMALL, n: 700, databaseRows: 300, trainDisagreement: 0.5 });
  const s = ds.splitIndices!;
  assert.deepEqual([...s.query], Array.from({ length: 100 }, (_, i) => 600 + i));
  assert.deepEqual([...s.database], Array.from({ length: 300 }, (_, i) => 300 + i));
  assert.deepEqual([...s.train!], Array.from({ length: 300 }, (_, i) => i));
  // Corruption stays within the training rows.
  const base = synthetic({ ...SMALL, n: 700, databaseRows: 300 });
  for (let i = 300; i < 700; i++) {
    assert.deepEqual(row(ds.text as DenseMatrix, i), row(base.text as DenseMatrix, i), `row ${i}`);
  }
  const split = makeSplit(ds, { convention: "fixed", seed: 4 });
  assert.deepEqual([...split.query], [...s.query]);
  assert.deepEqual([...split.database], [...s.database]);
  assert.equal(split.train.length + split.validation.length, 300);
  assert.ok([...split.train, ...split.validation].every((i) => i < 300));
});

Deno.test("bad amendment settings are refused with the option named", () => {
  assert.throws(() => synthetic({ ...SMALL, oracle: 2 }), /oracle must be 0 or 1/);
  assert.throws(() => synthetic({ ...SMALL, trainDisagreement: 1.5 }), /trainDisagreement must be/);
  assert.throws(() => synthetic({ ...SMALL, shortcut: -1 }), /shortcut must be/);
  assert.throws(() => synthetic({ ...SMALL, gap: 1, testRows: 599 }), /testRows \+ databaseRows/);
  assert.throws(
    () => synthetic({ ...SMALL, gap: 1, databaseRows: 100 }),
    /databaseRows must be 0 or at least the 400 training rows/,
  );
  assert.throws(() => synthetic({ ...SMALL, privateDim: 0 }), /privateDim must be an integer/);
});
