import { exists, tmpDirTest } from "../test_utils.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  inspectMat,
  matToCsr,
  matToDense,
  matToLabels,
  matValues,
  type MatVariable,
  readMat,
} from "../../src/datasets/formats/mat.ts";
import { defaultDataDir, readWikiList } from "../../src/datasets/datasets.ts";
import { csrToDense } from "../../src/datasets/matrix.ts";
import { encodeMat, matVar, MI, writeMat, type WriteVar } from "./fixtures/mat_writer.ts";

let tmp = "";
let counter = 0;
/** A test that gets a fresh temporary directory (`tmp`), removed afterwards. */
const tmpTest = tmpDirTest("data_mat_", (dir) => (tmp = dir));
async function fixture(vars: WriteVar[], opts: Parameters<typeof encodeMat>[1] = {}) {
  const p = join(tmp, `f${counter++}.mat`);
  await writeMat(p, vars, opts);
  return p;
}

const A_ROWS = [1.5, -2, 3, 4, 5.25, -6]; // 2x3 row-major
const mixed: WriteVar[] = [
  matVar("A", 2, 3, A_ROWS),
  matVar("s", 3, 2, [0.5, 1, 2, 3, -4, 1e-3], "single"),
  matVar("u8", 2, 2, [0, 255, 7, 9], "uint8"),
  matVar("i16", 1, 3, [-300, 0, 300], "int16"),
  matVar("i64", 2, 1, [-5, 2 ** 40], "int64"),
  // a double stored as uint8, as MATLAB does for integer-valued doubles
  matVar("dAsU8", 2, 3, [1, 0, 0, 0, 1, 1], "double", { storage: MI.UINT8 }),
  matVar("lg", 2, 2, [1, 0, 0, 1], "uint8", { logical: true }),
  { kind: "numeric", name: "x", class: "double", dims: [1, 1], data: [42] },
];

function dense(v: MatVariable) {
  const m = matToDense(v);
  return { rows: m.rows, cols: m.cols, data: Array.from(m.data) };
}

for (const compress of [false, true]) {
  for (const bigEndian of [false, true]) {
    const label = `${compress ? "compressed" : "uncompressed"} ${
      bigEndian ? "big" : "little"
    }-endian`;
    tmpTest(`MAT v5 reader returns known values in row-major order (${label})`, async () => {
      const p = await fixture(mixed, { compress, bigEndian });
      const m = await readMat(p);
      assert.deepEqual([...m.keys()], ["A", "s", "u8", "i16", "i64", "dAsU8", "lg", "x"]);
      assert.deepEqual(dense(m.get("A")!), { rows: 2, cols: 3, data: A_ROWS });
      const s = dense(m.get("s")!);
      assert.deepEqual(s.data, Array.from(new Float32Array([0.5, 1, 2, 3, -4, 1e-3])));
      assert.equal(m.get("s")!.class, "single");
      assert.deepEqual(dense(m.get("u8")!).data, [0, 255, 7, 9]);
      assert.deepEqual(dense(m.get("i16")!).data, [-300, 0, 300]);
      assert.deepEqual(Array.from(matValues(m.get("i64")!)), [-5, 2 ** 40]);
      const d = m.get("dAsU8")!;
      assert.equal(d.class, "double");
      assert.deepEqual(dense(d).data, [1, 0, 0, 0, 1, 1]);
      const lg = m.get("lg")!;
      assert.ok(lg.type === "numeric" && lg.logical);
      assert.deepEqual(Array.from(matToLabels(lg).data), [1, 0, 0, 1]);
      assert.deepEqual(dense(m.get("x")!).data, [42]);
    });
  }
}

tmpTest(
  "MAT v5 reader agrees with files written by scipy.io.savemat (independent writer)",
  async () => {
    for (const b64 of [SCIPY_PLAIN, SCIPY_COMPRESSED]) {
      const p = join(tmp, `scipy${counter++}.mat`);
      await Deno.writeFile(p, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      const m = await readMat(p, { variables: ["A", "B", "S", "C", "Lg", "I6", "F"] });
      assert.deepEqual(dense(m.get("A")!), { rows: 2, cols: 3, data: [1.5, -2, 3, 4, 5.25, -6] });
      assert.deepEqual(dense(m.get("B")!), { rows: 3, cols: 2, data: [1, 2, 3, 4, 250, 6] });
      const S = m.get("S")!;
      assert.equal(S.type, "sparse");
      assert.deepEqual(dense(S).data, [0, 1.5, 0, 0, 2, 0, 0, -3, 0, 0, 0, 4]);
      const C = m.get("C")!;
      assert.ok(C.type === "char");
      assert.deepEqual(C.rows, ["hi"]);
      assert.deepEqual(Array.from(matToLabels(m.get("Lg")!).data), [1, 0, 0, 1]);
      assert.deepEqual(Array.from(matValues(m.get("I6")!)), [-5, 7]);
      assert.deepEqual(dense(m.get("F")!), { rows: 2, cols: 1, data: [0.5, 1.25] });
      await assert.rejects(
        readMat(p, { variables: ["Z"] }),
        (e: Error) =>
          e.message.includes(p) && e.message.includes("'Z'") && /complex/.test(e.message),
      );
    }
  },
);

tmpTest(
  "sparse variables become CSR equal to their dense form; logical sparse may lack pr",
  async () => {
    // 3x4: [[0,1.5,0,0],[2,0,0,-3],[0,0,0,4]] in CSC: columns 0..3
    const vars: WriteVar[] = [
      {
        kind: "sparse",
        name: "S",
        rows: 3,
        cols: 4,
        ir: [1, 0, 1, 2],
        jc: [0, 1, 2, 2, 4],
        pr: [2, 1.5, -3, 4],
      },
      {
        kind: "sparse",
        name: "LS",
        rows: 2,
        cols: 3,
        ir: [1, 0],
        jc: [0, 1, 1, 2],
        pr: null,
        logical: true,
      },
      { kind: "sparse", name: "E", rows: 2, cols: 2, ir: [], jc: [0, 0, 0], pr: [] },
    ];
    for (const compress of [false, true]) {
      const p = await fixture(vars, { compress });
      const m = await readMat(p);
      const csr = matToCsr(m.get("S")!);
      assert.deepEqual(Array.from(csr.indptr), [0, 1, 3, 4]);
      assert.deepEqual(Array.from(csr.indices), [1, 0, 3, 3]);
      assert.deepEqual(Array.from(csr.values), [1.5, 2, -3, 4]);
      assert.deepEqual(Array.from(csrToDense(csr).data), Array.from(matToDense(m.get("S")!).data));
      const ls = m.get("LS")!;
      assert.ok(ls.type === "sparse" && ls.logical && ls.values === null);
      assert.deepEqual(Array.from(matToLabels(ls).data), [0, 0, 1, 1, 0, 0]);
      assert.deepEqual(dense(m.get("E")!).data, [0, 0, 0, 0]);
    }
  },
);

tmpTest("dense numeric variables convert straight to CSR", async () => {
  const p = await fixture([matVar("Y", 3, 3, [0, 1, 0, 2, 0, 0, 0, 0, 3], "uint8")]);
  const csr = matToCsr((await readMat(p)).get("Y")!);
  assert.deepEqual(Array.from(csr.indptr), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(csr.indices), [1, 0, 2]);
  assert.deepEqual(Array.from(csr.values), [1, 2, 3]);
});

tmpTest("char arrays are decoded row by row", async () => {
  const p = await fixture([{ kind: "char", name: "names", rows: ["cat", "dog"] }], {
    compress: true,
  });
  const v = (await readMat(p)).get("names")!;
  assert.ok(v.type === "char");
  assert.deepEqual(v.rows, ["cat", "dog"]);
  assert.throws(() => matToDense(v), /names.*char array/);
});

tmpTest(
  "only requested variables are decoded: a corrupt unrequested variable does not matter",
  async () => {
    const big = Array.from({ length: 4000 }, (_, i) => Math.sin(i) * 1000);
    const bytes = encodeMat([matVar("junk", 40, 100, big), matVar("A", 2, 3, A_ROWS)], {
      compress: true,
    });
    // corrupt the tail of the first compressed stream (past its header bytes)
    const dv = new DataView(bytes.buffer);
    const zlen = dv.getUint32(132, true);
    for (let i = 136 + zlen - 40; i < 136 + zlen - 8; i++) bytes[i] ^= 0x5a;
    const p = join(tmp, `corrupt${counter++}.mat`);
    await Deno.writeFile(p, bytes);
    const m = await readMat(p, { variables: ["A"] });
    assert.deepEqual(dense(m.get("A")!).data, A_ROWS);
    assert.deepEqual((await inspectMat(p)).map((i) => [i.name, i.dims]), [["junk", [40, 100]], [
      "A",
      [2, 3],
    ]]);
    await assert.rejects(
      readMat(p, { variables: ["junk"] }),
      (e: Error) => e.message.includes(p) && /corrupt compressed element/.test(e.message),
    );
  },
);

tmpTest("inspectMat reports class, dims and flags of every variable without decoding", async () => {
  const p = await fixture([
    {
      kind: "numeric",
      name: "IAll",
      class: "uint8",
      dims: [2, 2, 3, 2],
      data: new Array(24).fill(1),
    },
    { kind: "numeric", name: "Z", class: "double", dims: [1, 2], data: [1, 2], imag: [3, 4] },
    { kind: "cell", name: "c" },
  ], { compress: ["IAll"] });
  const info = await inspectMat(p);
  assert.deepEqual(info.map((i) => [i.name, i.class, i.dims, i.complex, i.compressed]), [
    ["IAll", "uint8", [2, 2, 3, 2], false, true],
    ["Z", "double", [1, 2], true, false],
    ["c", "cell", [1, 1], false, false],
  ]);
});

tmpTest(
  "reading a whole file lists unsupported variables; requesting one throws naming it",
  async () => {
    const p = await fixture([
      matVar("A", 2, 3, A_ROWS),
      { kind: "cell", name: "c" },
      { kind: "numeric", name: "Z", class: "double", dims: [1, 2], data: [1, 2], imag: [3, 4] },
    ]);
    const all = await readMat(p);
    assert.equal(all.get("c")!.type, "unsupported");
    assert.equal(all.get("Z")!.type, "unsupported");
    assert.throws(() => matToDense(all.get("Z")!, `${p}: variable 'Z'`), /variable 'Z'.*complex/);
    await assert.rejects(
      readMat(p, { variables: ["c"] }),
      (e: Error) => e.message.includes(p) && e.message.includes("'c'") && /cell/.test(e.message),
    );
    await assert.rejects(
      readMat(p, { variables: ["Z"] }),
      (e: Error) => e.message.includes(p) && e.message.includes("'Z'") && /complex/.test(e.message),
    );
  },
);

tmpTest("a missing variable is reported with the file and the variables it has", async () => {
  const p = await fixture([matVar("A", 2, 3, A_ROWS)]);
  await assert.rejects(readMat(p, { variables: ["A", "B"] }), (e: Error) => {
    assert.ok(e.message.includes(p) && e.message.includes("'B'") && e.message.includes("has: A"));
    assert.ok(!e.message.includes("\n"));
    return true;
  });
});

tmpTest("non-MAT, v7.3 and missing files are rejected with a clear message", async () => {
  const junk = join(tmp, "junk.mat");
  await Deno.writeFile(junk, new Uint8Array(200).fill(65));
  await assert.rejects(readMat(junk), /junk\.mat.*not a MATLAB 5\.0 MAT-file/);
  const v73 = join(tmp, "v73.mat");
  const head = new Uint8Array(600);
  head.set(new TextEncoder().encode("MATLAB 7.3 MAT-file, Platform: GLNXA64"));
  await Deno.writeFile(v73, head);
  await assert.rejects(readMat(v73), /v73\.mat.*MAT v7\.3/);
  await assert.rejects(readMat(join(tmp, "nope.mat")), /nope\.mat: file not found/);
  const short = join(tmp, "trunc.mat");
  const bytes = encodeMat([matVar("A", 2, 3, A_ROWS)]);
  await Deno.writeFile(short, bytes.subarray(0, bytes.length - 20));
  await assert.rejects(readMat(short), /trunc\.mat.*truncated/);
});

tmpTest("matToLabels rejects values other than 0/1, naming the cell", async () => {
  const p = await fixture([matVar("L", 2, 2, [1, 0, 2, 1])]);
  const v = (await readMat(p)).get("L")!;
  assert.throws(
    () => matToLabels(v, `${p}: variable 'L'`),
    (e: Error) =>
      e.message.includes(p) && e.message.includes("'L'") &&
      /value 2 at row 1, column 0/.test(e.message),
  );
});

// ------------------------------------------------------------------ real data

const dataDir = defaultDataDir();
const wikiDir = join(dataDir, "wikipedia");
const mirDir = join(dataDir, "mirflickr25k");
const hasWiki = await exists(join(wikiDir, "wikiData.mat"));
const hasMir = await exists(join(mirDir, "mirflickr25k-yall.mat"));
if (!hasWiki) {
  console.log(`skipping real Wikipedia tests: ${wikiDir} not found (set HASH_DATA_DIR)`);
}
if (!hasMir) console.log(`skipping real MIRFlickr tests: ${mirDir} not found (set HASH_DATA_DIR)`);

Deno.test({
  name: "real wikiData.mat: shapes, categories 1..10, image histograms sum to 1",
  ignore: !hasWiki,
  fn: async () => {
    const p = join(wikiDir, "wikiData.mat");
    const m = await readMat(p);
    const shape = (k: string) => m.get(k)!.dims;
    assert.deepEqual(shape("I_tr"), [2173, 128]);
    assert.deepEqual(shape("I_te"), [693, 128]);
    assert.deepEqual(shape("T_tr"), [2173, 10]);
    assert.deepEqual(shape("T_te"), [693, 10]);
    assert.deepEqual(shape("L_tr"), [2173, 1]);
    assert.deepEqual(shape("L_te"), [693, 1]);
    for (const k of ["L_tr", "L_te"]) {
      const v = matValues(m.get(k)!);
      assert.ok(v.every((x) => Number.isInteger(x) && x >= 1 && x <= 10), k);
      assert.equal(new Set(v).size, 10, `${k} uses all 10 categories`);
    }
    for (const k of ["I_tr", "I_te"]) {
      const d = matToDense(m.get(k)!);
      for (let r = 0; r < d.rows; r++) {
        let s = 0;
        for (let c = 0; c < d.cols; c++) s += d.data[r * d.cols + c];
        assert.ok(Math.abs(s - 1) < 1e-4, `${k} row ${r} sums to ${s}`);
      }
    }
  },
});

Deno.test({
  name: "real raw_features.mat: tf-idf rows are L2-normalised and I_* equal wikiData's",
  ignore: !hasWiki,
  fn: async () => {
    const raw = await readMat(join(wikiDir, "raw_features.mat"));
    const wiki = await readMat(join(wikiDir, "wikiData.mat"), { variables: ["I_tr"] });
    for (const [k, rows] of [["T_tfidf_tr", 2173], ["T_tfidf_te", 693]] as const) {
      const d = matToDense(raw.get(k)!);
      assert.deepEqual([d.rows, d.cols], [rows, 1000]);
      for (let r = 0; r < d.rows; r++) {
        let s = 0;
        for (let c = 0; c < d.cols; c++) s += d.data[r * d.cols + c] ** 2;
        assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-4, `${k} row ${r} has norm ${Math.sqrt(s)}`);
      }
    }
    assert.deepEqual(matToDense(raw.get("I_tr")!).data, matToDense(wiki.get("I_tr")!).data);
  },
});

Deno.test({
  name: "real Wikipedia list files agree with L_tr / L_te",
  ignore: !hasWiki,
  fn: async () => {
    const m = await readMat(join(wikiDir, "wikiData.mat"), { variables: ["L_tr", "L_te"] });
    for (
      const [k, f] of [["L_tr", "trainset_txt_img_cat.list"], ["L_te", "testset_txt_img_cat.list"]]
    ) {
      const list = await readWikiList(join(wikiDir, f));
      const L = matValues(m.get(k)!);
      assert.equal(list.rows, L.length);
      for (let i = 0; i < L.length; i++) {
        assert.equal(list.data[i * 10 + L[i] - 1], 1, `${f} line ${i + 1}`);
      }
    }
  },
});

Deno.test({
  name: "real MIRFlickr: YAll 20015x1386 binary, LAll 20015x24 without empty rows, 24 names",
  ignore: !hasMir,
  fn: async () => {
    const y = (await readMat(join(mirDir, "mirflickr25k-yall.mat"), { variables: ["YAll"] })).get(
      "YAll",
    )!;
    assert.deepEqual(y.dims, [20015, 1386]);
    const Y = matToLabels(y); // throws unless every value is 0/1
    let ones = 0;
    for (const v of Y.data) ones += v;
    assert.ok(ones > 20015, `YAll has ${ones} ones`);
    const l = (await readMat(join(mirDir, "mirflickr25k-lall.mat"))).get("LAll")!;
    assert.deepEqual(l.dims, [20015, 24]);
    const L = matToLabels(l);
    for (let r = 0; r < L.rows; r++) {
      let s = 0;
      for (let c = 0; c < 24; c++) s += L.data[r * 24 + c];
      assert.ok(s > 0, `LAll row ${r} has no label`);
    }
    const names = (await Deno.readTextFile(join(mirDir, "label_names.txt"))).trim().split(/\r?\n/);
    assert.equal(names.length, 24);
    assert.equal(names[0], "animals");
  },
});

// Files written by scipy 1.17.1 `scipy.io.savemat` (do_compression False / True) holding
// A = [[1.5,-2,3],[4,5.25,-6]], B = uint8 [[1,2],[3,4],[250,6]], S = sparse
// [[0,1.5,0,0],[2,0,0,-3],[0,0,0,4]], C = 'hi', Lg = logical eye(2), Z = [1+2i, 3-1i],
// I6 = int64 [-5, 7], F = single [0.5; 1.25].
const SCIPY_PLAIN =
  "TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IE1vbiBOb3YgMjMgMjA6NTY6MzEgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0OAAAAYAAAAAYAAAAIAAAABgAAAAAAAAAFAAAACAAAAAIAAAADAAAAAQABAEEAAAAJAAAAMAAAAAAAAAAAAPg/AAAAAAAAEEAAAAAAAAAAwAAAAAAAABVAAAAAAAAACEAAAAAAAAAYwA4AAAA4AAAABgAAAAgAAAAJAAAAAAAAAAUAAAAIAAAAAwAAAAIAAAABAAEAQgAAAAIAAAAGAAAAAQP6AgQGAAAOAAAAiAAAAAYAAAAIAAAABQAAAAQAAAAFAAAACAAAAAMAAAAEAAAAAQABAFMAAAAFAAAAEAAAAAEAAAAAAAAAAQAAAAIAAAAFAAAAFAAAAAAAAAABAAAAAgAAAAIAAAAEAAAAAAAAAAkAAAAgAAAAAAAAAAAAAEAAAAAAAAD4PwAAAAAAAAjAAAAAAAAAEEAOAAAAMAAAAAYAAAAIAAAABAAAAAAAAAAFAAAACAAAAAEAAAACAAAAAQABAEMAAAAQAAIAaGkAAA4AAAAwAAAABgAAAAgAAAAJAgAAAAAAAAUAAAAIAAAAAgAAAAIAAAABAAIATGcAAAIABAABAAABDgAAAFgAAAAGAAAACAAAAAYIAAAAAAAABQAAAAgAAAABAAAAAgAAAAEAAQBaAAAACQAAABAAAAAAAAAAAADwPwAAAAAAAAhACQAAABAAAAAAAAAAAAAAQAAAAAAAAPC/DgAAAEAAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAgAAAAEAAgBJNgAADAAAABAAAAD7/////////wcAAAAAAAAADgAAADgAAAAGAAAACAAAAAcAAAAAAAAABQAAAAgAAAACAAAAAQAAAAEAAQBGAAAABwAAAAgAAAAAAAA/AACgPw==";
const SCIPY_COMPRESSED =
  "TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IE1vbiBOb3YgMjMgMjA6NTY6MzEgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0PAAAAOgAAAHic42NgYEgAYjYg5oDSIMAK5TMBMTMQMwKhI5DmBGIDBhj4YQ+hBRygAgcglCiUzwGlJQ4AAKynBM0PAAAALQAAAHic42NgYLAAYjYg5gBiTgYIYIXymYGYCYgZgdAJygapZWT+xcQCZAAAI+MBxg8AAABFAAAAeJzjY2Bg6ABiNiDmAGJWIGaB0iA+M5TPCITBUHEBMB8CQDQTVFwETYwJqhcEOIFYgQEOHCDUD3sIzXEAQgs4AADDZQQKDwAAACoAAAB4nONjYGAwAGI2IOYAYhYGCGCF8hmBmAlMMzI4A2kBIC8jk4EBABiRAYkPAAAAKAAAAHic42NgYDAAYjYg5gBiTiYGMGCF8pmgmBFI+qSD2CxANgMjABtsAScPAAAANgAAAHic42NgYIgAYjYg5gDRIAIIWKF8RiBmAtOMDFFAmhOIBRhg4IM9hOZwQBVncIDK7wcAf7QEhw8AAAAxAAAAeJzjY2BgcABiNiDmAGI+BghghfIZgZgJTDMxeJoxMPAA2QJA/Ps/BLBD1QMAkmYJFA8AAAArAAAAeJzjY2BgsABiNiDmAGJ2BghghfKZgJgRjBkZ3KDyHBAl9gwMC+wBIJQB4Q==";
