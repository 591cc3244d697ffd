/**
 * Evaluation at scale: MAP@all (one direction) with generated codes at MIRFlickr-25K size
 * (2,000 queries x 18,015 items, 24 labels) and NUS-WIDE size (2,100 x 193,734, 21 labels),
 * 16/32/64 bits — on one core (src/retrieval/metrics.ts, mapAll), on several cores with workers
 * (src/retrieval/parallel.ts), and, when python3 with NumPy is installed, the two usual NumPy
 * formulations (bench/eval_peers.py: the per-query loop of the public DCMH/DADH code and a
 * vectorised one). Every case runs in its own process, which reports its seconds (Deno: the
 * second call, and in brackets the first, which includes compiling the kernels) and its peak
 * resident memory. The same seeds give the same codes in every process.
 *
 *   deno run -A bench/eval_scale.ts [--sizes mir,nus] [--bits 16,32,64] [--workers 2]
 *                                   [--peer-bits 64] [--no-peers] [--js-scan]
 *
 * `--js-scan` adds a one-core row with the WebAssembly scan switched off (the JavaScript
 * fallback of src/retrieval/ranking.ts).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { packSigns } from "../src/retrieval/codes.ts";
import { mapAll } from "../src/retrieval/metrics.ts";
import { mapAllParallel } from "../src/retrieval/parallel.ts";
import { setHammingWasmEnabled } from "../src/accel/hamming_kernel.ts";
import { Rng } from "../src/random.ts";
import type { LabelMatrix } from "../src/types.ts";

const SIZES = {
  mir: { nq: 2000, ndb: 18015, classes: 24, p: 0.12 },
  nus: { nq: 2100, ndb: 193734, classes: 21, p: 0.1 },
} as const;
type Size = keyof typeof SIZES;

function generate(size: Size, bits: number) {
  const s = SIZES[size];
  const rng = new Rng(1000 + bits);
  const signs = (n: number) => Float32Array.from({ length: n * bits }, () => rng.uniform() - 0.5);
  const labels = (n: number): LabelMatrix => {
    const data = new Uint8Array(n * s.classes);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < s.classes; c++) data[i * s.classes + c] = rng.uniform() < s.p ? 1 : 0;
      data[i * s.classes + rng.int(s.classes)] = 1;
    }
    return { rows: n, classes: s.classes, data };
  };
  const q = signs(s.nq), db = signs(s.ndb);
  return { q, db, ql: labels(s.nq), dl: labels(s.ndb), ...s };
}

function peakMb(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return Deno.memoryUsage().rss / 2 ** 20;
}

async function child(mode: string, size: Size, bits: number, workers: number): Promise<void> {
  const g = generate(size, bits);
  const q = packSigns(g.q, g.nq, bits), db = packSigns(g.db, g.ndb, bits);
  if (mode === "js") setHammingWasmEnabled(false);
  // The first call includes compiling the kernels; the second is the steady state.
  const times: number[] = [];
  let map = 0;
  for (let rep = 0; rep < 2; rep++) {
    const t0 = performance.now();
    map = mode !== "parallel"
      ? mapAll(q, g.ql, db, g.dl)
      : await mapAllParallel(q, g.ql, db, g.dl, { workers });
    times.push((performance.now() - t0) / 1000);
  }
  console.log(JSON.stringify({ seconds: times[1], first: times[0], map, peakMb: peakMb() }));
}

interface Measured {
  seconds: number;
  first?: number;
  map: number;
  peakMb: number;
}

async function runChild(args: string[]): Promise<Measured> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

async function writePeerData(dir: string, size: Size, bits: number): Promise<void> {
  const g = generate(size, bits);
  const i8 = (v: Float32Array) => Int8Array.from(v, (x) => (x >= 0 ? 1 : -1));
  await Deno.writeFile(`${dir}/q.i8`, new Uint8Array(i8(g.q).buffer));
  await Deno.writeFile(`${dir}/db.i8`, new Uint8Array(i8(g.db).buffer));
  await Deno.writeFile(`${dir}/ql.u8`, g.ql.data);
  await Deno.writeFile(`${dir}/dl.u8`, g.dl.data);
  await Deno.writeTextFile(`${dir}/shape.txt`, `${g.nq} ${g.ndb} ${bits} ${g.classes}`);
}

async function python(): Promise<string | undefined> {
  try {
    const r = await new Deno.Command("python3", { args: ["-c", "import numpy"], stderr: "null" })
      .output();
    return r.success ? undefined : "python3 has no NumPy";
  } catch {
    return "python3 is not installed";
  }
}

async function peer(dir: string, mode: string) {
  const script = new URL("./eval_peers.py", import.meta.url).pathname;
  // One BLAS thread: every implementation in this table runs on one core unless it says so.
  const env = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const r = await new Deno.Command("python3", { args: [script, dir, mode], stdout: "piped", env })
    .output();
  const [, s, m, mb] = new TextDecoder().decode(r.stdout).trim().split(" ");
  return { seconds: +s, map: +m, peakMb: +mb };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      sizes: { type: "string", default: "mir,nus" },
      bits: { type: "string", default: "16,32,64" },
      workers: { type: "string", default: String(navigator.hardwareConcurrency ?? 2) },
      "peer-bits": { type: "string", default: "64" },
      "no-peers": { type: "boolean", default: false },
      "js-scan": { type: "boolean", default: false },
    },
  });
  const workers = Number(values.workers);
  if (values.child) {
    const [mode, size, bits] = values.child.split(":");
    return await child(mode, size as Size, Number(bits), workers);
  }
  const sizes = values.sizes.split(",") as Size[];
  for (const s of sizes) if (!(s in SIZES)) throw new Error(`--sizes: unknown size '${s}'`);
  const bitsList = values.bits.split(",").map(Number);
  const peerBits = values["peer-bits"].split(",").map(Number);
  const noPython = values["no-peers"] ? "--no-peers given" : await python();
  console.log(
    `MAP@all, one direction, generated codes; ${workers} workers; ` +
      (noPython ? `NumPy peers skipped: ${noPython}` : "NumPy peers: bench/eval_peers.py"),
  );
  console.log(
    "| size | bits | implementation | seconds (first call) | MAP@all | peak RSS (MB) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const size of sizes) {
    const s = SIZES[size];
    const label = `${s.nq} x ${s.ndb}`;
    for (const bits of bitsList) {
      const row = (impl: string, r: Measured) =>
        console.log(
          `| ${label} | ${bits} | ${impl} | ${r.seconds.toFixed(3)}${
            r.first !== undefined ? ` (${r.first.toFixed(3)})` : ""
          } | ${r.map.toFixed(4)} | ${r.peakMb.toFixed(0)} |`,
        );
      const one = await runChild(["--child", `single:${size}:${bits}`]);
      row("Deno, 1 core (mapAll)", one);
      if (values["js-scan"]) {
        row(
          "Deno, 1 core (mapAll), JavaScript scan",
          await runChild(["--child", `js:${size}:${bits}`]),
        );
      }
      const multi = await runChild([
        "--child",
        `parallel:${size}:${bits}`,
        "--workers",
        `${workers}`,
      ]);
      row(
        `Deno, ${workers} workers (mapAllParallel), ${(one.seconds / multi.seconds).toFixed(2)}x`,
        multi,
      );
      if (!noPython && peerBits.includes(bits)) {
        const dir = await Deno.makeTempDir({ prefix: "eval-peers-" });
        try {
          await writePeerData(dir, size, bits);
          row("NumPy, vectorised", await peer(dir, "vectorised"));
          row("NumPy, per-query loop (DCMH/DADH style)", await peer(dir, "loop"));
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }
    }
  }
}

if (import.meta.main) await main();
