/**
 * The mechanism study's sweeps match the pre-registration (docs/mechanisms.md): knobs, values
 * and fixed settings; cells carry their knob and share ids on default data.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { cellId } from "../../../src/experiments/spec.ts";
import {
  FIXED,
  pointSpec,
  positiveControlFor,
  readingOrder,
  studySpecs,
  sweepByName,
  SWEEPS,
  sweepSpecs,
} from "../../../src/experiments/mechanisms/sweeps.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The values column of the pre-registration's table, by ablation flag. */
function preRegisteredValues(doc: string): Map<string, { knob: string; values: number[] }> {
  const out = new Map<string, { knob: string; values: number[] }>();
  for (const line of doc.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 6) continue;
    const flag = cells[1].match(/\(`(\w+)`\)/)?.[1];
    if (!flag) continue;
    const knob = cells[3].match(/^`(\w+)`/)?.[1] ?? cells[3];
    out.set(flag, { knob, values: cells[4].split(",").map(Number) });
  }
  return out;
}

/** The amendment's table: added sweep -> the sweep it repeats, its method and epoch cap. */
function amendmentRows(doc: string): Map<string, { repeats: string; method: string; cap: number }> {
  const out = new Map<string, { repeats: string; method: string; cap: number }>();
  const section = doc.slice(doc.indexOf("## Amendment 1"));
  for (const line of section.split("\n")) {
    const m = line.match(/^\| `([\w-]+)` +\| `(\w+)` +\| (\w+) +\| (\d+) +\|$/);
    if (m) out.set(m[1], { repeats: m[2], method: m[3], cap: Number(m[4]) });
  }
  return out;
}

Deno.test("the sweeps are the pre-registered ones, with its fixed settings", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const table = preRegisteredValues(doc);
  const original = SWEEPS.filter((s) => !s.amendment);
  assert.equal(table.size, original.length);
  for (const s of original) {
    const row = table.get(s.ablation)!;
    assert.deepEqual(row.values, [...s.values], s.name);
    assert.equal(s.knob === "bits" ? "code length" : s.knob, row.knob, s.name);
  }
  assert.match(doc, /n = 3,000 pairs/);
  assert.match(doc, /Seeds 1–5/);
  assert.equal(FIXED.n, 3000);
  assert.deepEqual([...FIXED.seeds], [1, 2, 3, 4, 5]);
  // Cells: methods x values x (full, ablation) x seeds, with the method's default epochs.
  const adv = sweepSpecs(sweepByName("adversary"), "wasm");
  assert.equal(adv.length, 2 * 4 * 2 * 5);
  assert.deepEqual([...new Set(adv.map((s) => s.epochs))].sort(), [20, 30]); // dfah, cpah
  assert.ok(adv.every((s) => s.bits === 32 && s.split === "permutation"));
  assert.deepEqual(pointSpec(sweepByName("adversary"), "cpah", "full", 2, 1, "wasm").data, {
    shift: 2,
  });
  assert.equal(pointSpec(sweepByName("adversary"), "cpah", "full", 0, 1, "wasm").data, undefined);
  const bits = sweepSpecs(sweepByName("discrete"), "wasm");
  assert.deepEqual([...new Set(bits.map((s) => s.bits))], [16, 32, 64, 128]);
  assert.ok(bits.every((s) => s.data === undefined));
  // The default-data full models at 32 bits are shared by three sweeps each: 250 - 2 x 2 x 5.
  const all = studySpecs(original, "wasm");
  assert.equal(all.length, 230);
  assert.equal(new Set(all.map(cellId)).size, 230);
  assert.deepEqual(all.slice(0, 3).map((s) => s.seed), [1, 1, 1]);
  assert.equal(all.at(-1)!.seed, 5);
});

Deno.test("amendment 1 repeats CPAH's part of three sweeps with its registered epoch cap and nothing else changed", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const rows = amendmentRows(doc);
  const added = SWEEPS.filter((s) => s.amendment === "amendment 1");
  assert.deepEqual(added.map((s) => s.name).sort(), [...rows.keys()].sort());
  for (const s of added) {
    const row = rows.get(s.name)!;
    const base = sweepByName(row.repeats);
    assert.equal(row.method, "CPAH");
    assert.deepEqual([...s.methods], ["cpah"]);
    assert.deepEqual(s.epochs, { cpah: row.cap });
    assert.deepEqual(
      { knob: s.knob, values: s.values, ablation: s.ablation },
      { knob: base.knob, values: base.values, ablation: base.ablation },
    );
    const cells = sweepSpecs(s, "wasm");
    assert.ok(cells.every((c) => c.epochs === row.cap && c.method === "cpah"));
    // Same cells as the CPAH part of the original sweep, but for the epochs (so new ids).
    const orig = sweepSpecs(base, "wasm").filter((c) => c.method === "cpah");
    assert.deepEqual(
      cells.map((c) => ({ ...c, epochs: 0 })),
      orig.map((c) => ({ ...c, epochs: 0 })),
    );
    assert.ok(cells.every((c) => !orig.some((o) => cellId(o) === cellId(c))));
  }
  // Each repeated sweep is read right after its original; later amendments' sweeps follow.
  assert.deepEqual(readingOrder(SWEEPS).map((s) => s.name).slice(0, 7), [
    "consistency",
    "consistency-e100",
    "adversary",
    "adversary-e100",
    "discrete",
    "discrete-e100",
    "fusion",
  ]);
  // 130 added cells, the 32-bit default-data full model shared by all three: 130 - 2 x 5.
  assert.equal(studySpecs(added, "wasm").length, 120);
  assert.equal(studySpecs(SWEEPS.filter((s) => !s.oracle && !s.n), "wasm").length, 350);
});

Deno.test("amendments 2 and 3: a control's oracle arm is the ablation on oracle data; earlier cells keep their ids", () => {
  const control = sweepByName("control-repair");
  const oracle = pointSpec(control, "dfah", "full", 0.6, 3, "wasm");
  const plain = pointSpec(control, "dfah", "noFusion", 0.6, 3, "wasm");
  assert.equal(oracle.ablation, "noFusion");
  assert.deepEqual(oracle.data, { n: 2000, oracle: 1, trainDisagreement: 0.6 });
  assert.deepEqual(plain.data, { n: 2000, trainDisagreement: 0.6 });
  assert.ok(oracle.split === "fixed" && plain.split === "fixed" && plain.bits === 32);
  assert.notEqual(cellId(oracle), cellId(plain));
  // Amendment 3: the same controls on data with a database disjoint from the training pairs.
  const held = pointSpec(sweepByName("control-repair-heldout"), "dfah", "full", 0.6, 3, "wasm");
  assert.deepEqual(held.data, { databaseRows: 1500, n: 3500, oracle: 1, trainDisagreement: 0.6 });
  for (const name of ["shortcut", "gap", "repair"]) {
    const s = sweepByName(name);
    assert.equal(s.amendment, "amendment 3");
    assert.equal(s.checked, true);
    const cells = sweepSpecs(s, "wasm");
    assert.equal(cells.length, s.methods.length * s.values.length * 2 * 5);
    assert.ok(cells.every((c) => c.data?.databaseRows === 1500 && c.data?.oracle === undefined));
  }
  // The discrete-code control: the relaxed cells at the shortest code length, no cells of its
  // own for the oracle arm (the same cells scored by their real-valued outputs).
  const discrete = sweepByName("control-discrete-heldout");
  assert.deepEqual([...discrete.values], [Math.min(...sweepByName("discrete").values)]);
  const dc = sweepSpecs(discrete, "wasm");
  assert.equal(dc.length, 2 * 5);
  assert.ok(dc.every((c) => c.ablation === "relaxed" && c.bits === 16));
  assert.deepEqual(pointSpec(discrete, "dfah", "full", 16, 1, "wasm"), dc[0]);
  // Every other control compares at one value, its knob's extreme in the method sweep.
  for (const c of SWEEPS.filter((s) => s.oracle && !s.realValued)) {
    const base = sweepByName(
      { shortcut: "shortcut", gap: "gap", trainDisagreement: "repair" }[c.knob as string]!,
    );
    assert.deepEqual([...c.values], [Math.max(...base.values)]);
    // Amendment 4's multi-task control reuses the shortcut knob for another CPAH module.
    if (c.name !== "control-multitask-heldout") assert.equal(c.ablation, base.ablation);
  }
  // An earlier sweep's cell: the id it had before the amendments.
  assert.equal(
    cellId(pointSpec(sweepByName("fusion"), "dfah", "noFusion", 0.2, 1, "wasm")),
    "synthetic__permutation__dfah-noFusion__32b__seed1__e20__wasm__data.disagreement=0.2",
  );
});

Deno.test("amendment 4: every module a primary contrast reads has a positive control on held-out data", () => {
  const expected: Record<string, string> = {
    "cpah noCR": "control-shortcut-heldout",
    "cpah noAdversary": "control-gap-heldout",
    "cpah noMultiTask": "control-multitask-heldout",
    "cpah relaxed": "control-discrete-heldout",
    "dfah noFusion": "control-repair-heldout",
    "dfah noAdversary": "control-gap-dfah-heldout",
    "dfah relaxed": "control-discrete-heldout",
  };
  for (const [key, name] of Object.entries(expected)) {
    const [method, ablation] = key.split(" ") as ["cpah" | "dfah", string];
    const control = positiveControlFor(method, ablation);
    assert.equal(control?.name, name, key);
    assert.equal(control!.data?.databaseRows, 1500, key);
  }
  assert.equal(positiveControlFor("dcmh", "noLabels"), undefined);
  // The new controls' oracle arm is the ablation on the knob's oracle data.
  const mt = pointSpec(sweepByName("control-multitask-heldout"), "cpah", "full", 4, 2, "wasm");
  assert.equal(mt.ablation, "noMultiTask");
  assert.deepEqual(mt.data, { databaseRows: 1500, n: 3500, oracle: 1, shortcut: 4 });
  const gd = pointSpec(
    sweepByName("control-gap-dfah-heldout"),
    "dfah",
    "noAdversary",
    4,
    2,
    "wasm",
  );
  assert.deepEqual(gd.data, { databaseRows: 1500, gap: 4, n: 3500 });
});
