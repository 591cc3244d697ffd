/**
 * Generate ONE Markdown document from several result directories (each written by
 * `deno task reproduce`): a generated-file header with the date and the command that made it,
 * each directory's recorded command (command.txt), then per directory the provenance and the
 * tables of src/experiments/report/mod.ts, with every figure embedded as an image.
 *
 *     deno run -A src/experiments/results_doc.ts --from results/wikipedia \
 *       --from results/mirflickr25k-simimg --to docs/results.md
 *
 * The figures are rendered with headless Chromium into `<figures>/<directory name>/` (default
 * `docs/figures/` beside the document), SVG by default, and embedded with relative links, so
 * GitHub shows them. `figures.json` there records a hash of each figure's data: a figure whose
 * data did not change is not rendered again, files of figures that no longer exist are
 * removed, and without Chromium the images still current are kept and linked (or copied from
 * the result directory's own `figures/`), the others listed by title. The document is the same
 * for the same result files, apart from its timestamp.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runCli } from "../io.ts";
import { basename, dirname, join, relative, resolve } from "node:path";
import { readResults } from "./results.ts";
import type { CellMethod } from "./spec.ts";
import { buildReport, figureKey, readCommands, reportMarkdown } from "./report/mod.ts";
import { slugify } from "./report/tables.ts";
import { analyseStudy } from "./mechanisms/analysis.ts";
import { controlReading } from "./mechanisms/control.ts";
import {
  figureJson,
  type ImageFormat,
  imagesUnavailable,
  type NamedFigure,
  renderImages,
} from "./figures/mod.ts";

const HELP = `deno run -A src/experiments/results_doc.ts --from DIR [--from DIR ...] --to FILE

Reads the result files of each --from directory (written by 'deno task reproduce') and writes
one generated Markdown document: the date, the commands from each directory's command.txt, and
per directory the provenance and tables (main MAP table, ablation tables, paired tests,
training, comparison with published numbers on the published benchmarks, more metrics per code
length) and every figure, rendered by headless Chromium into FIGURES/<directory name>/ and
embedded. Without Chromium, images rendered earlier from the same data are kept and linked.

Options
  --from DIR        a results directory (repeatable; at least one)
  --controls DIR    the mechanism study's results directory (docs/results/mechanisms): each
                    primary contrast is shown with its module's positive control and its
                    verdict read with it (docs/mechanisms.md, amendment 4)
  --to FILE         the Markdown file to write (e.g. docs/results.md)
  --title TEXT      document title                      (default "Results")
  --figures DIR     where the images go            (default: figures/ beside --to)
  --formats LIST    svg, png or svg,png                 (default svg; the first is embedded)
  --no-images       write no image; link those already there
  --help            this text
`;

/** Options of {@link resultsDocument}. */
export interface ResultsDocOptions {
  /** Result directories, in the order to show them. */
  from: string[];
  /** Where the document will be written (for relative figure links); default the cwd. */
  to?: string;
  /** Document title (default "Results"). */
  title?: string;
  /** The command line that generates the document (shown in the header). */
  command?: string;
  /** Generation time (default now). */
  now?: Date;
  /** Folder of the images (default `figures/` beside `to`, else `./figures`). */
  figuresDir?: string;
  /** Image formats (default SVG; the first one is embedded). */
  formats?: readonly ImageFormat[];
  /** Render missing or outdated images (default true); false only links current ones. */
  render?: boolean;
  /**
   * The mechanism study's results directory, read for each module's positive control
   * (`--controls`); without it the primary contrasts carry no control.
   */
  controls?: string;
  /** Chromium binary (default: found on PATH; null: none). */
  chromium?: string | null;
  /** Progress and skip messages (default: none). */
  log?: (line: string) => void;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** `figures.json` of an image folder: per figure file stem, the hash of the data drawn. */
interface FigureManifest {
  format: "cmh-figures-1";
  figures: Record<string, { sha256: string; title: string; files: string[] }>;
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readManifest(dir: string): Promise<FigureManifest> {
  try {
    const m = JSON.parse(await Deno.readTextFile(join(dir, "figures.json")));
    if (m?.format === "cmh-figures-1" && m.figures) return m;
  } catch { /* absent or unreadable: nothing is current */ }
  return { format: "cmh-figures-1", figures: {} };
}

/** JSON with sorted keys (deterministic files). */
function manifestText(m: FigureManifest): string {
  const figures: FigureManifest["figures"] = {};
  for (const k of Object.keys(m.figures).sort()) figures[k] = m.figures[k];
  return JSON.stringify({ format: m.format, figures }, null, 2) + "\n";
}

/**
 * Bring the images of one result directory's figures up to date in `dir` and return, per
 * figure stem, the image file to embed (absent: no current image).
 */
async function syncImages(
  figs: { stem: string; fig: NamedFigure }[],
  dir: string,
  source: string,
  opts: ResultsDocOptions,
): Promise<Map<string, string>> {
  const log = opts.log ?? (() => {});
  const formats = opts.formats?.length ? opts.formats : ["svg" as const];
  const manifest = await readManifest(dir);
  const hashes = new Map<string, string>();
  for (const { stem, fig } of figs) hashes.set(stem, await sha256(figureJson(fig.figure)));
  const current = (stem: string) => {
    const e = manifest.figures[stem];
    return !!e && e.sha256 === hashes.get(stem) &&
      formats.every((f) => e.files.includes(`${stem}.${f}`) && exists(join(dir, `${stem}.${f}`)));
  };
  let todo = figs.filter((f) => !current(f.stem));
  const rel = relative(Deno.cwd(), dir) || ".";
  if (todo.length && opts.render !== false) {
    const missing = imagesUnavailable(opts.chromium === undefined ? undefined : opts.chromium);
    if (missing) {
      // No Chromium: copy the images the result directory has of the same figures.
      let copied = 0;
      for (const { stem, fig } of todo) {
        const from = formats.map((f) => join(source, "figures", `${stem}.${f}`));
        if (!from.every(exists)) continue;
        await Deno.mkdir(dir, { recursive: true });
        for (const [i, f] of formats.entries()) {
          await Deno.copyFile(from[i], join(dir, `${stem}.${f}`));
        }
        manifest.figures[stem] = {
          sha256: hashes.get(stem)!,
          title: fig.title,
          files: formats.map((f) => `${stem}.${f}`),
        };
        copied++;
      }
      log(
        `results_doc: ${todo.length} figures not rendered (${missing}); ${copied} copied from ` +
          `${source}/figures`,
      );
    } else {
      const r = await renderImages(todo.map((t) => t.fig.figure), {
        chromium: opts.chromium,
        formats,
      });
      if (!r.ok) log(`results_doc: ${todo.length} figures not rendered: ${r.reason}`);
      else {
        await Deno.mkdir(dir, { recursive: true });
        for (const [i, { stem, fig }] of todo.entries()) {
          const img = r.images[i];
          if (img.svg !== undefined) await Deno.writeTextFile(join(dir, `${stem}.svg`), img.svg);
          if (img.png !== undefined) await Deno.writeFile(join(dir, `${stem}.png`), img.png);
          manifest.figures[stem] = {
            sha256: hashes.get(stem)!,
            title: fig.title,
            files: formats.map((f) => `${stem}.${f}`),
          };
        }
        log(
          `results_doc: ${todo.length} figures rendered into ${rel} in ${r.seconds.toFixed(1)} s`,
        );
      }
    }
    todo = figs.filter((f) => !current(f.stem));
  }
  if (todo.length) {
    log(`results_doc: ${todo.length} of ${figs.length} figures of ${source} have no current image`);
  }
  if (opts.render !== false) {
    // Forget (and delete) the images of figures that no longer exist, and of formats not
    // asked for any more.
    const keep = new Set(figs.map((f) => f.stem));
    for (const [stem, e] of Object.entries(manifest.figures)) {
      const wanted = keep.has(stem) ? formats.map((f) => `${stem}.${f}`) : [];
      for (const file of e.files.filter((f) => !wanted.includes(f))) {
        await Deno.remove(join(dir, file)).catch(() => {});
      }
      if (!keep.has(stem)) delete manifest.figures[stem];
      else e.files = e.files.filter((f) => wanted.includes(f));
    }
    if (Object.keys(manifest.figures).length) {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(join(dir, "figures.json"), manifestText(manifest));
    }
  }
  const out = new Map<string, string>();
  for (const { stem } of figs) {
    if (current(stem)) out.set(stem, join(dir, `${stem}.${formats[0]}`));
  }
  return out;
}

/** Build the Markdown document of some result directories. */
export async function resultsDocument(opts: ResultsDocOptions): Promise<string> {
  if (!opts.from.length) throw new Error("--from: expected at least one results directory");
  const docDir = opts.to ? dirname(resolve(opts.to)) : Deno.cwd();
  const figuresDir = resolve(opts.figuresDir ?? join(docDir, "figures"));
  const date = opts.now ?? new Date();
  const now = date.toISOString();
  const blocks: string[] = [];
  const index: string[] = [];
  const subs = new Set<string>();
  let controls;
  if (opts.controls) {
    const info = await Deno.stat(opts.controls).catch(() => undefined);
    if (!info?.isDirectory) {
      throw new Error(
        `--controls ${opts.controls}: expected the mechanism study's results directory`,
      );
    }
    const study = await analyseStudy(opts.controls, "wasm");
    controls = (method: CellMethod, ablation: string) => controlReading(study, method, ablation);
  }
  for (const dir of opts.from) {
    const results = await readResults(dir);
    if (!results.length) {
      throw new Error(`--from ${dir}: no result files (*.json) in the directory`);
    }
    const commands = await readCommands(dir);
    const report = buildReport(results, { title: dir, commands, now: date, controls });
    let sub = slugify(basename(resolve(dir))) || "results";
    for (let i = 2; subs.has(sub); i++) sub = `${slugify(basename(resolve(dir)))}-${i}`;
    subs.add(sub);
    const figs = report.sections.flatMap((s) =>
      s.figures.map((fig) => ({
        key: figureKey(s.section, fig),
        stem: `${s.section.slug}__${fig.id}`,
        fig,
      }))
    );
    const images = await syncImages(figs, join(figuresDir, sub), dir, opts);
    const links = new Map<string, string>();
    for (const f of figs) {
      const img = images.get(f.stem);
      if (img) links.set(f.key, relative(docDir, img));
    }
    index.push(
      `- \`${dir}\` (${results.length} result files): ` +
        (commands.length
          ? commands.map((c) => `\`${c}\``).join("; ")
          : "command not recorded (no command.txt)"),
    );
    blocks.push(
      `## ${dir}\n\n` +
        reportMarkdown(report, { headingLevel: 2, omitTitle: true, imageLinks: links }),
    );
  }
  const header = [
    `# ${opts.title ?? "Results"}`,
    "",
    "<!-- Generated by src/experiments/results_doc.ts. Do not edit by hand: regenerate it. -->",
    "",
    `*Generated by src/experiments/results_doc.ts on ${now}` +
    (opts.command ? ` with \`${opts.command}\`` : "") + ".* Every number below is read from the " +
    "result files of the directories listed; missing cells show —.",
    "",
    "Result directories and the commands that produced them:",
    "",
    ...index,
    "",
  ];
  return [...header, ...blocks].join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string", multiple: true },
      controls: { type: "string" },
      to: { type: "string" },
      title: { type: "string" },
      figures: { type: "string" },
      formats: { type: "string" },
      "no-images": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const from = values.from ?? [];
  if (!from.length) throw new Error("--from: expected at least one results directory (see --help)");
  if (!values.to) throw new Error("--to: expected the Markdown file to write (see --help)");
  const formats = (values.formats ?? "svg").split(",").map((f) => f.trim()).filter(Boolean);
  for (const f of formats) {
    if (f !== "svg" && f !== "png") {
      throw new Error(`--formats: expected svg, png or svg,png, got '${values.formats}'`);
    }
  }
  const doc = await resultsDocument({
    from,
    to: values.to,
    title: values.title,
    command: `deno run -A src/experiments/results_doc.ts ${argv.join(" ")}`,
    figuresDir: values.figures,
    formats: formats as ImageFormat[],
    render: !values["no-images"],
    controls: values.controls,
    log: console.log,
  });
  await Deno.mkdir(dirname(resolve(values.to)), { recursive: true });
  await Deno.writeTextFile(values.to, doc);
  console.log(`wrote ${values.to} (${from.length} result directories)`);
}

if (import.meta.main) await runCli("results_doc", main);
