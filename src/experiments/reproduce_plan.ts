/**
 * What a `deno task reproduce` command is about to do, in words: the settings in effect (preset,
 * grid, kernels, output), the cells of the output directory that are of other settings, and the
 * cells it would run and skip (`--dry-run`).
 *
 * @module
 */
import { kernelPath, plannedKernelPath } from "../accel/backend.ts";
import { readEnv } from "../io.ts";
import { isTrainable, METHODS } from "../models/mod.ts";
import { plural } from "./estimate.ts";
import type { CellResult } from "./results.ts";
import type { ReproduceCli } from "./reproduce_options.ts";
import { PRESETS } from "./reproduce_options.ts";
import { cellId, type ExperimentSpec } from "./spec.ts";

/** "6", or per method when they differ: "cpah 100, dfah 60"; "none" when nothing is trained. */
export function epochsText(specs: readonly ExperimentSpec[]): string {
  const by = new Map<string, number>();
  for (const s of specs) if (s.epochs > 0) by.set(s.method, s.epochs);
  const distinct = new Set(by.values());
  if (distinct.size === 0) return "none (no trained method)";
  if (distinct.size === 1) return String([...distinct][0]);
  return [...by].map(([m, e]) => `${m} ${e}`).join(", ");
}

/** The settings in effect, one per line: what the run prints before anything else. */
export function settingsText(cli: ReproduceCli): string {
  const g = cli.grid;
  const p = cli.preset;
  const presetWhy = p.given ? "--preset" : "the default on this dataset";
  const blas = readEnv("HASH_BLAS");
  const threads = readEnv("HASH_BLAS_THREADS");
  const kernels = `${plannedKernelPath(g.backend)} (HASH_BLAS ${blas ?? "unset: auto"}` +
    (plannedKernelPath(g.backend).endsWith("+BLAS")
      ? `, HASH_BLAS_THREADS ${threads ?? "unset: the library's default"})`
      : ")");
  const rows: [string, string][] = [
    ["dataset", `${g.datasets.join(", ")}${g.variant ? ` (${g.variant})` : ""}, split ${g.split}`],
    ["methods", g.methods.join(", ")],
    ["ablations", g.ablations === "all" ? "all" : g.ablations.join(", ")],
    ["bits", g.bits.join(", ")],
    ["seeds", g.seeds.join(", ")],
    ["epochs", epochsText(cli.specs)],
    ["kernels", kernels],
  ];
  if (g.overrides) {
    rows.push(["--set", Object.entries(g.overrides).map(([k, v]) => `${k}=${v}`).join(", ")]);
  }
  if (g.data) rows.push(["--data", Object.entries(g.data).map(([k, v]) => `${k}=${v}`).join(", ")]);
  rows.push(["output", `${cli.out}/ (${plural(cli.specs.length, "cell")})`]);
  const lines = [
    `reproduce: preset ${p.name} (${presetWhy}: ${PRESETS[p.name].description})`,
    ...rows.map(([k, v]) => `  ${k.padEnd(10)} ${v}`),
  ];
  lines.push(
    cli.changed.length
      ? `  set by options: ${cli.changed.join(", ")}; the rest from the preset`
      : "  every setting from the preset",
  );
  return lines.join("\n");
}

/** The settings of a cell that are not its place in the grid (method, ablation, bits, seed). */
function settingsOf(s: ExperimentSpec, kernels: string, withEpochs: boolean): [string, string][] {
  const out: [string, string][] = [
    ["dataset", `${s.dataset}${s.variant ? `-${s.variant}` : ""}`],
    ["split", s.split],
    ["kernels", kernels],
  ];
  if (withEpochs && isTrainable(METHODS[s.method] ?? { kind: "random" })) {
    out.push(["epochs", String(s.epochs)]);
  }
  for (const [k, v] of Object.entries(s.overrides ?? {})) out.push(["set", `${k}=${v}`]);
  for (const [k, v] of Object.entries(s.data ?? {})) out.push(["data", `${k}=${v}`]);
  if (!s.overrides) out.push(["set", "none"]);
  if (!s.data) out.push(["data", "none"]);
  return out;
}

/**
 * The warning printed when the output directory holds result files of other settings than
 * this run's (other epochs, kernels, dataset, --set or --data): how many, and which values; the
 * report covers them too. Undefined when there are none. Cells of other methods, code lengths
 * or seeds at the same settings are not "other settings".
 */
export function otherSettingsWarning(
  found: readonly CellResult[],
  specs: readonly ExperimentSpec[],
  out: string,
): string | undefined {
  const ids = new Set(specs.map(cellId));
  const key = (kv: [string, string][]) => JSON.stringify(kv.sort());
  const planned = (s: ExperimentSpec) => plannedKernelPath(s.backend);
  const mine = new Map<string, Set<string>>(); // method -> its settings (with epochs)
  const anyMethod = new Set<string>(); // settings without epochs
  const values = new Map<string, Set<string>>(); // field -> this run's values
  for (const s of specs) {
    const kv = settingsOf(s, planned(s), true);
    if (!mine.has(s.method)) mine.set(s.method, new Set());
    mine.get(s.method)!.add(key(kv));
    anyMethod.add(key(settingsOf(s, planned(s), false)));
    for (const [k, v] of kv) values.set(k, (values.get(k) ?? new Set()).add(v));
  }
  const other = new Map<string, Set<string>>();
  let count = 0;
  for (const r of found) {
    if (ids.has(cellId(r.spec))) continue;
    const kernels = kernelPath(r.backend);
    const same = mine.has(r.spec.method)
      ? mine.get(r.spec.method)!.has(key(settingsOf(r.spec, kernels, true)))
      : anyMethod.has(key(settingsOf(r.spec, kernels, false)));
    if (same) continue;
    count++;
    for (const [k, v] of settingsOf(r.spec, kernels, true)) {
      if (!values.get(k)?.has(v)) other.set(k, (other.get(k) ?? new Set()).add(v));
    }
  }
  if (!count) return undefined;
  const what = [...other].map(([k, vs]) => `${k} ${[...vs].sort().join(", ")}`).join("; ");
  return `reproduce: warning: ${out}/ holds ${plural(count, "cell")} of other settings than ` +
    `this run's (${what || "other epochs per method"}); the report covers every result file ` +
    `in it (use another --out to keep runs apart)`;
}

/** The cells a run would run and skip, as `--dry-run` prints them. */
export function dryRunText(
  todo: readonly ExperimentSpec[],
  skip: readonly ExperimentSpec[],
): string {
  const lines = [`dry run: would run ${plural(todo.length, "cell")}:`];
  for (const s of todo) lines.push(`  run  ${cellId(s)}`);
  lines.push(`dry run: would skip ${plural(skip.length, "finished cell")}:`);
  for (const s of skip) lines.push(`  skip ${cellId(s)}`);
  return lines.join("\n");
}
