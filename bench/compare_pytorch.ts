/**
 * Training throughput of the accelerated Deno step against the PyTorch reference, measured
 * the way this noisy 2-core VM needs: the two programs alternate, round after round, each in a
 * fresh process, and the figure of record is the median over rounds of each run's median step
 * time. (Back-to-back runs of the same program vary by ±15% here; alternating spreads that
 * drift over both sides.)
 *
 * One round = `deno run -A bench/training_bench.ts --kernels blas --steps S --warmup W
 * --threads T --methods M`, then `<python> bench/pytorch_reference.py --steps S --warmup W
 * --threads T --methods M`. Nothing runs in parallel.
 *
 * Usage: `deno run -A bench/compare_pytorch.ts [--rounds 3] [--steps 20] [--warmup 3]
 *   [--threads 1] [--methods cpah,dfah] [--python /usr/bin/python3]`
 *
 * Not part of `deno task bench` (it needs PyTorch: Debian's python3-torch).
 *
 * @module
 */
import { positiveInt, stringOptions } from "./bench_utils.ts";
import { parseArgs } from "node:util";

/** Median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`compare_pytorch: '${cmd} ${args.join(" ")}' failed: ${err}`);
  }
  return text;
}

/** ms/step per method from the table lines of either program. */
export function parseTable(text: string, source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    // Deno:    "training  cpah 4096/1386-d b128 32 bits  wasm  blas  56.1  20  2281.6 pairs/s"
    // PyTorch: "cpah          1     67.6    20   1893.4"
    const deno = line.match(/^training\s+(cpah|dfah)\s.*\sblas\s+([\d.]+)\s+\d+\s+[\d.]+ pairs\/s/);
    const torch = line.match(/^(cpah|dfah)\s+\d+\s+([\d.]+)\s+\d+\s+[\d.]+\s*$/);
    const m = deno ?? torch;
    if (m) out.set(m[1], Number(m[2]));
  }
  if (!out.size) throw new Error(`compare_pytorch: no ms/step rows in the output of ${source}`);
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: stringOptions({
      rounds: "3",
      steps: "20",
      warmup: "3",
      threads: "1",
      methods: "cpah,dfah",
      python: "/usr/bin/python3",
    }),
  });
  const rounds = positiveInt(values.rounds, "--rounds");
  const common = [
    "--steps",
    String(positiveInt(values.steps, "--steps")),
    "--warmup",
    String(positiveInt(values.warmup, "--warmup", 0)),
    "--threads",
    String(positiveInt(values.threads, "--threads")),
    "--methods",
    values.methods,
  ];
  const methods = values.methods.split(",").filter(Boolean);
  for (const m of methods) {
    if (m !== "cpah" && m !== "dfah") {
      throw new Error(`compare_pytorch: --methods has '${m}', expected a list of cpah, dfah`);
    }
  }
  const times: Record<"deno" | "torch", Record<string, number[]>> = { deno: {}, torch: {} };
  for (let r = 1; r <= rounds; r++) {
    const deno = parseTable(
      await run(Deno.execPath(), [
        "run",
        "-A",
        "bench/training_bench.ts",
        "--kernels",
        "blas",
        ...common,
      ]),
      "bench/training_bench.ts",
    );
    const torch = parseTable(
      await run(values.python, ["bench/pytorch_reference.py", ...common]),
      "bench/pytorch_reference.py",
    );
    const parts: string[] = [];
    for (const m of methods) {
      const d = deno.get(m), t = torch.get(m);
      if (d === undefined || t === undefined) {
        throw new Error(`compare_pytorch: round ${r}: no ${m} row`);
      }
      (times.deno[m] ??= []).push(d);
      (times.torch[m] ??= []).push(t);
      parts.push(`${m} Deno ${d.toFixed(1)} ms, PyTorch ${t.toFixed(1)} ms`);
    }
    console.log(`round ${r}/${rounds}: ${parts.join("; ")}`);
  }
  const batch = 128;
  console.log(
    `\nmedian over ${rounds} rounds of each run's median step (batch ${batch}, threads ${values.threads})`,
  );
  console.log("| method | Deno accelerated | PyTorch | Deno / PyTorch throughput |");
  console.log("|---|---|---|---|");
  for (const m of methods) {
    const d = median(times.deno[m]), t = median(times.torch[m]);
    const rate = (ms: number) => `${(batch * 1000 / ms).toFixed(0)} pairs/s (${ms.toFixed(1)} ms)`;
    console.log(`| ${m} | ${rate(d)} | ${rate(t)} | ${(t / d).toFixed(2)} |`);
  }
}

if (import.meta.main) await main();
