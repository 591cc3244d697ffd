/**
 * Rendering: the plotly bundle (read from the npm package folder, never imported: it needs a
 * DOM), self-contained figure pages, and PNG files through headless Chromium when installed.
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
  for (const f of ["plotly.min.js", "dist/plotly.min.js", "plotly.js", "dist/plotly.js"]) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Path of the plotly.js bundle of the `plotly.js-dist` npm package (plotly.min.js when the
 * package has it, else plotly.js). Looks where the import map resolves the package, then in
 * the repository's node_modules (including node_modules/.deno/plotly.js-dist@* folders).
 * Throws a one-line error when the package is not installed.
 */
export function plotlyJsPath(): string {
  const tried: string[] = [];
  // The minified build (plotly.js-dist-min, ~4.6 MB) first; plotly.js-dist ships only the
  // unminified bundle (~11 MB), used when the minified package is absent.
  for (const pkg of ["plotly.js-dist-min", "plotly.js-dist"]) {
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
      const nm = fromFileUrl(new URL("../../node_modules/", import.meta.url));
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
      `expected the npm package plotly.js-dist — run 'deno install' in the repository`,
  );
}

/** The plotly.js bundle's path and source text (for inlining into HTML). */
export async function readPlotlyJs(): Promise<{ path: string; source: string }> {
  const path = plotlyJsPath();
  return { path, source: await Deno.readTextFile(path) };
}

/** Make JavaScript or JSON safe inside an inline `<script>` element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** The JSON of a figure, safe to embed in a `<script>` element. */
export function figureJson(fig: PlotlyFigure): string {
  return scriptSafe(JSON.stringify(fig)).replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
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

/** A Chromium binary on PATH (chromium, chromium-browser, google-chrome), or null. */
export function findChromium(): string | null {
  let path = "";
  try {
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

/** Options of {@link renderPngs}. */
export interface PngOptions {
  /** Progress and skip messages. */
  log?: (line: string) => void;
  /** Chromium binary (default {@link findChromium}). */
  chromium?: string | null;
  /** Seconds before one screenshot is abandoned (default 90). */
  timeoutSeconds?: number;
  /** File name prefix (e.g. the dataset section's slug). */
  prefix?: string;
}

/**
 * Render figures to `<dir>/<prefix><id>.png` with headless Chromium. Never throws for a missing
 * or failing Chromium: it logs "PNG skipped: <reason>" and returns the files it did write.
 */
export async function renderPngs(
  figs: readonly NamedFigure[],
  dir: string,
  opts: PngOptions = {},
): Promise<string[]> {
  const log = opts.log ?? (() => {});
  if (!figs.length) return [];
  const chromium = opts.chromium === undefined ? findChromium() : opts.chromium;
  if (!chromium) {
    log("PNG skipped: no Chromium on PATH (chromium or chromium-browser); figures are in the HTML");
    return [];
  }
  let plotly: string;
  try {
    plotly = plotlyJsPath();
  } catch (e) {
    log(`PNG skipped: ${(e as Error).message}`);
    return [];
  }
  const written: string[] = [];
  const tmp = await Deno.makeTempDir({ prefix: "cmh-png-" });
  try {
    await Deno.mkdir(dir, { recursive: true });
    for (const f of figs) {
      const html = join(tmp, `${f.id}.html`);
      const png = join(dir, `${opts.prefix ?? ""}${f.id}.png`);
      await Deno.writeTextFile(html, figurePage(f, { src: `file://${plotly}` }));
      const w = Number(f.figure.layout.width ?? 1100), h = Number(f.figure.layout.height ?? 600);
      const profile = await Deno.makeTempDir({ prefix: "cmh-chromium-", dir: tmp });
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), (opts.timeoutSeconds ?? 90) * 1000);
      let reason = "";
      try {
        const out = await new Deno.Command(chromium, {
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            `--user-data-dir=${profile}`,
            `--window-size=${w},${h}`,
            "--virtual-time-budget=15000",
            `--screenshot=${png}`,
            `file://${html}`,
          ],
          stdout: "piped",
          stderr: "piped",
          signal: ctl.signal,
        }).output();
        const size = await Deno.stat(png).then((s) => s.size, () => 0);
        if (!out.success || size === 0) {
          const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean).pop();
          reason = `chromium exited with code ${out.code}${err ? ` (${err})` : ""}`;
        }
      } catch (e) {
        reason = ctl.signal.aborted
          ? `chromium took longer than ${opts.timeoutSeconds ?? 90}s`
          : `chromium failed to start (${(e as Error).message})`;
      } finally {
        clearTimeout(timer);
      }
      if (reason) {
        log(`PNG skipped: ${reason} on figure ${f.id}; remaining figures not rendered`);
        break;
      }
      written.push(png);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return written;
}
