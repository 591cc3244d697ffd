/**
 * The grid on Slurm: the generated job-array and report scripts, sharding, and — on a machine
 * with a running Slurm (CI starts a single-node one with .ci/slurm.sh) — a tiny grid submitted
 * through sbatch gives the same result files as the same grid run locally. Without Slurm the
 * end-to-end test is ignored with the reason; under CI (CI=true) a missing Slurm fails it.
 */
import assert from "node:assert/strict";
import { gridArguments, shardOf, shellQuote, slurmScripts } from "../../src/experiments/slurm.ts";
import { readResults } from "../../src/experiments/results.ts";

Deno.test("the array script has one task per shard and the report runs the same grid", () => {
  const s = slurmScripts(["--bits", "16,32", "--out", "/r/x"], 7, "/r/x", "/repo", "/bin/deno", {
    shardSize: 3,
    maxParallel: 2,
    partition: "gpu",
    time: "04:00:00",
    mem: "8G",
    cpus: 2,
    extra: ["--account=abc"],
  });
  assert.equal(s.tasks, 3);
  assert.match(s.array, /^#SBATCH --array=0-2%2$/m);
  for (const line of ["--partition=gpu", "--time=04:00:00", "--mem=8G", "--cpus-per-task=2"]) {
    assert.match(s.array, new RegExp(`^#SBATCH ${line}$`, "m"));
  }
  assert.match(s.array, /^#SBATCH --account=abc$/m);
  assert.match(s.array, /--shard "\$SLURM_ARRAY_TASK_ID" --shard-size 3$/m);
  assert.match(s.report, /--bits 16,32 --out \/r\/x --report-only$/m);
  assert.match(s.array, /^cd \/repo$/m);
  assert.equal(s.dir, "/r/x/slurm");
});

Deno.test("bad Slurm options are refused in CLI terms before anything is written", () => {
  const mk = (o: Parameters<typeof slurmScripts>[5]) => () =>
    slurmScripts([], 1, "/r", "/repo", "deno", o);
  assert.throws(mk({ time: "four hours" }), /--time: 'four hours' is not a Slurm time/);
  assert.throws(mk({ mem: "lots" }), /--mem: 'lots' is not a Slurm memory size/);
  assert.throws(mk({ cpus: 0 }), /--cpus: expected a positive integer/);
  assert.throws(mk({ extra: ["account=abc"] }), /--sbatch-arg: 'account=abc' is not one sbatch/);
  assert.throws(() => slurmScripts([], 1, "rel/dir", "/repo", "deno"), /out must be absolute/);
});

Deno.test("shards cover the grid exactly once, in order", () => {
  const cells = Array.from({ length: 10 }, (_, i) => i);
  const got = [0, 1, 2, 3].flatMap((i) => shardOf(cells, i, 3));
  assert.deepEqual(got, cells);
  assert.throws(() => shardOf(cells, 4, 3), /--shard: 4 is outside 0\.\.3/);
});

Deno.test("grid arguments drop the Slurm options and make --out absolute", () => {
  const args = gridArguments(
    ["--bits", "16", "--slurm", "--partition", "p", "--time=01:00", "--out", "res", "--dry-run"],
    "res",
  );
  assert.deepEqual(args, ["--bits", "16", "--out", `${Deno.cwd()}/res`]);
  assert.equal(shellQuote("a b'c"), `'a b'"'"'c'`);
  assert.equal(shellQuote("--bits=16,32"), "--bits=16,32");
});

async function slurmUp(): Promise<string | undefined> {
  try {
    const r = await new Deno.Command("scontrol", { args: ["ping"], stdout: "piped" }).output();
    const text = new TextDecoder().decode(r.stdout);
    return /is UP/.test(text) ? undefined : `scontrol ping: ${text.trim() || "no controller"}`;
  } catch (e) {
    return `Slurm is not installed (${(e as Error).message.split("\n")[0]})`;
  }
}

const why = await slurmUp();
const inCi = Deno.env.get("CI") === "true";
if (why && !inCi) {
  console.log(`tests/experiments_slurm.test.ts: Slurm end-to-end test ignored — ${why}`);
}

async function run(args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/experiments/reproduce.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assert.ok(r.success, `reproduce ${args.join(" ")} failed:\n${out}`);
  return out;
}

async function jobsPending(ids: string[]): Promise<boolean> {
  const r = await new Deno.Command("squeue", {
    args: ["-h", "-j", ids.join(","), "-o", "%i"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(r.stdout).trim().length > 0;
}

Deno.test({
  name: "a tiny grid submitted through sbatch gives the same result files as a local run",
  ignore: !!why && !inCi,
  async fn() {
    assert.ok(!why, `CI must run the Slurm test, but ${why} (start it with .ci/slurm.sh up)`);
    const tmp = await Deno.makeTempDir({ prefix: "slurm-grid-" });
    const grid = [
      "--methods",
      "random,cpah",
      "--ablations",
      "full",
      "--bits",
      "16",
      "--seeds",
      "1,2",
      "--epochs",
      "1",
      "--no-png",
    ];
    try {
      await run([...grid, "--out", `${tmp}/local`]);
      const submitted = await run([...grid, "--out", `${tmp}/slurm`, "--slurm"]);
      const ids = submitted.match(/submitted array job (\d+) .* report job (\d+)/);
      assert.ok(ids, `no job ids in: ${submitted}`);
      const deadline = Date.now() + 5 * 60_000;
      while (await jobsPending([ids[1], ids[2]])) {
        assert.ok(Date.now() < deadline, "the Slurm jobs did not finish within 5 minutes");
        await new Promise((r) => setTimeout(r, 1000));
      }
      const local = await readResults(`${tmp}/local`);
      const remote = await readResults(`${tmp}/slurm`);
      assert.deepEqual(remote.map((r) => r.id), local.map((r) => r.id));
      assert.equal(local.length, 4);
      for (const [i, r] of remote.entries()) {
        for (const d of ["I2T", "T2I"] as const) {
          const a = r.metrics[d].mapAll, b = local[i].metrics[d].mapAll;
          assert.ok(Math.abs(a - b) <= 1e-9, `${r.id} ${d}: Slurm ${a}, local ${b}`);
        }
      }
      // The dependent report job wrote the tables.
      await Deno.stat(`${tmp}/slurm/report.md`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
