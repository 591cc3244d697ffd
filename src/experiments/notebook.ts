/**
 * Display helpers for Deno's Jupyter kernel, shared by the notebooks: a table as HTML (with a
 * Markdown fallback) and a plotly figure as `application/vnd.plotly.v1+json` (drawn by
 * JupyterLab's plotly extension or VS Code) together with a static SVG and PNG image rendered by
 * headless Chromium, so that GitHub and nbviewer, which do not run plotly, show the figure too.
 * Without Chromium the figure is shown interactive only, with a note in its text fallback.
 * Outside the kernel they print text instead.
 *
 * The ablation sections of notebooks 02 and 03 ({@link showAblationSection}) show the data of
 * src/experiments/ablation_evidence.ts and the verdict of src/experiments/module_verdict.ts with
 * these helpers.
 *
 * Env `HASH_NOTEBOOK_IMAGES=off` skips the static images (faster; GitHub then shows only the
 * note).
 *
 * @module
 */
import * as aq from "./report/arquero.ts";
import { type FigureImages, type PlotlyFigure, renderImages, toBase64 } from "./figures/mod.ts";
import type { AblationSection } from "./ablation_evidence.ts";
import { type ControlReading, formatControlReading, moduleVerdict } from "./module_verdict.ts";
import { comparisonMde, PRIMARY_BITS } from "./report/paired.ts";
import { formatDiff, formatEffect, formatP } from "./stats.ts";
import { readEnv } from "../io.ts";

/** Anything that renders itself as HTML and Markdown (an arquero table). */
export interface RenderableTable {
  /** The table as HTML. */
  toHTML(): string;
  /** The table as Markdown. */
  toMarkdown(): string;
}

function inKernel(): boolean {
  // Outside `deno jupyter`, reading Deno.jupyter throws (Deno 2.9) instead of giving undefined.
  try {
    return typeof (Deno as { jupyter?: unknown }).jupyter !== "undefined";
  } catch {
    return false;
  }
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
 * The display bundles of plotly figures ({@link figureBundle}), their static SVG and PNG images
 * rendered with one headless Chromium run when Chromium is available (else interactive only,
 * with a note), for showing later with {@link showBundles} — e.g. the figures of several
 * notebook sections rendered at once and shown one section at a time. Outside the kernel
 * nothing is rendered: each bundle is the figure's title as text.
 */
export async function figureBundles(
  figs: readonly PlotlyFigure[],
  opts: ShowFigureOptions = {},
): Promise<Record<string, unknown>[]> {
  if (!inKernel()) return figs.map((f) => ({ "text/plain": `[plotly figure: ${figureTitle(f)}]` }));
  const wanted = opts.images ?? readEnv("HASH_NOTEBOOK_IMAGES") !== "off";
  const r = wanted && figs.length
    ? await renderImages(figs, { chromium: opts.chromium, formats: ["svg", "png"] })
    : { ok: false as const, reason: "static images turned off (HASH_NOTEBOOK_IMAGES=off)" };
  return figs.map((f, i) => figureBundle(f, r.ok ? r.images[i] : { reason: r.reason }));
}

/** Show display bundles made by {@link figureBundles} (outside the kernel: their text). */
export async function showBundles(bundles: readonly Record<string, unknown>[]): Promise<void> {
  for (const b of bundles) {
    if (!inKernel()) console.log(b["text/plain"]);
    else await Deno.jupyter.display(b, { raw: true });
  }
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
  await showBundles(await figureBundles(figs, opts));
}

/** Show one plotly figure ({@link showFigures}). */
export async function showFigure(fig: PlotlyFigure, opts: ShowFigureOptions = {}): Promise<void> {
  await showFigures([fig], opts);
}

/** The display bundles of one ablation section's figures ({@link ablationFigureBundles}). */
export interface AblationBundles {
  /** The precision-recall curves of full and ablation. */
  pr: Record<string, unknown>;
  /** One per diagnostics panel, in the order of the section's `diagnostics`. */
  diagnostics: Record<string, unknown>[];
}

/**
 * The figures of several ablation sections ({@link AblationSection}) rendered with one headless
 * Chromium run ({@link figureBundles}): per section name, the display bundle of its PR curves
 * and those of its diagnostics figures.
 */
export async function ablationFigureBundles(
  sections: Readonly<Record<string, AblationSection>>,
  opts: ShowFigureOptions = {},
): Promise<Record<string, AblationBundles>> {
  const figs = Object.values(sections).flatMap((s) => [
    s.pr.figure,
    ...s.diagnostics.map((d) => d.figure.figure),
  ]);
  const bundles = await figureBundles(figs, opts);
  let i = 0;
  return Object.fromEntries(
    Object.entries(sections).map(([name, s]) => [name, {
      pr: bundles[i++],
      diagnostics: s.diagnostics.map(() => bundles[i++]),
    }]),
  );
}

/** The manipulation check's line: is the module active in the full model. */
function checkLine(s: AblationSection): string {
  const c = s.check;
  return `manipulation check (full model): ${
    c
      ? `${c.active ? "module active" : "module inactive — no verdict"} (${c.evidence})`
      : "not recorded in these cells — no verdict"
  }`;
}

/** The primary contrast's line (the number the verdict reads), or undefined without one. */
function primaryLine(s: AblationSection): string | undefined {
  const p = s.primary;
  if (!p) return undefined;
  const read = p.check?.active === true;
  return `primary contrast (${PRIMARY_BITS} bits, mean of I→T and T→I, ${p.c.n} seeds): Δ ` +
    `${formatDiff(p.c)}, p ${
      read ? `${formatP(p.pHolm)} (Holm over the ${p.familySize} active modules)` : "— (not read)"
    }, MDE ${formatEffect(comparisonMde(p.c))}`;
}

/**
 * Show one ablation section, in the order a reader needs to judge it: (1) the manipulation
 * check of the module in the full model (is it active: a verdict is read only then); (2) its
 * positive control in the mechanism study (`control`, from `controlReading`: can the design
 * detect an effect of this module at all); (3) the effect: which cells the comparison uses, the
 * primary contrast, the paired table (ablation − full, 95% CI, MDE) and the PR curves; (4) the
 * diagnostics that show the mechanism, each table at the selected epoch (mean over seeds, "—"
 * where a setting has no such module) followed by its figure per epoch; (5) the verdict
 * (`moduleVerdict`). `bundles` come from {@link ablationFigureBundles}.
 */
export async function showAblationSection(
  s: AblationSection,
  bundles: AblationBundles,
  control: ControlReading,
): Promise<void> {
  console.log(checkLine(s));
  console.log(formatControlReading(control));
  console.log(`paired comparison: ${s.evidence.description}`);
  const primary = primaryLine(s);
  if (primary) console.log(primary);
  await showTable(s.table.display);
  await showBundles([bundles.pr]);
  for (const [i, d] of s.diagnostics.entries()) {
    const from = d.source === "committed" ? "the committed result files" : "the short live run";
    console.log(`diagnostics at the selected epoch, ${from} (mean over seeds):`);
    await showTable(aq.from(d.selected.map((r) => ({
      setting: r.setting,
      seeds: r.seeds,
      ...Object.fromEntries(
        Object.entries(r.values).map(([k, v]) => [k, v === null ? "—" : v.toFixed(4)]),
      ),
    }))));
    await showBundles([bundles.diagnostics[i]]);
  }
  const v = moduleVerdict({ source: s.evidence.source, primary: s.primary, control });
  console.log(`verdict: ${v.label}${v.detail ? ` (${v.detail})` : ""}`);
}
