/**
 * Rendering: the plotly bundles (read from the npm package folders, never imported: they need a
 * DOM), self-contained figure pages, and static SVG and PNG images through headless Chromium
 * when it is installed ({@link renderImages}: one Chromium run renders a whole batch of figures
 * with `Plotly.toImage`; {@link writeFigureImages} writes them as files).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { NamedFigure, PlotlyFigure } from "./series.ts";

// ---------------------------------------------------------------------------------------------
// Self-contained HTML and PNG
// ---------------------------------------------------------------------------------------------

export function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

export function bundleIn(dir: string): string | undefined {
  for (
    const f of [
      "plotly.min.js",
      "plotly-basic.min.js",
      "dist/plotly.min.js",
      "plotly.js",
      "dist/plotly.js",
    ]
  ) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Which plotly.js bundle: the full one, or the basic one (scatter, bar and pie traces only). */
export type PlotlyBundle = "full" | "basic";

/** The npm packages of each bundle, in order of preference. */
export const PLOTLY_PACKAGES: Record<PlotlyBundle, readonly string[]> = {
  // The minified build (plotly.js-dist-min, ~4.8 MB) first; plotly.js-dist ships only the
  // unminified bundle (~11 MB), used when the minified package is absent.
  full: ["plotly.js-dist-min", "plotly.js-dist"],
  // ~1.1 MB: scatter (lines, markers, error bars), bar and pie, with every layout component
  // (subplot grids, log axes, annotations, legends).
  basic: ["plotly.js-basic-dist-min"],
};

/** The trace types of the basic bundle. */
export const BASIC_TRACE_TYPES: ReadonlySet<string> = new Set(["scatter", "bar", "pie"]);

/** The smallest bundle that draws every trace of `figs` ("basic" when all are scatter/bar/pie). */
export function bundleFor(figs: readonly PlotlyFigure[]): PlotlyBundle {
  const basic = figs.every((f) =>
    f.data.every((t) => BASIC_TRACE_TYPES.has(String(t.type ?? "scatter")))
  );
  return basic ? "basic" : "full";
}

/**
 * Path of a plotly.js bundle: `full` from the `plotly.js-dist-min` npm package (else
 * `plotly.js-dist`), `basic` from `plotly.js-basic-dist-min`. Looks where the import map
 * resolves the package, then in the repository's node_modules (including
 * node_modules/.deno/<package>@* folders). Throws a one-line error when it is not installed.
 */
export function plotlyJsPath(bundle: PlotlyBundle = "full"): string {
  const tried: string[] = [];
  for (const pkg of PLOTLY_PACKAGES[bundle]) {
    try {
      const url = import.meta.resolve(pkg);
      if (url.startsWith("file:")) {
        const dir = dirname(fromFileUrl(url));
        tried.push(dir);
        const p = bundleIn(dir);
        if (p) return p;
      }
    } catch { /* not in the import map */ }
    if (import.meta.url.startsWith("file:")) {
      const nm = fromFileUrl(new URL("../../../node_modules/", import.meta.url));
      const direct = join(nm, pkg);
      tried.push(direct);
      const p = bundleIn(direct);
      if (p) return p;
      try {
        const names = [...Deno.readDirSync(join(nm, ".deno"))]
          .map((e) => e.name).filter((n) => n.startsWith(`${pkg}@`)).sort().reverse();
        for (const n of names) {
          const dir = join(nm, ".deno", n, "node_modules", pkg);
          tried.push(dir);
          const q = bundleIn(dir);
          if (q) return q;
        }
      } catch { /* no .deno folder */ }
    }
  }
  throw new Error(
    `plotly.js bundle not found (looked in ${tried.join(", ") || "nothing resolvable"}); ` +
      `expected the npm package ${PLOTLY_PACKAGES[bundle][0]} — run 'deno install' in the ` +
      `repository`,
  );
}

/** A plotly.js bundle's path and source text (for inlining into HTML). */
export async function readPlotlyJs(
  bundle: PlotlyBundle = "full",
): Promise<{ path: string; source: string }> {
  const path = plotlyJsPath(bundle);
  return { path, source: await Deno.readTextFile(path) };
}

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

/** A Chromium binary: env `HASH_CHROMIUM` when set, else the first of chromium, chromium-browser, google-chrome on PATH; or null. */
export function findChromium(): string | null {
  let path = "";
  try {
    const explicit = Deno.env.get("HASH_CHROMIUM");
    if (explicit) return explicit === "off" ? null : explicit;
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return null;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    for (const dir of path.split(":").filter(Boolean)) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** Why static images cannot be rendered here, or null when Chromium and plotly.js are present. */
export function imagesUnavailable(chromium: string | null = findChromium()): string | null {
  if (!chromium) {
    return "no Chromium on PATH (Debian: apt-get install chromium fonts-liberation; or set " +
      "HASH_CHROMIUM)";
  }
  try {
    plotlyJsPath("full");
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** A static image format. */
export type ImageFormat = "svg" | "png";

/** The static images of one figure. */
export interface FigureImages {
  /** The SVG document (text), when asked for. */
  svg?: string;
  /** The PNG file's bytes, when asked for. */
  png?: Uint8Array;
}

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

/** Flags of a headless Chromium run that talks to nothing but the files it is given. */
export function chromiumArgs(profile: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    `--user-data-dir=${profile}`,
  ];
}

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
      await Deno.writeTextFile(files.svg, img.svg);
    }
    if (img.png !== undefined) {
      files.png = `${base}.png`;
      await Deno.writeFile(files.png, img.png);
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
