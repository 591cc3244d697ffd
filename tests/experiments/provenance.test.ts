/**
 * What a result file says about where it came from, and what a run does with a finished cell
 * computed on other kernels: the git commit, the OpenBLAS core type and thread count are
 * recorded; a cell computed with BLAS on is not reused by a run with it off (nor the reverse),
 * and the refusal is one line naming both kernel paths. Also: the data directory variable is
 * checked before anything else, and an interrupted run says what is kept.
 */
import assert from "node:assert/strict";
import { expandGrid } from "../../src/experiments/spec.ts";
import { kernelMismatch, runGrid } from "../../src/experiments/grid.ts";
import { readResult, resultPath } from "../../src/experiments/results.ts";
import { runCell } from "../../src/experiments/run_cell.ts";
import { kernelPath, plannedKernelPath } from "../../src/accel/backend.ts";
import { TINY_GRID } from "../test_utils.ts";

const repo = new URL("../../", import.meta.url).pathname;
const random = () => expandGrid({ ...TINY_GRID, methods: ["random"] });

Deno.test("a result file records the git commit and, with BLAS, the OpenBLAS core type and threads", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await runCell(random()[0], { out, log: () => {} });
    const head = new TextDecoder().decode(
      (await new Deno.Command("git", { args: ["-C", repo, "rev-parse", "HEAD"] }).output()).stdout,
    ).trim();
    assert.match(r.versions.commit ?? "", new RegExp(`^${head}(\\+dirty)?$`));
    if (r.backend.accelerated) {
      assert.ok(Number.isInteger(r.backend.blasThreads) && r.backend.blasThreads! >= 1);
      assert.ok(r.backend.accelerated.includes(r.backend.blasCore!), r.backend.accelerated);
    } else {
      assert.equal(r.backend.blasCore, undefined);
      assert.equal(r.backend.blasThreads, undefined);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a finished cell computed on the other kernel path stops the grid, naming both paths", async () => {
  const out = await Deno.makeTempDir();
  try {
    const specs = random();
    const done = await runGrid(specs, { out, log: () => {} });
    const path = resultPath(out, specs[0]);
    const here = plannedKernelPath("wasm");
    assert.equal(kernelPath(done.results[0].backend), here);
    assert.equal(kernelMismatch(await readResult(path), path), undefined);
    // The same cell as if computed on the other path (BLAS off here: on there, and the reverse).
    const other = JSON.parse(await Deno.readTextFile(path));
    if (here.endsWith("+BLAS")) delete other.backend.accelerated;
    else other.backend.accelerated = "cblas_sgemm via libopenblas.so.0 (OpenBLAS), threads=1";
    await Deno.writeTextFile(path, JSON.stringify(other));
    const there = kernelPath(other.backend);
    const err = await runGrid(specs, { out, log: () => {} }).then(() => undefined, (e) => e);
    assert.ok(err instanceof Error, "the grid reused a cell computed on other kernels");
    assert.equal(err.message.split("\n").length, 1);
    assert.ok(err.message.startsWith(`${path}: computed with kernels ${there}`), err.message);
    assert.ok(err.message.includes(`this run's are ${here}`), err.message);
    // Neither reused nor overwritten.
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), other);
    // Unless asked to: reused as it is, with a line saying so.
    const lines: string[] = [];
    const reused = await runGrid(specs, {
      out,
      log: (l) => lines.push(l),
      reuseOtherKernels: true,
    });
    assert.equal(reused.ran, 0);
    assert.deepEqual(lines.filter((l) => l.startsWith(`grid: reusing ${path}`)).length, 1);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

async function reproduce(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/experiments/reproduce.ts", ...args],
    cwd: repo,
    env: { NO_COLOR: "1", HASH_BLAS: "off", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("HASH_DATA_DIR naming no directory stops a real-data run in one line, before any estimate", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await reproduce(
      ["--dataset", "wikipedia", "--methods", "scm-seq", "--out", `${tmp}/out`],
      { HASH_DATA_DIR: `${tmp}/nonexistent` },
    );
    assert.equal(r.code, 1, r.out);
    assert.equal(
      r.out.trim(),
      `reproduce: environment variable HASH_DATA_DIR: '${tmp}/nonexistent' is not a directory`,
    );
    await assert.rejects(() => Deno.stat(`${tmp}/out`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an interrupted run prints one line saying what is kept and how to go on", async () => {
  const out = await Deno.makeTempDir();
  try {
    const p = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "src/experiments/reproduce.ts",
        ...["--methods", "dfah", "--ablations", "full", "--bits", "16", "--out", out, "--no-png"],
      ],
      cwd: repo,
      env: { NO_COLOR: "1", HASH_BLAS: "off" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let text = "";
    const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    // Interrupt once training has started (the first epoch line).
    while (!/epoch 1\//.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    p.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const status = await p.status;
    assert.equal(status.code, 130, text);
    assert.match(
      text,
      new RegExp(
        `^reproduce: interrupted \\(SIGINT\\) after 0 of 1 cell run now; every finished cell is ` +
          `kept in ${out}/ .*rerun the same command to go on$`,
        "m",
      ),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
