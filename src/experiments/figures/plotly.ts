/**
 * The plotly.js bundles: which one a set of figures needs ({@link bundleFor}) and where it is
 * ({@link plotlyJsPath}); they are read from the npm package folders, never imported (plotly.js
 * needs a DOM).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { PlotlyFigure } from "./series.ts";

/** Whether `path` is an existing file. */
export function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The path of a plotly.js bundle file in a package folder `dir`, or undefined. */
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
