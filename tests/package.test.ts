/**
 * The toolkit as a package: deno.json names it, versions it like src/version.ts and exports
 * mod.ts; every module mod.ts reaches imports npm packages by full `npm:` specifier at the
 * versions of deno.json's import map (no bare specifier that only this checkout's import map
 * resolves); and a script in a folder outside the repository imports mod.ts by absolute path
 * and evaluates codes with it.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TOOLKIT_VERSION } from "../src/version.ts";
import { mapAll } from "../src/retrieval/metrics.ts";
import { packSigns } from "../src/retrieval/codes.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));

/** The subpath exports of deno.json besides ".": the package's other entry points. */
const SUBPATHS = ["./datasets", "./retrieval", "./models", "./nn", "./experiments", "./backend"];

Deno.test("deno.json names the package, versions it as src/version.ts, exports mod.ts and the subpaths", async () => {
  assert.equal(config.name, "@cmh/hashing");
  assert.equal(config.version, TOOLKIT_VERSION);
  assert.equal(config.exports["."], "./mod.ts");
  assert.deepEqual(Object.keys(config.exports).sort(), [".", ...SUBPATHS].sort());
  for (const [key, file] of Object.entries(config.exports as Record<string, string>)) {
    assert.ok((await Deno.stat(join(REPO, file))).isFile, `${key}: ${file} is missing`);
  }
});

/** The .ts files of the module graph of every entry point (relative imports followed). */
async function moduleGraph(): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const todo = Object.values(config.exports as Record<string, string>).map((f) => join(REPO, f));
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const text = await Deno.readTextFile(file);
    seen.set(file, text);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+\.ts)"/g)) {
      todo.push(resolve(dirname(file), m[1]));
    }
  }
  return seen;
}

Deno.test("the entry points and everything they import use npm: specifiers at the import map's versions", async () => {
  const pinned = new Map<string, string>();
  for (const target of Object.values(config.imports as Record<string, string>)) {
    const m = target.match(/^npm:((?:@[^/]+\/)?[^@/]+)@([^/]+)/);
    if (m) pinned.set(m[1], m[2]);
  }
  const graph = await moduleGraph();
  assert.ok(graph.size > 50, `only ${graph.size} modules found from mod.ts`);
  const problems: string[] = [];
  for (const [file, text] of graph) {
    const rel = file.slice(REPO.length + 1);
    const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);
    for (const s of specs) {
      if (s.startsWith("./") || s.startsWith("../") || s.startsWith("node:")) continue;
      const npm = s.match(/^npm:((?:@[^/]+\/)?[^@/]+)@([^/]+)/);
      if (!npm) problems.push(`${rel}: bare specifier "${s}"`);
      else if (pinned.get(npm[1]) !== npm[2]) {
        problems.push(`${rel}: "${s}" but deno.json pins ${npm[1]}@${pinned.get(npm[1])}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("a script outside the repository imports mod.ts by absolute path and evaluates codes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cmh-elsewhere-" });
  assert.ok(!dir.startsWith(REPO), `${dir} is inside the repository`);
  try {
    const script = `import * as cmh from ${JSON.stringify(join(REPO, "mod.ts"))};
const sign = (i: number, k: number) => ((i * 7 + k * 3) % 5 < 2 ? 1 : -1);
const q = Float32Array.from({ length: 4 * 8 }, (_, j) => sign(Math.floor(j / 8), j % 8));
const db = Float32Array.from({ length: 6 * 8 }, (_, j) => sign(Math.floor(j / 8) + 1, j % 8));
const labels = (n: number, off: number) => ({
  rows: n,
  classes: 3,
  data: Uint8Array.from({ length: n * 3 }, (_, j) => ((Math.floor(j / 3) + off + (j % 3)) % 3 === 0 ? 1 : 0)),
});
const map = cmh.mapAll(cmh.packSigns(q, 4, 8), labels(4, 0), cmh.packSigns(db, 6, 8), labels(6, 1));
console.log(JSON.stringify({ version: cmh.TOOLKIT_VERSION, map }));
`;
    await Deno.writeTextFile(join(dir, "check.ts"), script);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "check.ts"], // no permissions: importing the toolkit needs none
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `deno run in ${dir} failed:\n${err.slice(0, 3000)}`);
    const got = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
    // The same computation here, through the repository's own modules.
    const sign = (i: number, k: number) => ((i * 7 + k * 3) % 5 < 2 ? 1 : -1);
    const q = Float32Array.from({ length: 32 }, (_, j) => sign(Math.floor(j / 8), j % 8));
    const db = Float32Array.from({ length: 48 }, (_, j) => sign(Math.floor(j / 8) + 1, j % 8));
    const labels = (n: number, off: number) => ({
      rows: n,
      classes: 3,
      data: Uint8Array.from(
        { length: n * 3 },
        (_, j) => ((Math.floor(j / 3) + off + (j % 3)) % 3 === 0 ? 1 : 0),
      ),
    });
    const expected = mapAll(packSigns(q, 4, 8), labels(4, 0), packSigns(db, 6, 8), labels(6, 1));
    assert.deepEqual(got, { version: TOOLKIT_VERSION, map: expected });
    assert.ok(expected > 0 && expected < 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
