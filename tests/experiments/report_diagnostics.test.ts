/**
 * The models' per-epoch diagnostics in the report and the figures: the training table's
 * diagnostic columns (only when results record them) and the diagnostics figure. Results are
 * built from one committed result file with chosen diagnostics, so every mean is checked by hand.
 */
import assert from "node:assert/strict";
import type { CellResult } from "../../src/experiments/results.ts";
import { readResult } from "../../src/experiments/results.ts";
import { groupSections } from "../../src/experiments/report/tables.ts";
import { selectedDiagnostics, trainingTable } from "../../src/experiments/report/paired.ts";
import { diagnosticsFigure, epochValue, hasEpochValue } from "../../src/experiments/figures/mod.ts";

const root = new URL("../../", import.meta.url).pathname;
const template = await readResult(
  `${root}docs/results/archive/wikipedia-inactive-modules/wikipedia__fixed__cpah-full__16b__seed1__e100__wasm.json`,
);

/** A 3-epoch CPAH cell whose diagnostics at epoch e are `d(e)`; epoch 1 selected. */
function cell(
  ablation: string,
  seed: number,
  d?: (e: number) => Record<string, number>,
): CellResult {
  const r: CellResult = structuredClone(template);
  r.spec = { ...r.spec, ablation, seed, epochs: 3 };
  r.id = `${r.id}-${ablation}-${seed}`;
  r.training.history = [0, 1, 2].map((epoch) => ({
    epoch,
    losses: { pair: 1, flipped: 0.1 * (epoch + 1) },
    seconds: 1,
    ...(d ? { diagnostics: d(epoch) } : {}),
  }));
  r.training.selectedEpoch = 1;
  return r;
}

const withDiagnostics = () => [
  cell("full", 1, (e) => ({ discAcc: 0.5 + 0.1 * e, quantGap: 0.8, consAcc: 0.5 })),
  cell("full", 2, (e) => ({ discAcc: 0.7 + 0.1 * e, quantGap: 0.6, consAcc: 0.5 })),
  cell("noAdversary", 1, () => ({ quantGap: 0.9 })),
];

Deno.test("training table: diagnostics at the selected epoch, mean over seeds, — where absent", () => {
  const { sections } = groupSections(withDiagnostics());
  const t = trainingTable(sections[0])!;
  const rows = t.display.objects() as Record<string, string>[];
  const full = rows.find((r) => r.series === "CPAH full")!;
  const noAdv = rows.find((r) => r.series === "CPAH noAdversary")!;
  // Selected epoch 1: discAcc 0.6 and 0.8 -> 0.7; quantGap 0.8 and 0.6 -> 0.7.
  assert.equal(full["D accuracy"], "0.700");
  assert.equal(full["quantisation gap"], "0.700");
  assert.equal(full["C accuracy"], "0.500");
  assert.equal(noAdv["D accuracy"], "—");
  assert.equal(noAdv["quantisation gap"], "0.900");
  // No column for a diagnostic no row records.
  assert.ok(!("U share of B-step" in full));
  assert.match(t.caption, /Diagnostics at the selected epoch/);
  const data = t.data.objects() as Record<string, unknown>[];
  assert.equal(data.find((r) => r.ablation === "noAdversary")!.discAcc, null);
});

Deno.test("training table: no diagnostic columns for results without diagnostics", () => {
  const { sections } = groupSections([cell("full", 1), cell("noCR", 1)]);
  const t = trainingTable(sections[0])!;
  const cols = t.display.columnNames();
  assert.ok(!cols.includes("D accuracy") && !cols.includes("quantisation gap"), cols.join(", "));
  assert.doesNotMatch(t.caption, /Diagnostics/);
  assert.equal(selectedDiagnostics(cell("full", 1)), undefined);
});

Deno.test("diagnostics figure: a panel per recorded key, a line per setting, means over seeds", () => {
  const results = withDiagnostics();
  const fig = diagnosticsFigure(results, {
    method: "cpah",
    keys: ["discAcc", "quantGap", "flipped", "fusionShare"],
  }).figure;
  // fusionShare is recorded by nobody: three panels (flipped comes from the losses).
  const titles = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.equal(titles.length, 3);
  const traces = fig.data as { name: string; y: number[]; xaxis: string }[];
  const disc = traces.filter((t) => t.xaxis === "x");
  assert.deepEqual(disc.map((t) => t.name), ["CPAH"]); // noAdversary has no D
  assert.deepEqual(disc[0].y.map((v) => +v.toFixed(6)), [0.6, 0.7, 0.8]);
  const gap = traces.filter((t) => t.xaxis === "x2");
  assert.deepEqual(gap.map((t) => t.name), ["CPAH", "CPAH noAdversary"]);
  assert.deepEqual(gap[1].y, [0.9, 0.9, 0.9]);
  // Only one legend entry per setting.
  const shown = (fig.data as { showlegend: boolean }[]).filter((t) => t.showlegend).length;
  assert.equal(shown, 2);
  assert.throws(
    () => diagnosticsFigure(results, { method: "cpah", keys: ["fusionShare"] }),
    /no fusionShare recorded for cpah at 16 bits/,
  );
});

Deno.test("epochValue reads the diagnostics, then the losses; hasEpochValue over results", () => {
  const h = withDiagnostics()[0].training.history[2];
  assert.equal(epochValue(h, "discAcc"), 0.7);
  assert.equal(epochValue(h, "flipped"), 0.30000000000000004);
  assert.equal(epochValue(h, "nothing"), undefined);
  assert.ok(hasEpochValue(withDiagnostics(), "consAcc"));
  assert.ok(!hasEpochValue([cell("full", 1)], "consAcc"));
});
