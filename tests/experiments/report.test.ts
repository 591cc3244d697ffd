/**
 * Reports and figures of experiment grids (src/experiments/report/mod.ts, figures.ts, published.ts,
 * results_doc.ts). The result files are built here with plausible metric objects and chosen MAP
 * values, so every mean and standard deviation can be checked against numbers worked out by
 * hand. No Chromium is needed: the PNG step is only checked to skip cleanly.
 */
import assert from "node:assert/strict";
import { imagePart } from "../../src/experiments/report/tables.ts";
import { join } from "node:path";
import type { Direction } from "../../src/types.ts";
import type { RetrievalMetrics } from "../../src/retrieval/metrics.ts";
import type { CellResult } from "../../src/experiments/results.ts";
import type { Manipulation } from "../../src/models/manipulation.ts";
import type { ControlReading, ControlSweep } from "../../src/experiments/module_verdict.ts";
import type { CellMethod, ExperimentSpec, SplitConvention } from "../../src/experiments/spec.ts";
import {
  ablationTables,
  buildReport,
  comparisonMde,
  groupSections,
  LONG_COLUMNS,
  longTable,
  mainTable,
  moreMetricsTables,
  primaryContrastsTable,
  publishedComparison,
  reportMarkdown,
  writeReports,
} from "../../src/experiments/report/mod.ts";
import { emptyManipulation } from "../../src/models/manipulation.ts";
import {
  formatDiff,
  formatP,
  minimalDetectableEffect,
  pairedComparison,
} from "../../src/experiments/stats.ts";
import {
  bundleFor,
  curveBits,
  findChromium,
  imagesUnavailable,
  mapVsBitsFigure,
  prCurvesFigure,
  renderImages,
  renderPngs,
  sectionFigures,
  stableSvg,
  summarize,
  trainingCurvesFigure,
} from "../../src/experiments/figures/mod.ts";
import { parseImagesDom } from "../../src/experiments/figures/images_page.ts";
import { figureBundle } from "../../src/experiments/notebook.ts";
import {
  AGAH_TABLE1,
  DCMH_OWN,
  PUBLISHED_ROWS,
  type PublishedSource,
  SSAH_TABLE2,
  WIKIPEDIA_BASELINES,
} from "../../src/experiments/published.ts";
import { resultsDocument } from "../../src/experiments/results_doc.ts";
import {
  pairedAblationTables,
  selectedLast,
  trainingTable,
} from "../../src/experiments/report/paired.ts";

// ------------------------------------------------------------------------------- fixtures

interface Cell {
  dataset?: string;
  split?: SplitConvention;
  method: CellMethod;
  ablation?: string;
  bits: number;
  seed: number;
  epochs?: number;
  /** MAP@all per direction (I2I/T2T default to the I2T value). */
  i2t: number;
  t2i: number;
  /** Shifts the PR/P@N curves, so seeds differ. */
  curve?: number;
}

function metrics(bits: number, map: number, curve: number): RetrievalMetrics {
  const radius = Array.from({ length: bits + 1 }, (_, r) => r);
  return {
    bits,
    queries: 100,
    database: 1200,
    countedQueries: 100,
    queriesWithoutRelevant: 0,
    conventions: {
      relevance: "shares-at-least-one-label",
      ties: "database-index-ascending",
      zeroRelevant: "count",
      emptyRetrieved: "zero",
    },
    mapAll: map,
    mapAtK: { k: [50, 100], standard: [map + 0.05, map + 0.03], legacy: [map + 0.06, map + 0.04] },
    precisionAtN: {
      n: [1, 100, 500, 1000],
      precision: [0.9, 0.8 - curve, 0.6 - curve, 0.5 - curve],
    },
    prByRadius: {
      radius,
      precision: radius.map((r) => 0.9 - (0.5 * r) / bits - curve),
      recall: radius.map((r) => r / bits),
      precisionQueries: radius.map(() => 100),
    },
    precisionWithinRadius: { radius: 2, precision: 0.9 - 1 / bits - curve },
  };
}

function result(c: Cell): CellResult {
  const dataset = c.dataset ?? "wikipedia";
  const split = c.split ?? "fixed";
  const ablation = c.ablation ?? "full";
  const epochs = c.method === "random" ? 0 : (c.epochs ?? 3);
  const spec: ExperimentSpec = {
    dataset,
    split,
    method: c.method,
    ablation,
    bits: c.bits,
    seed: c.seed,
    epochs,
    backend: "wasm",
  };
  const id =
    `${dataset}__${split}__${c.method}-${ablation}__${c.bits}b__seed${c.seed}__e${epochs}__wasm`;
  const curve = c.curve ?? 0;
  const m: Record<Direction, RetrievalMetrics> = {
    I2T: metrics(c.bits, c.i2t, curve),
    T2I: metrics(c.bits, c.t2i, curve),
    I2I: metrics(c.bits, c.i2t, curve),
    T2T: metrics(c.bits, c.t2i, curve),
  };
  const history = Array.from({ length: epochs }, (_, e) => ({
    epoch: e,
    losses: { pair: 2 / (e + 1) + c.seed * 0.1, quant: 1 / (e + 1) },
    validation: { I2T: c.i2t - 0.01 * (epochs - 1 - e), T2I: c.t2i - 0.01 * (epochs - 1 - e) },
    seconds: 10,
  }));
  const simulated = dataset.endsWith("-simimg");
  return {
    format: "cmh-result-1",
    id,
    spec,
    config: { bits: c.bits },
    dataset: {
      name: dataset,
      provenance: simulated
        ? `${dataset}: text = YAll (20015x1386); labels = LAll (20015x24); image = simulated (seed 0)`
        : `${dataset}: image = I_tr (2866x128) from wikiData.mat; text = T_tr (2866x10)`,
      imageDim: 128,
      textDim: 10,
      classes: 10,
      split: { convention: split, query: 693, database: 2173, train: 1956, validation: 217 },
    },
    backend: { name: "wasm", tfjs: "4.22.0", explicitTransposeGrad: true, deno: "2.9.6" },
    versions: { toolkit: "0.1.0", tfjs: "4.22.0", deno: "2.9.6" },
    training: { history, selectedEpoch: Math.max(0, epochs - 1), seconds: 10 * epochs },
    metrics: m,
    encodeSeconds: 1.5,
    started: "2025-01-01T00:00:00.000Z",
    finished: "2025-01-01T00:00:40.000Z",
  };
}

/** A Wikipedia grid: CPAH (full 3 seeds, noCR 2 seeds, relaxed 1), DFAH (full), random. */
function wikiResults(): CellResult[] {
  return [
    // CPAH full, 16 bits: I2T 0.61/0.65/0.70, T2I 0.50/0.52/0.54
    result({ method: "cpah", bits: 16, seed: 1, i2t: 0.61, t2i: 0.50, curve: 0.00 }),
    result({ method: "cpah", bits: 16, seed: 2, i2t: 0.65, t2i: 0.52, curve: 0.02 }),
    result({ method: "cpah", bits: 16, seed: 3, i2t: 0.70, t2i: 0.54, curve: 0.04 }),
    // CPAH full, 32 bits: seeds 1 and 2 only
    result({ method: "cpah", bits: 32, seed: 1, i2t: 0.66, t2i: 0.55 }),
    result({ method: "cpah", bits: 32, seed: 2, i2t: 0.68, t2i: 0.57 }),
    // CPAH ablations at 16 bits
    result({ method: "cpah", ablation: "noCR", bits: 16, seed: 1, i2t: 0.40, t2i: 0.30 }),
    result({ method: "cpah", ablation: "noCR", bits: 16, seed: 2, i2t: 0.44, t2i: 0.36 }),
    result({ method: "cpah", ablation: "relaxed", bits: 16, seed: 1, i2t: 0.55, t2i: 0.45 }),
    // DFAH full, 16 bits only
    result({ method: "dfah", bits: 16, seed: 1, i2t: 0.62, t2i: 0.51 }),
    result({ method: "dfah", bits: 16, seed: 2, i2t: 0.64, t2i: 0.53 }),
    // random baseline
    result({ method: "random", bits: 16, seed: 1, i2t: 0.1234, t2i: 0.1111 }),
    result({ method: "random", bits: 32, seed: 1, i2t: 0.1300, t2i: 0.1200 }),
  ];
}

function simimgResults(): CellResult[] {
  const d = "mirflickr25k-simimg", split = "permutation" as const;
  return [
    result({ dataset: d, split, method: "cpah", bits: 16, seed: 1, i2t: 0.70, t2i: 0.71 }),
    result({ dataset: d, split, method: "cpah", bits: 32, seed: 1, i2t: 0.72, t2i: 0.73 }),
    result({ dataset: d, split, method: "random", bits: 16, seed: 1, i2t: 0.55, t2i: 0.56 }),
  ];
}

type Row = Record<string, unknown>;

function rows(t: { objects(): object[] }): Row[] {
  return t.objects() as Row[];
}

// ------------------------------------------------------------------------------- tables

Deno.test("main table lists the full models and the baseline with mean ± sample std over seeds", () => {
  const { sections } = groupSections(wikiResults());
  assert.equal(sections.length, 1);
  const t = mainTable(sections[0]);
  assert.deepEqual(t.display.columnNames(), [
    "method",
    "seeds",
    "I→T 16",
    "I→T 32",
    "T→I 16",
    "T→I 32",
  ]);
  const r = rows(t.display);
  assert.deepEqual(r.map((x) => x.method), ["CPAH", "DFAH", "Random projection"]);
  // CPAH I2T 16: mean (0.61+0.65+0.70)/3 = 0.653333; deviations -0.043333, -0.003333, 0.046667;
  // squares sum 0.00406667; / (3-1) = 0.00203333; sqrt = 0.045092.
  assert.equal(r[0]["I→T 16"], "0.6533 ± 0.0451");
  // CPAH T2I 16: 0.50/0.52/0.54 -> mean 0.52, std sqrt((0.0004+0+0.0004)/2) = 0.02
  assert.equal(r[0]["T→I 16"], "0.5200 ± 0.0200");
  // CPAH 32 bits has two seeds while its row has three: the cell says so.
  // I2T 0.66/0.68 -> mean 0.67, std sqrt((0.0001+0.0001)/1) = 0.014142
  assert.equal(r[0]["I→T 32"], "0.6700 ± 0.0141 (n=2)");
  assert.equal(r[0].seeds, "2–3");
  // DFAH has no 32-bit result: shown as missing, never made up.
  assert.equal(r[1]["I→T 32"], "—");
  assert.equal(r[1]["T→I 32"], "—");
  assert.equal(r[1]["I→T 16"], "0.6300 ± 0.0141");
  // One seed: mean only.
  assert.equal(r[2]["I→T 16"], "0.1234");
  assert.equal(r[2].seeds, "1");

  const d = rows(t.data);
  assert.equal(d[0].method, "cpah");
  assert.ok(Math.abs((d[0].I2T_16_mean as number) - 1.96 / 3) < 1e-12);
  const sd = Math.sqrt(
    ((0.61 - 1.96 / 3) ** 2 + (0.65 - 1.96 / 3) ** 2 + (0.70 - 1.96 / 3) ** 2) / 2,
  );
  assert.ok(Math.abs((d[0].I2T_16_std as number) - sd) < 1e-12);
  assert.equal(d[0].I2T_16_n, 3);
  assert.equal(d[1].I2T_32_mean, null);
  assert.equal(d[2].I2T_16_std, null);
});

Deno.test("one ablation table per method that has ablations: full first, then each ablation", () => {
  const { sections } = groupSections(wikiResults());
  const tables = ablationTables(sections[0]);
  assert.deepEqual(tables.map((t) => t.id), ["ablations-cpah"]); // DFAH has no ablation results
  const r = rows(tables[0].display);
  assert.deepEqual(r.map((x) => x.ablation), ["full", "noCR", "relaxed"]);
  // noCR I2T 16: 0.40/0.44 -> 0.42 ± 0.028284; T2I 0.30/0.36 -> 0.33 ± 0.042426
  assert.equal(r[1]["I→T 16"], "0.4200 ± 0.0283");
  assert.equal(r[1]["T→I 16"], "0.3300 ± 0.0424");
  assert.equal(r[1].seeds, "2");
  assert.equal(r[1]["I→T 32"], "—");
  assert.equal(r[2]["I→T 16"], "0.5500");
  assert.equal(r[2].seeds, "1");
  assert.match(String(r[1].removes), /consistency-refined/);
});

/** A manipulation record whose CR mask, adversary and multi-task terms all pass their checks. */
function activeModules(): Manipulation {
  return {
    discAccuracy: 0.5,
    maskBelow01: { image: 0.1, text: 0.1 },
    maskAbove09: { image: 0.2, text: 0.2 },
    consistencyAccuracy: { value: 0.95, chance: 0.5 },
    fusionDecisive: null,
    rmsB: 1,
    gradShare: { adv: 0.5, cons: 0.1, label: 0.1 },
  };
}

/** The Wikipedia fixtures with `m` as the manipulation record of every CPAH full-model cell. */
function withFullManipulation(m: Manipulation | undefined): CellResult[] {
  return wikiResults().map((r) =>
    r.spec.method === "cpah" && r.spec.ablation === "full" && m ? { ...r, manipulation: m } : r
  );
}

Deno.test("paired ablation table: a row whose module fails its manipulation check has no p-value or verdict", () => {
  const inactive = { ...activeModules(), maskBelow01: { image: 0, text: 0 } };
  inactive.maskAbove09 = { image: 0, text: 0.01 };
  for (
    const [m, word] of [
      [inactive, "module inactive — no verdict"],
      [undefined, "no manipulation check recorded — no verdict"],
    ] as const
  ) {
    const { sections } = groupSections(withFullManipulation(m));
    const r = rows(pairedAblationTables(sections[0])[0].display);
    const noCR = r.find((x) => x.ablation === "noCR")!;
    assert.equal(noCR.verdict, word);
    assert.equal(noCR["p I→T (Holm)"], word);
    assert.match(String(noCR["Δ I→T [95% CI]"]), /^−0\.2100/, "the difference is still shown");
  }
  const { sections } = groupSections(withFullManipulation(inactive));
  const noCR = rows(pairedAblationTables(sections[0])[0].display).find((x) =>
    x.ablation === "noCR"
  )!;
  assert.match(
    String(noCR["module check (full model)"]),
    /^inactive: units routed \(mask < 0\.1 or > 0\.9\) 0\.010/,
  );
});

Deno.test("paired ablation table: differences over shared seeds, 95% CI, Holm-corrected p, verdicts", () => {
  const { sections } = groupSections(withFullManipulation(activeModules()));
  const tables = pairedAblationTables(sections[0]);
  assert.deepEqual(tables.map((t) => t.id), ["paired-cpah"]);
  const r = rows(tables[0].display);
  assert.deepEqual(r.map((x) => `${x.ablation} ${x.bits}`), ["noCR 16", "relaxed 16"]);
  // noCR - full over seeds 1, 2: I2T -0.21, -0.21 (no spread: p = 0); T2I -0.20, -0.16:
  // mean -0.18, sd 0.0283, t = -9 with 1 df, p = 1 - 2 atan(9) / pi = 0.0704; Holm over the
  // two testable p-values: 0 * 2 = 0 and max(0, 0.0704 * 1) = 0.0704.
  assert.match(String(r[0]["Δ I→T [95% CI]"]), /^−0\.2100/);
  assert.equal(r[0]["Δ T→I [95% CI]"], "−0.1800 [−0.4341, +0.0741]"); // 0.02 x t(0.975, 1) 12.706
  assert.equal(r[0]["p I→T (Holm)"], "<0.001");
  assert.equal(r[0]["p T→I (Holm)"], (1 - 2 * Math.atan(9) / Math.PI).toFixed(3));
  assert.equal(
    r[0].verdict,
    "I→T: significantly lower than full; T→I: no significant difference at 5%",
  );
  assert.equal(r[1].seeds, "1");
  assert.match(String(r[1].verdict), /too few seeds to test/);
  assert.match(
    String(r[0]["module check (full model)"]),
    /^active: units routed \(mask < 0\.1 or > 0\.9\) 0\.300/,
  );
  assert.match(String(r[1]["module check (full model)"]), /^active: full model RMS\(B\) 1\.000/);
});

Deno.test("training table: selected epochs, early stops, and cells that may be undertrained", () => {
  const { sections } = groupSections(wikiResults());
  const t = trainingTable(sections[0])!;
  const r = rows(t.display);
  const full16 = r.find((x) => x.series === "CPAH full" && x.bits === "16")!;
  assert.equal(full16["selected epoch"], "3"); // the fixtures select their last epoch
  // validation (I→T + T→I) / 2 at the selected epoch: 0.555, 0.585, 0.62 -> 0.5867
  assert.equal(full16["validation MAP"], "0.5867");
  assert.equal(full16["stopped early"], "0/3");
  assert.equal(full16["may be undertrained"], "yes (3/3)");
  assert.match(t.notes[0], /still rising/);
  const early = result({ method: "cpah", bits: 16, seed: 9, i2t: 0.6, t2i: 0.5, epochs: 5 });
  early.training.selectedEpoch = 1;
  early.training.stoppedEarly = true;
  assert.equal(selectedLast(early), false);
});

Deno.test("more metrics: one folded table per code length, all four directions, MAP@k standard and legacy, P within radius 2", () => {
  const { sections } = groupSections(wikiResults());
  const tables = moreMetricsTables(sections[0]);
  assert.deepEqual(tables.map((t) => t.id), ["metrics-16b", "metrics-32b"]);
  assert.ok(tables.every((t) => t.collapsed));
  const t16 = tables[0];
  assert.deepEqual(t16.display.columnNames(), [
    "series",
    "direction",
    "seeds",
    "MAP@all",
    "MAP@50",
    "MAP@100",
    "MAP@50 legacy",
    "MAP@100 legacy",
    "P (r≤2)",
  ]);
  const r = rows(t16.display);
  // 16 bits: CPAH full, noCR, relaxed, DFAH, random -> 5 series x 4 directions
  assert.equal(r.length, 5 * 4);
  assert.deepEqual(r.slice(0, 4).map((x) => x.direction), ["I→T", "T→I", "I→I", "T→T"]);
  const i2i = r.find((x) => x.series === "CPAH" && x.direction === "I→I")!;
  // I2I MAP@all = the I2T values 0.61/0.65/0.70; MAP@50 standard = +0.05, legacy = +0.06
  assert.equal(i2i["MAP@all"], "0.6533 ± 0.0451");
  assert.equal(i2i["MAP@50"], "0.7033 ± 0.0451");
  assert.equal(i2i["MAP@50 legacy"], "0.7133 ± 0.0451");
  assert.equal(i2i["MAP@100"], "0.6833 ± 0.0451");
  // P (r<=2) = 0.9 - 1/16 - curve, curves 0/0.02/0.04: mean 0.8175, std 0.02
  assert.equal(i2i["P (r≤2)"], "0.8175 ± 0.0200");
  assert.equal(i2i.seeds, "3");
  const t2t = r.find((x) => x.series === "CPAH" && x.direction === "T→T")!;
  assert.equal(t2t["MAP@all"], "0.5200 ± 0.0200");
  const rnd = r.find((x) => x.series === "Random projection" && x.direction === "T→I")!;
  assert.equal(rnd["MAP@all"], "0.1111");
  const d = rows(t16.data);
  assert.equal(d[0].direction, "I2T");
  assert.equal(d[0].bits, 16);
  assert.ok(Math.abs((d[0].map_at_50_legacy_mean as number) - (1.96 / 3 + 0.06)) < 1e-12);
  assert.equal(d[0].precision_within_radius_2_n, 3);
  // at 32 bits: CPAH full (2 seeds) and the baseline
  assert.equal(rows(tables[1].display).length, 2 * 4);
  // in the report: after the other tables, folded in Markdown
  const md = reportMarkdown(buildReport(wikiResults(), { figures: false }));
  assert.match(md, /<details>\n<summary><b>Table \d+\. More metrics at 16 bits: all directions/);
  assert.equal((md.match(/<details>/g) ?? []).length, 2);
  assert.equal((md.match(/<\/details>/g) ?? []).length, 2);
});

Deno.test("long format: one row per result file x direction x metric x k, every per-seed number", () => {
  const rs = wikiResults();
  const { sections } = groupSections(rs);
  const t = longTable(sections[0]);
  assert.deepEqual(t.columnNames(), [...LONG_COLUMNS]);
  assert.equal(
    t.columnNames().join(","),
    "dataset,variant,split,method,ablation,bits,seed,epochs,backend,direction,metric,k,value",
  );
  // per result and direction: MAP@all 1, MAP@k standard 2 + legacy 2, P@N 4, P(r<=2) 1,
  // PR precision and recall (bits + 1 radii each)
  const perDirection = (bits: number) => 1 + 2 + 2 + 4 + 1 + 2 * (bits + 1);
  const expected = rs.reduce((n, r) => n + 4 * perDirection(r.spec.bits), 0);
  assert.equal(t.numRows(), expected);
  // 9 results at 16 bits, 3 at 32 bits: 9 x 4 x 44 + 3 x 4 x 76
  assert.equal(expected, 9 * 4 * perDirection(16) + 3 * 4 * perDirection(32));
  assert.equal(expected, 2496);
  const all = rows(t);
  // seed 2 of CPAH full at 16 bits, T2I: MAP@all 0.52, MAP@100 legacy 0.56, P@500 0.6 - 0.02
  const one = (metric: string, k: number | null) =>
    all.filter((x) =>
      x.method === "cpah" && x.ablation === "full" && x.bits === 16 && x.seed === 2 &&
      x.direction === "T2I" && x.metric === metric && x.k === k
    );
  assert.deepEqual(one("map_all", null).map((x) => x.value), [0.52]);
  assert.ok(Math.abs((one("map_at_k_legacy", 100)[0].value as number) - 0.56) < 1e-12);
  assert.ok(Math.abs((one("precision_at_n", 500)[0].value as number) - 0.58) < 1e-12);
  assert.ok(Math.abs((one("pr_recall", 8)[0].value as number) - 0.5) < 1e-12);
  assert.equal(one("precision_within_radius", 2).length, 1);
  assert.equal(all[0].variant, "");
  assert.equal(all[0].dataset, "wikipedia");
  // series order (CPAH full first), then bits, then seed
  assert.deepEqual(
    [...new Set(all.map((x) => `${x.method}/${x.ablation}/${x.bits}/${x.seed}`))].slice(0, 5),
    ["cpah/full/16/1", "cpah/full/16/2", "cpah/full/16/3", "cpah/full/32/1", "cpah/full/32/2"],
  );
});

Deno.test("summaries use the sample standard deviation and none for a single value", () => {
  const s = summarize([1, 2, 3, 4])!;
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std! - Math.sqrt(5 / 3)) < 1e-12); // squares 2.25+0.25+0.25+2.25 = 5
  assert.equal(s.n, 4);
  assert.deepEqual(summarize([0.3]), { mean: 0.3, std: null, n: 1 });
  assert.equal(summarize([]), null);
});

Deno.test("published comparison appears only for published benchmarks", () => {
  const { sections } = groupSections([
    ...wikiResults(),
    ...simimgResults(),
    result({
      dataset: "synthetic",
      split: "permutation",
      method: "cpah",
      bits: 16,
      seed: 1,
      i2t: .9,
      t2i: .9,
    }),
  ]);
  assert.deepEqual(sections.map((s) => s.dataset), [
    "mirflickr25k-simimg",
    "synthetic",
    "wikipedia",
  ]);
  const [mir, syn, wiki] = sections.map(publishedComparison);
  assert.equal(syn.table, null);
  assert.match(syn.reason!, /not one of the published benchmarks/);
  // Simulated image features are not the benchmark: no published rows beside them.
  assert.equal(mir.table, null);
  assert.match(mir.reason!, /SIMULATED .* published rows of real-image papers are not shown/);

  const t = wiki.table!;
  assert.ok(t);
  const r = rows(t.display);
  // our full rows (CPAH, DFAH, the baseline), then the published SCM-Seq and CMFH rows
  assert.deepEqual(r.map((x) => x.method), [
    "CPAH (ours)",
    "DFAH (ours)",
    "Random projection (ours)",
    "SCM-Seq",
    "CMFH",
  ]);
  assert.equal(r[0]["I→T 16"], "0.6533 ± 0.0451");
  assert.equal(r[0]["I→T 64"], "—"); // no 64-bit run
  const scm = r.find((x) => x.method === "SCM-Seq")!;
  assert.deepEqual([scm["I→T 16"], scm["T→I 64"]], ["0.2341", "0.2482"]);
  assert.match(String(scm.source), /not identified/);
  assert.ok(t.notes.some((n) => /Same data and split as the published rows/.test(n)));

  const md = reportMarkdown(
    buildReport([...wikiResults(), ...simimgResults()], { figures: false }),
  );
  assert.match(md, /Ours beside published MAP@all on Wikipedia/);
  assert.equal((md.match(/Ours beside published/g) ?? []).length, 1);
  assert.match(md, /SIMULATED .* published rows of real-image papers are not shown/);
});

/**
 * Parse the tables of docs/published.md (the readers' list of the published numbers) into
 * {source index, method, benchmark, i2t, t2i}: section k (## k. ...) is source k - 1; a column
 * "MIRFlickr-25K I→T" names its benchmark, a bare "I→T" belongs to the section's benchmark.
 */
function parsePublishedDoc(text: string) {
  const out: { source: number; method: string; benchmark: string; i2t: number[]; t2i: number[] }[] =
    [];
  let source = -1, header: string[] = [];
  for (const line of text.split("\n")) {
    if (/^## \d+\./.test(line)) {
      source++;
      header = [];
      continue;
    }
    if (!line.startsWith("|") || /^\| -/.test(line)) continue;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells[0] === "method") {
      header = cells;
      continue;
    }
    if (!header.length || cells[0] === "field") continue;
    for (let c = 1; c < cells.length; c += 2) {
      const bench = header[c].replace(/ ?I→T$/, "") || "Wikipedia";
      const nums = (v: string) => v.split("/").map((x) => Number(x.trim()));
      out.push({
        source,
        method: cells[0],
        benchmark: bench,
        i2t: nums(cells[c]),
        t2i: nums(cells[c + 1]),
      });
    }
  }
  return out;
}

Deno.test("published rows equal docs/published.md cell by cell", () => {
  const doc = new URL("../../docs/published.md", import.meta.url);
  const parsed = parsePublishedDoc(Deno.readTextFileSync(doc));
  const sources: PublishedSource[] = [SSAH_TABLE2, AGAH_TABLE1, DCMH_OWN, WIKIPEDIA_BASELINES];
  assert.equal(parsed.length, PUBLISHED_ROWS.length);
  for (const p of parsed) {
    const row = PUBLISHED_ROWS.find((r) =>
      r.source === sources[p.source] && r.method === p.method && r.benchmark === p.benchmark
    );
    assert.ok(row, `${p.method} ${p.benchmark} of source ${p.source}`);
    assert.deepEqual([...row.i2t], p.i2t);
    assert.deepEqual([...row.t2i], p.t2i);
  }
});

// ------------------------------------------------------------------------------- figures

Deno.test("PR figure averages the curves over seeds, one panel per direction", () => {
  const wiki = wikiResults();
  // 16 bits has 5 (method, ablation) settings, 32 bits only 2: the curves use 16 bits
  assert.equal(curveBits(wiki), 16);
  // complete grid 16/32/64: the middle; 16/32/64/128: the upper middle
  const grid = (bits: number[]) =>
    bits.map((b) => result({ method: "cpah", bits: b, seed: 1, i2t: 0.5, t2i: 0.5 }));
  assert.equal(curveBits(grid([16, 32, 64])), 32);
  assert.equal(curveBits(grid([16, 32, 64, 128])), 64);
  const f = prCurvesFigure(wiki, { bits: 16 });
  assert.equal(f.id, "pr_methods_16b");
  const cpah = f.figure.data.filter((t) => t.name === "CPAH");
  assert.equal(cpah.length, 4); // I2T, T2I, I2I, T2T
  assert.deepEqual(cpah.map((t) => t.xaxis), ["x", "x2", "x3", "x4"]);
  // precision at radius 0 is 0.9 - curve; curves 0, 0.02, 0.04 -> mean 0.88
  const y = cpah[0].y as number[];
  assert.ok(Math.abs(y[0] - 0.88) < 1e-12);
  assert.equal(y.length, 17);
  assert.deepEqual(
    [...new Set(f.figure.data.map((t) => t.name))],
    ["CPAH", "DFAH", "Random projection"],
  );
  assert.throws(
    () => prCurvesFigure([...wiki, ...simimgResults()]),
    /several dataset sections/,
  );
});

Deno.test("MAP vs code length has one line per (method, ablation) and std error bars", () => {
  const f = mapVsBitsFigure(wikiResults());
  const i2t = f.figure.data.filter((t) => t.xaxis === "x");
  assert.deepEqual(i2t.map((t) => t.name), [
    "CPAH",
    "CPAH noCR",
    "CPAH relaxed",
    "DFAH",
    "Random projection",
  ]);
  assert.deepEqual(i2t[0].x, [16, 32]);
  const err = (i2t[0].error_y as { array: (number | null)[] }).array;
  assert.ok(Math.abs(err[0]! - 0.045092) < 1e-6);
  assert.ok(Math.abs(err[1]! - Math.SQRT2 * 0.01) < 1e-12);
  assert.deepEqual((i2t[2].error_y as { array: unknown[] }).array, [null]); // one seed: no bar
});

Deno.test("training curves show each loss term and validation MAP per epoch, mean over seeds", () => {
  const f = trainingCurvesFigure(wikiResults(), { method: "cpah", bits: 16 });
  const pair = f.figure.data.find((t) => t.name === "pair")!;
  assert.deepEqual(pair.x, [1, 2, 3]);
  // pair loss at epoch 1: 2 + 0.1 * seed, seeds 1..3 -> 2.2
  assert.ok(Math.abs((pair.y as number[])[0] - 2.2) < 1e-12);
  const v = f.figure.data.find((t) => t.name === "validation I→T")!;
  assert.ok(Math.abs((v.y as number[])[2] - 1.96 / 3) < 1e-12);
  assert.match(f.title, /selected epoch 3/);
  assert.throws(
    () => trainingCurvesFigure(wikiResults(), { method: "random" }),
    /no training history/,
  );
});

Deno.test("section figures: PR and P@N at every code length, training curves of full models, MAP vs bits", () => {
  const ids = sectionFigures(wikiResults()).map((f) => f.id);
  assert.deepEqual(ids, [
    "pr_methods_16b",
    "patn_methods_16b",
    "pr_cpah-ablations_16b",
    "patn_cpah-ablations_16b",
    // at 32 bits only CPAH full and the baseline: methods only (one CPAH setting, no ablations)
    "pr_methods_32b",
    "patn_methods_32b",
    "training_cpah-full_16b",
    "training_dfah-full_16b",
    "map_vs_bits",
  ]);
  // a complete grid: methods and each method's ablations at each of 16/32/64 bits
  const grid = [16, 32, 64].flatMap((bits) =>
    [["cpah", "full"], ["cpah", "noCR"], ["dfah", "full"], ["dfah", "noFusion"], ["random", "full"]]
      .map(([method, ablation]) =>
        result({ method: method as CellMethod, ablation, bits, seed: 1, i2t: 0.5, t2i: 0.5 })
      )
  );
  const gridIds = sectionFigures(grid).map((f) => f.id);
  for (const bits of [16, 32, 64]) {
    for (const what of ["methods", "cpah-ablations", "dfah-ablations"]) {
      for (const kind of ["pr", "patn"]) {
        assert.ok(gridIds.includes(`${kind}_${what}_${bits}b`), `${kind}_${what}_${bits}b`);
      }
    }
  }
  assert.equal(gridIds.length, 3 * 6 + 2 + 1); // curves per bits, 2 training, MAP vs bits
  assert.deepEqual(gridIds.filter((id) => id.startsWith("training")), [
    "training_cpah-full_32b",
    "training_dfah-full_32b",
  ]);
  // at 32 bits only CPAH full and the baseline exist: no ablation curves, no DFAH training
  const ids32 = sectionFigures(wikiResults().filter((r) => r.spec.bits === 32)).map((f) => f.id);
  assert.deepEqual(ids32, [
    "pr_methods_32b",
    "patn_methods_32b",
    "training_cpah-full_32b",
    "map_vs_bits",
  ]);
});

Deno.test("PNG rendering is skipped with a reason when there is no Chromium", async () => {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir();
  try {
    const written = await renderPngs([mapVsBitsFigure(wikiResults())], dir, {
      chromium: null,
      log: (l) => lines.push(l),
    });
    assert.deepEqual(written, []);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^PNG skipped: no Chromium/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("static images: the basic plotly bundle when every trace is scatter/bar/pie; stable SVG ids", () => {
  assert.equal(bundleFor(sectionFigures(wikiResults()).map((f) => f.figure)), "basic");
  assert.equal(bundleFor([{ data: [{ type: "heatmap", z: [[1]] }], layout: {} }]), "full");
  assert.equal(bundleFor([{ data: [{ y: [1, 2] }], layout: {} }]), "basic"); // scatter default
  // plotly names clip paths after a random id, and orders the root attributes either way
  const a = `<svg width="10" style="" viewBox="0 0 10 10"><defs id="defs-3fa9c1"></defs>` +
    `<clipPath id="clip3fa9c1xyplot"></clipPath><g clip-path="url(#clip3fa9c1xyplot)"></g></svg>`;
  const b = `<svg viewBox="0 0 10 10" width="10" style=""><defs id="defs-a0b1c2"></defs>` +
    `<clipPath id="clipa0b1c2xyplot"></clipPath><g clip-path="url(#clipa0b1c2xyplot)"></g></svg>`;
  assert.equal(stableSvg(a), stableSvg(b));
  assert.match(stableSvg(a), /^<svg viewBox="0 0 10 10" width="10"><defs id="defs-fig">/);
  assert.equal(
    stableSvg(`<rect y="1" x="0" style="fill: red"/><text b="2" a="1">x &lt; y</text>`),
    `<rect style="fill: red" x="0" y="1"/><text a="1" b="2">x &lt; y</text>`,
  );
  // the page's output: the status, then the data URLs as JSON
  const svg = "<svg>x &amp; y</svg>";
  const dom = `<html><body><pre id="status">ok</pre><pre id="out">${
    JSON.stringify([{
      svg: "data:image/svg+xml," + encodeURIComponent(svg),
      png: "data:image/png;base64,iVBORw==",
    }])
  }</pre></body></html>`;
  const parsed = parseImagesDom(dom, 1);
  assert.ok(Array.isArray(parsed));
  assert.equal(parsed[0].svg, svg);
  assert.deepEqual([...parsed[0].png!], [0x89, 0x50, 0x4e, 0x47]);
  assert.match(String(parseImagesDom(dom, 2)), /expected 2 rendered figures, got 1/);
  assert.equal(
    parseImagesDom(`<pre id="status">error: boom</pre>`, 1),
    "error: boom",
  );
  assert.equal(
    parseImagesDom(`<pre id="status">running</pre>`, 1),
    "the page did not finish rendering",
  );
  assert.match(String(imagesUnavailable(null)), /^no Chromium on PATH/);
});

Deno.test({
  name:
    "static images: headless Chromium renders SVG and PNG, the same SVG every time (skipped without Chromium)",
  ignore: imagesUnavailable() !== null,
  fn: async () => {
    const small = mapVsBitsFigure(wikiResults()).figure;
    const fig = { data: small.data, layout: { ...small.layout, width: 500, height: 300 } };
    const r = await renderImages([fig, fig], { timeoutSeconds: 120 });
    assert.ok(r.ok, r.ok ? "" : r.reason);
    const [one, two] = r.images;
    assert.match(one.svg!, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(one.svg!, /CPAH noCR/); // legend text is text, not pixels
    assert.equal(one.svg, two.svg); // ids made stable: the same figure gives the same file
    assert.deepEqual([...one.png!.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]); // PNG signature
    const view = new DataView(one.png!.buffer, one.png!.byteOffset);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [500, 300]); // IHDR width, height
    assert.ok(findChromium());
  },
});

Deno.test("notebook figures: static SVG and PNG beside the plotly JSON, or the JSON with a note", () => {
  const fig = mapVsBitsFigure(wikiResults()).figure;
  const b = figureBundle(fig, { svg: "<svg/>", png: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) });
  assert.deepEqual(Object.keys(b).sort(), [
    "application/vnd.plotly.v1+json",
    "image/png",
    "image/svg+xml",
    "text/plain",
  ]);
  assert.equal(b["image/png"], "iVBORw==");
  assert.equal(b["application/vnd.plotly.v1+json"], fig);
  const d = figureBundle(fig, { reason: "no Chromium on PATH" });
  assert.deepEqual(Object.keys(d).sort(), ["application/vnd.plotly.v1+json", "text/plain"]);
  assert.match(
    String(d["text/plain"]),
    /^\[plotly figure: MAP@all vs code length.*no static image: no Chromium on PATH\)$/,
  );
});

// ------------------------------------------------------------------------------- files

Deno.test("writeReports writes Markdown, one CSV per table and a self-contained HTML with the figures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "command.txt"),
      "deno task reproduce --dataset wikipedia --seeds 1,2,3\n",
    );
    // files of an earlier report (or another run) are never deleted
    await Deno.mkdir(join(dir, "tables"));
    await Deno.mkdir(join(dir, "figures"));
    await Deno.writeTextFile(join(dir, "tables", "wikipedia-fixed__old.csv"), "stale");
    await Deno.writeTextFile(join(dir, "figures", "wikipedia-fixed__old.png"), "stale");
    await Deno.writeTextFile(join(dir, "figures", "wikipedia-fixed__old.svg"), "stale");
    await Deno.writeTextFile(join(dir, "figures", "notes.png"), "mine");
    const lines: string[] = [];
    const res = await writeReports([...wikiResults(), ...simimgResults()], dir, {
      png: false,
      log: (l) => lines.push(l),
    });
    assert.ok(lines.some((l) => l.startsWith("SVG and PNG skipped: disabled")));
    const names = res.files.map((f) => f.slice(dir.length + 1)).sort();
    assert.deepEqual(names, [
      "report.html",
      "report.md",
      "tables/mirflickr25k-simimg-permutation__long.csv",
      "tables/mirflickr25k-simimg-permutation__main.csv",
      "tables/mirflickr25k-simimg-permutation__metrics-16b.csv",
      "tables/mirflickr25k-simimg-permutation__metrics-32b.csv",
      "tables/mirflickr25k-simimg-permutation__training.csv",
      "tables/wikipedia-fixed__ablations-cpah.csv",
      "tables/wikipedia-fixed__long.csv",
      "tables/wikipedia-fixed__main.csv",
      "tables/wikipedia-fixed__metrics-16b.csv",
      "tables/wikipedia-fixed__metrics-32b.csv",
      "tables/wikipedia-fixed__paired-cpah.csv",
      "tables/wikipedia-fixed__published.csv",
      "tables/wikipedia-fixed__training.csv",
    ]);
    const long = (await Deno.readTextFile(join(dir, "tables/wikipedia-fixed__long.csv"))).trim()
      .split("\n");
    assert.equal(long[0], LONG_COLUMNS.join(","));
    assert.equal(long.length - 1, 2496); // see the long-format test
    assert.equal(long[1], "wikipedia,,fixed,cpah,full,16,1,3,wasm,I2T,map_all,,0.61");
    assert.match(
      res.markdown,
      /\[tables\/wikipedia-fixed__long\.csv\]\(tables\/wikipedia-fixed__long\.csv\)/,
    );
    const left = [...Deno.readDirSync(join(dir, "figures"))].map((e) => e.name).sort();
    assert.deepEqual(left, [
      "notes.png",
      "wikipedia-fixed__old.png",
      "wikipedia-fixed__old.svg",
    ]);
    assert.equal(Deno.readTextFileSync(join(dir, "tables", "wikipedia-fixed__old.csv")), "stale");
    // no temporary file of the atomic writes is left behind
    const tmp = [...Deno.readDirSync(join(dir, "tables"))].filter((e) => e.name.endsWith(".tmp"));
    assert.deepEqual(tmp, []);
    const md = await Deno.readTextFile(join(dir, "report.md"));
    assert.equal(md, res.markdown);
    assert.match(md, /command: `deno task reproduce --dataset wikipedia --seeds 1,2,3`/);
    assert.match(md, /backend: wasm \(tfjs 4\.22\.0/);
    assert.match(md, /\| CPAH \| 2–3 \| 0\.6533 ± 0\.0451 \| 0\.6700 ± 0\.0141 \(n=2\) \|/);
    assert.match(md, /total training time/);

    const csv = (await Deno.readTextFile(join(dir, "tables/wikipedia-fixed__main.csv"))).trim()
      .split("\n");
    const header = csv[0].split(",");
    assert.deepEqual(header.slice(0, 4), ["method", "ablation", "epochs", "backend"]);
    const cpah = csv[1].split(",");
    assert.equal(cpah[0], "cpah");
    assert.ok(Math.abs(Number(cpah[header.indexOf("I2T_16_mean")]) - 1.96 / 3) < 1e-12);
    const dfah = csv[2].split(",");
    assert.equal(dfah[header.indexOf("I2T_32_mean")], ""); // missing stays empty

    const html = await Deno.readTextFile(join(dir, "report.html"));
    // the basic bundle inlined (every figure is scatter traces): small and self-contained
    assert.match(html.slice(0, 5000), /<script>\/\*\*\s*\* plotly\.js \(basic - minified\) v\d/);
    const bytes = new TextEncoder().encode(html).length;
    assert.ok(bytes < 1.5e6, `report.html is ${bytes} bytes`);
    assert.doesNotMatch(html, /<script src=/); // nothing fetched
    assert.match(html, /image side is SIMULATED/);
    const m = /<script type="application\/json" id="figure-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m);
    const figs = JSON.parse(m[1]) as { div: string; fig: { data: Row[] } }[];
    assert.equal(
      figs.length,
      sectionFigures(wikiResults()).length + sectionFigures(simimgResults()).length,
    );
    const pr = figs.find((f) => f.div === "fig-wikipedia-fixed-pr_methods_16b")!;
    const cpahTrace = pr.fig.data.find((t) => t.name === "CPAH")!;
    // 16-bit CPAH seeds have curve shifts 0, 0.02, 0.04: precision at radius 0 is 0.88
    assert.ok(Math.abs((cpahTrace.y as number[])[0] - 0.88) < 1e-12);
    // main x2, ablations, published, paired, training x2, more metrics at 16 and 32 bits x2
    assert.equal(html.match(/<table>/g)?.length, 11);
    assert.equal(html.match(/<details><summary>Table \d+\. More metrics/g)?.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Two result directories (Wikipedia grid, MIRFlickr simulated) with their command.txt. */
async function resultDirs(root: string): Promise<{ a: string; b: string }> {
  const a = join(root, "results", "wikipedia"), b = join(root, "results", "mir");
  for (
    const [dir, rs, cmd] of [
      [a, wikiResults(), "deno task reproduce --dataset wikipedia"],
      [b, simimgResults(), "deno task reproduce --dataset mirflickr25k-simimg"],
    ] as const
  ) {
    await Deno.mkdir(join(dir, "figures"), { recursive: true });
    await Deno.writeTextFile(join(dir, "command.txt"), cmd + "\n");
    for (const r of rs) await Deno.writeTextFile(join(dir, `${r.id}.json`), JSON.stringify(r));
  }
  return { a, b };
}

/** A document with its timestamps blanked. */
function untimed(doc: string): string {
  return doc.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>");
}

Deno.test("results document: generated header, each directory's command, its tables and its figures", async () => {
  const root = await Deno.makeTempDir();
  try {
    const { a, b } = await resultDirs(root);
    // Without Chromium: an image the result directory has is copied into docs/figures/ and
    // embedded; an image whose figure data changed since it was drawn is not shown; images of
    // figures that no longer exist are deleted.
    await Deno.writeTextFile(join(a, "figures", "wikipedia-fixed__map_vs_bits.svg"), "<svg/>");
    const figs = join(root, "docs", "figures", "wikipedia");
    await Deno.mkdir(figs, { recursive: true });
    await Deno.writeTextFile(join(figs, "wikipedia-fixed__pr_methods_16b.svg"), "<svg/>");
    await Deno.writeTextFile(join(figs, "wikipedia-fixed__gone.svg"), "<svg/>");
    await Deno.writeTextFile(
      join(figs, "figures.json"),
      JSON.stringify({
        format: "cmh-figures-1",
        figures: {
          "wikipedia-fixed__pr_methods_16b": {
            sha256: "old",
            title: "t",
            files: ["wikipedia-fixed__pr_methods_16b.svg"],
          },
          "wikipedia-fixed__gone": {
            sha256: "x",
            title: "t",
            files: ["wikipedia-fixed__gone.svg"],
          },
        },
      }),
    );
    const lines: string[] = [];
    const make = (now: string) =>
      resultsDocument({
        from: [a, b],
        to: join(root, "docs", "results.md"),
        command: "deno run -A src/experiments/results_doc.ts --from x --to y",
        now: new Date(now),
        chromium: null,
        log: (l) => lines.push(l),
      });
    const doc = await make("2025-02-03T04:05:06Z");
    assert.match(doc, /^# Results\n/);
    assert.match(
      doc,
      /Generated by src\/experiments\/results_doc\.ts on 2025-02-03T04:05:06\.000Z/,
    );
    assert.match(doc, /`deno task reproduce --dataset wikipedia`/);
    assert.match(doc, /`deno task reproduce --dataset mirflickr25k-simimg`/);
    assert.match(doc, /\| CPAH \| 2–3 \| 0\.6533 ± 0\.0451/);
    assert.match(doc, /Ours beside published MAP@all on Wikipedia/);
    assert.match(doc, /More metrics at 32 bits/);
    assert.match(
      doc,
      /!\[MAP@all vs code length[^\]]*\]\(figures\/wikipedia\/wikipedia-fixed__map_vs_bits\.svg\)/,
    );
    assert.match(doc, /- Precision-recall by Hamming radius, methods, 16 bits/); // outdated: listed
    assert.equal(await Deno.readTextFile(join(figs, "wikipedia-fixed__map_vs_bits.svg")), "<svg/>");
    assert.throws(() => Deno.statSync(join(figs, "wikipedia-fixed__gone.svg")));
    const manifest = JSON.parse(await Deno.readTextFile(join(figs, "figures.json")));
    assert.deepEqual(Object.keys(manifest.figures), [
      "wikipedia-fixed__map_vs_bits",
      "wikipedia-fixed__pr_methods_16b",
    ]);
    assert.ok(lines.some((l) => /figures not rendered \(no Chromium on PATH/.test(l)));
    // deterministic apart from the time
    assert.equal(untimed(await make("2026-01-01T00:00:00Z")), untimed(doc));
    await assert.rejects(() => resultsDocument({ from: [join(root, "nope")] }), /does not exist/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "results document renders every figure once into docs/figures and embeds it (skipped without Chromium)",
  ignore: imagesUnavailable() !== null,
  fn: async () => {
    const root = await Deno.makeTempDir();
    try {
      const { b } = await resultDirs(root);
      const lines: string[] = [];
      const make = () =>
        resultsDocument({
          from: [b],
          to: join(root, "docs", "results.md"),
          log: (l) => lines.push(l),
        });
      const doc = await make();
      const ids = sectionFigures(simimgResults()).map((f) => f.id);
      for (const id of ids) {
        const file = `figures/mir/mirflickr25k-simimg-permutation__${id}.svg`;
        assert.ok(doc.includes(`](${file})`), file);
        const svg = await Deno.readTextFile(join(root, "docs", file));
        assert.match(svg, /^<svg /);
      }
      assert.ok(lines.some((l) => l.startsWith(`results_doc: ${ids.length} figures rendered`)));
      // a second run renders nothing and writes the same document and images
      const before = await Deno.readTextFile(
        join(root, "docs", "figures", "mir", `mirflickr25k-simimg-permutation__${ids[0]}.svg`),
      );
      lines.length = 0;
      assert.equal(untimed(await make()), untimed(doc));
      assert.ok(!lines.some((l) => /rendered/.test(l)), lines.join("\n"));
      assert.equal(
        await Deno.readTextFile(
          join(root, "docs", "figures", "mir", `mirflickr25k-simimg-permutation__${ids[0]}.svg`),
        ),
        before,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("the published table names our image features whole, brackets included", () => {
  assert.equal(
    imagePart(
      "wikipedia (variant lda): x.mat (1 bytes, sha256 ab); image = [I_tr; I_te] 128-d SIFT " +
        "BoVW, text = [T_tr; T_te] 10-d LDA, labels = one-hot",
    ),
    "image = [I_tr; I_te] 128-d SIFT BoVW",
  );
  assert.equal(
    imagePart("mirflickr25k: y.mat (2 bytes); image = IAll (20015x4096) from i.mat; text = YAll"),
    "image = IAll (20015x4096) from i.mat",
  );
  assert.equal(imagePart("synthetic, no image part here"), undefined);
});

Deno.test("tie-aware MAP: more-metrics columns and long rows when results record it", () => {
  const rs = wikiResults().map((r) => ({
    ...r,
    metrics: Object.fromEntries(
      Object.entries(r.metrics).map(([d, m]) => [d, {
        ...m,
        mapAllTieAware: m.mapAll - 0.01,
        mapAtK: { ...m.mapAtK, tieAware: m.mapAtK.standard.map((v) => v - 0.02) },
      }]),
    ) as CellResult["metrics"],
  }));
  const { sections } = groupSections(rs);
  const t16 = moreMetricsTables(sections[0])[0];
  const cols = t16.display.columnNames();
  assert.deepEqual(cols.slice(3, 8), [
    "MAP@all",
    "MAP@all tie-aware",
    "MAP@50",
    "MAP@100",
    "MAP@50 tie-aware",
  ]);
  const i2i = rows(t16.display).find((x) => x.series === "CPAH" && x.direction === "I→I")!;
  assert.equal(i2i["MAP@all tie-aware"], "0.6433 ± 0.0451");
  assert.equal(i2i["MAP@50 tie-aware"], "0.6833 ± 0.0451");
  assert.match(t16.caption, /'tie-aware' = the expectation over every order/);
  assert.doesNotMatch(
    moreMetricsTables(groupSections(wikiResults()).sections[0])[0].caption,
    /tie-aware/,
  );
  const all = rows(longTable(sections[0]));
  const tie = all.filter((x) =>
    x.method === "cpah" && x.ablation === "full" && x.bits === 16 && x.seed === 2 &&
    x.direction === "T2I" && String(x.metric).includes("tie_aware")
  );
  assert.deepEqual(tie.map((x) => `${x.metric}@${x.k}`), [
    "map_all_tie_aware@null",
    "map_at_k_tie_aware@50",
    "map_at_k_tie_aware@100",
  ]);
  assert.ok(Math.abs((tie[0].value as number) - 0.51) < 1e-12);
});

Deno.test("primary contrasts: one row per module at 32 bits, mean of both directions, Holm over the active ones, MDE beside", () => {
  // CPAH full and two ablations at 32 bits over seeds 1-3; the full model's CR passes its check,
  // and no record says anything about the discrete step (relaxed: no verdict).
  const manip = {
    ...emptyManipulation(),
    maskBelow01: { image: 0.3, text: 0.2 },
    maskAbove09: { image: 0.3, text: 0.2 },
    consistencyAccuracy: { value: 0.9, chance: 0.5 },
  };
  const cells: CellResult[] = [];
  const full = [[0.66, 0.55], [0.68, 0.57], [0.70, 0.56]];
  const noCR = [[0.60, 0.50], [0.63, 0.50], [0.64, 0.52]];
  for (const [i, [a, b]] of full.entries()) {
    cells.push({
      ...result({ method: "cpah", bits: 32, seed: i + 1, i2t: a, t2i: b }),
      manipulation: manip,
    });
    const [c, d] = noCR[i];
    cells.push(result({ method: "cpah", ablation: "noCR", bits: 32, seed: i + 1, i2t: c, t2i: d }));
    cells.push(
      result({ method: "cpah", ablation: "relaxed", bits: 32, seed: i + 1, i2t: a - 0.01, t2i: b }),
    );
  }
  const { sections } = groupSections(cells);
  const t = primaryContrastsTable(sections[0])!;
  const r = rows(t.display);
  assert.deepEqual(r.map((x) => x.ablation), ["noCR", "relaxed"]);
  // noCR − full, mean of both directions per seed: −0.055, −0.06, −0.05.
  const diffs = [0, 1, 2].map((i) => (noCR[i][0] + noCR[i][1]) / 2 - (full[i][0] + full[i][1]) / 2);
  const c = pairedComparison(diffs, [0, 0, 0]);
  assert.equal(r[0]["Δ mean [95% CI]"], formatDiff(c));
  // A family of one (relaxed is not read): Holm leaves p as it is; α/k = α.
  assert.equal(r[0]["p (Holm over primaries)"], formatP(c.p));
  const mde = minimalDetectableEffect(c.sd, 3);
  assert.equal(r[0]["MDE α 0.05 / α/k (80% power)"], `${mde.toFixed(4)} / ${mde.toFixed(4)}`);
  assert.match(String(r[1]["p (Holm over primaries)"]), /no manipulation check recorded/);
  assert.equal(r[0].verdict, "significantly lower than full");
  // The paired table shows the MDE of each direction and of the mean beside the differences.
  const paired = rows(pairedAblationTables(sections[0])[0].display);
  assert.equal(
    String(paired[0]["MDE I→T / T→I / mean (80% power)"]).split(" / ")[2],
    mde.toFixed(4),
  );
  assert.equal(comparisonMde(c), mde);
  // In the built report, before the per-method paired tables.
  const ids = buildReport(cells, { figures: false }).sections[0].tables.map((x) => x.id);
  assert.ok(ids.indexOf("primary") >= 0 && ids.indexOf("primary") < ids.indexOf("paired-cpah"));
  // With the mechanism study's controls, each row shows its module's control and the verdict
  // read with it: noCR's significant drop "matters" whatever its control; relaxed, without a
  // manipulation record, is not tested.
  const control = (name: string): ControlSweep => ({
    name,
    amendment: "amendment 3",
    ablation: "noCR",
    knob: "shortcut",
    value: 4,
  });
  const withControls = buildReport(cells, {
    figures: false,
    controls: (method, ablation): ControlReading =>
      ablation === "noCR"
        ? {
          status: "passed",
          control: control("control-shortcut-heldout"),
          method,
          test: { n: 5, mean: -0.25, sd: 0.01, ci: [-0.26, -0.24], p: 1e-6 },
          p: 3e-6,
          mde: 0.02,
        }
        : {
          status: "not run",
          control: control("control-discrete-heldout"),
          method,
          finished: 3,
          cells: 5,
        },
  }).sections[0].tables.find((x) => x.id === "primary")!;
  const rc = rows(withControls.display);
  assert.match(
    String(rc[0]["positive control"]),
    /^passed \(`control-shortcut-heldout`: Δ −0\.2500, p/,
  );
  assert.equal(rc[0].verdict, "matters");
  assert.equal(rc[1]["positive control"], "not run yet (3 of 5 cells), `control-discrete-heldout`");
  assert.equal(rc[1].verdict, "not tested: no manipulation record");
  assert.match(withControls.caption, /only when the module is active and its control passed/);
});

Deno.test("results document: --controls that is not a directory is a one-line error naming it", async () => {
  await assert.rejects(
    () => resultsDocument({ from: ["docs/results/wikipedia"], controls: "no/such/dir" }),
    /^Error: --controls no\/such\/dir: expected the mechanism study's results directory$/,
  );
});
