/**
 * Runs into one results directory add to it: a second run's report covers the first run's
 * cells and leaves its figures and tables in place, and two runs at once both end up in the
 * final report, with no partially written file visible at any time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const repo = new URL("../../", import.meta.url).pathname;

function start(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/experiments/reproduce.ts", ...args],
    cwd: repo,
    env: { NO_COLOR: "1", HASH_BLAS: "off" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(p: Deno.ChildProcess): Promise<string> {
  const r = await p.output();
  const dec = new TextDecoder();
  const out = dec.decode(r.stdout) + dec.decode(r.stderr);
  assert.equal(r.code, 0, out);
  return out;
}

/** Every file under `dir` (relative paths), sorted. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(dir, "");
  return out.sort();
}

/**
 * Read every report and result file in `dir` as it is now: each must be complete (result and
 * figure JSON parse, report.md has its title, CSVs have a header and a final newline); returns
 * how many files were read. A file renamed away between listing and reading is skipped.
 */
function checkComplete(dir: string): number {
  let read = 0;
  for (const f of files(dir)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(join(dir, f));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    if (f.endsWith(".tmp")) continue; // a write in progress, under its temporary name
    read++;
    if (f.endsWith(".json")) JSON.parse(text);
    if (f === "report.md") assert.match(text, /^# /, "report.md is partial");
    if (f === "report.html") assert.match(text, /<\/html>\s*$/, "report.html is partial");
    if (f.endsWith(".csv")) assert.ok(text.endsWith("\n") && text.includes(","), `${f} partial`);
  }
  return read;
}

/** The method labels of the rows of report.md's main table(s). */
function reportedMethods(dir: string): string[] {
  const md = Deno.readTextFileSync(join(dir, "report.md"));
  const rows = [...md.matchAll(/^\| (Random projection|SCM-Seq|CMFH) \| /gm)].map((m) => m[1]);
  return [...new Set(rows)].sort();
}

Deno.test("a second run into a folder reports both runs and deletes none of the first's files", async () => {
  const out = await Deno.makeTempDir({ prefix: "accumulate-" });
  try {
    const common = ["--bits", "16,32", "--out", out];
    await finish(start(["--methods", "random", ...common]));
    const first = files(out).filter((f) => !f.startsWith("."));
    assert.deepEqual(reportedMethods(out), ["Random projection"]);
    await finish(start(["--methods", "scm-seq", ...common, "--no-png"]));
    const second = files(out);
    for (const f of first) assert.ok(second.includes(f), `${f} of the first run was deleted`);
    assert.deepEqual(reportedMethods(out), ["Random projection", "SCM-Seq"]);
    assert.equal(second.filter((f) => f.endsWith(".tmp")).length, 0);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("two runs writing one folder at once both end up in the final report, never a partial file", async () => {
  const out = await Deno.makeTempDir({ prefix: "concurrent-" });
  try {
    const common = ["--bits", "16,32,64", "--seeds", "1,2", "--no-png", "--out", out];
    const a = start(["--methods", "random", ...common]);
    const b = start(["--methods", "scm-seq", ...common]);
    let done = false;
    const both = Promise.all([finish(a), finish(b)]).finally(() => done = true);
    let looks = 0, read = 0;
    while (!done) {
      read += checkComplete(out);
      looks++;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [outA, outB] = await both;
    read += checkComplete(out);
    assert.ok(looks > 1 && read > 0, `the files were looked at ${looks} times`);
    assert.match(outA, /^grid done: 6 cells run/m);
    assert.match(outB, /^grid done: 6 cells run/m);
    assert.deepEqual(reportedMethods(out), ["Random projection", "SCM-Seq"]);
    const results = files(out).filter((f) => !f.includes("/") && f.endsWith(".json"));
    assert.equal(results.length, 12);
    const md = Deno.readTextFileSync(join(out, "report.md"));
    assert.match(md, /\| Random projection \| 2 \|/);
    assert.match(md, /\| SCM-Seq \| 2 \|/);
    const log = Deno.readTextFileSync(join(out, "command.txt")).trim().split("\n");
    assert.equal(log.length, 2, log.join("\n"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
