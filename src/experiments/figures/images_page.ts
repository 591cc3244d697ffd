/**
 * The page that headless Chromium renders figures with: {@link imagesPage} draws figures to
 * data URLs with `Plotly.toImage`, and {@link parseImagesDom} decodes the dumped DOM into SVG
 * text (the same on every run, {@link stableSvg}) and PNG bytes.
 *
 * @module
 */
import { figureJson } from "./page.ts";
import type { PlotlyFigure } from "./series.ts";

/** A static image format. */
export type ImageFormat = "svg" | "png";

/** The static images of one figure. */
export interface FigureImages {
  /** The SVG document (text), when asked for. */
  svg?: string;
  /** The PNG file's bytes, when asked for. */
  png?: Uint8Array;
}

/** Default size of a figure whose layout has none. */
function sizeOf(fig: PlotlyFigure): { w: number; h: number } {
  return { w: Number(fig.layout.width ?? 900), h: Number(fig.layout.height ?? 500) };
}

/**
 * The page that renders figures to data URLs with `Plotly.toImage` (trace uids fixed so the
 * SVG is the same on every run) and writes them, as JSON, into `<pre id="out">`, with "ok" or
 * the error in `<pre id="status">`: Chromium's `--dump-dom` prints it.
 */
export function imagesPage(
  figs: readonly PlotlyFigure[],
  plotlySrc: string,
  formats: readonly ImageFormat[],
  scale: number,
): string {
  const items = figs.map((f) => {
    const { w, h } = sizeOf(f);
    return `{"w":${w},"h":${h},"fig":${figureJson(f)}}`;
  });
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>figures</title>
<style>html,body{margin:0;padding:0;background:white}</style>
<script src="${plotlySrc.replace(/"/g, "&quot;")}"></script></head>
<body><pre id="status">running</pre><pre id="out"></pre>
<script>
const items = [${items.join(",\n")}];
const formats = ${JSON.stringify(formats)};
(async () => {
  if (typeof Plotly === "undefined") throw new Error("plotly.js did not load");
  const out = [];
  for (const it of items) {
    const data = it.fig.data.map((t, i) => Object.assign({ uid: "t" + i }, t));
    const one = {};
    for (const format of formats) {
      one[format] = await Plotly.toImage({ data, layout: it.fig.layout }, {
        format, width: it.w, height: it.h, scale: format === "png" ? ${scale} : 1,
      });
    }
    out.push(one);
  }
  document.getElementById("out").textContent = JSON.stringify(out);
  document.getElementById("status").textContent = "ok";
})().catch((e) => {
  document.getElementById("status").textContent = "error: " + String(e && e.message || e);
});
</script></body></html>
`;
}

function unescapeText(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&nbsp;/g, "\u00a0")
    .replace(/&amp;/g, "&");
}

/** Base64 text of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Bytes of base64 text. */
export function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Plotly names the SVG's clip paths and definitions after a random id per render, and writes
 * some elements' attributes in either order from run to run: fix the id and sort every
 * element's attributes (dropping empty `style`), so that the same figure gives the same file on
 * every run.
 */
export function stableSvg(svg: string): string {
  const m = /<defs id="defs-([0-9a-z]+)"/.exec(svg);
  const fixed = m ? svg.split(m[1]).join("fig") : svg;
  return fixed.replace(
    /<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")+)\s*(\/?)>/g,
    (_, tag: string, attrs: string, close: string) => {
      const list = [...attrs.matchAll(/([\w:.-]+)="([^"]*)"/g)]
        .filter((a) => !(a[1] === "style" && a[2] === ""))
        .map((a) => `${a[1]}="${a[2]}"`)
        .sort();
      return `<${tag}${list.length ? " " + list.join(" ") : ""}${close}>`;
    },
  );
}

/** Decode the `<pre id="out">` payload of a dumped {@link imagesPage}. */
export function parseImagesDom(dom: string, count: number): FigureImages[] | string {
  const status = /<pre id="status">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
  if (status === undefined) return "the page did not load";
  if (status !== "ok") {
    return status === "running"
      ? "the page did not finish rendering"
      : unescapeText(status).slice(0, 300);
  }
  const out = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? "";
  let parsed: Record<string, string>[];
  try {
    parsed = JSON.parse(unescapeText(out));
  } catch (e) {
    return `unreadable page output (${(e as Error).message})`;
  }
  if (!Array.isArray(parsed) || parsed.length !== count) {
    return `expected ${count} rendered figures, got ${Array.isArray(parsed) ? parsed.length : 0}`;
  }
  return parsed.map((o) => {
    const one: FigureImages = {};
    if (typeof o.svg === "string") {
      const body = o.svg.replace(/^data:image\/svg\+xml(;charset=utf-8)?,/, "");
      one.svg = stableSvg(decodeURIComponent(body));
    }
    if (typeof o.png === "string") {
      one.png = fromBase64(o.png.replace(/^data:image\/png;base64,/, ""));
    }
    return one;
  });
}
