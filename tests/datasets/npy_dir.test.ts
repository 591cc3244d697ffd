import assert from "node:assert/strict";
import { loadDataset } from "../../src/datasets/datasets.ts";
import { loadNpyDataset, parseNpyDataset, parseSplitFile } from "../../src/datasets/npy_dir.ts";
import { writeNpy } from "../../src/datasets/formats/npy.ts";
import { toDense } from "../../src/datasets/matrix.ts";
import { makeSplit } from "../../src/datasets/split.ts";
import { cpahConfig } from "../../src/models/cpah/config.ts";
import { dfahConfig } from "../../src/models/dfah/config.ts";
import { dcmhConfig } from "../../src/models/dcmh.ts";
import { parseCli } from "../../src/experiments/reproduce_options.ts";
import { runCell } from "../../src/experiments/run_cell.ts";
import { gridArguments } from "../../src/experiments/slurm.ts";
import { parseSearchCli, search } from "../../src/experiments/search.ts";
import { evaluateCodesDir, readCodesDir } from "../../src/experiments/evaluate_codes.ts";
import { writeNpyFolder } from "./fixtures/npy_folder.ts";

async function folder(name = "mydata", opts: Parameters<typeof writeNpyFolder>[1] = {}) {
  const dir = `${await Deno.makeTempDir()}/${name}`;
  const ds = await writeNpyFolder(dir, opts);
  return { dir, ds };
}

Deno.test("npy folder: loads as npy:<folder name> with the arrays' checksums, never the path", async () => {
  const { dir, ds } = await folder();
  const got = await loadNpyDataset(dir);
  assert.equal(got.name, "npy:mydata");
  assert.deepEqual(toDense(got.image).data, toDense(ds.image).data);
  assert.deepEqual(toDense(got.text).data, toDense(ds.text).data);
  assert.deepEqual(got.labels, ds.labels);
  assert.equal(got.labelNames[0], "class0");
  assert.match(got.provenance, /folder 'mydata'.*image\.npy \(\d+ bytes, sha256 [0-9a-f]{64}\)/);
  assert.ok(!got.provenance.includes(dir), "no machine path");
  // the API: a path, or a bare folder name in the data directory
  assert.equal((await loadDataset(`npy:${dir}`)).name, "npy:mydata");
  const parent = dir.slice(0, dir.lastIndexOf("/"));
  assert.equal((await loadDataset("npy:mydata", { dataDir: parent })).labels.rows, 300);
});

Deno.test("npy folder: a SciPy CSR text.npz reads as the same text, dense or sparse", async () => {
  const { dir, ds } = await folder("sparse", { sparseText: true });
  const dense = await loadNpyDataset(dir);
  assert.deepEqual(toDense(dense.text).data, toDense(ds.text).data);
  const csr = await loadNpyDataset(dir, { textFormat: "csr" });
  assert.equal(csr.text.kind, "csr");
  assert.deepEqual(toDense(csr.text).data, toDense(ds.text).data);
  assert.match(dense.provenance, /text\.npz/);
});

Deno.test("npy folder: split.json gives a fixed split by rows, or the seeded split's sizes", async () => {
  const query = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const database = Array.from({ length: 290 }, (_, i) => i + 10);
  const train = database.slice(0, 100);
  const { dir } = await folder("fixed", { split: { query, database, train } });
  const ds = await loadNpyDataset(dir);
  const s = makeSplit(ds, { seed: 3 });
  assert.deepEqual([...s.query], query);
  assert.deepEqual([...s.database], database);
  assert.deepEqual([...s.train, ...s.validation].sort((a, b) => a - b), train);
  assert.equal(s.validation.length, 10);
  assert.match(s.convention, /^fixed\(/);
  const noDb = parseSplitFile('{"query": [2, 0]}', 5, "s.json");
  assert.deepEqual(noDb.kind === "indices" && [...noDb.database], [1, 3, 4]);
  const sized = await loadNpyDataset(
    (await folder("sized", { split: { query: 40, train: 120 } })).dir,
  );
  const t = makeSplit(sized, { seed: 1 });
  assert.equal(t.query.length, 40);
  assert.equal(t.train.length + t.validation.length, 120);
  assert.match(t.convention, /^permutation\(/);
});

Deno.test("npy folder: bad files fail with one line naming the file and what was expected", async () => {
  const { dir } = await folder("bad");
  await Deno.remove(`${dir}/labels.npy`);
  await assert.rejects(
    loadNpyDataset(dir),
    /bad\/labels\.npy: file not found; dataset 'npy:bad' needs it \(n x c 0\/1 labels\)/,
  );
  await writeNpy(`${dir}/labels.npy`, {
    dtype: "u1",
    shape: [300, 2],
    data: new Uint8Array(600).fill(2),
  });
  await assert.rejects(
    loadNpyDataset(dir),
    /labels\.npy: value 2 at row 0, column 0; expected 0\/1 labels/,
  );
  await writeNpy(`${dir}/labels.npy`, {
    dtype: "u1",
    shape: [299, 1],
    data: new Uint8Array(299).fill(1),
  });
  await assert.rejects(loadNpyDataset(dir), /image\.npy: 300 rows; expected 299 as in labels\.npy/);
  await writeNpy(`${dir}/labels.npy`, {
    dtype: "u1",
    shape: [300, 1],
    data: new Uint8Array(300).fill(1),
  });
  const img = new Float32Array(300 * 4);
  img[5] = NaN;
  await writeNpy(`${dir}/image.npy`, { dtype: "f4", shape: [300, 4], data: img });
  await assert.rejects(loadNpyDataset(dir), /image\.npy: non-finite value NaN at row 1, column 1/);
  await writeNpy(`${dir}/image.npy`, { dtype: "f4", shape: [1200], data: new Float32Array(1200) });
  await assert.rejects(
    loadNpyDataset(dir),
    /image\.npy: array has shape \(1200\); expected \(n, d_image\)/,
  );
  await assert.rejects(loadNpyDataset(`${dir}/nothing`), /folder not found/);
  const bad = [
    ['{"query": [0, 1], "database": [1, 2]}', /row 1 is in both query and database/],
    ['{"query": [0, 400], "database": [1]}', /query holds 400; expected row indices in \[0, 300\)/],
    ['{"query": [0], "database": [1, 2], "train": [0, 1]}', /train row 0 is not in the database/],
    ['{"queries": 5}', /unknown field 'queries'/],
    ['{"query": 0.5}', /query must be a positive integer/],
    ["[1]", /expected a JSON object/],
    ["{", /not valid JSON/],
  ] as const;
  for (const [text, re] of bad) {
    assert.throws(() => parseSplitFile(text, 300, "d/split.json"), re, text);
  }
});

Deno.test("npy folder: model configs take the generic real-data defaults", () => {
  assert.equal(cpahConfig("npy:mine", 16).batchSize, cpahConfig("mirflickr25k", 16).batchSize);
  assert.equal(cpahConfig("npy:mine", 16).dataset, "npy:mine");
  assert.equal(dfahConfig("npy:mine", 16).epochs, dfahConfig("mirflickr25k", 16).epochs);
  assert.equal(dcmhConfig("npy:mine", 16).dataset, "npy:mine");
  assert.throws(() => dfahConfig("mine", 16), /unknown dataset 'mine'.*or npy:DIR/);
});

Deno.test("reproduce --dataset npy:DIR: cells name the folder; its parent is the data directory", async () => {
  const { dir } = await folder("cli", {
    split: { query: [0, 1, 2], database: Array.from({ length: 297 }, (_, i) => i + 3) },
  });
  const cli = parseCli([
    "--dataset",
    `npy:${dir}`,
    "--methods",
    "cpah",
    "--bits",
    "16",
    "--epochs",
    "1",
  ]);
  assert.equal(cli.specs[0].dataset, "npy:cli");
  assert.equal(cli.grid.split, "fixed", "split.json with rows: the fixed split by default");
  assert.equal(cli.dataDir, dir.slice(0, dir.lastIndexOf("/")));
  assert.equal(cli.out, "results/npy:cli");
  assert.throws(
    () => parseCli(["--dataset", `npy:${dir}`, "--data-dir", "/x"]),
    /--data-dir: not with --dataset npy:DIR/,
  );
  assert.throws(() => parseCli(["--dataset", "npy:"]), /--dataset: 'npy:' is not npy:DIR/);
  const noSplit = (await folder("plain")).dir;
  assert.equal(parseCli(["--dataset", `npy:${noSplit}`]).grid.split, "permutation");
  assert.throws(
    () => parseCli(["--dataset", `npy:${noSplit}`, "--split", "fixed"]),
    /no published \(fixed\) split/,
  );
  const rel = gridArguments(["--dataset", "npy:data/mine", "--bits", "16"], "/abs/out");
  assert.deepEqual(rel.slice(0, 2), ["--dataset", `npy:${Deno.cwd()}/data/mine`]);
  assert.deepEqual(gridArguments(["--dataset=npy:/a/b"], "/o")[0], "--dataset=npy:/a/b");
});

Deno.test("a CPAH cell on a user's folder: result names the folder, --save codes evaluate to the same MAP", async () => {
  const { dir } = await folder("cell");
  const cli = parseCli([
    "--dataset",
    `npy:${dir}`,
    "--methods",
    "cpah",
    "--ablations",
    "full",
    "--bits",
    "16",
    "--epochs",
    "1",
  ]);
  const out = await Deno.makeTempDir();
  const r = await runCell(cli.specs[0], { out, dataDir: cli.dataDir, save: true, log: () => {} });
  assert.equal(r.dataset.name, "npy:cell");
  assert.ok(!r.dataset.provenance.includes(dir));
  assert.equal(typeof r.metrics.I2T.mapAllTieAware, "number");
  const saved = `${out}/saved/${r.id}`;
  const e = evaluateCodesDir(await readCodesDir(saved)).file;
  for (const d of ["I2T", "T2I", "I2I", "T2T"] as const) {
    assert.equal(e.metrics[d]!.mapAll, r.metrics[d].mapAll, d);
    assert.equal(e.metrics[d]!.mapAllTieAware, r.metrics[d].mapAllTieAware, d);
  }
  assert.deepEqual(parseNpyDataset(`npy:${dir}/`), { name: "npy:cell", dir });
  // search re-encodes query rows from the folder given as npy:DIR
  const hits = await search(
    parseSearchCli(["--model", saved, "--dataset", `npy:${dir}`, "--k", "3"]),
  );
  assert.equal(hits.queries[0].differsFromSaved, 0);
  assert.equal(hits.queries[0].hits.length, 3);
  await assert.rejects(
    search(parseSearchCli(["--model", saved, "--dataset", "npy:/elsewhere/other"])),
    /--dataset: the saved cell was trained on 'npy:cell', not 'npy:other'/,
  );
});
