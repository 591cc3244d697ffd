/**
 * `deno task evaluate DIR [DIR...]`: score retrieval codes produced by any framework, in the
 * layout `deno task reproduce --save` writes (src/experiments/evaluate_codes.ts), writing
 * `evaluation.json` and `report.md` per folder; with several folders, print the paired
 * comparison (src/experiments/evaluate_report.ts). Every problem is one line naming the option
 * or the file.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { printedHelpOrVersion, runCli, writeTextAtomic } from "../io.ts";
import {
  type CodesEvaluation,
  evaluateCodesDir,
  type EvaluateCodesOptions,
  folderName,
  readCodesDir,
} from "./evaluate_codes.ts";
import {
  compareByQuery,
  compareByRun,
  type Comparison,
  comparisonMarkdown,
  evaluationMarkdown,
} from "./evaluate_report.ts";
import { DEFAULT_MAP_AT_K } from "../retrieval/metrics.ts";
import { TOOLKIT_VERSION } from "../version.ts";

const HELP = `deno task evaluate DIR [DIR...] [options]

Scores binary codes produced anywhere. Each DIR holds the arrays 'deno task reproduce --save'
writes: query_image_codes.npy, query_text_codes.npy, database_image_codes.npy,
database_text_codes.npy (n x K; int8/float ±1, 0/1 uint8/bool, or real-valued: sign taken)
and query_labels.npy, database_labels.npy (n x c, 0/1). Either modality may be absent: the
directions whose query and database codes exist are scored. Writes evaluation.json (metrics
shaped like a result file's, with stable-tie and tie-aware MAP) and report.md per DIR.

With several DIRs, prints a paired comparison (mean difference, 95% CI, paired t-test,
Holm-corrected, as in the ablation tables): each DIR against the first, paired by query (the
DIRs must hold the same labels); or, with --vs, DIR i against --vs DIR i, paired by run (e.g.
one folder per seed of two methods).

Options
  --out OUT            where to write (default DIR/evaluation; with several DIRs,
                       OUT/<DIR name>/ each, and OUT/comparison.md)
  --vs DIR             the other side of a paired-by-run comparison; once per DIR, in order
  --map-at-k LIST      cut-offs k of MAP@k, e.g. 50,100         (default ${
  DEFAULT_MAP_AT_K.join(",")
})
  --zero-relevant P    count | exclude: queries with no relevant item   (default count)
  -h, --help           this text
  --version            the toolkit's version
`;

/** The options of an evaluation (the CLI's, parsed). */
export interface EvaluateCliOptions {
  /** The codes folders. */
  dirs: string[];
  /** The --vs folders (paired by run with `dirs`), or empty. */
  vs: string[];
  /** Output folder (undefined: DIR/evaluation). */
  out?: string;
  /** Metric options. */
  metrics: EvaluateCodesOptions;
}

/** Parse and check the evaluate CLI's argv (without touching any file). */
export function parseEvaluateCli(argv: string[]): EvaluateCliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        vs: { type: "string", multiple: true },
        "map-at-k": { type: "string" },
        "zero-relevant": { type: "string" },
      },
    });
  } catch (e) {
    throw new Error(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const v = parsed.values;
  if (!parsed.positionals.length) throw new Error("DIR: required (a folder of .npy codes)");
  let mapAtK: number[] | undefined;
  if (v["map-at-k"] !== undefined) {
    mapAtK = v["map-at-k"].split(",").map((s) => {
      if (!/^[0-9]+$/.test(s.trim()) || Number(s) < 1) {
        throw new Error(`--map-at-k: '${s}' is not a positive integer`);
      }
      return Number(s);
    });
  }
  const zr = v["zero-relevant"] ?? "count";
  if (zr !== "count" && zr !== "exclude") {
    throw new Error(`--zero-relevant: '${zr}'; expected count or exclude`);
  }
  const vs = v.vs ?? [];
  if (vs.length && vs.length !== parsed.positionals.length) {
    throw new Error(
      `--vs: given ${vs.length} times for ${parsed.positionals.length} DIRs; expected once per DIR`,
    );
  }
  return {
    dirs: parsed.positionals,
    vs,
    out: v.out,
    metrics: { mapAtK, zeroRelevant: zr },
  };
}

/** Output folders, one per evaluated folder, unique. */
function outputFolders(dirs: readonly string[], out: string | undefined): string[] {
  if (out === undefined) return dirs.map((d) => `${d.replace(/\/+$/, "")}/evaluation`);
  if (dirs.length === 1) return [out];
  const names = dirs.map(folderName);
  return names.map((n, i) =>
    `${out}/${names.indexOf(n) === names.lastIndexOf(n) ? n : `${i + 1}-${n}`}`
  );
}

/** What {@link runEvaluate} produced. */
export interface EvaluateRun {
  /** The evaluations, DIRs then --vs DIRs. */
  evaluations: CodesEvaluation[];
  /** Where each was written. */
  written: string[];
  /** The paired comparison, with several folders. */
  comparison?: Comparison;
}

/** Evaluate the folders, write the files, return what was done (the CLI prints it). */
export async function runEvaluate(o: EvaluateCliOptions): Promise<EvaluateRun> {
  const dirs = [...o.dirs, ...o.vs];
  const outs = outputFolders(dirs, o.out);
  const evaluations: CodesEvaluation[] = [];
  for (let i = 0; i < dirs.length; i++) {
    const e = evaluateCodesDir(await readCodesDir(dirs[i]), o.metrics);
    await Deno.mkdir(outs[i], { recursive: true });
    await writeTextAtomic(`${outs[i]}/evaluation.json`, JSON.stringify(e.file, null, 1) + "\n");
    await writeTextAtomic(`${outs[i]}/report.md`, evaluationMarkdown(e.file));
    evaluations.push(e);
  }
  let comparison: Comparison | undefined;
  if (o.vs.length) {
    comparison = compareByRun(
      evaluations.slice(0, o.dirs.length),
      evaluations.slice(o.dirs.length),
    );
  } else if (dirs.length > 1) comparison = compareByQuery(evaluations);
  if (comparison && o.out !== undefined) {
    await writeTextAtomic(`${o.out}/comparison.md`, comparisonMarkdown(comparison));
  }
  return { evaluations, written: outs, comparison };
}

async function main(argv: string[]): Promise<void> {
  if (printedHelpOrVersion(argv, HELP, TOOLKIT_VERSION)) return;
  const o = parseEvaluateCli(argv);
  const run = await runEvaluate(o);
  run.evaluations.forEach((e, i) => {
    const dirs = Object.entries(e.file.metrics).map(([d, m]) =>
      `${d} ${m.mapAll.toFixed(4)} (tie-aware ${m.mapAllTieAware!.toFixed(4)})`
    );
    console.log(`${e.file.source.name}: MAP@all ${dirs.join(", ")} -> ${run.written[i]}`);
  });
  if (run.comparison) console.log("\n" + comparisonMarkdown(run.comparison));
}

if (import.meta.main) await runCli("evaluate", main);
