/**
 * Presets and the help: every option combines with the preset instead of replacing it, the
 * help is generated from the registry and the dataset table, and --dry-run lists the same cells
 * whatever output option is added.
 */
import assert from "node:assert/strict";
import { parseCli, PRESETS } from "../../src/experiments/reproduce_options.ts";
import { reproduceHelp } from "../../src/experiments/reproduce_help.ts";
import { DEFAULT_GRID_METHODS, METHOD_NAMES, METHODS } from "../../src/models/mod.ts";
import { DATASET_NAMES } from "../../src/datasets/datasets.ts";
import { cellId } from "../../src/experiments/spec.ts";
import { didYouMean } from "../../src/io.ts";
import { reproduce } from "../test_utils.ts";

Deno.test("options that do not define the grid leave the default preset's cells unchanged", () => {
  const bare = parseCli([]).specs.map(cellId);
  assert.equal(parseCli([]).preset.name, "quick");
  assert.ok(bare.length > 0);
  for (
    const argv of [
      ["--no-png"],
      ["--out", "elsewhere"],
      ["--report-only"],
      ["--dry-run"],
      ["--save"],
      ["--eval-every", "1"],
      ["--preset", "quick"],
    ]
  ) {
    assert.deepEqual(parseCli(argv).specs.map(cellId), bare, argv.join(" "));
  }
  // --seeds adds seeds to the same grid: the preset's epochs, bits, methods and ablations stay.
  const seeds = parseCli(["--seeds", "1,2"]).specs;
  assert.deepEqual(seeds.filter((s) => s.seed === 1).map(cellId), bare);
  assert.equal(seeds.length, 2 * bare.length);
});

Deno.test("a preset's settings hold unless an option names them", () => {
  const quick = parseCli([]);
  assert.equal(quick.grid.epochs, PRESETS.quick.epochs);
  assert.deepEqual(quick.grid.methods, DEFAULT_GRID_METHODS);
  const bits = parseCli(["--bits", "32"]);
  assert.deepEqual(bits.grid.bits, [32]);
  assert.equal(bits.grid.epochs, PRESETS.quick.epochs);
  assert.deepEqual(bits.changed, ["--bits"]);
  const paper = parseCli(["--preset", "paper", "--methods", "cpah,random", "--bits", "16"]);
  assert.deepEqual(paper.specs.filter((s) => s.ablation === "full").map((s) => s.epochs), [
    (METHODS.cpah.config("synthetic", 16) as { epochs: number }).epochs,
    0,
  ]);
  const smoke = parseCli(["--preset", "smoke", "--epochs", "3"]);
  assert.deepEqual(smoke.grid.bits, PRESETS.smoke.bits);
  assert.ok(smoke.specs.every((s) => s.ablation === "full" && (s.epochs === 3 || s.epochs === 0)));
  // A real dataset defaults to the paper preset (the methods' own epochs); --preset quick wins.
  assert.equal(parseCli(["--dataset", "wikipedia"]).grid.epochs, undefined);
  assert.equal(
    parseCli(["--dataset", "wikipedia", "--preset", "quick"]).grid.epochs,
    PRESETS.quick.epochs,
  );
});

Deno.test("--help names every registered method, its ablations and real defaults, and every dataset", () => {
  const help = reproduceHelp();
  for (const m of METHOD_NAMES) {
    const entry = METHODS[m];
    const line = help.split("\n").find((l) => l.startsWith(`  ${m} `));
    assert.ok(line, `no help entry for ${m}`);
    assert.ok(help.includes(`${entry.label}, ${entry.kind}`), m);
    for (const a of entry.ablations) assert.ok(help.includes(a.flag), `${m} ${a.flag}`);
  }
  assert.ok(help.includes(`default grid, ${DEFAULT_GRID_METHODS.join(",")}`));
  const cpahWiki = (METHODS.cpah.config("wikipedia", 32) as { epochs: number }).epochs;
  assert.match(
    help.replace(/\s+/g, " "),
    new RegExp(`Own epochs \\(paper preset\\): \\d+ on synthetic; ${cpahWiki} on wikipedia`),
  );
  for (const d of DATASET_NAMES) assert.ok(help.includes(d), d);
  assert.doesNotMatch(help, /src\/models\/<method>\/config\.ts/);
  for (const l of help.split("\n")) assert.ok(l.length <= 100, `help line too long: ${l}`);
});

Deno.test("a mistyped option gets the closest option name, a far-off one none", () => {
  const known = ["seeds", "no-png", "dry-run", "out", "methods"];
  assert.equal(didYouMean("--seed", known), "seeds");
  assert.equal(didYouMean("--metods", known), "methods");
  assert.equal(didYouMean("--dryrun", known), "dry-run");
  assert.equal(didYouMean("--banana", known), undefined);
});

Deno.test("reproduce --dry-run and --dry-run --no-png list the same cells, and write nothing", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "dry-run-" });
  try {
    const out = `${tmp}/res`;
    const cells = (text: string) => text.split("\n").filter((l) => /^ {2}(run|skip) /.test(l));
    const a = await reproduce(["--dry-run", "--out", out]);
    const b = await reproduce(["--dry-run", "--no-png", "--out", out]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.equal(cells(a.out).length, parseCli([]).specs.length);
    assert.deepEqual(cells(b.out), cells(a.out));
    assert.match(a.out, /^reproduce: preset quick/m);
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--quick is the older name of --preset smoke", () => {
  const quick = parseCli(["--quick"]);
  assert.equal(quick.preset.name, "smoke");
  assert.deepEqual(quick.specs.map(cellId), parseCli(["--preset", "smoke"]).specs.map(cellId));
});
