/**
 * Display helpers for Deno's Jupyter kernel, shared by the notebooks: a table as HTML (with a
 * Markdown fallback) and a plotly figure as `application/vnd.plotly.v1+json` (drawn by
 * JupyterLab's plotly extension or VS Code) together with a static SVG and PNG image rendered by
 * headless Chromium, so that GitHub and nbviewer, which do not run plotly, show the figure too.
 * Without Chromium the figure is shown interactive only, with a note in its text fallback.
 * Outside the kernel they print text instead.
 *
 * Env `HASH_NOTEBOOK_IMAGES=off` skips the static images (faster; GitHub then shows only the
 * note).
 *
 * @module
 */
import { type FigureImages, type PlotlyFigure, renderImages, toBase64 } from "./figures/mod.ts";
import { readEnv } from "../io.ts";

/** Anything that renders itself as HTML and Markdown (an arquero table). */
export interface RenderableTable {
  /** The table as HTML. */
  toHTML(): string;
  /** The table as Markdown. */
  toMarkdown(): string;
}

function inKernel(): boolean {
  return typeof (Deno as { jupyter?: unknown }).jupyter !== "undefined";
}

/** Show a table as HTML, with its Markdown as the plain-text fallback. */
export async function showTable(t: RenderableTable): Promise<void> {
  if (!inKernel()) return void console.log(t.toMarkdown());
  await Deno.jupyter.display({ "text/html": t.toHTML(), "text/plain": t.toMarkdown() }, {
    raw: true,
  });
}

/** A figure's title (its layout's), or "figure". */
export function figureTitle(fig: PlotlyFigure): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  return (typeof t === "string" ? t : t?.text) ?? "figure";
}

/**
 * The display bundle of a figure: the interactive plotly JSON, and the static SVG and PNG
 * (base64) when rendered; else a text fallback saying why there is no static image.
 */
export function figureBundle(
  fig: PlotlyFigure,
  images: FigureImages | { reason: string },
): Record<string, unknown> {
  const title = figureTitle(fig);
  const bundle: Record<string, unknown> = { "application/vnd.plotly.v1+json": fig };
  if ("reason" in images) {
    bundle["text/plain"] = `[plotly figure: ${title}] (interactive only — no static image: ` +
      `${images.reason})`;
    return bundle;
  }
  if (images.svg !== undefined) bundle["image/svg+xml"] = images.svg;
  if (images.png !== undefined) bundle["image/png"] = toBase64(images.png);
  bundle["text/plain"] = `[plotly figure: ${title}]`;
  return bundle;
}

/** Options of {@link showFigure} and {@link showFigures}. */
export interface ShowFigureOptions {
  /** Render static images beside the interactive figure (default true unless env off). */
  images?: boolean;
  /** Chromium binary (default: found on PATH). */
  chromium?: string | null;
}

/**
 * Show plotly figures: each with a static SVG and PNG image beside the interactive JSON when
 * headless Chromium is available (one Chromium run for all of them), else interactive only
 * with a note. The plain-text fallback names each figure.
 */
export async function showFigures(
  figs: readonly PlotlyFigure[],
  opts: ShowFigureOptions = {},
): Promise<void> {
  if (!inKernel()) {
    for (const f of figs) console.log(`[plotly figure: ${figureTitle(f)}]`);
    return;
  }
  const wanted = opts.images ?? readEnv("HASH_NOTEBOOK_IMAGES") !== "off";
  const r = wanted
    ? await renderImages(figs, { chromium: opts.chromium, formats: ["svg", "png"] })
    : { ok: false as const, reason: "static images turned off (HASH_NOTEBOOK_IMAGES=off)" };
  for (const [i, f] of figs.entries()) {
    const images = r.ok ? r.images[i] : { reason: r.reason };
    await Deno.jupyter.display(figureBundle(f, images), { raw: true });
  }
}

/** Show one plotly figure ({@link showFigures}). */
export async function showFigure(fig: PlotlyFigure, opts: ShowFigureOptions = {}): Promise<void> {
  await showFigures([fig], opts);
}
