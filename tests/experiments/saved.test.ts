/**
 * `reproduce --save` and `deno task search`: a cell's saved folder (model, int8 ±1 codes,
 * uint8 labels, int64 split indices, manifest) reads back with the project's .npy reader and,
 * when python3 has NumPy, with numpy.load; the saved model encodes as the cell did; search
 * ranks the saved database for query rows and refuses bad input in one line.
 */
import assert from "node:assert/strict";
import { expandGrid } from "../../src/experiments/spec.ts";
import { TINY_GRID } from "../test_utils.ts";
import { runCell } from "../../src/experiments/run_cell.ts";
import {
  codesToNpy,
  indicesToNpy,
  labelsToNpy,
  loadSavedCell,
  loadSavedModel,
  SAVED_ARRAYS,
  savedPath,
} from "../../src/experiments/saved.ts";
import { encodeNpy, parseNpy, readNpy } from "../../src/datasets/formats/npy.ts";
import { packSigns, unpackCodes } from "../../src/retrieval/codes.ts";
import { formatSearch, parseSearchCli, search } from "../../src/experiments/search.ts";
import { synthetic } from "../../src/datasets/synthetic.ts";
import { makeSplit } from "../../src/datasets/split.ts";
import { gatherRows } from "../../src/datasets/matrix.ts";

Deno.test("the .npy arrays of a saved cell round-trip through the project's reader", () => {
  const signs = Int8Array.from([1, -1, -1, 1, 1, 1, -1, -1, 1, -1, 1, -1]);
  const codes = packSigns(signs, 3, 4);
  const c = parseNpy(encodeNpy(codesToNpy(codes)));
  assert.deepEqual([c.dtype, c.shape], ["i1", [3, 4]]);
  assert.deepEqual(c.data, signs);
  assert.deepEqual(unpackCodes(packSigns(c.data as Int8Array, 3, 4)), signs);
  const labels = { rows: 2, classes: 3, data: Uint8Array.from([1, 0, 1, 0, 1, 0]) };
  const l = parseNpy(encodeNpy(labelsToNpy(labels)));
  assert.deepEqual([l.dtype, l.shape, [...l.data]], ["u1", [2, 3], [1, 0, 1, 0, 1, 0]]);
  const i = parseNpy(encodeNpy(indicesToNpy(Int32Array.from([7, 0, 2999]))));
  assert.deepEqual([i.dtype, i.shape, [...i.data]], ["i8", [3], [7n, 0n, 2999n]]);
});

async function hasNumpy(): Promise<string | undefined> {
  try {
    const r = await new Deno.Command("python3", {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success ? undefined : "python3 has no numpy";
  } catch {
    return "python3 is not installed";
  }
}
const noNumpy = await hasNumpy();
if (noNumpy) console.log(`tests/experiments/saved.test.ts: NumPy load test skipped — ${noNumpy}`);

// One CPAH cell (1 epoch) on synthetic data, saved; shared by the tests below.
const tmp = await Deno.makeTempDir({ prefix: "saved-cell-" });
const [spec] = expandGrid(TINY_GRID);
const dir = savedPath(tmp, spec);
let ran = false;
async function savedCell(): Promise<string> {
  if (!ran) {
    await runCell(spec, { out: tmp, save: true, log: () => {} });
    ran = true;
  }
  return dir;
}

Deno.test("--save keeps the model, the codes, the labels and the split of a cell", async () => {
  await savedCell();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(
    names,
    [...Object.keys(SAVED_ARRAYS).map((n) => `${n}.npy`), "model", "saved.json"].sort(),
  );
  const cell = await loadSavedCell(dir);
  const m = cell.manifest;
  assert.equal(m.id, dir.split("/").at(-1));
  assert.deepEqual(m.arrays.query_image_codes, {
    file: "query_image_codes.npy",
    shape: [500, 16],
    dtype: "i1",
  });
  assert.deepEqual(m.arrays.database_labels.shape, [2500, 10]);
  const codes = await readNpy(`${dir}/database_text_codes.npy`);
  assert.ok([...codes.data].every((v) => v === 1 || v === -1));
  // The saved model encodes the query rows exactly as the cell did.
  const ds = synthetic();
  const split = makeSplit(ds, { convention: "permutation", seed: 1 });
  assert.deepEqual(cell.indices.query, split.query);
  const { model } = await loadSavedModel(dir);
  const again = model.encodeImage(gatherRows(ds.image, split.query));
  model.dispose();
  assert.deepEqual(again.data, cell.codes.queryImage.data);
  // No partial folder left behind.
  assert.deepEqual(
    [...Deno.readDirSync(`${tmp}/saved`)].map((e) => e.name),
    [dir.split("/").at(-1)],
  );
});

Deno.test({
  name: "numpy.load reads the saved codes, labels and indices",
  ignore: !!noNumpy,
  async fn() {
    await savedCell();
    const py = [
      "import json, sys, numpy as np",
      "d = sys.argv[1]",
      "c = np.load(d + '/query_image_codes.npy'); l = np.load(d + '/query_labels.npy')",
      "i = np.load(d + '/query_indices.npy'); db = np.load(d + '/database_text_codes.npy')",
      "h = (c.shape[1] - c[:3].astype(np.int32) @ db.T.astype(np.int32)) // 2",
      "print(json.dumps({'codes': [str(c.dtype), list(c.shape)], 'labels': [str(l.dtype), " +
      "list(l.shape)], 'indices': [str(i.dtype), list(i.shape)], 'values': sorted(set(" +
      "c.ravel().tolist())), 'first': i[:3].tolist(), 'hmax': int(h.max())}))",
    ].join("\n");
    const r = await new Deno.Command("python3", { args: ["-c", py, dir], stdout: "piped" })
      .output();
    assert.ok(r.success);
    const got = JSON.parse(new TextDecoder().decode(r.stdout));
    assert.deepEqual(got.codes, ["int8", [500, 16]]);
    assert.deepEqual(got.labels, ["uint8", [500, 10]]);
    assert.deepEqual(got.indices, ["int64", [500]]);
    assert.deepEqual(got.values, [-1, 1]);
    const cell = await loadSavedCell(dir);
    assert.deepEqual(got.first, [...cell.indices.query.slice(0, 3)]);
    assert.ok(got.hmax <= 16);
  },
});

Deno.test({
  name: "the Python snippet of docs/saved-models.md runs and reproduces the cell's MAP@all",
  ignore: !!noNumpy,
  async fn() {
    await savedCell();
    const doc = await Deno.readTextFile(new URL("../../docs/saved-models.md", import.meta.url));
    const snippet = doc.match(/```python\n([\s\S]*?)```/)?.[1];
    assert.ok(snippet, "docs/saved-models.md has no python block");
    const code = snippet.replace(/^d = ".*"$/m, `d = ${JSON.stringify(dir)}`);
    assert.notEqual(code, snippet, 'the snippet\'s d = "..." line was not found');
    const r = await new Deno.Command("python3", { args: ["-c", code], stdout: "piped" }).output();
    assert.ok(r.success);
    const line = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!;
    const [id, , , map] = line.split(" ");
    const result = JSON.parse(await Deno.readTextFile(`${tmp}/${id}.json`));
    const expected = result.metrics.I2T.mapAll;
    assert.ok(Math.abs(Number(map) - expected) < 1e-9, `python ${map}, toolkit ${expected}`);
  },
});

Deno.test("search ranks the saved database for query rows; bad input is one line", async () => {
  await savedCell();
  const opts = parseSearchCli(["--model", dir, "--rows", "0,5", "--k", "4"]);
  assert.deepEqual([opts.modality, opts.target, opts.rows, opts.k], ["image", "text", [0, 5], 4]);
  const r = await search(opts);
  assert.equal(r.queries.length, 2);
  const cell = await loadSavedCell(dir);
  for (const q of r.queries) {
    assert.equal(q.differsFromSaved, 0);
    assert.equal(q.datasetRow, cell.indices.query[q.row]);
    assert.equal(q.hits.length, 4);
    const d = q.hits.map((h) => h.distance);
    assert.deepEqual(d, [...d].sort((a, b) => a - b));
    for (const h of q.hits) assert.equal(h.datasetRow, cell.indices.database[h.index]);
  }
  const text = formatSearch(r);
  assert.match(
    text,
    /^search: synthetic__permutation__cpah-full__16b.* image queries against the text database \(2500 items\), top 4/,
  );
  assert.match(text, /^query row 5 \(dataset row \d+; labels: class\d/m);
  assert.match(text, /^ +1 +\d+ +\d+ +\d+ +class\d/m);
  const t2t = await search(
    parseSearchCli(["--model", dir, "--modality", "text", "--target", "text", "--k", "1"]),
  );
  assert.deepEqual([t2t.modality, t2t.target, t2t.queries[0].hits.length], ["text", "text", 1]);

  const refused: [string[], RegExp][] = [
    [["--rows", "1"], /^Error: --model: required/],
    [["--model", dir, "--rows", "x"], /^Error: --rows: 'x' is not a row number/],
    [["--model", dir, "--k", "0"], /^Error: --k: '0' is not a positive integer/],
    [
      ["--model", dir, "--modality", "audio"],
      /^Error: --modality: 'audio'; expected image or text/,
    ],
  ];
  for (const [argv, re] of refused) assert.throws(() => parseSearchCli(argv), re);
  await assert.rejects(
    () => search({ ...opts, rows: [500] }),
    /^Error: --rows: 500 is outside the query set \(rows 0\.\.499\)/,
  );
  await assert.rejects(() => search({ ...opts, k: 2501 }), /--k: 2501 is more than the 2500/);
  await assert.rejects(
    () => search({ ...opts, dataset: "wikipedia" }),
    /--dataset: the saved cell was trained on 'synthetic', not 'wikipedia'/,
  );
  await assert.rejects(
    () => search({ ...opts, model: tmp }),
    /--model: .*saved\.json: not a saved cell/,
  );
});

Deno.test("the search CLI prints the ranking; errors are one line", async () => {
  await savedCell();
  const run = async (args: string[]) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "src/experiments/search.ts", ...args],
      cwd: new URL("../../", import.meta.url).pathname,
      env: { NO_COLOR: "1", HASH_BLAS: "off" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  };
  const ok = await run(["--model", dir, "--rows", "3", "--k", "2"]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^query row 3 /m);
  assert.equal(ok.out.trim().split("\n").filter((l) => /^ +[12] +\d/.test(l)).length, 2);
  const bad = await run(["--model", `${tmp}/nope`]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^search: --model: .*nope\/saved\.json: not a saved cell/);
  assert.equal(bad.err.trim().split("\n").length, 1);
});

Deno.test("cleanup of the saved cell", async () => {
  await Deno.remove(tmp, { recursive: true });
});
