/**
 * `deno task mechanisms`: runs the sweeps of the pre-registered mechanism study
 * (docs/mechanisms.md) and writes their analysis under "## Results" of the study document. The
 * study itself — sweeps, runner, analysis, report — is src/experiments/mechanisms/ (mod.ts).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseCliOptions, runCli } from "../io.ts";
import { BACKEND_NAMES, parseBackendName } from "../accel/backend.ts";
import { FIXED, runStudy, sweepByName, SWEEPS, writeAnalysis } from "./mechanisms/mod.ts";

const HELP = `deno task mechanisms [options]

Runs the pre-registered mechanism study (docs/mechanisms.md): per sweep, the full model and
the ablation at every knob value, seeds ${FIXED.seeds.join("-")}, on synthetic data (n ${FIXED.n},
split ${FIXED.split}, ${FIXED.bits} bits except the code-length sweep, the methods' default configs,
epochs and early stopping; the sweeps an amendment added name their epoch cap). One result file
per cell; finished cells are skipped, so a stopped run resumes where it was, and processes
sharing the results directory (one per core, e.g. with --seeds) skip cells another has
finished. Then writes the analysis under "## Results" of the study document (only that section
changes), whatever the outcome.

Options
  --sweep NAME      run only this sweep (repeatable or comma-separated): ${
  SWEEPS.map((s) => s.name).join(", ")
}
                    (default: all; the analysis always covers every sweep's existing results)
  --out DIR         results directory                 (default docs/results/mechanisms)
  --doc FILE        study document to update          (default docs/mechanisms.md)
  --seeds LIST      run only these of the study's seeds (comma-separated; default: all), e.g.
                    to split the study between processes or machines sharing --out
  --values LIST     run only the cells at these knob values (comma-separated numbers; default:
                    all), e.g. the extreme values where the primary contrasts are
  --backend NAME    ${BACKEND_NAMES.join(" | ")}  (default: env HASH_BACKEND, else wasm)
  --plan            list the cells and the time estimate; run nothing, write nothing
  --report-only     write the analysis from the existing result files; run nothing
  --help            this text
`;

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Parse the CLI (exported for tests) with the toolkit's CLI parser: an unknown option, a
 * missing value or an option given twice (other than --sweep) is a one-line error.
 */
export function parseMechanismsCli(argv: string[]) {
  const values = parseCliOptions(argv, {
    sweep: { type: "string", multiple: true },
    seeds: { type: "string" },
    values: { type: "string" },
    out: { type: "string" },
    doc: { type: "string" },
    backend: { type: "string" },
    plan: { type: "boolean", default: false },
    "report-only": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  }, "mechanisms") as {
    sweep?: string[];
    seeds?: string;
    values?: string;
    out?: string;
    doc?: string;
    backend?: string;
    plan: boolean;
    "report-only": boolean;
    help: boolean;
  };
  const names = (values.sweep ?? []).flatMap((v) => v.split(",")).map((v) => v.trim())
    .filter(Boolean);
  const sweeps = names.length ? [...new Set(names)].map(sweepByName) : [...SWEEPS];
  const seeds = values.seeds === undefined ? [...FIXED.seeds] : values.seeds.split(",").map((v) => {
    const seed = Number(v.trim());
    if (!(FIXED.seeds as readonly number[]).includes(seed)) {
      throw new Error(
        `--seeds: '${v.trim()}' is not one of the study's seeds ${FIXED.seeds.join(", ")}`,
      );
    }
    return seed;
  });
  const knobValues = values.values === undefined ? undefined : values.values.split(",").map((v) => {
    const x = Number(v.trim());
    if (v.trim() === "" || !Number.isFinite(x)) {
      throw new Error(`--values: '${v.trim()}' is not a number`);
    }
    return x;
  });
  if (values.plan && values["report-only"]) {
    throw new Error("--plan and --report-only: choose one");
  }
  return {
    help: values.help,
    sweeps,
    seeds: [...new Set(seeds)],
    ...(knobValues ? { values: [...new Set(knobValues)] } : {}),
    out: values.out ?? "docs/results/mechanisms",
    doc: values.doc ?? `${REPO_ROOT}docs/mechanisms.md`,
    backend: parseBackendName(
      values.backend ?? Deno.env.get("HASH_BACKEND") ?? "wasm",
      "--backend",
    ),
    plan: values.plan,
    reportOnly: values["report-only"],
  };
}

async function main(argv: string[]): Promise<void> {
  const cli = parseMechanismsCli(argv);
  if (cli.help) {
    console.log(HELP);
    return;
  }
  if (!cli.reportOnly) {
    await runStudy({
      sweeps: cli.sweeps,
      seeds: cli.seeds,
      ...(cli.values ? { values: cli.values } : {}),
      out: cli.out,
      backend: cli.backend,
      plan: cli.plan,
      command: `deno task mechanisms${argv.length ? " " + argv.join(" ") : ""}`,
    });
    if (cli.plan) return;
  }
  await writeAnalysis({ out: cli.out, doc: cli.doc, backend: cli.backend });
}

if (import.meta.main) await runCli("mechanisms", main);
