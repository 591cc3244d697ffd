/**
 * The reproduce CLI's conventions: every option checked at parse time with the option named,
 * help winning over everything, --version, "1 cell", the time estimate before a grid starts,
 * and the command log written only by runs that ran a cell.
 */
import assert from "node:assert/strict";
import { parseCli } from "../../src/experiments/reproduce_options.ts";
import { wantsHelp, wantsVersion } from "../../src/io.ts";
import {
  describeEstimate,
  estimateGrid,
  formatDuration,
  MEASURED_COSTS,
} from "../../src/experiments/estimate.ts";
import { expandGrid } from "../../src/experiments/spec.ts";
import type { CellResult } from "../../src/experiments/results.ts";
import { TOOLKIT_VERSION } from "../../src/version.ts";
import { reproduce } from "../test_utils.ts";

Deno.test("reproduce refuses bad options at parse time, naming the option", () => {
  const refused: [string[], RegExp][] = [
    [
      ["--dataset", "nope"],
      /^Error: --dataset: unknown dataset 'nope'; expected one of synthetic, wiki/,
    ],
    [["--bits", "0"], /^Error: --bits: 0 is not a code length; expected integers >= 1/],
    [["--bits", "16,16"], /^Error: --bits: '16' is listed twice/],
    [
      ["--bits", "24", "--methods", "cpah,dfah,random"],
      /^Error: --bits: 24 not supported by cpah \(code lengths — cpah: 16, 32, 64, 128; dfah: any length >= 1; random: any length >= 1\); .*--set anyBits=true/,
    ],
    [["--epochs", "0"], /^Error: --epochs: 0 is too small; expected an integer >= 1/],
    [["--epochs", "5,6"], /^Error: --epochs: '5,6' is a list; expected one integer/],
    [["--batch-size", "1"], /^Error: --batch-size: 1 is too small/],
    [["--split", "fixed"], /^Error: --split: 'synthetic' has no published \(fixed\) split/],
    [["--variant", "tfidf"], /^Error: --variant: dataset 'synthetic' has no variants/],
    [
      ["--dataset", "wikipedia", "--variant", "x"],
      /^Error: --variant: 'x' is not a variant of wikipedia/,
    ],
    [
      ["--set", "normalization=bogus"],
      /^Error: --set normalization=bogus: cpahConfig: config\.norm/,
    ],
    [["--set", "epochs=3"], /^Error: --set: 'epochs' is set with --epochs/],
    [
      ["--set", "anyBits=true", "--methods", "dfah"],
      /^Error: --set: 'anyBits' is not a config field/,
    ],
    [
      ["--ablations", "noFusion", "--methods", "cpah"],
      /^Error: --ablations: 'noFusion' is not an abl/,
    ],
    [["--time", "01:00"], /^Error: --time: only with --slurm/],
    [
      ["--methods", "random", "--bits", "16", "--shard", "1"],
      /^Error: --shard: 1 is outside 0\.\.0/,
    ],
    [["--foo"], /^Error: unknown option '--foo' \('deno task reproduce --help'/],
    [["--bits"], /^Error: --bits: expects a value/],
    [["--save=1"], /^Error: --save: takes no value/],
    [["--save", "--save"], /^Error: --save: given twice/],
    [
      ["--quick", "--preset", "paper"],
      /^Error: --quick: means --preset smoke; not with --preset paper/,
    ],
    [["--preset", "fast"], /^Error: --preset: unknown preset 'fast'; expected one of quick, paper/],
    [["--seed", "2"], /^Error: unknown option '--seed'; did you mean '--seeds'\?/],
    [["--no-pngs"], /^Error: unknown option '--no-pngs'; did you mean '--no-png'\?/],
    [["stray"], /^Error: unexpected argument 'stray'/],
  ];
  for (const [argv, re] of refused) assert.throws(() => parseCli(argv), re, argv.join(" "));
});

Deno.test("reproduce: code lengths per method, epochs from each method's config", () => {
  // 24 bits: DFAH and the baseline take it; CPAH with anyBits.
  assert.deepEqual(parseCli(["--bits", "24", "--methods", "dfah,random"]).grid.bits, [24]);
  const three = ["--methods", "cpah,dfah,random"];
  const any = parseCli(["--bits", "24", "--set", "anyBits=true", "--ablations", "full", ...three]);
  assert.deepEqual(any.specs.map((s) => s.method), ["cpah", "dfah", "random"]);
  assert.equal(any.specs[0].overrides?.anyBits, true);
  // No --epochs: each method's own default (CPAH 100, DFAH 100 on Wikipedia), not the first's.
  const wiki = parseCli([
    "--dataset",
    "wikipedia",
    "--ablations",
    "full",
    "--bits",
    "32",
    ...three,
  ]);
  assert.deepEqual(wiki.specs.map((s) => [s.method, s.epochs]), [
    ["cpah", 100],
    ["dfah", 100],
    ["random", 0],
  ]);
  assert.equal(parseCli(["--epochs", "3"]).specs[0].epochs, 3);
  assert.equal(parseCli(["--save", "--preset", "smoke"]).save, true);
});

Deno.test("help wins over every other option, even bad ones; --version", async () => {
  assert.ok(wantsHelp(["--dataset", "nope", "-h"]));
  assert.ok(wantsHelp(["--bits", "0", "--help", "--foo"]));
  assert.ok(!wantsHelp(["--", "--help"]));
  assert.ok(wantsVersion(["--version"]));
  const help = await reproduce(["--dataset", "nope", "--bits", "0", "--help"]);
  assert.equal(help.code, 0, help.out);
  assert.match(help.out, /^deno task reproduce \[options\]/);
  assert.match(help.out, /-h, --help +this text/);
  const version = await reproduce(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.out.trim(), `@cmh/hashing ${TOOLKIT_VERSION}`);
  const bad = await reproduce(["--dataset", "nope"]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /^reproduce: --dataset: unknown dataset 'nope'/);
  assert.equal(bad.out.trim().split("\n").length, 1, bad.out);
});

Deno.test("the command log records runs that ran a cell: not failed, not empty runs", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "cli-log-" });
  try {
    const out = `${tmp}/res`;
    const grid = ["--methods", "random", "--bits", "16", "--no-png", "--out", out];
    const first = await reproduce(grid);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /^reproduce: preset quick \(the default on this dataset/m);
    assert.match(first.out, /^ {2}methods +random$/m);
    assert.match(first.out, /^ {2}set by options: --bits, --methods; the rest from the preset$/m);
    assert.match(first.out, /^reproduce: estimated ~\d+ s for 1 cell \(from .*\) — an estimate/m);
    assert.match(first.out, /^grid done: 1 cell run, 0 skipped/m);
    const log = () => Deno.readTextFile(`${out}/command.txt`);
    assert.equal(await log(), `deno task reproduce ${grid.join(" ")}\n`);
    // A rerun with another spelling runs nothing: not recorded.
    const again = await reproduce([...grid.slice(0, 4), "--out", out, "--no-png"]);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /nothing to run: every cell already has a result/);
    assert.equal(await log(), `deno task reproduce ${grid.join(" ")}\n`);
    // A run that fails (its data is missing) writes nothing at all.
    await Deno.mkdir(`${tmp}/empty`);
    const failed = await reproduce([
      "--dataset",
      "wikipedia",
      "--data-dir",
      `${tmp}/empty`,
      "--out",
      `${tmp}/failed`,
    ]);
    assert.equal(failed.code, 1);
    assert.match(failed.out, /wikiData\.mat/);
    await assert.rejects(() => Deno.stat(`${tmp}/failed`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** A finished result of a cell with the given costs. */
function finished(
  spec: ReturnType<typeof expandGrid>[number],
  epochSeconds: number,
  epochs: number,
): CellResult {
  return {
    spec,
    training: { history: [], selectedEpoch: 0, seconds: epochSeconds * epochs, epochsRun: epochs },
    encodeSeconds: 1,
  } as unknown as CellResult;
}

Deno.test("the estimate uses finished cells of the directory, else the measured table", () => {
  const specs = expandGrid({
    datasets: ["wikipedia"],
    split: "fixed",
    methods: ["cpah", "dfah", "random"],
    ablations: ["full"],
    bits: [16, 32],
    seeds: [1],
    epochs: 10,
    backend: "wasm",
  });
  const table = estimateGrid(specs);
  const w = MEASURED_COSTS.wikipedia;
  const expected = w.startup + 6 * w.cell + 2 * 10 * (w.epoch.cpah! + w.epoch.dfah!);
  assert.ok(Math.abs(table.seconds - expected) < 1e-9, `${table.seconds} vs ${expected}`);
  assert.equal(table.fromTable, 6);
  assert.match(
    describeEstimate(table, "r"),
    /^estimated ~\d+ (s|min) for 6 cells \(from the per-epoch costs measured on a 2-core machine/,
  );
  // A finished CPAH cell in the directory: CPAH cells cost what it cost (2 s per epoch, 1 s
  // per cell), the rest from the table.
  const mixed = estimateGrid(specs.slice(1), [finished(specs[0], 2, 10)]);
  const rest = w.startup + 4 * w.cell + 2 * 10 * w.epoch.dfah!;
  assert.ok(Math.abs(mixed.seconds - (21 + rest)) < 1e-9);
  assert.equal(mixed.fromFinished, 1);
  assert.match(describeEstimate(mixed, "r"), /from 1 finished cell in r and the per-epoch/);
  // Never measured: said so, not counted.
  const nus = expandGrid({
    ...specs[0],
    datasets: ["nuswide"],
    methods: ["cpah"],
    ablations: ["full"],
    bits: [16],
    seeds: [1],
    split: "permutation",
    epochs: 3,
  });
  assert.match(describeEstimate(estimateGrid(nus), "r"), /^no time estimate for 1 cell/);
  assert.equal(
    describeEstimate(estimateGrid([]), "r"),
    "nothing to run: every cell already has a result",
  );
  assert.deepEqual([formatDuration(40), formatDuration(720), formatDuration(7500)], [
    "~40 s",
    "~12 min",
    "~2 h 05 min",
  ]);
});
