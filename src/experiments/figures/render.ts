/**
 * Rendering: static SVG and PNG images of figures through headless Chromium when it is
 * installed ({@link renderImages}: one Chromium run renders a whole batch of figures with
 * `Plotly.toImage`; {@link writeFigureImages} writes them as files). The plotly.js bundles are
 * found by plotly.ts, the self-contained HTML pages built by page.ts, the page Chromium renders
 * by images_page.ts, and Chromium itself by chromium.ts.
 *
 * @module
 */
import { join } from "node:path";
import { chromiumArgs, findChromium, imagesUnavailable } from "./chromium.ts";
import { type FigureImages, type ImageFormat, imagesPage, parseImagesDom } from "./images_page.ts";
import { plotlyJsPath } from "./plotly.ts";
import { writeFileAtomic, writeTextAtomic } from "../../io.ts";
import type { NamedFigure, PlotlyFigure } from "./series.ts";

/** Options of {@link renderImages}. */
export interface RenderImagesOptions {
  /** Chromium binary (default {@link findChromium}; null: none). */
  chromium?: string | null;
  /** Formats to render (default SVG and PNG). */
  formats?: readonly ImageFormat[];
  /** PNG pixel ratio (default 1: the layout's size in pixels). */
  scale?: number;
  /** Seconds before one Chromium run is abandoned (default 90 + 10 per figure). */
  timeoutSeconds?: number;
  /** Figures per Chromium run (default 30). */
  batch?: number;
}

/** What {@link renderImages} returns: the images in the order of the figures, or why not. */
export type RenderOutcome =
  | { ok: true; images: FigureImages[]; seconds: number }
  | { ok: false; reason: string };

/**
 * Render figures to static images with headless Chromium: one Chromium run per batch of
 * figures, each drawn by the full plotly.js bundle's `Plotly.toImage` (SVG: vector text and
 * lines, the same bytes on every run; PNG: the layout's size times `scale`). Never throws for a
 * missing or failing Chromium: returns `{ok: false, reason}`.
 */
export async function renderImages(
  figs: readonly PlotlyFigure[],
  opts: RenderImagesOptions = {},
): Promise<RenderOutcome> {
  const t0 = performance.now();
  if (!figs.length) return { ok: true, images: [], seconds: 0 };
  const chromium = opts.chromium === undefined ? findChromium() : opts.chromium;
  const missing = imagesUnavailable(chromium);
  if (missing) return { ok: false, reason: missing };
  const plotly = plotlyJsPath("full");
  const formats = opts.formats ?? ["svg", "png"];
  const batch = Math.max(1, opts.batch ?? 30);
  const images: FigureImages[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "cmh-figures-" });
  try {
    for (let start = 0; start < figs.length; start += batch) {
      const part = figs.slice(start, start + batch);
      const html = join(tmp, `batch${start}.html`);
      await Deno.writeTextFile(
        html,
        imagesPage(part, `file://${plotly}`, formats, opts.scale ?? 1),
      );
      const profile = await Deno.makeTempDir({ prefix: "cmh-chromium-", dir: tmp });
      const limit = opts.timeoutSeconds ?? 90 + 10 * part.length;
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), limit * 1000);
      let reason = "";
      try {
        const out = await new Deno.Command(chromium!, {
          args: [
            ...chromiumArgs(profile),
            // Virtual time runs ahead whenever the page is idle, so this budget ends the run
            // as soon as rendering is done; the abort above bounds the real time.
            "--virtual-time-budget=600000",
            "--dump-dom",
            `file://${html}`,
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          signal: ctl.signal,
        }).output();
        const parsed = parseImagesDom(new TextDecoder().decode(out.stdout), part.length);
        if (typeof parsed === "string") {
          const err = new TextDecoder().decode(out.stderr).trim().split("\n")
            .filter((l) => l && !/dbus|unexpected operator/i.test(l)).pop();
          reason = `chromium exited with code ${out.code}: ${parsed}${err ? ` (${err})` : ""}`;
        } else images.push(...parsed);
      } catch (e) {
        reason = ctl.signal.aborted
          ? `chromium took longer than ${limit}s`
          : `chromium failed to start (${(e as Error).message})`;
      } finally {
        clearTimeout(timer);
      }
      if (reason) return { ok: false, reason };
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return { ok: true, images, seconds: (performance.now() - t0) / 1000 };
}

/** Options of {@link writeFigureImages}. */
export interface ImageFileOptions extends RenderImagesOptions {
  /** Progress and skip messages. */
  log?: (line: string) => void;
  /** File name prefix (e.g. the dataset section's slug). */
  prefix?: string;
}

/** The image files written for one figure. */
export interface ImageFiles {
  svg?: string;
  png?: string;
}

/** "SVG and PNG", "PNG". */
export function formatsLabel(formats: readonly ImageFormat[]): string {
  return formats.map((f) => f.toUpperCase()).join(" and ");
}

/**
 * Render figures to `<dir>/<prefix><id>.svg` and `.png` (the formats asked for) with headless
 * Chromium. Never throws for a missing or failing Chromium: logs "SVG and PNG skipped:
 * <reason>" and returns an empty list; otherwise the files of each figure, in order.
 */
export async function writeFigureImages(
  figs: readonly NamedFigure[],
  dir: string,
  opts: ImageFileOptions = {},
): Promise<ImageFiles[]> {
  const log = opts.log ?? (() => {});
  if (!figs.length) return [];
  const formats = opts.formats ?? ["svg", "png"];
  const r = await renderImages(figs.map((f) => f.figure), { ...opts, formats });
  if (!r.ok) {
    log(`${formatsLabel(formats)} skipped: ${r.reason}; figures are in the HTML`);
    return [];
  }
  await Deno.mkdir(dir, { recursive: true });
  const out: ImageFiles[] = [];
  for (const [i, f] of figs.entries()) {
    const files: ImageFiles = {};
    const base = join(dir, `${opts.prefix ?? ""}${f.id}`);
    const img = r.images[i];
    if (img.svg !== undefined) {
      files.svg = `${base}.svg`;
      await writeTextAtomic(files.svg, img.svg);
    }
    if (img.png !== undefined) {
      files.png = `${base}.png`;
      await writeFileAtomic(files.png, img.png);
    }
    out.push(files);
  }
  log(
    `figures: ${figs.length} rendered to ${formatsLabel(formats)} in ${r.seconds.toFixed(1)} s`,
  );
  return out;
}

/** Options of {@link renderPngs}. */
export interface PngOptions {
  /** Progress and skip messages. */
  log?: (line: string) => void;
  /** Chromium binary (default {@link findChromium}). */
  chromium?: string | null;
  /** Seconds before one Chromium run is abandoned. */
  timeoutSeconds?: number;
  /** File name prefix (e.g. the dataset section's slug). */
  prefix?: string;
}

/**
 * Render figures to `<dir>/<prefix><id>.png` only ({@link writeFigureImages} with PNG). Never
 * throws for a missing or failing Chromium: it logs "PNG skipped: <reason>" and returns [].
 */
export async function renderPngs(
  figs: readonly NamedFigure[],
  dir: string,
  opts: PngOptions = {},
): Promise<string[]> {
  const files = await writeFigureImages(figs, dir, { ...opts, formats: ["png"] });
  return files.map((f) => f.png!).filter(Boolean);
}
