/**
 * The help text of `deno task reproduce` (`--help`), generated: the methods, their ablations,
 * code lengths and epochs from the registry (src/models/mod.ts), the datasets and variants from
 * the dataset table (src/datasets/datasets.ts), the presets from reproduce_options.ts. Adding a
 * method or a dataset changes the help and nothing else.
 *
 * @module
 */
import { BACKEND_NAMES } from "../accel/backend.ts";
import { DATASET_NAMES, DATASET_VARIANTS } from "../datasets/datasets.ts";
import { DEFAULT_GRID_METHODS, isTrainable, METHOD_NAMES, METHODS } from "../models/mod.ts";
import { DEFAULT_RUN_EPOCHS, defaultPreset, PRESET_NAMES, PRESETS } from "./reproduce_options.ts";
import { GENERATED_DATASETS } from "./spec.ts";

const WIDTH = 96;
const INDENT = " ".repeat(21);

/** `text` wrapped to the help's width, every line after the first indented by `indent`. */
function wrap(text: string, indent = INDENT, first = ""): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const sep = line.trim() === "" ? "" : " ";
    if ((line + sep + word).length > WIDTH && line.trim() !== "") {
      lines.push(line);
      line = indent + word;
    } else line += sep + word;
  }
  lines.push(line);
  return lines.join("\n");
}

/** One option's entry: its name column and its wrapped description. */
function option(name: string, text: string): string {
  const column = INDENT.length - 3;
  if (name.length > column) return `  ${name}\n${wrap(text, INDENT, INDENT)}`;
  return wrap(text, INDENT, `  ${name.padEnd(column)}`);
}

/** A method's epochs by dataset, grouped: "30 on synthetic; 100 on wikipedia, ...". */
function epochsByDataset(name: keyof typeof METHODS): string {
  const by = new Map<number, string[]>();
  for (const d of DATASET_NAMES) {
    const bits = METHODS[name].codeLengths?.[0] ?? 16;
    const e = (METHODS[name].config(d, bits) as { epochs?: number }).epochs ?? 0;
    by.set(e, [...(by.get(e) ?? []), d]);
  }
  if (by.size === 1) return `${[...by.keys()][0]}`;
  return [...by].map(([e, ds]) => `${e} on ${ds.join(", ")}`).join("; ");
}

/** The method table: one entry per registered method. */
function methodLines(): string {
  return METHOD_NAMES.map((m) => {
    const e = METHODS[m];
    const parts = [
      `${e.label}, ${e.kind}${e.defaultGrid ? "" : " (not in the default grid)"}.`,
      e.ablations.length
        ? `Ablations: ${e.ablations.map((a) => a.flag).join(", ")}.`
        : "No ablations.",
      `Code lengths: ${e.codeLengths ? e.codeLengths.join(", ") : "any >= 1"}.`,
      isTrainable(e) ? `Own epochs (paper preset): ${epochsByDataset(m)}.` : "",
    ];
    return option(m, parts.filter(Boolean).join(" "));
  }).join("\n");
}

/** The text `deno task reproduce --help` prints. */
export function reproduceHelp(): string {
  const datasets = DATASET_NAMES.map((d) =>
    `${d}${DATASET_VARIANTS[d] ? ` (variants ${DATASET_VARIANTS[d]!.join(", ")})` : ""}`
  );
  const presets = PRESET_NAMES.map((p) =>
    option(
      `  ${p}`,
      `${PRESETS[p].description}${
        p === defaultPreset(GENERATED_DATASETS[0])
          ? " (default on generated data: what a bare 'deno task reproduce' runs)"
          : p === defaultPreset("wikipedia")
          ? " (default on datasets read from files)"
          : ""
      }`,
    )
  ).join("\n");
  const cpahLengths = METHODS.cpah.codeLengths?.join(", ");
  return `deno task reproduce [options]

${
    wrap(
      "Runs a grid of experiments (dataset x method x ablation x code length x seed), writes one " +
        "result JSON per cell (finished cells are skipped on rerun), then the tables (Markdown, " +
        "CSV, HTML) and figures (HTML; SVG and PNG when Chromium is installed) of every result " +
        "file in the output directory, whichever run wrote it. Runs into one directory add to " +
        "it: no file of another run is deleted, and two runs at once both end up in the report. " +
        "It prints the settings in effect, warns when the directory holds cells of other " +
        "settings, and prints an estimated duration before the grid starts.",
      "",
    )
  }

${
    wrap(
      `With no options: preset quick on synthetic data — the default-grid methods ` +
        `(${DEFAULT_GRID_METHODS.join(", ")}), ${PRESETS.quick.description} (measured on 2 ` +
        `cores: 3 min 23 s with OpenBLAS, idle; 12 min 31 s without, beside another job). ` +
        `Every option combines ` +
        `with the preset: --no-png or --out change no cell, --seeds only the seeds.`,
      "",
    )
  }

Presets (--preset NAME)
${presets}

Methods (--methods; registry: src/models/mod.ts)
${methodLines()}

Options
${option("--preset NAME", `${PRESET_NAMES.join(" | ")}; see above`)}
${option("--quick", "the same as --preset smoke")}
${
    option(
      "--dataset NAME",
      `${datasets.join(" | ")} (default synthetic), or npy:DIR, a folder of your arrays: ` +
        "image.npy, text.npy, labels.npy and an optional split.json (docs/data.md, " +
        '"Bring your own data")',
    )
  }
${option("--variant NAME", "dataset variant (default: the first listed)")}
${
    option(
      "--split NAME",
      "fixed | first | last | permutation (default: fixed for wikipedia, permutation " +
        "otherwise; fixed only for wikipedia and for an npy:DIR whose split.json lists rows)",
    )
  }
${option("--data-dir DIR", "real data directory (default: env HASH_DATA_DIR, else data/)")}
${
    option(
      "--bits LIST",
      `code lengths, e.g. 16,32,64 (default: the preset's). CPAH takes ${cpahLengths} unless ` +
        "--set anyBits=true.",
    )
  }
${
    option(
      "--methods LIST",
      `any of ${METHOD_NAMES.join(", ")} (default: the default grid, ` +
        `${DEFAULT_GRID_METHODS.join(",")})`,
    )
  }
${
    option(
      "--ablations LIST",
      "all, or full and ablation names (listed per method above), applied to the methods " +
        "that have them (default: the preset's)",
    )
  }
${option("--seeds LIST", "seeds, e.g. 1,2,3 (default: the preset's)")}
${
    option(
      "--epochs N",
      `training epochs of the trained methods (default: the preset's; quick ` +
        `${DEFAULT_RUN_EPOCHS}, paper each method's own, listed above)`,
    )
  }
${option("--batch-size N", "override the methods' batch size (default: the methods' configs)")}
${
    option(
      "--set KEY=VALUE",
      "set a config field of the methods that have it, e.g. --set normalization=perItem " +
        "(repeatable; part of each cell's id)",
    )
  }
${
    option(
      "--data KEY=VALUE",
      "a setting of the synthetic data generator (SyntheticOptions in " +
        "src/datasets/synthetic.ts), e.g. --data shift=2 (repeatable; synthetic only; part of " +
        "each cell's id and of the default --out; settings equal to the defaults are dropped)",
    )
  }
${option("--eval-every N", "validation MAP every N epochs (0 = none) (default 1)")}
${
    option(
      "--backend NAME",
      `${BACKEND_NAMES.join(" | ")} (default: env HASH_BACKEND, else wasm). OpenBLAS ` +
        "kernels: env HASH_BLAS=auto|on|off, HASH_BLAS_THREADS=N (1 on a busy machine). A " +
        "finished cell computed with BLAS on is not reused by a run with it off, nor the " +
        "reverse: the run stops with one line naming both.",
    )
  }
${
    option(
      "--reuse-other-kernels",
      "reuse such cells as they are instead of stopping (a directory that already mixes " +
        "kernel paths); each one is logged",
    )
  }
${option("--out DIR", "results directory (default results/<dataset>[-KEY=VALUE...])")}
${
    option(
      "--save",
      "keep each cell's trained model, its query/database codes, labels and split indices in " +
        "<out>/saved/<cell id>/ (docs/saved-models.md; query them with 'deno task search')",
    )
  }
${option("--no-png", "skip the SVG and PNG figures even when Chromium is available")}
${
    option(
      "--dry-run",
      "list the cells the command would run and those it would skip (finished); run and " +
        "write nothing (with --slurm: also print the two scripts, submit nothing)",
    )
  }
${
    option(
      "--report-only",
      "write the tables and figures from every result file in --out; run nothing",
    )
  }
${option("-h, --help", "this text (wins over every other option)")}
${option("--version", "the toolkit's version")}

On a Slurm cluster (the repository, --out and the data directory on a shared filesystem)
${
    option(
      "--slurm",
      "write an sbatch job-array script (one task per shard of cells) and a report script into " +
        "<out>/slurm/, submit the array, then the report with --dependency=afterany; " +
        "resubmitting the same command runs only the cells that have no result yet",
    )
  }
${
    option(
      "--partition NAME",
      "--time T, --cpus N, --mem M: per-task sbatch settings (default: cluster defaults; 1 CPU)",
    )
  }
${
    option(
      "--sbatch-arg FLAG",
      "one extra sbatch flag, e.g. --sbatch-arg=--account=abc (repeatable)",
    )
  }
${option("--shard-size N", "cells per array task (default 1)")}
${option("--max-parallel N", "at most N array tasks at once")}
${option("--shard I", "run only shard I of the grid (what each array task does)")}
`;
}
