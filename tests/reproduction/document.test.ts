/**
 * The document is what the files say: docs/results.md regenerated from the committed result
 * directories (the command in its own header) equals the committed file byte for byte apart
 * from the generation timestamp, and every number in the README's results summary appears in
 * docs/results.md or in the generated Results section of docs/mechanisms.md.
 */
import assert from "node:assert/strict";
import { resultsDocument } from "../../src/experiments/results_doc.ts";
import { formatMarkdown } from "../../src/io.ts";

const root = new URL("../../", import.meta.url).pathname;
const committed = Deno.readTextFileSync(`${root}docs/results.md`);

/** The --from directories of the command recorded in the document's header. */
function sources(doc: string): string[] {
  const header = doc.split("\n").slice(0, 12).join(" ");
  const from = [...header.matchAll(/--from (\S+)/g)].map((m) => m[1]);
  assert.ok(from.length > 0, "docs/results.md records no --from directory in its header");
  return from;
}

const untimed = (doc: string) =>
  doc.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>").replace(/\s+/g, " ");

/** The --controls directory of that command, if any. */
function controlsDir(doc: string): string | undefined {
  return doc.split("\n").slice(0, 12).join(" ").match(/--controls (\S+)/)?.[1];
}

Deno.test("docs/results.md regenerates from the committed result files (apart from the time)", async () => {
  const from = sources(committed).map((d) => `${root}${d}`);
  const controls = controlsDir(committed);
  const doc = await resultsDocument({
    from,
    ...(controls ? { controls: `${root}${controls}` } : {}),
    to: `${root}docs/results.md`,
    command: committed.match(/with\s+`(deno run -A src\/experiments\/results_doc\.ts[^`]*)`/s)
      ?.[1].replace(/\s+/g, " "),
    render: false, // link the committed images whose data did not change; draw nothing
  });
  const regenerated = await formatMarkdown(doc.replaceAll(root, ""), (why) => assert.fail(why));
  assert.equal(untimed(regenerated), untimed(committed));
});

Deno.test("every number in the README's results summary appears in docs/results.md or the mechanism study's results", () => {
  // docs/mechanisms.md's "## Results" section is generated too (deno task mechanisms).
  const mechanisms = Deno.readTextFileSync(`${root}docs/mechanisms.md`);
  const generated = mechanisms.slice(
    mechanisms.indexOf("\n## Results"),
    mechanisms.indexOf("\n## ", mechanisms.indexOf("\n## Results") + 3),
  );
  const readme = Deno.readTextFileSync(`${root}README.md`);
  const start = readme.indexOf("## Results");
  assert.ok(start >= 0, "README has no Results section");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 3));
  const numbers = [...section.matchAll(/\b0\.\d{4}\b/g)].map((m) => m[0]);
  assert.ok(numbers.length > 0, "the README's results summary quotes no MAP value");
  for (const n of numbers) {
    assert.ok(
      committed.includes(n) || generated.includes(n),
      `${n} is not in docs/results.md nor in docs/mechanisms.md's Results section`,
    );
  }
});
