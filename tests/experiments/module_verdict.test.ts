/**
 * The verdict on a module (src/experiments/module_verdict.ts): one test per category, from a
 * constructed primary contrast and positive-control reading (no result files).
 */
import assert from "node:assert/strict";
import {
  type ControlReading,
  controlStatus,
  formatControlReading,
  moduleVerdict,
} from "../../src/experiments/module_verdict.ts";
import { comparisonMde, type PrimaryContrast } from "../../src/experiments/report/paired.ts";
import { pairedComparison } from "../../src/experiments/stats.ts";

const control = {
  name: "control-shortcut-heldout",
  amendment: "amendment 3",
  ablation: "noCR",
  knob: "shortcut",
  value: 4,
};
const oracleAhead = pairedComparison([0.50, 0.51, 0.52, 0.50, 0.51], [
  0.76,
  0.78,
  0.77,
  0.78,
  0.77,
]);
const passed: ControlReading = {
  status: "passed",
  control,
  method: "cpah",
  test: oracleAhead,
  p: 0.0001,
  mde: 0.005,
};
const active = { active: true, evidence: "D accuracy 0.520" };

/** A primary contrast of CPAH noCR: ablation − full = `diffs` by seed, Holm p `pHolm`. */
function primary(diffs: number[], pHolm: number, check = active): PrimaryContrast {
  return {
    method: "cpah",
    ablation: "noCR",
    c: pairedComparison(diffs, diffs.map(() => 0)),
    check,
    pHolm,
    familySize: 7,
  };
}
const loss = primary([-0.015, -0.014, -0.016, -0.013, -0.017], 0.0002);
const gain = primary([0.008, 0.009, 0.007, 0.010, 0.006], 0.017);
const nullResult = primary([0.002, -0.003, 0.004, -0.001, 0.003], 0.8);

Deno.test("an active module whose removal costs significantly matters", () => {
  const v = moduleVerdict({ source: "committed", primary: loss, control: passed });
  assert.equal(v.category, "matters");
  assert.equal(v.label, "matters");
  assert.match(v.detail, /^primary contrast Δ mean −0\.0150 \[.*\], p <0\.001 \(Holm over the 7/);
});

/** A control of which 3 of its 10 cells have run. */
const notRun: ControlReading = {
  status: "not run",
  control,
  method: "cpah",
  finished: 3,
  cells: 10,
};

Deno.test("an active module whose removal gains significantly hurts, whatever its control", () => {
  const v = moduleVerdict({ source: "committed", primary: gain, control: notRun });
  assert.equal(v.category, "hurts");
  assert.match(v.detail, /p 0\.017/);
});

Deno.test("a null with an active module and a passed control is no effect larger than the MDE", () => {
  const v = moduleVerdict({ source: "committed", primary: nullResult, control: passed });
  assert.equal(v.category, "no effect");
  assert.equal(
    v.label,
    "no effect larger than the MDE (a finding: module active, positive control passed)",
  );
  assert.match(v.detail, /MDE 0\.\d{4}$/);
});

Deno.test("a null whose difference reaches its MDE is inconclusive, not no effect", () => {
  // Three seeds, Δ −0.0102 with a small spread: not significant after Holm, yet |Δ| ≥ MDE.
  const c = pairedComparison([-0.0102, -0.013, -0.0074], [0, 0, 0]);
  const underpowered = { ...nullResult, c, pHolm: 0.17 };
  const v = moduleVerdict({ source: "committed", primary: underpowered, control: passed });
  assert.equal(v.category, "inconclusive");
  assert.ok(Math.abs(c.mean) >= comparisonMde(c));
  assert.match(v.label, /^inconclusive: \|Δ\| 0\.0102 is not below its MDE 0\.\d{4} with 3 seeds/);
});

Deno.test("a null with a failed control is not tested", () => {
  const failed: ControlReading = { ...passed, status: "failed", p: 0.4 };
  const v = moduleVerdict({ source: "committed", primary: nullResult, control: failed });
  assert.equal(v.category, "not tested");
  assert.equal(v.label, "not tested: positive control failed");
});

Deno.test("a null whose control has not run yet is not tested and says how much of it exists", () => {
  const v = moduleVerdict({ source: "committed", primary: nullResult, control: notRun });
  assert.equal(v.category, "not tested");
  assert.equal(v.label, "not tested: positive control not run yet (3 of 10 cells)");
});

Deno.test("a null without a registered control is not tested", () => {
  const none: ControlReading = { status: "none", method: "cpah", ablation: "noCR" };
  const v = moduleVerdict({ source: "committed", primary: nullResult, control: none });
  assert.equal(v.label, "not tested: no positive control registered");
});

Deno.test("an inactive module is not tested, even with a significant difference", () => {
  // Its paired test alone is significant (p < 0.001); an inactive module is not in the family.
  const inactive = primary([-0.015, -0.014, -0.016, -0.013, -0.017], NaN, {
    active: false,
    evidence: "D accuracy 0.949",
  });
  assert.ok(inactive.c.p < 0.001);
  const v = moduleVerdict({ source: "committed", primary: inactive, control: passed });
  assert.equal(v.category, "not tested");
  assert.equal(v.label, "not tested: module inactive");
  assert.equal(v.detail, "D accuracy 0.949");
});

Deno.test("a module without a manipulation record is not tested, and its p is not shown", () => {
  const unrecorded: PrimaryContrast = { ...loss, check: undefined, pHolm: NaN };
  const v = moduleVerdict({ source: "committed", primary: unrecorded, control: passed });
  assert.equal(v.label, "not tested: no manipulation record");
  assert.doesNotMatch(v.detail, /Holm/);
});

Deno.test("a live run is not tested: it is too short to support a verdict", () => {
  const v = moduleVerdict({ source: "live", primary: loss, control: passed });
  assert.equal(v.category, "not tested");
  assert.equal(v.label, "not tested: the short live run is too short to support a verdict");
});

Deno.test("committed cells without the primary contrast are not tested", () => {
  const v = moduleVerdict({ source: "committed", control: passed });
  assert.equal(v.label, "not tested: no primary contrast in the committed cells");
});

Deno.test("control readings in words: status, and one line with the numbers and what they mean", () => {
  assert.equal(controlStatus(passed), "passed");
  assert.equal(
    controlStatus({ status: "not run", control, method: "dfah", finished: 0, cells: 10 }),
    "not run yet (0 of 10 cells)",
  );
  assert.equal(
    controlStatus({ status: "none", method: "cpah", ablation: "noCR" }),
    "none registered",
  );
  const line = formatControlReading(passed);
  assert.match(line, /^positive control `control-shortcut-heldout` \(amendment 3\): CPAH noCR/);
  assert.match(line, /at shortcut 4, 5 seeds; Δ mean \(ablation − oracle\) −0\.2640 \[/);
  assert.match(line, /p <0\.001 \(Holm over amendment 3's controls\), MDE 0\.0050/);
  assert.match(line, /— passed: the design detects an effect of this size$/);
  const bits = formatControlReading({
    status: "not run",
    control: { ...control, name: "control-discrete-heldout", knob: "bits", value: 16 },
    method: "dfah",
    finished: 2,
    cells: 5,
  });
  assert.match(bits, /against the oracle at 16 bits — not run yet \(2 of 5 cells\)$/);
  assert.match(
    formatControlReading({ ...passed, status: "failed" }),
    /— failed: the oracle is not significantly ahead$/,
  );
});
