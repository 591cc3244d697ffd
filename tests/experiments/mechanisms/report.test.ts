/**
 * The mechanism study's report rewrites only the Results section of the study document
 * (docs/mechanisms.md), and what it writes is stable under deno fmt.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  replaceResultsSection,
  writeAnalysis,
} from "../../../src/experiments/mechanisms/report.ts";
import { SWEEPS, sweepSpecs } from "../../../src/experiments/mechanisms/sweeps.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

Deno.test("only the Results section of the study document is rewritten", async () => {
  const original = await Deno.readTextFile(`${ROOT}docs/mechanisms.md`);
  const cut = original.indexOf("## Results") + "## Results".length;
  // What follows the Results section (the amendments) is kept too.
  const tail = original.slice(cut).match(/\n(## [^]*)$/)?.[1] ?? "";
  assert.ok(tail?.startsWith("## Amendment 1"), "the amendment follows the Results section");
  const first = replaceResultsSection(original, "Table one.");
  assert.equal(first.slice(0, cut), original.slice(0, cut));
  assert.equal(first.slice(cut), `\n\nTable one.\n\n${tail}`);
  // Rewriting replaces the previous results, it does not append.
  const second = replaceResultsSection(first, "Table two.\n");
  assert.equal(second, original.slice(0, cut) + `\n\nTable two.\n\n${tail}`);
  // A document whose Results section is the last one.
  const bare = original.slice(0, cut) + "\n\nOld.\n";
  assert.equal(
    replaceResultsSection(bare, "Table three."),
    original.slice(0, cut) + "\n\nTable three.\n",
  );
  assert.throws(
    () => replaceResultsSection("# Nothing\n", "x"),
    /exactly one '## Results' heading/,
  );

  // End to end on a copy of the real document: the pre-registration is byte for byte the same,
  // and the written section is stable under deno fmt (what the repository's check runs).
  const dir = await Deno.makeTempDir();
  const doc = `${dir}/mechanisms.md`;
  await Deno.writeTextFile(doc, original);
  await writeAnalysis({
    out: `${dir}/none`,
    doc,
    backend: "wasm",
    date: "2030-01-02",
    log: () => {},
  });
  const after = await Deno.readTextFile(doc);
  assert.equal(after.slice(0, cut), original.slice(0, cut));
  assert.ok(after.endsWith(tail), "the amendment is kept byte for byte");
  assert.match(after.slice(cut), /^\n\nWritten by `deno task mechanisms` on 2030-01-02/);
  const cells = SWEEPS.reduce((n, s) => n + sweepSpecs(s, "wasm").length, 0);
  assert.ok(after.includes(`0 of ${cells} sweep cells finished`), `0 of ${cells}`);
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--check", "--config", `${ROOT}deno.json`, doc],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(fmt.code, 0, new TextDecoder().decode(fmt.stderr));
  await Deno.remove(dir, { recursive: true });
});
