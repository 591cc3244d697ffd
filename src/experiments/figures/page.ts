/**
 * Self-contained figure pages: a figure's JSON made safe for an inline `<script>` element
 * ({@link figureJson}), and a complete HTML page showing one figure ({@link figurePage}).
 *
 * @module
 */
import type { NamedFigure, PlotlyFigure } from "./series.ts";

/** Make JavaScript or JSON safe inside an inline `<script>` element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/**
 * The JSON of a figure, safe to embed in a `<script>` element. `digits`: round every
 * non-integer number to that many significant digits (smaller pages; 5 keeps every value in
 * [0.01, 1) exact to the 4 decimals that the hover text shows).
 */
export function figureJson(fig: PlotlyFigure, digits?: number): string {
  const json = digits === undefined ? JSON.stringify(fig) : JSON.stringify(
    fig,
    (_, v) =>
      typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v)
        ? Number(v.toPrecision(digits))
        : v,
  );
  return scriptSafe(json).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * A complete HTML page showing one figure at its layout size. `plotly` is either the bundle's
 * source (inlined: a self-contained page) or `{src}`, a URL to load it from.
 */
export function figurePage(fig: NamedFigure, plotly: string | { src: string }): string {
  const w = Number(fig.figure.layout.width ?? 1100), h = Number(fig.figure.layout.height ?? 600);
  const lib = typeof plotly === "string"
    ? `<script>${scriptSafe(plotly)}</script>`
    : `<script src="${plotly.src.replace(/"/g, "&quot;")}"></script>`;
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(fig.title)}</title>
<style>html,body{margin:0;padding:0;background:white;overflow:hidden}</style>
${lib}</head>
<body><div id="fig" style="width:${w}px;height:${h}px"></div>
<script>
const fig = ${figureJson(fig.figure)};
Plotly.newPlot("fig", fig.data, fig.layout, {staticPlot: true, displaylogo: false});
</script></body></html>
`;
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}
