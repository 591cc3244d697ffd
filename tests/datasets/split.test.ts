import assert from "node:assert/strict";
import { defaultSplitSizes, makeSplit } from "../../src/datasets/split.ts";
import type { CrossModalDataset, Split } from "../../src/types.ts";

/** A dataset stub: only the name, row count and fixed split matter to makeSplit. */
function stub(name: string, n: number, fixedSplit?: { queryStart: number; queryEnd: number }) {
  const m = { kind: "dense" as const, rows: n, cols: 1, data: new Float32Array(n) };
  const ds: CrossModalDataset = {
    name,
    image: m,
    text: m,
    labels: { rows: n, classes: 1, data: new Uint8Array(n).fill(1) },
    labelNames: ["x"],
    provenance: "test stub",
    ...(fixedSplit ? { fixedSplit } : {}),
  };
  return ds;
}

function isSortedUnique(a: Int32Array) {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
}

/** Every structural promise of a split. */
function checkInvariants(s: Split, n: number) {
  for (const k of ["query", "database", "train", "validation"] as const) {
    assert.ok(isSortedUnique(s[k]), `${k} sorted without repeats`);
    assert.ok(s[k].every((i) => i >= 0 && i < n), `${k} in range`);
  }
  const q = new Set(s.query), db = new Set(s.database), tr = new Set(s.train);
  assert.equal(s.query.length + s.database.length, n, "query and database cover all rows");
  assert.ok(s.database.every((i) => !q.has(i)), "query and database are disjoint");
  assert.ok(s.train.every((i) => db.has(i)), "train rows come from the database");
  assert.ok(s.validation.every((i) => db.has(i) && !tr.has(i)), "validation: database, not train");
  assert.ok(s.validation.every((i) => !q.has(i)), "validation never touches the query set");
}

Deno.test("permutation split: standard MIRFlickr sizes, disjoint, deterministic per seed", () => {
  const ds = stub("mirflickr25k", 20015);
  const a = makeSplit(ds, { seed: 1 });
  checkInvariants(a, 20015);
  assert.deepEqual(
    [a.query.length, a.database.length, a.train.length, a.validation.length],
    [2000, 18015, 9000, 1000],
  );
  assert.match(
    a.convention,
    /^permutation\(seed=1, query=2000, database=18015, train=9000, validation=1000\)$/,
  );
  assert.deepEqual(makeSplit(ds, { seed: 1 }), a);
  const b = makeSplit(ds, { seed: 2 });
  assert.notDeepEqual(b.query, a.query);
  assert.notDeepEqual(b.train, a.train);
  // the query rows are spread over the whole range, not a block
  assert.ok(a.query[0] < 100 && a.query[a.query.length - 1] > 19900);
});

Deno.test("first convention: query = first rows, train = first database rows (DCMH/AGAH)", () => {
  const s = makeSplit(stub("mirflickr25k", 20015), { convention: "first", validation: 0 });
  checkInvariants(s, 20015);
  assert.deepEqual([s.query[0], s.query[1999], s.database[0]], [0, 1999, 2000]);
  assert.equal(s.train.length, 10000);
  assert.deepEqual([s.train[0], s.train[9999]], [2000, 11999]);
  assert.equal(s.validation.length, 0);
});

Deno.test("last convention: query = last rows, train = first database rows (DADH/CPAH)", () => {
  const s = makeSplit(stub("mirflickr25k", 20015), { convention: "last", seed: 4 });
  checkInvariants(s, 20015);
  assert.deepEqual([s.query[0], s.query[1999]], [18015, 20014]);
  assert.deepEqual([s.database[0], s.database[18014]], [0, 18014]);
  const trainSide = new Set([...s.train, ...s.validation]);
  assert.equal(trainSide.size, 10000);
  for (let i = 0; i < 10000; i++) assert.ok(trainSide.has(i), `row ${i} on the training side`);
  assert.equal(s.validation.length, 1000);
  // validation is a seeded choice inside the training block
  assert.notDeepEqual(
    makeSplit(stub("mirflickr25k", 20015), { convention: "last", seed: 5 }).validation,
    s.validation,
  );
});

Deno.test("fixed convention uses the dataset's split; Wikipedia trains on the whole database", () => {
  const ds = stub("wikipedia", 2866, { queryStart: 2173, queryEnd: 2866 });
  const s = makeSplit(ds, { seed: 3 }); // fixed is the default when the dataset has one
  checkInvariants(s, 2866);
  assert.equal(s.query.length, 693);
  assert.deepEqual([s.query[0], s.query[692]], [2173, 2865]);
  assert.equal(s.database.length, 2173);
  assert.equal(s.train.length + s.validation.length, 2173);
  assert.equal(s.validation.length, 217);
  const noVal = makeSplit(ds, { validation: 0 });
  assert.deepEqual(noVal.train, noVal.database);
  assert.throws(
    () => makeSplit(ds, { query: 500 }),
    /fixed split has 693 query rows; got query=500/,
  );
  assert.throws(
    () => makeSplit(stub("mirflickr25k", 100), { convention: "fixed" }),
    /dataset 'mirflickr25k' has no fixed split/,
  );
  // other conventions still work on Wikipedia, with the fixed split's size as the default
  const p = makeSplit(ds, { convention: "permutation" });
  checkInvariants(p, 2866);
  assert.equal(p.query.length, 693);
});

Deno.test("default sizes follow the protocol per dataset", () => {
  assert.deepEqual(defaultSplitSizes(stub("nuswide", 195834)), { query: 2100, train: 10500 });
  assert.deepEqual(defaultSplitSizes(stub("mscoco", 122218)), { query: 2000, train: 10000 });
  assert.deepEqual(defaultSplitSizes(stub("iapr", 20000)), { query: 2000, train: 10000 });
  assert.deepEqual(defaultSplitSizes(stub("mirflickr25k-simimg", 20015)), {
    query: 2000,
    train: 10000,
  });
  assert.deepEqual(defaultSplitSizes(stub("synthetic", 3000)), { query: 500, train: 2500 });
  const s = makeSplit(stub("synthetic", 3000));
  assert.deepEqual([s.query.length, s.train.length + s.validation.length], [500, 2500]);
});

Deno.test("validation may be a fraction or a count and is excluded from train", () => {
  const ds = stub("synthetic", 600);
  const f = makeSplit(ds, { query: 100, train: 400, validation: 0.25, seed: 9 });
  checkInvariants(f, 600);
  assert.deepEqual([f.train.length, f.validation.length], [300, 100]);
  const c = makeSplit(ds, { query: 100, train: 400, validation: 37, seed: 9 });
  assert.deepEqual([c.train.length, c.validation.length], [363, 37]);
});

Deno.test("impossible sizes are rejected with clear messages", () => {
  const ds = stub("synthetic", 100);
  assert.throws(
    () => makeSplit(ds, { query: 100 }),
    /query must be an integer in \[1, 99\] for 100 rows, got 100/,
  );
  assert.throws(() => makeSplit(ds, { query: 0 }), /query must be an integer/);
  assert.throws(() => makeSplit(ds, { query: 10.5 }), /query must be an integer/);
  assert.throws(
    () => makeSplit(ds, { query: 20, train: 81 }),
    /train must be an integer in \[2, 80\]/,
  );
  assert.throws(
    () => makeSplit(ds, { query: 20, train: 10, validation: 10 }),
    /validation \(10\) must leave training rows/,
  );
  assert.throws(() => makeSplit(ds, { validation: -1 }), /validation must be a fraction/);
  assert.throws(() => makeSplit(ds, { validation: 2.5 }), /validation must be a fraction/);
  assert.throws(
    () => makeSplit(stub("mirflickr25k", 5000)),
    /train must be an integer in \[2, 3000\]/,
  );
  assert.throws(
    () => makeSplit(ds, { convention: "random" as never }),
    /unknown convention 'random'/,
  );
});
