/**
 * Writing a results directory's reports: report.md, report.html, one CSV per table, the long
 * CSV per section and, when Chromium is available, SVG and PNG figures; and the commands
 * recorded in command.txt.
 *
 * @module
 */
import { join } from "node:path";
import {
  bundleFor,
  type ImageFormat,
  type PlotlyBundle,
  readPlotlyJs,
  writeFigureImages,
} from "../figures/mod.ts";
import { buildReport } from "./build.ts";
import { longTable } from "./metrics_tables.ts";
import { reportHtml } from "./html.ts";
import { figureKey, reportMarkdown } from "./markdown.ts";
import { type CellResult, readFolderResults } from "../results.ts";
import { withFileLock, writeTextAtomic } from "../../io.ts";

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Options of {@link writeReports}. */
export interface WriteReportsOptions {
  /**
   * Render the figures to SVG and PNG files when Chromium is available (default true; false
   * writes no image: `--no-png` of `deno task reproduce`).
   */
  png?: boolean;
  /** Image formats (default SVG and PNG). */
  formats?: readonly ImageFormat[];
  /** Progress and skip messages (default: none). */
  log?: (line: string) => void;
  /** Report title. */
  title?: string;
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
 * figures, the smallest plotly.js bundle that draws them inlined),
 * `tables/<section>__<table>.csv` (one per table), `tables/<section>__long.csv` (every number of
 * every result file, one row per direction × metric × k) and, when `png` is not false and
 * Chromium is installed, `figures/<section>__<figure>.svg` and `.png` (report.md embeds the
 * SVG). A missing Chromium or plotly.js is logged ("SVG and PNG skipped: ...") and never fails
 * the call. Returns the files written and the Markdown.
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
  // Every file is written atomically (a reader sees the old file or the new one) and none is
  // deleted: files of figures or tables this report does not draw are left as they are.
  await Deno.mkdir(join(outDir, "tables"), { recursive: true });
  const longLinks = new Map<string, string>();
  for (const s of report.sections) {
    for (const t of s.tables) {
      const p = join(outDir, "tables", `${s.section.slug}__${t.id}.csv`);
      await writeTextAtomic(p, t.data.toCSV() + "\n");
      files.push(p);
    }
    const name = `${s.section.slug}__long.csv`;
    const p = join(outDir, "tables", name);
    await writeTextAtomic(p, longTable(s.section).toCSV() + "\n");
    files.push(p);
    longLinks.set(s.section.slug, `tables/${name}`);
  }
  const imageLinks = new Map<string, string>();
  const figs = report.sections.flatMap((s) =>
    s.figures.map((f) => ({ key: figureKey(s.section, f), f, id: `${s.section.slug}__${f.id}` }))
  );
  if (figs.length && opts.png === false) {
    log("SVG and PNG skipped: disabled (--no-png)");
  } else if (figs.length) {
    const written = await writeFigureImages(
      figs.map((x) => ({ ...x.f, id: x.id })),
      join(outDir, "figures"),
      { log, formats: opts.formats },
    );
    written.forEach((w, i) => {
      const link = w.svg ?? w.png;
      if (link) imageLinks.set(figs[i].key, `figures/${link.split("/").pop()}`);
      if (w.svg) files.push(w.svg);
      if (w.png) files.push(w.png);
    });
  }
  const markdown = reportMarkdown(report, { imageLinks, longCsvLinks: longLinks });
  const md = join(outDir, "report.md");
  await writeTextAtomic(md, markdown);
  files.push(md);
  const html = join(outDir, "report.html");
  const plotly = await plotlyFor(report.sections.flatMap((s) => s.figures.map((f) => f.figure)));
  if (plotly.note) log(plotly.note);
  await writeTextAtomic(html, reportHtml(report, plotly.source));
  files.push(html);
  return { files, markdown };
}

/**
 * Write the report of a whole results directory: every result file in `outDir`, whichever run
 * wrote it ({@link readFolderResults}), through {@link writeReports}. Processes sharing the
 * directory take turns (a lock on `<outDir>/.report.lock`), and each reads the result files
 * only once it holds the lock, so the last report written covers every result file present when
 * its process finished. Files that are not result files are logged and left out.
 */
export async function writeFolderReport(
  outDir: string,
  opts: WriteReportsOptions = {},
): Promise<{ files: string[]; markdown: string; results: CellResult[] }> {
  const log = opts.log ?? (() => {});
  await Deno.mkdir(outDir, { recursive: true });
  return await withFileLock(join(outDir, ".report.lock"), async () => {
    const found = await readFolderResults(outDir);
    for (const s of found.skipped) log(`report: left out ${s.file}: ${s.reason}`);
    return { ...(await writeReports(found.results, outDir, opts)), results: found.results };
  });
}

/**
 * The plotly.js source to inline for some figures: the basic bundle (~1.1 MB) when it draws
 * every trace, else the full one (~4.8 MB); null with a note when neither is installed.
 */
export async function plotlyFor(
  figs: readonly { data: Record<string, unknown>[] }[],
): Promise<{ source: string | null; bundle?: PlotlyBundle; note?: string }> {
  const wanted = bundleFor(figs.map((f) => ({ data: f.data, layout: {} })));
  for (const bundle of wanted === "basic" ? ["basic", "full"] as const : ["full"] as const) {
    try {
      return { source: (await readPlotlyJs(bundle)).source, bundle };
    } catch (e) {
      if (bundle === "full") {
        return {
          source: null,
          note: `report: figures in report.html will not draw: ${(e as Error).message}`,
        };
      }
    }
  }
  return { source: null };
}
