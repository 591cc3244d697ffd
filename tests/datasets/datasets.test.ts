import { exists, tmpDirTest } from "../test_utils.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import {
  defaultDataDir,
  loadDataset,
  type LoadDatasetOptions,
  relativeProvenance,
  withoutMachinePaths,
} from "../../src/datasets/datasets.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { simulateImageFeatures } from "../../src/datasets/simulated.ts";
import { csrToDense, gatherRows, toDense } from "../../src/datasets/matrix.ts";
import { writeNpy } from "../../src/datasets/formats/npy.ts";
import { Rng } from "../../src/random.ts";
import type { CrossModalDataset, DenseMatrix, LabelMatrix } from "../../src/types.ts";
import { matVar, MI, writeMat, type WriteVar } from "./fixtures/mat_writer.ts";

// ------------------------------------------------------------------ fixture helpers

let tmp = "";
/** A test that gets a fresh temporary directory (`tmp`), removed afterwards. */
const tmpTest = tmpDirTest("data_datasets_", (dir) => (tmp = dir));

const rng = new Rng(7);
/** rows x cols row-major values in [0, 1). */
function rand(rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, () => Math.round(rng.uniform() * 1000) / 1000);
}
/** rows x cols 0/1 values, each row with at least one 1. */
function multiHot(rows: number, cols: number, p = 0.2): number[] {
  const out = Array.from({ length: rows * cols }, () => (rng.uniform() < p ? 1 : 0));
  for (let r = 0; r < rows; r++) out[r * cols + (r % cols)] = 1;
  return out;
}
function row(m: DenseMatrix, r: number): number[] {
  return Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
}
function f32(a: number[]): number[] {
  return Array.from(new Float32Array(a));
}

async function mkdir(...parts: string[]) {
  const d = join(tmp, ...parts);
  await Deno.mkdir(d, { recursive: true });
  return d;
}

interface Wiki {
  Itr: number[];
  Ite: number[];
  Ttr: number[];
  Tte: number[];
  Ltr: number[];
  Lte: number[];
}
const NTR = 12, NTE = 5;
function wikiData(): Wiki {
  return {
    Itr: rand(NTR, 128),
    Ite: rand(NTE, 128),
    Ttr: rand(NTR, 10),
    Tte: rand(NTE, 10),
    Ltr: Array.from({ length: NTR }, (_, i) => (i % 10) + 1),
    Lte: Array.from({ length: NTE }, (_, i) => ((i + 3) % 10) + 1),
  };
}
function wikiVars(w: Wiki, override: Partial<Record<string, WriteVar | null>> = {}): WriteVar[] {
  const vars: Record<string, WriteVar> = {
    I_tr: matVar("I_tr", NTR, 128, w.Itr),
    I_te: matVar("I_te", NTE, 128, w.Ite),
    T_tr: matVar("T_tr", NTR, 10, w.Ttr),
    T_te: matVar("T_te", NTE, 10, w.Tte),
    L_tr: matVar("L_tr", NTR, 1, w.Ltr, "double", { storage: MI.UINT8 }),
    L_te: matVar("L_te", NTE, 1, w.Lte, "double", { storage: MI.UINT8 }),
  };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete vars[k];
    else vars[k] = v!;
  }
  return Object.values(vars);
}

interface Mir {
  n: number;
  I: number[];
  Y: number[];
  L: number[];
  d: number;
}
function mirData(n = 30, d = 16): Mir {
  return { n, d, I: rand(n, d), Y: multiHot(n, 1386, 0.01), L: multiHot(n, 24) };
}
async function writeMir(
  m: Mir,
  opts: { image?: boolean; names?: string[] | null; override?: Record<string, WriteVar> } = {},
) {
  const dir = await mkdir("mirflickr25k");
  await writeMat(join(dir, "mirflickr25k-yall.mat"), [
    opts.override?.YAll ?? matVar("YAll", m.n, 1386, m.Y, "double", { storage: MI.UINT8 }),
  ], { compress: true });
  await writeMat(join(dir, "mirflickr25k-lall.mat"), [
    opts.override?.LAll ?? matVar("LAll", m.n, 24, m.L, "double", { storage: MI.UINT8 }),
  ], { compress: true });
  if (opts.image ?? true) {
    await writeMat(join(dir, "mirflickr25k-iall.mat"), [
      opts.override?.IAll ?? matVar("IAll", m.n, m.d, m.I, "single"),
    ], { compress: true });
  }
  if (opts.names !== null) {
    const names = opts.names ?? Array.from({ length: 24 }, (_, i) => `concept${i}`);
    await Deno.writeTextFile(join(dir, "label_names.txt"), names.join("\n") + "\n");
  }
  return dir;
}

await h5wasm.ready;
/** A v7.3 file with MATLAB's conventions: dims reversed, MATLAB_class attributes. */
function writeV73(
  path: string,
  vars: { name: string; rows: number; cols: number; data: number[] }[],
  extra?: (f: InstanceType<typeof h5wasm.File>) => void,
) {
  const f = new h5wasm.File(path, "w");
  try {
    extra?.(f);
    for (const v of vars) {
      const cm = new Float64Array(v.rows * v.cols);
      for (let r = 0; r < v.rows; r++) {
        for (let c = 0; c < v.cols; c++) cm[c * v.rows + r] = v.data[r * v.cols + c];
      }
      f.create_dataset({ name: v.name, data: cm, shape: [v.cols, v.rows] }).create_attribute(
        "MATLAB_class",
        "double",
      );
    }
  } finally {
    f.close();
  }
}

function load(name: string, o: Partial<LoadDatasetOptions> = {}) {
  return loadDataset(name, { dataDir: tmp, ...o });
}

/** Assert that loading fails with a single-line message containing every fragment. */
async function failsWith(p: Promise<unknown>, ...fragments: (string | RegExp)[]) {
  await assert.rejects(p, (e: Error) => {
    assert.ok(!e.message.includes("\n"), `multi-line message: ${e.message}`);
    for (const f of fragments) {
      if (typeof f === "string") assert.ok(e.message.includes(f), `'${f}' not in: ${e.message}`);
      else assert.match(e.message, f);
    }
    return true;
  });
}

/** Loading MIRFlickr fails naming the file and the variable when `v` replaces its variable. */
async function mirRejects(m: Mir, v: WriteVar, ...fragments: string[]) {
  await writeMir(m, { override: { [v.name]: v } });
  const file = `mirflickr25k-${v.name.toLowerCase()}.mat`;
  await failsWith(load("mirflickr25k"), file, `'${v.name}'`, ...fragments);
}

/** Loading Wikipedia fails naming wikiData.mat and the variable when `v` replaces its variable. */
async function wikiRejects(w: Wiki, v: WriteVar, ...fragments: string[]) {
  await writeMat(join(await mkdir("wikipedia"), "wikiData.mat"), wikiVars(w, { [v.name]: v }));
  await failsWith(load("wikipedia"), "wikiData.mat", `'${v.name}'`, ...fragments);
}

/** Rows, image columns, text columns and label classes of a dataset. */
function sizes(ds: CrossModalDataset): number[] {
  return [ds.image.rows, ds.image.cols, ds.text.cols, ds.labels.classes];
}

function labelRow(l: LabelMatrix, r: number): number[] {
  return Array.from(l.data.subarray(r * l.classes, (r + 1) * l.classes));
}

// ------------------------------------------------------------------ fixtures: successful loads

tmpTest(
  "wikipedia: train rows then test rows, one-hot categories, fixed split on the test rows",
  async () => {
    const w = wikiData();
    await writeMat(join(await mkdir("wikipedia"), "wikiData.mat"), wikiVars(w), { compress: true });
    const ds = await load("wikipedia");
    assert.equal(ds.name, "wikipedia");
    assert.deepEqual(sizes(ds), [17, 128, 10, 10]);
    assert.deepEqual(ds.fixedSplit, { queryStart: NTR, queryEnd: NTR + NTE });
    const I = ds.image as DenseMatrix, T = toDense(ds.text);
    assert.deepEqual(row(I, 0), f32(w.Itr.slice(0, 128)));
    assert.deepEqual(row(I, NTR), f32(w.Ite.slice(0, 128)));
    assert.deepEqual(row(T, NTR + 1), f32(w.Tte.slice(10, 20)));
    for (let r = 0; r < 17; r++) {
      const cat = r < NTR ? w.Ltr[r] : w.Lte[r - NTR];
      const expect = new Array(10).fill(0);
      expect[cat - 1] = 1;
      assert.deepEqual(labelRow(ds.labels, r), expect);
    }
    assert.equal(ds.labelNames[0], "art");
    assert.match(ds.provenance, /wikiData\.mat \(\d+ bytes, sha256 [0-9a-f]{64}\)/);
  },
);

tmpTest(
  "wikipedia tfidf variant: tf-idf text from raw_features.mat, labels from the list files",
  async () => {
    const w = wikiData();
    const dir = await mkdir("wikipedia");
    const tfTr = rand(NTR, 1000), tfTe = rand(NTE, 1000);
    await writeMat(join(dir, "raw_features.mat"), [
      matVar("T_tfidf_tr", NTR, 1000, tfTr),
      matVar("T_tfidf_te", NTE, 1000, tfTe),
      matVar("I_tr", NTR, 128, w.Itr),
      matVar("I_te", NTE, 128, w.Ite),
    ], { compress: true });
    const list = (L: number[]) => L.map((c, i) => `t${i}\ti${i}\t${c}`).join("\n") + "\n";
    await Deno.writeTextFile(join(dir, "trainset_txt_img_cat.list"), list(w.Ltr));
    await Deno.writeTextFile(join(dir, "testset_txt_img_cat.list"), list(w.Lte));
    const ds = await load("wikipedia", { variant: "tfidf", textFormat: "csr" });
    assert.equal(ds.name, "wikipedia-tfidf");
    assert.equal(ds.text.kind, "csr");
    assert.deepEqual([ds.text.rows, ds.text.cols], [17, 1000]);
    assert.deepEqual(row(csrToDense(ds.text as never), NTR), f32(tfTe.slice(0, 1000)));
    assert.equal(ds.labels.data[(NTR + 2) * 10 + w.Lte[2] - 1], 1);
    await Deno.writeTextFile(join(dir, "testset_txt_img_cat.list"), list(w.Lte.slice(1)));
    await failsWith(
      load("wikipedia", { variant: "tfidf" }),
      "testset_txt_img_cat.list",
      "4 lines, expected 5",
    );
  },
);

tmpTest(
  "mirflickr25k: image features from mirflickr25k-iall.mat, text YAll, labels LAll",
  async () => {
    const m = mirData();
    await writeMir(m);
    const ds = await load("mirflickr25k");
    assert.equal(ds.name, "mirflickr25k");
    assert.deepEqual(sizes(ds), [30, 16, 1386, 24]);
    assert.deepEqual(row(ds.image as DenseMatrix, 7), f32(m.I.slice(7 * 16, 8 * 16)));
    assert.deepEqual(row(toDense(ds.text), 3), m.Y.slice(3 * 1386, 4 * 1386));
    assert.deepEqual(labelRow(ds.labels, 5), m.L.slice(5 * 24, 6 * 24));
    assert.equal(ds.labelNames[23], "concept23");
    for (const f of ["mirflickr25k-yall.mat", "mirflickr25k-lall.mat", "mirflickr25k-iall.mat"]) {
      assert.ok(ds.provenance.includes(f), f);
    }
    const csr = await load("mirflickr25k", { textFormat: "csr", checksums: false });
    assert.equal(csr.text.kind, "csr");
    assert.deepEqual(Array.from(gatherRows(csr.text, [3]).data), m.Y.slice(3 * 1386, 4 * 1386));
    assert.ok(!csr.provenance.includes("sha256"));
  },
);

tmpTest("mirflickr25k: image features from a .npy file", async () => {
  const m = mirData();
  const dir = await writeMir(m, { image: false, names: null });
  await writeNpy(join(dir, "mirflickr25k-iall.npy"), {
    dtype: "f4",
    shape: [m.n, m.d],
    data: new Float32Array(m.I),
  });
  const ds = await load("mirflickr25k");
  assert.deepEqual(row(ds.image as DenseMatrix, 29), f32(m.I.slice(29 * 16)));
  assert.equal(ds.labelNames[0], "animals", "built-in names when label_names.txt is absent");
});

tmpTest(
  "mirflickr25k: DADH-style FLICKR-25K.mat (v7.3) supplies images, YAll and LAll",
  async () => {
    const m = mirData(20, 8);
    const dir = await mkdir("mirflickr25k");
    writeV73(join(dir, "FLICKR-25K.mat"), [
      { name: "images", rows: m.n, cols: m.d, data: m.I },
      { name: "YAll", rows: m.n, cols: 1386, data: m.Y },
      { name: "LAll", rows: m.n, cols: 24, data: m.L },
    ]);
    const ds = await load("mirflickr25k");
    assert.deepEqual([ds.image.rows, ds.image.cols], [20, 8]);
    assert.deepEqual(row(ds.image as DenseMatrix, 4), f32(m.I.slice(4 * 8, 5 * 8)));
    assert.deepEqual(labelRow(ds.labels, 19), m.L.slice(19 * 24));
    assert.ok(ds.provenance.includes("FLICKR-25K.mat"));
  },
);

tmpTest(
  "mirflickr25k-simimg: real text and labels, simulated non-negative image side, says so",
  async () => {
    const m = mirData();
    await writeMir(m, { image: false });
    const ds = await load("mirflickr25k-simimg", { seed: 3, simulatedImage: { dim: 64 } });
    assert.equal(ds.name, "mirflickr25k-simimg");
    assert.match(ds.provenance, /SIMULATED image features/);
    assert.match(ds.provenance, /dim=64/);
    assert.match(ds.provenance, /seed=3/);
    assert.deepEqual([ds.image.rows, ds.image.cols], [30, 64]);
    assert.ok((ds.image as DenseMatrix).data.every((v) => v >= 0));
    assert.deepEqual(labelRow(ds.labels, 2), m.L.slice(2 * 24, 3 * 24));
    const again = await load("mirflickr25k-simimg", { seed: 3, simulatedImage: { dim: 64 } });
    assert.deepEqual(again.image, ds.image);
    const other = await load("mirflickr25k-simimg", { seed: 4, simulatedImage: { dim: 64 } });
    assert.notDeepEqual(other.image, ds.image);
  },
);

tmpTest("nuswide, mscoco and iapr load from their documented files and variables", async () => {
  const n = 12;
  const nus = await mkdir("nuswide");
  const I = rand(n, 6), Y = multiHot(n, 1000, 0.02), L = multiHot(n, 21);
  await writeMat(join(nus, "nus-wide-tc21-iall.mat"), [matVar("IAll", n, 6, I)]);
  await writeMat(join(nus, "nus-wide-tc21-yall.mat"), [matVar("YAll", n, 1000, Y)], {
    compress: true,
  });
  await writeMat(join(nus, "nus-wide-tc21-lall.mat"), [matVar("LAll", n, 21, L)]);
  const a = await load("nuswide");
  assert.deepEqual([a.name, a.image.cols, a.text.cols, a.labels.classes], ["nuswide", 6, 1000, 21]);
  assert.deepEqual(labelRow(a.labels, 11), L.slice(11 * 21));
  // DADH-style single file, used when the DCMH-style triple is absent
  for (const f of ["nus-wide-tc21-iall.mat", "nus-wide-tc21-yall.mat", "nus-wide-tc21-lall.mat"]) {
    await Deno.remove(join(nus, f));
  }
  await writeMat(join(nus, "NUS-WIDE-TC21.mat"), [
    matVar("image", n, 6, I),
    matVar("text", n, 1000, Y),
    matVar("label", n, 21, L),
  ]);
  const b = await load("nuswide");
  assert.deepEqual(b.image, a.image);
  assert.deepEqual(b.labels, a.labels);

  const coco = await mkdir("mscoco");
  const CL = multiHot(n, 80);
  await writeMat(join(coco, "MS-COCO.mat"), [
    matVar("images", n, 5, rand(n, 5)),
    matVar("tags", n, 7, rand(n, 7)),
    matVar("labels", n, 80, CL),
  ], { compress: true });
  const c = await load("mscoco");
  assert.deepEqual([c.name, c.image.cols, c.text.cols, c.labels.classes], ["mscoco", 5, 7, 80]);
  assert.deepEqual(labelRow(c.labels, 0), CL.slice(0, 80));

  const iapr = await mkdir("iapr");
  await writeMat(join(iapr, "iapr-tc12-iall.mat"), [matVar("IAll", n, 4, rand(n, 4))]);
  await writeMat(join(iapr, "iapr-tc12-yall.mat"), [
    matVar("YAll", n, 2912, multiHot(n, 2912, 0.01)),
  ], {
    compress: true,
  });
  await writeMat(
    join(iapr, "iapr-tc12-lall.mat"),
    [matVar("LAll", n, 255, multiHot(n, 255, 0.01))],
    {
      compress: true,
    },
  );
  const d = await load("iapr");
  assert.deepEqual([d.name, d.text.cols, d.labels.classes, d.labelNames.length], [
    "iapr",
    2912,
    255,
    255,
  ]);
});

// ------------------------------------------------------------------ fixtures: error paths

tmpTest("missing file: names the file, the dataset and where the data comes from", async () => {
  await failsWith(
    load("wikipedia"),
    join(tmp, "wikipedia", "wikiData.mat"),
    "file not found",
    "Rasiwasia",
  );
  await writeMir(mirData(), { image: false });
  await failsWith(
    load("mirflickr25k"),
    join(tmp, "mirflickr25k", "mirflickr25k-iall.mat"),
    "image FEATURES",
    "mirflickr25k-simimg",
  );
  await Deno.remove(join(tmp, "mirflickr25k", "mirflickr25k-lall.mat"));
  await failsWith(load("mirflickr25k-simimg"), "mirflickr25k-lall.mat", "file not found", "DCMH");
});

tmpTest("missing variable: names the file, the variable and what it should hold", async () => {
  await writeMat(
    join(await mkdir("wikipedia"), "wikiData.mat"),
    wikiVars(wikiData(), { T_te: null }),
  );
  await failsWith(
    load("wikipedia"),
    "wikiData.mat",
    "'T_te' not found",
    "10-d LDA",
    "file has: I_tr",
  );
});

tmpTest(
  "wrong shape: names the file, the variable, its size and the expected columns",
  async () => {
    const m = mirData();
    await mirRejects(m, matVar("YAll", m.n, 1385, multiHot(m.n, 1385)), "30x1385", "1386 columns");
  },
);

tmpTest("raw 4-D image arrays are rejected: image features are required", async () => {
  const m = mirData(6);
  await writeMir(m, {
    override: {
      IAll: {
        kind: "numeric",
        name: "IAll",
        class: "uint8",
        dims: [4, 4, 3, 6],
        data: new Array(4 * 4 * 3 * 6).fill(9),
      },
    },
  });
  await failsWith(
    load("mirflickr25k"),
    "mirflickr25k-iall.mat",
    "'IAll'",
    "4x4x3x6",
    "raw image",
    "FEATURES",
  );
  // the same in a v7.3 file: checked from the HDF5 shape, before reading the data
  await Deno.remove(join(tmp, "mirflickr25k"), { recursive: true });
  const dir = await mkdir("mirflickr25k");
  writeV73(join(dir, "FLICKR-25K.mat"), [
    { name: "YAll", rows: m.n, cols: 1386, data: m.Y },
    { name: "LAll", rows: m.n, cols: 24, data: m.L },
  ], (f) => {
    f.create_dataset({ name: "images", data: new Uint8Array(6 * 3 * 4 * 4), shape: [6, 3, 4, 4] })
      .create_attribute("MATLAB_class", "uint8");
  });
  await failsWith(load("mirflickr25k"), "FLICKR-25K.mat", "'images'", "4x4x3x6", "raw image");
});

tmpTest("rows that disagree between modalities are rejected, naming both sides", async () => {
  const m = mirData();
  await writeMir(m, { override: { LAll: matVar("LAll", 29, 24, m.L.slice(0, 29 * 24)) } });
  await failsWith(
    load("mirflickr25k"),
    "mirflickr25k-yall.mat",
    "'YAll'",
    "30 rows, expected 29",
    "'LAll' in",
    "mirflickr25k-lall.mat",
  );
  const w = wikiData();
  const Lte = matVar("L_te", NTE - 1, 1, w.Lte.slice(1));
  await wikiRejects(w, Lte, "4 rows, expected 5 like 'I_te'");
});

tmpTest("image features stored transposed get a hint", async () => {
  const m = mirData(30, 16);
  await mirRejects(m, matVar("IAll", 16, 30, m.I), "16 rows, expected 30", "transposed");
});

tmpTest("NaN and Inf values are rejected with file, variable and position", async () => {
  const m = mirData();
  const I = m.I.slice();
  I[3 * 16 + 2] = NaN;
  await mirRejects(m, matVar("IAll", m.n, 16, I), "NaN at row 3, column 2");
  const w = wikiData();
  const T = w.Ttr.slice();
  T[5 * 10 + 9] = Infinity;
  await wikiRejects(w, matVar("T_tr", NTR, 10, T), "Infinity at row 5, column 9");
});

tmpTest("all-zero label rows are rejected with file, variable and first row", async () => {
  const m = mirData();
  const L = m.L.slice();
  for (const r of [4, 9]) L.fill(0, r * 24, (r + 1) * 24);
  await mirRejects(m, matVar("LAll", m.n, 24, L), "2 all-zero label row(s)", "row 4");
});

tmpTest("labels that are not 0/1 are rejected", async () => {
  const m = mirData();
  const L = m.L.slice();
  L[24 + 3] = 2;
  await mirRejects(m, matVar("LAll", m.n, 24, L), "value 2 at row 1, column 3");
  const w = wikiData();
  const Ltr = w.Ltr.slice();
  Ltr[6] = 11;
  await wikiRejects(w, matVar("L_tr", NTR, 1, Ltr), "class index 11 at row 6", "1..10");
});

tmpTest("a label-name file with the wrong count is rejected", async () => {
  await writeMir(mirData(), { names: ["a", "b"] });
  await failsWith(load("mirflickr25k"), "label_names.txt", "2 label names, expected 24");
});

Deno.test("unknown dataset names, variants and text formats are rejected", async () => {
  await failsWith(loadDataset("flickr"), "unknown dataset 'flickr'", "mirflickr25k");
  await failsWith(
    loadDataset("wikipedia", { variant: "bow", dataDir: "/nonexistent" }),
    "unknown variant 'bow'",
  );
  await failsWith(loadDataset("synthetic", { variant: "x" }), "no variants");
  await failsWith(loadDataset("synthetic", { textFormat: "coo" as never }), "textFormat");
});

// ------------------------------------------------------------------ synthetic and simulated

Deno.test("synthetic data is deterministic per seed and shaped as asked", () => {
  const a = synthetic({ n: 200, imageDim: 20, textDim: 12, classes: 5, seed: 1 });
  const b = synthetic({ n: 200, imageDim: 20, textDim: 12, classes: 5, seed: 1 });
  const c = synthetic({ n: 200, imageDim: 20, textDim: 12, classes: 5, seed: 2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.image, c.image);
  assert.notDeepEqual(a.labels, c.labels);
  assert.equal(a.name, "synthetic");
  assert.deepEqual([a.image.rows, a.image.cols, a.text.cols, a.labels.classes], [200, 20, 12, 5]);
  assert.equal(a.labelNames.length, 5);
  assert.match(a.provenance, /seed=1/);
  let multi = 0;
  for (let r = 0; r < 200; r++) {
    const k = labelRow(a.labels, r).reduce((s, v) => s + v, 0);
    assert.ok(k >= 1 && k <= 3, `row ${r} has ${k} labels`);
    if (k > 1) multi++;
  }
  assert.ok(multi > 50, "multi-label by default");
  assert.ok((a.text as DenseMatrix).data.every((v) => v >= 0), "text side is non-negative");
  const single = synthetic({ n: 50, classes: 4, labelsPerItem: 1, imageDim: 4, textDim: 4 });
  for (let r = 0; r < 50; r++) {
    assert.equal(labelRow(single.labels, r).reduce((s, v) => s + v, 0), 1);
  }
  assert.throws(() => synthetic({ n: 0 }), /synthetic: n must be an integer >= 1/);
  assert.throws(() => synthetic({ classes: 2, labelsPerItem: 3 }), /labelsPerItem/);
});

/** MAP@all of Hamming ranking with codes sign(X W) (X centred on the database), I->T. */
function crossModalMap(
  ds: CrossModalDataset,
  q: number[],
  db: number[],
  project: (m: DenseMatrix, side: "image" | "text") => Float64Array[],
): number {
  const I = ds.image as DenseMatrix, T = ds.text as DenseMatrix;
  const qc = project(gatherRows(I, q), "image"), dc = project(gatherRows(T, db), "text");
  const c = ds.labels.classes;
  let total = 0;
  for (let i = 0; i < q.length; i++) {
    const dist = dc.map((d, j) => {
      let h = 0;
      for (let k = 0; k < d.length; k++) if ((d[k] >= 0) !== (qc[i][k] >= 0)) h++;
      return [h, j];
    }).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let hits = 0, ap = 0;
    dist.forEach(([, j], rank) => {
      let rel = false;
      for (let k = 0; k < c; k++) {
        rel ||= ds.labels.data[q[i] * c + k] === 1 && ds.labels.data[db[j] * c + k] === 1;
      }
      if (rel) ap += ++hits / (rank + 1);
    });
    total += hits ? ap / hits : 0;
  }
  return total / q.length;
}

/** Least-squares fit X -> centred labels (ridge), solved by Gaussian elimination. */
function ridge(X: DenseMatrix, Y: LabelMatrix, lambda: number) {
  const d = X.cols, c = Y.classes, n = X.rows;
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) mu[a] += X.data[i * d + a] / n;
  const A = new Float64Array(d * d), B = new Float64Array(d * c);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = X.data[i * d + a] - mu[a];
      for (let b = 0; b < d; b++) A[a * d + b] += xa * (X.data[i * d + b] - mu[b]);
      for (let k = 0; k < c; k++) B[a * c + k] += xa * (Y.data[i * c + k] - 0.3);
    }
  }
  for (let a = 0; a < d; a++) A[a * d + a] += lambda;
  for (let p = 0; p < d; p++) {
    for (let r = p + 1; r < d; r++) {
      const f = A[r * d + p] / A[p * d + p];
      for (let j = p; j < d; j++) A[r * d + j] -= f * A[p * d + j];
      for (let k = 0; k < c; k++) B[r * c + k] -= f * B[p * c + k];
    }
  }
  for (let p = d - 1; p >= 0; p--) {
    for (let k = 0; k < c; k++) {
      let s = B[p * c + k];
      for (let j = p + 1; j < d; j++) s -= A[p * d + j] * B[j * c + k];
      B[p * c + k] = s / A[p * d + p];
    }
  }
  return { W: B, mu };
}

Deno.test("synthetic data is learnable but not trivial: a fitted linear hash beats random projections", () => {
  const ds = synthetic({ n: 1400, seed: 5 });
  const perm = new Rng(11).permutation(ds.labels.rows);
  const q = Array.from(perm.slice(0, 150)), db = Array.from(perm.slice(150));
  const K = 32, r = new Rng(12);
  // random projections (LSH) of each modality, centred on the database
  const lsh = (m: DenseMatrix) => {
    const W = r.normals(m.cols * K), mu = new Float64Array(m.cols);
    for (let i = 0; i < m.rows; i++) {
      for (let a = 0; a < m.cols; a++) mu[a] += m.data[i * m.cols + a] / m.rows;
    }
    return (x: DenseMatrix) =>
      Array.from({ length: x.rows }, (_, i) => {
        const out = new Float64Array(K);
        for (let k = 0; k < K; k++) {
          for (let a = 0; a < x.cols; a++) {
            out[k] += (x.data[i * x.cols + a] - mu[a]) * W[a * K + k];
          }
        }
        return out;
      });
  };
  const lI = lsh(ds.image as DenseMatrix), lT = lsh(ds.text as DenseMatrix);
  const mapLsh = crossModalMap(ds, q, db, (m, side) => (side === "image" ? lI(m) : lT(m)));
  // fitted: ridge regression of each modality onto the labels (on database rows), then a
  // shared random rotation of the predicted label vector
  const dbL = {
    rows: db.length,
    classes: ds.labels.classes,
    data: new Uint8Array(
      db.flatMap((i) => Array.from(ds.labels.data.subarray(i * 10, i * 10 + 10))),
    ),
  };
  const fI = ridge(gatherRows(ds.image, db), dbL, 1), fT = ridge(gatherRows(ds.text, db), dbL, 1);
  const R = r.normals(10 * K);
  const fitted = (f: { W: Float64Array; mu: Float64Array }) => (x: DenseMatrix) =>
    Array.from({ length: x.rows }, (_, i) => {
      const y = new Float64Array(10), out = new Float64Array(K);
      for (let k = 0; k < 10; k++) {
        for (let a = 0; a < x.cols; a++) {
          y[k] += (x.data[i * x.cols + a] - f.mu[a]) * f.W[a * 10 + k];
        }
      }
      for (let j = 0; j < K; j++) for (let k = 0; k < 10; k++) out[j] += y[k] * R[k * K + j];
      return out;
    });
  const gI = fitted(fI), gT = fitted(fT);
  const mapFit = crossModalMap(ds, q, db, (m, side) => (side === "image" ? gI(m) : gT(m)));
  assert.ok(
    mapFit > mapLsh + 0.1,
    `fitted I->T MAP ${mapFit.toFixed(3)} vs LSH ${mapLsh.toFixed(3)}`,
  );
  assert.ok(mapFit < 0.95, `fitted linear hash should not be near-perfect: ${mapFit.toFixed(3)}`);
});

Deno.test("simulated image features: non-negative, sparse as asked, deterministic, label-driven", () => {
  const labels = { rows: 300, classes: 6, data: new Uint8Array(multiHot(300, 6, 0.25)) };
  const x = simulateImageFeatures(labels, { dim: 256, seed: 9 });
  assert.deepEqual([x.rows, x.cols], [300, 256]);
  let zeros = 0;
  for (const v of x.data) {
    assert.ok(v >= 0 && Number.isFinite(v));
    if (v === 0) zeros++;
  }
  const frac = zeros / x.data.length;
  assert.ok(Math.abs(frac - 0.7) < 0.05, `zero fraction ${frac}`);
  assert.deepEqual(simulateImageFeatures(labels, { dim: 256, seed: 9 }), x);
  assert.notDeepEqual(simulateImageFeatures(labels, { dim: 256, seed: 10 }), x);
  // items sharing a label are more similar (cosine) than items sharing none
  const norm = (i: number) => Math.hypot(...x.data.subarray(i * 256, (i + 1) * 256));
  let same = 0, ns = 0, diff = 0, nd = 0;
  for (let i = 0; i < 300; i += 3) {
    for (let j = i + 1; j < 300; j += 7) {
      let dot = 0;
      for (let k = 0; k < 256; k++) dot += x.data[i * 256 + k] * x.data[j * 256 + k];
      const cos = dot / (norm(i) * norm(j));
      let share = false;
      for (let c = 0; c < 6; c++) {
        share ||= labels.data[i * 6 + c] === 1 && labels.data[j * 6 + c] === 1;
      }
      if (share) (same += cos, ns++);
      else (diff += cos, nd++);
    }
  }
  assert.ok(same / ns > diff / nd + 0.05, `cos same ${same / ns} vs different ${diff / nd}`);
  assert.throws(
    () => simulateImageFeatures(labels, { sparsity: 1 }),
    /sparsity must be in \(0, 1\)/,
  );
});

// ------------------------------------------------------------------ real data

const dataDir = defaultDataDir();
const hasWiki = await exists(join(dataDir, "wikipedia", "wikiData.mat")) &&
  await exists(join(dataDir, "wikipedia", "raw_features.mat"));
const hasMir = await exists(join(dataDir, "mirflickr25k", "mirflickr25k-yall.mat"));
if (!hasWiki) console.log(`skipping real Wikipedia dataset tests: not found under ${dataDir}`);
if (!hasMir) console.log(`skipping real MIRFlickr dataset tests: not found under ${dataDir}`);

Deno.test({
  name: "real wikipedia: 2,866 pairs, fixed split 2,173 / 693, one category each; tfidf agrees",
  ignore: !hasWiki,
  fn: async () => {
    const ds = await loadDataset("wikipedia", { dataDir });
    assert.deepEqual(sizes(ds), [2866, 128, 10, 10]);
    assert.deepEqual(ds.fixedSplit, { queryStart: 2173, queryEnd: 2866 });
    for (let r = 0; r < ds.labels.rows; r++) {
      assert.equal(labelRow(ds.labels, r).reduce((s, v) => s + v, 0), 1);
    }
    const tf = await loadDataset("wikipedia", { dataDir, variant: "tfidf", textFormat: "csr" });
    assert.deepEqual([tf.text.rows, tf.text.cols, tf.text.kind], [2866, 1000, "csr"]);
    assert.deepEqual(tf.labels, ds.labels);
    assert.deepEqual(tf.image, ds.image);
  },
});

Deno.test({
  name:
    "real mirflickr25k: simulated-image variant loads; the real variant asks for image features",
  ignore: !hasMir,
  fn: async () => {
    const ds = await loadDataset("mirflickr25k-simimg", { dataDir, simulatedImage: { dim: 32 } });
    assert.equal(ds.name, "mirflickr25k-simimg");
    assert.deepEqual(sizes(ds), [20015, 32, 1386, 24]);
    assert.equal(ds.labelNames[23], "water");
    assert.match(ds.provenance, /SIMULATED/);
    const hasImages = await exists(join(dataDir, "mirflickr25k", "mirflickr25k-iall.mat")) ||
      await exists(join(dataDir, "mirflickr25k", "mirflickr25k-iall.npy")) ||
      await exists(join(dataDir, "mirflickr25k", "FLICKR-25K.mat"));
    if (!hasImages) {
      await failsWith(
        loadDataset("mirflickr25k", { dataDir }),
        "mirflickr25k-iall.mat",
        "image FEATURES",
      );
    }
  },
});

Deno.test("provenance names data files relative to the data directory, never machine paths", () => {
  assert.equal(
    withoutMachinePaths("wikipedia: /home/u/data/wikipedia/wikiData.mat (1 bytes); more"),
    "wikipedia: <data dir>/wikipedia/wikiData.mat (1 bytes); more",
  );
  const ds = synthetic({ n: 20, imageDim: 4, textDim: 3, classes: 4 });
  const moved = relativeProvenance({ ...ds, provenance: "x /d/dir/mirflickr25k/y.mat" }, "/d/dir");
  assert.equal(moved.provenance, "x <data dir>/mirflickr25k/y.mat");
});
