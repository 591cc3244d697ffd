/**
 * Display helpers for Deno's Jupyter kernel, shared by the notebooks: a table as HTML (with a
 * Markdown fallback) and a plotly figure as `application/vnd.plotly.v1+json` (rendered by
 * JupyterLab's plotly extension or VS Code). Outside the kernel they print text instead.
 *
 * @module
 */
import type { PlotlyFigure } from "./figures/mod.ts";

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

/** Show a plotly figure; the plain-text fallback names it. */
export async function showFigure(fig: PlotlyFigure): Promise<void> {
  const title = (fig.layout.title as { text?: string } | undefined)?.text ?? "figure";
  if (!inKernel()) return void console.log(`[plotly figure: ${title}]`);
  await Deno.jupyter.display({
    "application/vnd.plotly.v1+json": fig,
    "text/plain": `[plotly figure: ${title}]`,
  }, { raw: true });
}
