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
import {
  formatDiff,
  formatEffect,
  formatP,
  formatSigned,
  holm,
  minimalDetectableEffect,
  type PairedComparison,
} from "../stats.ts";
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

/** MDE at 80% power, two-sided α (default 0.05), of a paired comparison. */
function mde(c: PairedComparison, alpha = 0.05): number {
  return minimalDetectableEffect(c.sd, c.n, { alpha, power: 0.8 });
}

/** Whether a sweep ran before the modules passed their manipulation checks (amendment 2). */
export function ranWithInactiveModules(s: Sweep): boolean {
  return s.amendment === undefined || s.amendment === "amendment 1";
}

/** The generator settings of an amended sweep's data, in words. */
function dataNote(s: Sweep): string {
  if (s.n === undefined) return "";
  const db = s.data?.databaseRows;
  const fmt = (x: number) => x.toLocaleString("en-US");
  return `; data: n ${fmt(s.n)}, the generator's own split (${
    db ? `${fmt(db)} database rows disjoint from the training pairs, ` : ""
  }the last 500 rows the queries)`;
}

/** The section heading of a sweep. */
function heading(s: Sweep): string {
  if (s.oracle) {
    const m = s.methods.map((x) => METHODS[x].label).join(" and ");
    return `### ${s.component}: ${m} \`${s.ablation}\` with the oracle against \`${s.ablation}\` ` +
      `at ${knobLabel(s.knob)} ${s.values.join(", ")} (${s.amendment})`;
  }
  if (s.repeats) {
    return `### ${s.component} (\`${s.ablation}\`) along ${knobLabel(s.knob)}, repeated with ${
      epochCaps(s)
    } (${s.amendment})`;
  }
  return `### ${s.component} (\`${s.ablation}\`) along ${knobLabel(s.knob)}` +
    (s.amendment ? ` (${s.amendment})` : "");
}

/** The Markdown of one sweep: a table per method (and the quantisation gap), with a summary. */
export function sweepMarkdown(a: SweepAnalysis): string {
  const s = a.sweep;
  const arm = s.oracle ? "oracle" : "full";
  const parts: string[] = [
    heading(s),
    `Sweep \`${s.name}\`: ${s.mechanism}; values ${s.values.join(", ")}` +
    (s.epochs ? `; ${epochCaps(s)}, early stopping as everywhere` : "") + dataNote(s) +
    `. ${a.finished} of ${a.cells} cells finished.` +
    (ranWithInactiveModules(s)
      ? " Run with inactive modules (amendment 2): a record of those runs, not a verdict on " +
        "modules that work."
      : "") +
    (s.oracle
      ? ` The "oracle" arm is \`${s.ablation}\` trained on the same data with the generator's ` +
        "oracle (`oracle=1`): Δ = ablation − oracle, negative when the oracle is ahead."
      : ""),
  ];
  for (const { method, rows } of a.methods) {
    const label = METHODS[method].label;
    const header = [knobLabel(s.knob), "seeds", `last epoch selected (${arm} / ablation)`];
    if (s.checked) header.push("module check (full model)");
    for (const k of MEASURES) {
      const l = MEASURE_LABELS[k];
      header.push(`${l} ${arm} / ablation`, `Δ ${l} [95% CI]`, `p ${l} (Holm)`);
    }
    header.push("MDE I→T / T→I / mean (80% power)");
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
      const unread = s.checked && r.check?.active !== true;
      if (s.checked) {
        cells.push(
          r.check
            ? `${r.check.active ? "active" : "inactive"}: ${r.check.evidence}`
            : "not recorded",
        );
      }
      for (const k of MEASURES) {
        cells.push(
          `${fmtMap(r.full[k])} / ${fmtMap(r.ablation[k])}`,
          formatDiff(r.tests[k]),
          unread ? (r.check ? "module inactive — no verdict" : "no check — no verdict") : formatP(
            r.pHolm[k],
          ),
        );
      }
      cells.push(MEASURES.map((k) => formatEffect(mde(r.tests[k]))).join(" / "));
      return cells;
    });
    parts.push(
      `**${label}** — MAP@all of the ${
        s.oracle ? "oracle arm" : "full model"
      } and \`${s.ablation}\` (means over the seeds both ` +
        `have: "seeds"; when one side has more finished cells, their counts follow; "last epoch ` +
        `selected" counts the finished cells whose selected epoch is the last one they trained: ` +
        `they may be undertrained; MDE: the smallest true |Δ| a two-sided paired t-test at 5% ` +
        `detects with 80% power, given the seeds and the observed SD of the differences)`,
      table(header, body),
    );
    const summary = MEASURES.map((k) => {
      const { fullAhead, ablationAhead } = significantValues(rows, k);
      const tested = rows.filter((r) => Number.isFinite(r.pHolm[k])).length;
      const where = (xs: number[]) => xs.join(", ");
      const verdict = !tested
        ? (s.checked
          ? "no verdict (no knob value where the module passes its check with 2 paired seeds)"
          : "not testable yet (fewer than 2 paired seeds at every value)")
        : s.oracle
        ? (fullAhead.length
          ? `the oracle significantly ahead at ${where(fullAhead)}`
          : "no significant gain of the oracle")
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

/** One contrast of a summary family: a sweep, a method, a knob value, the mean measure. */
interface FamilyRow {
  sweep: Sweep;
  method: string;
  value: number;
  test: PairedComparison;
  /** Whether the row is in the Holm family (a checked sweep's module must pass its check). */
  read: boolean;
  note: string;
}

/** A summary table of a family of contrasts (mean measure), Holm across the rows read. */
function familyTable(rows: FamilyRow[], arm: string): string {
  const k = rows.filter((r) => r.read).length;
  const corrected = holm(rows.map((r) => (r.read ? r.test.p : NaN)));
  const header = [
    "sweep",
    "method, ablation",
    "knob value",
    "seeds",
    `Δ mean (ablation − ${arm}) [95% CI]`,
    "p (Holm over the family)",
    "MDE α 0.05 / α/k (80% power)",
    "reading",
  ];
  const body = rows.map((r, i) => {
    const p = corrected[i];
    const reading = !r.read
      ? r.note
      : !Number.isFinite(p)
      ? "too few seeds to test"
      : p < 0.05 && r.test.mean < 0
      ? `${arm} significantly ahead`
      : p < 0.05
      ? "ablation significantly ahead"
      : "no significant difference";
    return [
      `\`${r.sweep.name}\``,
      `${METHODS[r.method as keyof typeof METHODS].label} \`${r.sweep.ablation}\``,
      `${knobLabel(r.sweep.knob)} ${r.value}`,
      String(r.test.n),
      formatDiff(r.test),
      r.read ? formatP(p) : "—",
      `${formatEffect(mde(r.test))} / ${k ? formatEffect(mde(r.test, 0.05 / k)) : "—"}`,
      reading,
    ];
  });
  return table(header, body);
}

/**
 * The families the amendments pre-specify, each with Holm across its rows only: the positive
 * controls of each amendment (criterion: the oracle ahead in the mean at p < 0.05), and the
 * primary contrasts of the method sweeps on the new knobs (each method at the knob's extreme
 * value, mean of both directions; read only where the module passes its check).
 */
export function familiesMarkdown(analyses: SweepAnalysis[]): string {
  const parts: string[] = [];
  const rowsOf = (a: SweepAnalysis, extremeOnly: boolean): FamilyRow[] =>
    a.methods.flatMap(({ method, rows }) => {
      const pick = extremeOnly ? rows.slice(-1) : rows;
      return pick.map((r) => ({
        sweep: a.sweep,
        method,
        value: r.value,
        test: r.tests.mean,
        read: !a.sweep.checked || r.check?.active === true,
        note: r.check
          ? `module inactive (${r.check.evidence}) — no verdict`
          : "no check — no verdict",
      }));
    });
  for (const amendment of ["amendment 2", "amendment 3", "amendment 4"]) {
    const controls = analyses.filter((a) => a.sweep.oracle && a.sweep.amendment === amendment)
      .flatMap((a) => rowsOf(a, false));
    if (!controls.length) continue;
    parts.push(
      `**Positive controls (${amendment})** — the ablation with the known right answer (the ` +
        `generator's oracle, or no quantisation) against the ablation, at each knob's extreme ` +
        `value, MAP@all mean of both directions; Holm across the ${controls.length} controls; ` +
        `a control passes when the oracle is significantly ahead.`,
      familyTable(controls, "oracle"),
    );
  }
  const primaries = analyses.filter((a) => a.sweep.checked);
  if (primaries.length) {
    parts.push(
      "**Primary contrasts of the method sweeps (amendment 2)** — each method's full model " +
        "against its ablation at the knob's extreme value, MAP@all mean of both directions; " +
        "Holm across the contrasts whose module passes its manipulation check, and no others.",
      familyTable(primaries.flatMap((a) => rowsOf(a, true)), "full"),
    );
  }
  return parts.length ? ["### Pre-specified families", ...parts].join("\n\n") : "";
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
  const families = familiesMarkdown(analyses);
  return [...head, ...(families ? [families] : []), ...analyses.map(sweepMarkdown)].join("\n\n") +
    "\n";
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
