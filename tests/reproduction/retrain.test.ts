/**
 * Our own tables, retrained: one committed Wikipedia cell at 32 bits per method is trained again
 * from its recorded spec, and its MAP@all I→T and T→I must equal the committed result file's.
 *
 * - CPAH: seed 1 of the normalisation selection run
 *   (docs/results/selection/cpah-normalization-perItem): early stopping selected epoch 41 of 51,
 *   so it is converged. Computed on wasm with the fast kernels and no BLAS kernels. About 1.5-2.5
 *   minutes.
 * - DFAH: seed 1 of the Wikipedia grid (docs/results/wikipedia, dfah-full 32 bits): selected
 *   epoch 59 of 60 (before the last). Computed on wasm with OpenBLAS sgemm at one thread. About
 *   1.5-3 minutes.
 *
 * Tolerance: the same seed on the same kernel configuration gives the same codes (the toolkit's
 * determinism, tested for both models), so the values must agree to 1e-12. Each cell is therefore
 * retrained only on the configuration it was computed on, and ignored elsewhere with the reason:
 * on another configuration float32 rounding differs and training drifts (retraining the DFAH cell
 * with OpenBLAS at two threads instead of one selected epoch 46 instead of 58 and moved T→I MAP by
 * 0.006), and no cross-configuration spread has been measured for cells this long. OpenBLAS's
 * thread count is part of the configuration: the test sets it to the committed cell's for the
 * run and restores it afterwards. CI runs the suite with OpenBLAS and with HASH_BLAS=off, so each
 * cell is retrained in one of the two.
 *
 * The retrained value must also lie within the committed mean ± std over seeds that
 * docs/results.md reports for that cell's row (2 std).
 */
import assert from "node:assert/strict";
import { initBackend } from "../../src/accel/backend.ts";
import { setBlasThreads } from "../../src/accel/blas.ts";
import { type CellResult, readResult } from "../../src/experiments/results.ts";
import { runCell } from "../../src/experiments/run_cell.ts";
import { realDataMissing } from "../test_utils.ts";

const root = new URL("../../", import.meta.url).pathname;
const TEST = "tests/reproduction/retrain.test.ts";

/** A committed cell to retrain, and the row of docs/results.md that reports its seeds. */
interface Retrained {
  /** Row label in the methods table of `dir`'s section of docs/results.md. */
  readonly method: string;
  /** The committed result directory. */
  readonly dir: string;
  /** The cell's result file in `dir`. */
  readonly file: string;
}

const CELLS: readonly Retrained[] = [
  {
    method: "CPAH",
    dir: "docs/results/selection/cpah-normalization-perItem",
    file: "wikipedia__fixed__cpah-full__32b__seed1__e100__wasm__normalization=perItem.json",
  },
  {
    method: "DFAH",
    dir: "docs/results/wikipedia",
    file: "wikipedia__fixed__dfah-full__32b__seed1__e60__wasm.json",
  },
];

const missing = realDataMissing(TEST, ["wikipedia/wikiData.mat"]);
const here = await initBackend({ name: "wasm" });

/** A BLAS description without its thread count, and that count (undefined when none). */
function splitThreads(accelerated: string | undefined): { kernels: string; threads?: number } {
  if (accelerated === undefined) return { kernels: "no BLAS" };
  const m = accelerated.match(/threads=(\d+)/);
  return {
    kernels: accelerated.replace(/threads=[^,]*/, "threads=*"),
    threads: m ? Number(m[1]) : undefined,
  };
}

/** Why `committed` cannot be retrained on this run's configuration, or undefined. */
function whyNot(committed: CellResult): string | undefined {
  if (missing) return missing;
  const want = splitThreads(committed.backend.accelerated);
  const have = splitThreads(here.accelerated);
  if (want.kernels !== have.kernels || here.fastKernels !== committed.backend.fastKernels) {
    const name = (s: string | undefined) => s === undefined ? "no BLAS" : "BLAS";
    return `this run's kernels (${name(here.accelerated)}) are not the committed cell's ` +
      `(${name(committed.backend.accelerated)}); CI's other suite run checks it`;
  }
  if (want.threads !== have.threads && want.threads !== undefined) {
    if (setBlasThreads(want.threads) === undefined) {
      return `the committed cell used ${want.threads} BLAS threads and this library cannot set them`;
    }
    setBlasThreads(have.threads ?? want.threads);
  }
  return undefined;
}

/** The "mean ± std" of `method`'s row, column `column`, in `dir`'s section of docs/results.md. */
function reported(dir: string, method: string, column: string): { mean: number; std: number } {
  const doc = Deno.readTextFileSync(`${root}docs/results.md`);
  const start = doc.indexOf(`## ${dir}\n`);
  assert.ok(start >= 0, `docs/results.md has no section ${dir}`);
  const lines = doc.slice(start).split("\n");
  const cells = (l: string) => l.split("|").map((c) => c.trim());
  const header = cells(lines.find((l) => l.startsWith("| method"))!);
  const row = lines.find((l) => l.startsWith("| ") && cells(l)[1] === method);
  assert.ok(row, `no ${method} row in the ${dir} section of docs/results.md`);
  const m = cells(row)[header.indexOf(column)]?.match(/^([\d.]+) ± ([\d.]+)/);
  assert.ok(m, `no mean ± std for ${method} ${column} in docs/results.md`);
  return { mean: Number(m[1]), std: Number(m[2]) };
}

for (const cell of CELLS) {
  const committed = await readResult(`${root}${cell.dir}/${cell.file}`);
  const why = whyNot(committed);
  if (why && !missing) console.log(`${TEST}: ${cell.method} cell ignored — ${why}`);
  Deno.test({
    name:
      `a committed ${cell.method} Wikipedia cell (32 bits, seed 1) retrains to the same MAP@all`,
    ignore: !!why,
    async fn() {
      const threads = splitThreads(committed.backend.accelerated).threads;
      const before = splitThreads(here.accelerated).threads;
      if (threads !== undefined) setBlasThreads(threads);
      const out = await Deno.makeTempDir({ prefix: "retrain-" });
      try {
        const r = await runCell(committed.spec, { out, log: () => {} });
        assert.equal(r.training.selectedEpoch, committed.training.selectedEpoch);
        assert.ok(
          r.training.selectedEpoch < (r.training.epochsRun ?? r.spec.epochs) - 1,
          `${cell.method}: selected epoch ${r.training.selectedEpoch} is the last; not converged`,
        );
        for (const [dir2, column] of [["I2T", "I→T 32"], ["T2I", "T→I 32"]] as const) {
          const got = r.metrics[dir2].mapAll, want = committed.metrics[dir2].mapAll;
          console.log(
            `${cell.method} wikipedia 32b seed 1 ${dir2}: retrained ${got}, committed ${want}`,
          );
          assert.ok(Math.abs(got - want) <= 1e-12, `${dir2}: retrained ${got}, committed ${want}`);
          const { mean, std } = reported(cell.dir, cell.method, column);
          assert.ok(
            Math.abs(got - mean) <= 2 * std,
            `${dir2}: ${got} outside the reported ${mean} ± ${std} (2 std)`,
          );
        }
      } finally {
        if (threads !== undefined && before !== undefined) setBlasThreads(before);
        await Deno.remove(out, { recursive: true });
      }
    },
  });
}
