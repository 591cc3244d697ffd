import assert from "node:assert/strict";
import {
  checkPackedCodes,
  hamming,
  packDense,
  packLabels,
  packSigns,
  popcount32,
  sharesLabel,
  unpackCodes,
} from "../../src/retrieval/codes.ts";
import { Rng } from "../../src/random.ts";
import type { PackedCodes } from "../../src/types.ts";

const LENGTHS = [1, 8, 16, 31, 32, 33, 63, 64, 65, 100];

function randomValues(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // A sprinkle of exact zeros and negative zeros to exercise sign(0) = +1.
    const u = rng.uniform();
    v[i] = u < 0.05 ? 0 : u < 0.1 ? -0 : rng.normal();
  }
  return v;
}

Deno.test("popcount32 counts the bits of any 32-bit word", () => {
  const rng = new Rng(1);
  const naive = (x: number) => {
    let c = 0;
    for (let k = 0; k < 32; k++) c += (x >>> k) & 1;
    return c;
  };
  for (const x of [0, 1, 0x80000000, 0xffffffff, 0x55555555, 0xaaaaaaaa, -1]) {
    assert.equal(popcount32(x), naive(x));
  }
  for (let t = 0; t < 1000; t++) {
    const x = rng.nextUint32();
    assert.equal(popcount32(x), naive(x));
  }
});

Deno.test("packSigns then unpackCodes gives the signs, with sign(0) = +1", () => {
  const rng = new Rng(2);
  for (const bits of LENGTHS) {
    const n = 7;
    const v = randomValues(rng, n * bits);
    const packed = packSigns(v, n, bits);
    assert.equal(packed.words, Math.ceil(bits / 32));
    assert.equal(packed.data.length, n * packed.words);
    const back = unpackCodes(packed);
    for (let i = 0; i < v.length; i++) assert.equal(back[i], v[i] >= 0 ? 1 : -1, `bits=${bits}`);
  }
});

Deno.test("zero and negative zero pack to bit 1 (+1), negatives to bit 0", () => {
  const c = packSigns([0, -0, -1e-30, 2], 1, 4);
  // bit k is 1 iff code_k = +1: bits 0, 1 and 3 set -> 0b1011 = 11
  assert.equal(c.data[0], 0b1011);
  assert.deepEqual([...unpackCodes(c)], [1, 1, -1, 1]);
});

Deno.test("unused high bits of the last word are 0 even when every code is +1", () => {
  for (const bits of LENGTHS) {
    const n = 3;
    const c = packSigns(new Float32Array(n * bits).fill(1), n, bits);
    const used = bits % 32;
    for (let i = 0; i < n; i++) {
      const last = c.data[i * c.words + c.words - 1];
      assert.equal(last, used === 0 ? 0xffffffff : 2 ** used - 1, `bits=${bits}`);
    }
    checkPackedCodes(c, "c");
  }
});

Deno.test("hamming equals (K - b_q . b_d) / 2 on random codes", () => {
  const rng = new Rng(3);
  for (const bits of LENGTHS) {
    const a = packSigns(randomValues(rng, 5 * bits), 5, bits);
    const b = packSigns(randomValues(rng, 6 * bits), 6, bits);
    const ua = unpackCodes(a), ub = unpackCodes(b);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 6; j++) {
        let dot = 0;
        for (let k = 0; k < bits; k++) dot += ua[i * bits + k] * ub[j * bits + k];
        assert.equal(hamming(a, i, b, j), (bits - dot) / 2);
      }
    }
  }
});

Deno.test("packDense packs a dense matrix by rows", () => {
  const m = {
    kind: "dense" as const,
    rows: 2,
    cols: 3,
    data: new Float32Array([1, -1, 0, -2, 3, -4]),
  };
  assert.deepEqual([...unpackCodes(packDense(m))], [1, -1, 1, -1, 1, -1]);
});

Deno.test("packSigns rejects a wrong length and NaN with a one-line error", () => {
  assert.throws(() => packSigns([1, 2, 3], 2, 2), /packSigns: values has length 3/);
  assert.throws(() => packSigns([1, NaN], 1, 2), /packSigns: values\[1\] is NaN/);
  assert.throws(() => packSigns([], 0, 0), /bits must be an integer >= 1/);
});

Deno.test("checkPackedCodes rejects nonzero unused bits and inconsistent sizes", () => {
  const bad: PackedCodes = { n: 1, bits: 4, words: 1, data: new Uint32Array([0x10]) };
  assert.throws(() => checkPackedCodes(bad, "bad"), /bad item 0 has nonzero unused high bits/);
  const short: PackedCodes = { n: 2, bits: 4, words: 1, data: new Uint32Array(1) };
  assert.throws(() => checkPackedCodes(short, "short"), /short\.data has length 1/);
  const words: PackedCodes = { n: 1, bits: 40, words: 1, data: new Uint32Array(1) };
  assert.throws(() => checkPackedCodes(words, "w"), /w\.words is 1, expected ceil/);
});

Deno.test("hamming rejects different code lengths and out-of-range items", () => {
  const a = packSigns([1, 1], 1, 2);
  const b = packSigns([1, 1, 1], 1, 3);
  assert.throws(() => hamming(a, 0, b, 0), /code lengths differ/);
  assert.throws(() => hamming(a, 1, a, 0), /i=1 out of range/);
});

Deno.test("packLabels bitsets agree with the label dot product (1, 2 and 3 words)", () => {
  const rng = new Rng(4);
  for (const classes of [1, 5, 24, 32, 33, 70]) {
    const n = 9;
    const data = new Uint8Array(n * classes);
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform() < 0.15 ? 1 : 0;
    const l = { rows: n, classes, data };
    const p = packLabels(l);
    assert.equal(p.words, Math.ceil(classes / 32));
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < classes; c++) {
        assert.equal((p.data[i * p.words + (c >>> 5)] >>> (c & 31)) & 1, data[i * classes + c]);
      }
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < classes; c++) dot += data[i * classes + c] * data[j * classes + c];
        assert.equal(sharesLabel(p, i, p, j), dot > 0);
      }
    }
  }
});

Deno.test("packLabels rejects entries other than 0/1 and wrong sizes", () => {
  assert.throws(
    () => packLabels({ rows: 1, classes: 2, data: new Uint8Array([0, 2]) }),
    /packLabels: labels\.data\[1\] is 2 \(row 0, class 1\), expected 0 or 1/,
  );
  assert.throws(
    () => packLabels({ rows: 2, classes: 2, data: new Uint8Array(3) }),
    /labels\.data has length 3, expected rows \* classes = 4/,
  );
});
