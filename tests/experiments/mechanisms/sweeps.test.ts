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

Deno.test("the sweeps are the pre-registered ones, with its fixed settings", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const table = preRegisteredValues(doc);
  assert.equal(table.size, SWEEPS.length);
  for (const s of SWEEPS) {
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
  const all = studySpecs(SWEEPS, "wasm");
  assert.equal(all.length, 230);
  assert.equal(new Set(all.map(cellId)).size, 230);
  assert.deepEqual(all.slice(0, 3).map((s) => s.seed), [1, 1, 1]);
  assert.equal(all.at(-1)!.seed, 5);
});
