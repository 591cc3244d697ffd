import assert from "node:assert/strict";
import { type NpyDtype, readNpy, writeNpy } from "../../src/datasets/formats/npy.ts";
import { parseEvaluateCli, runEvaluate } from "../../src/experiments/evaluate.ts";
import {
  CODE_ARRAYS,
  evaluateCodesDir,
  type EvaluationFile,
  readCodesDir,
} from "../../src/experiments/evaluate_codes.ts";
import { comparisonHolm, comparisonMarkdown } from "../../src/experiments/evaluate_report.ts";

const FIXTURE = new URL("../fixtures/peer_codes/", import.meta.url).pathname;
const EXPECTED = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/peer_codes_expected.json", import.meta.url),
  ),
);
const ALL = [...CODE_ARRAYS, "query_labels", "database_labels"];

function close(actual: number, expected: number, what: string, tol = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

/** A copy of the fixture folder named `name`, with each code array re-encoded by `recode`. */
async function copyFixture(
  name: string,
  recode?: (v: number[], shape: readonly number[]) => { dtype: NpyDtype; data: ArrayLike<number> },
  keep: readonly string[] = ALL,
): Promise<string> {
  const dir = `${await Deno.makeTempDir()}/${name}`;
  await Deno.mkdir(dir);
  for (const f of keep) {
    const a = await readNpy(`${FIXTURE}${f}.npy`);
    if (recode && f.endsWith("_codes")) {
      const r = recode(Array.from(a.data as Float32Array), a.shape);
      const ctor =
        { i1: Int8Array, u1: Uint8Array, b1: Uint8Array, f4: Float32Array, f8: Float64Array }[
          r.dtype as "i1"
        ];
      await writeNpy(`${dir}/${f}.npy`, {
        dtype: r.dtype,
        shape: a.shape,
        data: ctor.from(r.data),
      });
    } else await Deno.copyFile(`${FIXTURE}${f}.npy`, `${dir}/${f}.npy`);
  }
  return dir;
}

Deno.test("evaluate reproduces a peer's stable-tie MAP@all and the exact tie-aware MAP (fixture)", async () => {
  const out = await Deno.makeTempDir();
  const run = await runEvaluate(
    parseEvaluateCli([FIXTURE, "--out", out, "--map-at-k", "1,10,50,100"]),
  );
  assert.deepEqual(run.written, [out]);
  const file: EvaluationFile = JSON.parse(await Deno.readTextFile(`${out}/evaluation.json`));
  assert.equal(file.source.name, "peer_codes");
  assert.equal(file.source.files.query_image_codes?.encoding, "±1");
  assert.match(file.source.files.query_labels!.sha256, /^[0-9a-f]{64}$/);
  for (const [d, e] of Object.entries(EXPECTED.directions) as [string, Record<string, never>][]) {
    const m = file.metrics[d as "I2T"]!;
    close(m.mapAll, e.map_all_stable, `${d} stable`);
    close(m.mapAllTieAware!, e.map_all_tie_aware, `${d} tie-aware`);
    (e.map_at_k_tie_aware as number[]).forEach((v, t) =>
      close(m.mapAtK.tieAware![t], v, `${d} tie-aware MAP@${EXPECTED.ks[t]}`)
    );
  }
  const md = await Deno.readTextFile(`${out}/report.md`);
  assert.match(md, /^# Evaluation of peer_codes/);
  assert.match(md, new RegExp(`\\| I→T \\| ${file.metrics.I2T!.mapAll.toFixed(4)} \\| `));
  assert.ok(!md.includes(FIXTURE), "the report names no machine path");
});

Deno.test("codes as 0/1 uint8, bool, int8 ±1 or real values score like ±1 float codes", async () => {
  const ref = evaluateCodesDir(await readCodesDir(FIXTURE)).file.metrics;
  const variants = {
    u1: (v: number[]) => ({ dtype: "u1" as const, data: v.map((x) => (x > 0 ? 1 : 0)) }),
    b1: (v: number[]) => ({ dtype: "b1" as const, data: v.map((x) => (x > 0 ? 1 : 0)) }),
    i1: (v: number[]) => ({ dtype: "i1" as const, data: v }),
    real: (v: number[]) => ({ dtype: "f8" as const, data: v.map((x, i) => x * (0.1 + (i % 7))) }),
  };
  for (const [name, recode] of Object.entries(variants)) {
    const c = await readCodesDir(await copyFixture(name, recode));
    const expected = { u1: "0/1", b1: "0/1", i1: "±1", real: "sign" }[name];
    assert.equal(c.files.database_text_codes?.encoding, expected, name);
    const m = evaluateCodesDir(c).file.metrics;
    for (const d of ["I2T", "T2I", "I2I", "T2T"] as const) {
      assert.equal(m[d]!.mapAll, ref[d]!.mapAll, `${name} ${d}`);
      assert.equal(m[d]!.mapAllTieAware, ref[d]!.mapAllTieAware, `${name} ${d} tie-aware`);
    }
  }
});

Deno.test("a folder without one modality scores only the directions it has", async () => {
  const imageOnly = await readCodesDir(
    await copyFixture("img", undefined, [
      "query_image_codes",
      "database_image_codes",
      "query_labels",
      "database_labels",
    ]),
  );
  assert.deepEqual(Object.keys(evaluateCodesDir(imageOnly).file.metrics), ["I2I"]);
  const crossOnly = await readCodesDir(
    await copyFixture("cross", undefined, [
      "query_image_codes",
      "database_text_codes",
      "query_labels",
      "database_labels",
    ]),
  );
  assert.deepEqual(Object.keys(evaluateCodesDir(crossOnly).file.metrics), ["I2T"]);
});

Deno.test("bad codes folders fail with one line naming the file and what was expected", async () => {
  const noLabels = await copyFixture("nolabels", undefined, [
    "query_image_codes",
    "database_image_codes",
    "query_labels",
  ]);
  await assert.rejects(
    readCodesDir(noLabels),
    /database_labels\.npy: file not found \(expected 0\/1 labels/,
  );
  const noDirection = await copyFixture("nodir", undefined, [
    "query_image_codes",
    "query_labels",
    "database_labels",
  ]);
  await assert.rejects(readCodesDir(noDirection), /no direction can be scored/);
  const shortDb = await copyFixture("short");
  await writeNpy(`${shortDb}/database_text_codes.npy`, {
    dtype: "i1",
    shape: [3, 8],
    data: new Int8Array(24).fill(1),
  });
  await assert.rejects(
    readCodesDir(shortDb),
    /database_text_codes\.npy: 3 rows; expected 160 as in database_labels\.npy/,
  );
  const nan = await copyFixture("nan");
  const bad = new Float32Array(30 * 8).fill(1);
  bad[9] = NaN;
  await writeNpy(`${nan}/query_text_codes.npy`, { dtype: "f4", shape: [30, 8], data: bad });
  await assert.rejects(readCodesDir(nan), /query_text_codes\.npy: NaN at row 1, column 1/);
  await assert.rejects(readCodesDir(`${noLabels}/missing`), /folder not found/);
  for (const err of (await Promise.allSettled([readCodesDir(noLabels), readCodesDir(shortDb)]))) {
    assert.equal(err.status, "rejected");
    assert.ok(!String((err as PromiseRejectedResult).reason.message).includes("\n"));
  }
});

Deno.test("several folders: paired comparison by query against the first, and by run with --vs", async () => {
  const a = await copyFixture("a");
  // b: the image codes of a with the first 4 bits flipped on every other database row
  const b = await copyFixture("b", (v, shape) => ({
    dtype: "f4",
    data: v.map((x, i) => (shape[0] === 160 && Math.floor(i / 8) % 2 === 0 && i % 8 < 4 ? -x : x)),
  }));
  const out = await Deno.makeTempDir();
  const run = await runEvaluate(parseEvaluateCli([a, b, "--out", out]));
  assert.deepEqual(run.written, [`${out}/a`, `${out}/b`]);
  const c = run.comparison!;
  assert.equal(c.pairing, "query");
  assert.equal(c.rows.length, 1);
  const [ea, eb] = run.evaluations.map((e) => e.file.metrics);
  // the mean per-query difference is the difference of the MAPs (every query counts)
  for (const d of c.directions) {
    close(c.rows[0].tests[d]!.stable.mean, eb[d]!.mapAll - ea[d]!.mapAll, `${d} Δ`, 1e-12);
    assert.equal(c.rows[0].tests[d]!.stable.n, 30);
  }
  assert.equal(comparisonHolm(c).length, c.directions.length * 2);
  assert.match(await Deno.readTextFile(`${out}/comparison.md`), /\| b − a \| I→T \| 30 \| /);
  const byRun = await runEvaluate(parseEvaluateCli([a, b, "--vs", b, "--vs", a]));
  assert.equal(byRun.comparison!.pairing, "run");
  const t = byRun.comparison!.rows[0].tests.T2I!.stable;
  assert.equal(t.n, 2);
  close(t.mean, 0, "a − b and b − a cancel", 1e-12);
  assert.deepEqual(byRun.comparison!.pairs, [["a", "b"], ["b", "a"]]);
  assert.match(comparisonMarkdown(byRun.comparison!), /Pairs \(DIR − --vs DIR\): a − b; b − a\./);
});

Deno.test("evaluate CLI options are checked with one-line errors", () => {
  assert.throws(() => parseEvaluateCli([]), /DIR: required/);
  assert.throws(() => parseEvaluateCli(["x", "--map-at-k", "5,zero"]), /--map-at-k: 'zero'/);
  assert.throws(
    () => parseEvaluateCli(["x", "--zero-relevant", "drop"]),
    /--zero-relevant: 'drop'/,
  );
  assert.throws(() => parseEvaluateCli(["x", "y", "--vs", "z"]), /--vs: given 1 times for 2 DIRs/);
  assert.throws(() => parseEvaluateCli(["x", "--bogus"]), /bogus/);
  assert.deepEqual(parseEvaluateCli(["x", "--map-at-k", "5,10"]).metrics.mapAtK, [5, 10]);
});

Deno.test("a comparison by query needs the same labels, whatever their dtype", async () => {
  const a = await copyFixture("same");
  const b = await copyFixture("boollabels");
  const ql = await readNpy(`${FIXTURE}query_labels.npy`);
  await writeNpy(`${b}/query_labels.npy`, {
    dtype: "b1",
    shape: ql.shape,
    data: ql.data as Uint8Array,
  });
  const run = await runEvaluate(parseEvaluateCli([a, b]));
  assert.equal(run.comparison!.rows[0].tests.I2T!.stable.mean, 0);
  const other = Uint8Array.from(ql.data as Uint8Array);
  other[0] = 1 - other[0];
  await writeNpy(`${b}/query_labels.npy`, { dtype: "u1", shape: ql.shape, data: other });
  await assert.rejects(
    runEvaluate(parseEvaluateCli([a, b])),
    /boollabels: its query_labels\.npy or database_labels\.npy hold other labels than same's/,
  );
});
