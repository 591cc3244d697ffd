/**
 * The help text of `deno task reproduce` (`--help`): every option of the table in
 * reproduce_options.ts, with its default.
 *
 * @module
 */
import { BACKEND_NAMES } from "../accel/backend.ts";

/** What `deno task reproduce --help` prints. */
export const REPRODUCE_HELP = `deno task reproduce [options]

Runs a grid of experiments (dataset x method x ablation x code length x seed), writes one
result JSON per cell (finished cells are skipped on rerun), then the tables (Markdown, CSV,
HTML) and figures (HTML; SVG and PNG when Chromium is installed) into the output directory.
Before the grid starts it prints an estimated duration (from finished cells in the output
directory, else from costs measured on a 2-core machine): an estimate, not a promise.

With no options: the built-in default — synthetic data, CPAH and DFAH with every ablation, the
baselines DCMH, SCM-Seq, SCM-Orth, CMFH and random projection, 16/32/64 bits, seed 1, 6 epochs
(measured on 2 idle cores: 4 min 12 s with OpenBLAS, 9 min 33 s without).

Options
  --dataset NAME     synthetic | wikipedia | mirflickr25k | mirflickr25k-simimg | nuswide |
                     mscoco | iapr                                   (default synthetic)
                     or npy:DIR, a folder of your arrays: image.npy, text.npy, labels.npy
                     and an optional split.json (docs/data.md, "Bring your own data")
  --variant NAME     dataset variant: wikipedia lda | tfidf            (default: the first)
  --split NAME       fixed | first | last | permutation  (default: fixed for wikipedia,
                     permutation otherwise; fixed only for wikipedia and for an npy:DIR
                     whose split.json lists rows)
  --data-dir DIR     real data directory (default: env HASH_DATA_DIR, else data/)
  --bits LIST        code lengths, e.g. 16,32,64                       (default 16,32,64)
                     CPAH takes 16, 32, 64, 128 (the papers' lengths); for other lengths add
                     --set anyBits=true. DFAH and random take any length >= 1.
  --methods LIST     cpah,dfah and/or random (random-projection baseline)
                                                                       (default cpah,dfah,random)
  --ablations LIST   all, or a list of full and flag names: full,noCR,noAdversary,noMultiTask,
                     relaxed (CPAH), full,noFusion,noAdversary,relaxed (DFAH)  (default all)
  --seeds LIST       seeds, e.g. 1,2,3                                 (default 1)
  --epochs N         training epochs per cell        (default: each method's default for the
                     dataset, from its config in src/models/<method>/config.ts)
  --batch-size N     override the methods' batch size (default: the methods' configs)
  --set KEY=VALUE    set a config field of the methods that have it, e.g.
                     --set normalization=perItem (repeatable; part of each cell's id)
  --data KEY=VALUE   a setting of the synthetic data generator (SyntheticOptions in
                     src/datasets/synthetic.ts), e.g. --data shift=2 --data disagreement=0.2
                     (repeatable; synthetic only; part of each cell's id and of the default
                     --out; settings equal to the defaults are dropped)
  --eval-every N     validation MAP every N epochs (0 = none)          (default 1)
  --backend NAME     ${BACKEND_NAMES.join(" | ")}  (default: env HASH_BACKEND, else wasm)
  --out DIR          results directory   (default results/<dataset>[-KEY=VALUE...])
  --save             keep each cell's trained model, its query/database codes (int8 ±1 .npy),
                     labels (uint8 .npy) and split indices in <out>/saved/<cell id>/
                     (docs/saved-models.md; query them with 'deno task search')
  --quick            smoke run: 16 bits, 2 epochs, full models only
  --no-png           skip the SVG and PNG figures even when Chromium is available
  -h, --help         this text (wins over every other option)
  --version          the toolkit's version

On a Slurm cluster (the repository, --out and the data directory on a shared filesystem)
  --slurm            write an sbatch job-array script (one task per shard of cells) and a
                     report script into <out>/slurm/, submit the array, then the report with
                     --dependency=afterany; resubmitting the same command runs only the
                     cells that have no result yet
  --dry-run          with --slurm: print the two scripts, submit nothing
  --partition NAME   --time T   --cpus N   --mem M      per-task sbatch settings
                     (default: cluster defaults; 1 CPU)
  --sbatch-arg FLAG  one extra sbatch flag, e.g. --sbatch-arg=--account=abc (repeatable)
  --shard-size N     cells per array task                              (default 1)
  --max-parallel N   at most N array tasks at once
  --shard I          run only shard I of the grid (what each array task does)
  --report-only      write the tables and figures from the result files that exist
`;
