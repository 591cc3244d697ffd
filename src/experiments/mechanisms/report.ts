/**
 * The mechanism study's report: {@link resultsMarkdown} renders the analysis of every sweep
 * (a table per method, the quantisation gap, a summary), and {@link writeAnalysis} puts it
 * under "## Results" of docs/mechanisms.md ({@link replaceResultsSection}), touching nothing
 * else of the file.
 *
 * @module
 */
import { formatMarkdown, writeTextAtomic } from "../../io.ts";
import type { BackendName } from "../../accel/backend.ts";
import { METHODS } from "../../models/mod.ts";
import { formatDiff, formatP, formatSigned } from "../stats.ts";
import { TOOLKIT_VERSION } from "../../version.ts";
import type { Knob, Sweep } from "./sweeps.ts";
import {
  analyseStudy,
  type Measure,
  MEASURES,
  significantValues,
  type SweepAnalysis,
} from "./analysis.ts";

const MEASURE_LABELS: Record<Measure, string> = { I2T: "I→T", T2I: "T→I", mean: "mean" };

const MISSING = "—";
const fmtMap = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : MISSING);
/** The knob's column heading. */
function knobLabel(k: Knob): string {
  return k === "bits" ? "bits" : `\`${k}\``;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** "CPAH up to 100 epochs" for a sweep whose epoch caps are not the methods' defaults. */
function epochCaps(s: Sweep): string {
  return Object.entries(s.epochs ?? {}).map(([m, e]) =>
    `${METHODS[m as keyof typeof METHODS].label} up to ${e} epochs`
  ).join(", ");
}

/** The Markdown of one sweep: a table per method (and the quantisation gap), with a summary. */
export function sweepMarkdown(a: SweepAnalysis): string {
  const s = a.sweep;
  const parts: string[] = [
    `### ${s.component} (\`${s.ablation}\`) along ${knobLabel(s.knob)}` +
    (s.amendment ? `, repeated with ${epochCaps(s)} (${s.amendment})` : ""),
    `Sweep \`${s.name}\`: ${s.mechanism}; values ${s.values.join(", ")}` +
    (s.epochs ? `; ${epochCaps(s)}, early stopping as everywhere` : "") +
    `. ${a.finished} of ${a.cells} cells finished.`,
  ];
  for (const { method, rows } of a.methods) {
    const label = METHODS[method].label;
    const header = [knobLabel(s.knob), "seeds", "last epoch selected (full / ablation)"];
    for (const k of MEASURES) {
      const l = MEASURE_LABELS[k];
      header.push(`${l} full / ablation`, `Δ ${l} [95% CI]`, `p ${l} (Holm)`);
    }
    const body = rows.map((r) => {
      const n = r.tests.mean.n, { full, ablation } = r.finished;
      const seeds = full === n && ablation === n
        ? String(n)
        : `${n} (full ${full}, ablation ${ablation})`;
      const cells = [
        String(r.value),
        seeds,
        `${r.selectedLast.full}/${full} / ${r.selectedLast.ablation}/${ablation}`,
      ];
      for (const k of MEASURES) {
        cells.push(
          `${fmtMap(r.full[k])} / ${fmtMap(r.ablation[k])}`,
          formatDiff(r.tests[k]),
          formatP(r.pHolm[k]),
        );
      }
      return cells;
    });
    parts.push(
      `**${label}** — MAP@all of the full model and \`${s.ablation}\` (means over the seeds both ` +
        `have: "seeds"; when one side has more finished cells, their counts follow; "last epoch ` +
        `selected" counts the finished cells whose selected epoch is the last one they trained: ` +
        `they may be undertrained)`,
      table(header, body),
    );
    const summary = MEASURES.map((k) => {
      const { fullAhead, ablationAhead } = significantValues(rows, k);
      const tested = rows.filter((r) => Number.isFinite(r.pHolm[k])).length;
      const where = (xs: number[]) => xs.join(", ");
      const verdict = !tested
        ? "not testable yet (fewer than 2 paired seeds at every value)"
        : fullAhead.length
        ? `can matter: full model significantly ahead at ${where(fullAhead)}`
        : `no knob value where the full model is significantly ahead (${tested} of ${rows.length} values tested)`;
      const reverse = ablationAhead.length
        ? `; the ablation significantly ahead at ${where(ablationAhead)}`
        : "";
      const along = rows.map((r) =>
        Number.isFinite(r.tests[k].mean) ? formatSigned(r.tests[k].mean) : MISSING
      ).join(", ");
      return `- ${MEASURE_LABELS[k]}: ${verdict}${reverse}. Mean Δ along the knob: ${along}.`;
    });
    parts.push(summary.join("\n"));
  }
  if (a.gap) {
    const header = [
      "method",
      knobLabel(s.knob),
      "series",
      "cells with gap / finished",
      "mean abs(h)",
      "mean (h − sign h)²",
    ];
    const body = a.gap.map((g) => [
      METHODS[g.method].label,
      String(g.value),
      g.ablation,
      `${g.recorded} / ${g.finished}`,
      g.recorded ? g.meanAbsH.toFixed(4) : g.finished ? "not recorded" : MISSING,
      g.recorded ? g.signDistance.toFixed(4) : g.finished ? "not recorded" : MISSING,
    ]);
    parts.push(
      `**Quantisation gap** — over the stored training outputs H^v and H^t of the selected ` +
        `epoch (per code entry, mean over the seeds whose result file recorded it; sign(0) = +1)`,
      table(header, body),
    );
    if (a.gap.some((g) => g.finished > g.recorded)) {
      parts.push(
        '"not recorded": those result files were written without the mechanisms runner\'s ' +
          "diagnostics; the gap cannot be computed from a result file's history (it keeps " +
          "only per-epoch loss means), so those cells would have to be rerun to get it.",
      );
    }
  }
  return parts.join("\n\n");
}

/** Everything that goes under "## Results". */
export interface ResultsContext {
  /** Date of the analysis (YYYY-MM-DD). */
  date: string;
  /** Commands that produced the result files (command.txt of the output directory). */
  commands: string[];
  /** The results directory, as given. */
  out: string;
  backend: BackendName;
}

/** The text under "## Results": how it was made, then one section per sweep. */
export function resultsMarkdown(analyses: SweepAnalysis[], ctx: ResultsContext): string {
  const cells = analyses.reduce((a, x) => a + x.cells, 0);
  const finished = analyses.reduce((a, x) => a + x.finished, 0);
  const head = [
    `Written by \`deno task mechanisms\` on ${ctx.date} (toolkit ${TOOLKIT_VERSION}, backend ` +
    `${ctx.backend}) from the result files in \`${ctx.out}/\` — ${finished} of ${cells} ` +
    `sweep cells finished (cells shared between sweeps counted in each). Commands:`,
    ["```sh", ...ctx.commands, "```"].join("\n"),
    "Δ = ablation − full model in MAP@all, paired by seed (mean and 95% confidence interval " +
    "from the t distribution with n − 1 degrees of freedom); p = two-sided paired t-test, " +
    "Holm-corrected across the knob values of the sweep, one family per method and measure " +
    "(I→T, T→I, mean). Negative Δ: the ablation retrieves worse, the component helps. A " +
    'component "can matter" when at some knob value the corrected test rejects at 5% with the ' +
    'full model ahead (the pre-registered criterion); whether it "matters more as the ' +
    'mechanism grows" is read from the mean Δ along the knob.',
  ];
  return [...head, ...analyses.map(sweepMarkdown)].join("\n\n") + "\n";
}

/**
 * `doc` with the text under its "## Results" heading (up to the next level-2 heading, or the
 * end) replaced by `body`; everything else is kept byte for byte. Throws when the heading is
 * missing or appears twice.
 */
export function replaceResultsSection(doc: string, body: string): string {
  const heading = /^## Results[ \t]*$/gm;
  const hits = [...doc.matchAll(heading)];
  if (hits.length !== 1) {
    throw new Error(
      `mechanisms: expected exactly one '## Results' heading in the study document, found ${hits.length}`,
    );
  }
  const start = hits[0].index! + hits[0][0].length;
  const rest = doc.slice(start);
  const next = rest.search(/^## /m);
  const end = next < 0 ? doc.length : start + next;
  const tail = doc.slice(end);
  return `${doc.slice(0, start)}\n\n${body.trim()}\n${tail ? `\n${tail}` : ""}`;
}

/** Analyse every sweep from `out` and rewrite the Results section of `doc`. */
export async function writeAnalysis(opts: {
  out: string;
  doc: string;
  backend: BackendName;
  date?: string;
  commands?: string[];
  log?: (line: string) => void;
}): Promise<string> {
  const log = opts.log ?? console.log;
  const analyses = await analyseStudy(opts.out, opts.backend);
  let commands = opts.commands;
  if (!commands) {
    try {
      commands = (await Deno.readTextFile(`${opts.out}/command.txt`)).split("\n").filter(Boolean);
    } catch {
      commands = [];
    }
  }
  const body = await formatMarkdown(
    resultsMarkdown(analyses, {
      date: opts.date ?? new Date().toISOString().slice(0, 10),
      commands: commands.length ? commands : ["(no command.txt in the results directory)"],
      out: opts.out,
      backend: opts.backend,
    }),
    (why) => log(`mechanisms: could not format the results with deno fmt (${why})`),
  );
  const doc = await Deno.readTextFile(opts.doc);
  await writeTextAtomic(opts.doc, replaceResultsSection(doc, body));
  const finished = analyses.reduce((n, a) => n + a.finished, 0);
  log(`wrote the Results section of ${opts.doc} (${finished} finished sweep cells)`);
  return body;
}
