/**
 * Writing a results directory's reports: report.md, report.html, one CSV per table and,
 * when Chromium is available, PNG figures; and the commands recorded in command.txt.
 *
 * @module
 */
import { join } from "node:path";
import { readPlotlyJs, renderPngs } from "../figures/mod.ts";
import { buildReport } from "./build.ts";
import { reportHtml } from "./html.ts";
import { figureKey, reportMarkdown } from "./markdown.ts";
import type { CellResult } from "../results.ts";

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  /** Render PNG figures when Chromium is available (default true). */
  png?: boolean;
  /** Progress and skip messages (default: none). */
  log?: (line: string) => void;
  /** Report title. */
  title?: string;
}

/** Remove the files `<dir>/<prefix>*<ext>` (files this module wrote earlier). */
export async function removeGenerated(dir: string, prefix: string, ext: string): Promise<void> {
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(ext)) names.push(e.name);
    }
  } catch {
    return; // no such directory yet
  }
  names = names.sort();
  for (const n of names) await Deno.remove(join(dir, n));
}

/** The non-empty lines of `<outDir>/command.txt` (none when the file is absent). */
export async function readCommands(outDir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(join(outDir, "command.txt"))).split("\n").map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Write the report of `results` into `outDir`: report.md, report.html (self-contained: tables,
 * figures, plotly inlined), `tables/<section>__<table>.csv` (one per table) and, when `png` is
 * not false and Chromium is installed, `figures/<section>__<figure>.png`. A missing Chromium or
 * plotly.js is logged ("PNG skipped: ...") and never fails the call. Returns the files written
 * and the Markdown.
 */
export async function writeReports(
  results: CellResult[],
  outDir: string,
  opts: WriteReportsOptions = {},
): Promise<{ files: string[]; markdown: string }> {
  const log = opts.log ?? (() => {});
  const report = buildReport(results, { title: opts.title, commands: await readCommands(outDir) });
  for (const w of report.warnings) log(`report: warning: ${w}`);
  const files: string[] = [];
  // Earlier tables and PNGs of these sections are replaced, never left stale beside new ones.
  for (const s of report.sections) {
    await removeGenerated(join(outDir, "tables"), `${s.section.slug}__`, ".csv");
    await removeGenerated(join(outDir, "figures"), `${s.section.slug}__`, ".png");
  }
  await Deno.mkdir(join(outDir, "tables"), { recursive: true });
  for (const s of report.sections) {
    for (const t of s.tables) {
      const p = join(outDir, "tables", `${s.section.slug}__${t.id}.csv`);
      await Deno.writeTextFile(p, t.data.toCSV() + "\n");
      files.push(p);
    }
  }
  const pngLinks = new Map<string, string>();
  const allFigs = report.sections.reduce((k, s) => k + s.figures.length, 0);
  if (opts.png === false) {
    if (allFigs) log("PNG skipped: disabled (--no-png)");
  } else if (allFigs) {
    for (const s of report.sections) {
      const written = await renderPngs(s.figures, join(outDir, "figures"), {
        log,
        prefix: `${s.section.slug}__`,
      });
      written.forEach((p, i) =>
        pngLinks.set(figureKey(s.section, s.figures[i]), `figures/${p.split("/").pop()}`)
      );
      files.push(...written);
      if (written.length < s.figures.length) break; // the skip reason was logged
    }
  }
  const markdown = reportMarkdown(report, { pngLinks });
  const md = join(outDir, "report.md");
  await Deno.writeTextFile(md, markdown);
  files.push(md);
  let plotly: string | null = null;
  try {
    plotly = (await readPlotlyJs()).source;
  } catch (e) {
    log(`report: figures in report.html will not draw: ${(e as Error).message}`);
  }
  const html = join(outDir, "report.html");
  await Deno.writeTextFile(html, reportHtml(report, plotly));
  files.push(html);
  return { files, markdown };
}
