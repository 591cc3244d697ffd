/**
 * `deno task search`: query a cell saved by `deno task reproduce --save`. Loads the saved model,
 * encodes the chosen query rows of the dataset with it, and prints the top-k database items by
 * Hamming distance to the saved database codes of the other (or the same) modality: database
 * index, dataset row, distance and labels. Every problem is one line naming the option.
 *
 * @module
 */
import {
  DATA_OPTIONS,
  HELP_OPTIONS,
  parseCliOptions,
  printedHelpOrVersion,
  runCli,
} from "../io.ts";
import { initBackend, parseBackendName } from "../accel/backend.ts";
import { loadDataset } from "../datasets/datasets.ts";
import { isNpyDataset, parseNpyDataset } from "../datasets/npy_dir.ts";
import { gatherRows } from "../datasets/matrix.ts";
import { hammingDistances, hammingRanking } from "../retrieval/metrics.ts";
import type { LabelMatrix, PackedCodes } from "../types.ts";
import { loadSavedCell, loadSavedModel, readSavedManifest, type SavedCell } from "./saved.ts";
import { TOOLKIT_VERSION } from "../version.ts";

const HELP = `deno task search --model DIR [options]

Ranks the database of a saved cell for query rows: the saved model encodes the query rows'
features (from the dataset), and the top-k database items by Hamming distance to the saved
database codes are printed (ties broken by database index), with their labels.

Options
  --model DIR        a saved cell: <out>/saved/<cell id> of 'deno task reproduce --save'
                     (required)
  --rows LIST        rows of the query set, e.g. 0,5,9 (0-based)              (default 0)
  --modality NAME    image | text: the queries' modality                    (default image)
  --target NAME      image | text: the database's modality  (default: the other modality)
  --k N              items per query                                          (default 10)
  --dataset NAME     the dataset the cell was trained on (default: the one saved.json names;
                     another name is refused); npy:DIR for a folder of arrays
  --data-dir DIR     real data directory (default: env HASH_DATA_DIR, else data/)
  --backend NAME     TensorFlow.js backend for encoding (default: the cell's)
  -h, --help         this text
  --version          the toolkit's version
`;

const OPTIONS = {
  model: { type: "string" },
  rows: { type: "string" },
  modality: { type: "string" },
  target: { type: "string" },
  k: { type: "string" },
  ...DATA_OPTIONS,
  ...HELP_OPTIONS,
} as const;

/** A modality of the codes. */
export type Modality = "image" | "text";

/** The options of a search (the CLI's, parsed). */
export interface SearchOptions {
  /** The saved cell's folder. */
  model: string;
  /** Query-set rows. */
  rows: number[];
  /** Modality of the queries. */
  modality: Modality;
  /** Modality of the database. */
  target: Modality;
  /** Items per query. */
  k: number;
  /** Dataset name given with --dataset (checked against the saved cell's). */
  dataset?: string;
  /** Data directory. */
  dataDir?: string;
  /** Backend for encoding (default: the saved cell's). */
  backend?: string;
}

function modality(v: string | undefined, name: string, fallback: Modality): Modality {
  if (v === undefined) return fallback;
  if (v !== "image" && v !== "text") {
    throw new Error(`--${name}: '${v}'; expected image or text`);
  }
  return v;
}

/** Parse and check the search CLI's argv (without touching any file). */
export function parseSearchCli(argv: string[]): SearchOptions {
  const v = parseCliOptions(argv, OPTIONS, "search") as Record<string, string | undefined>;
  if (v.model === undefined) throw new Error("--model: required (a folder <out>/saved/<cell id>)");
  const rows = (v.rows ?? "0").split(",").map((s) => s.trim());
  const parsedRows = rows.map((s) => {
    if (!/^[0-9]+$/.test(s)) {
      throw new Error(`--rows: '${s}' is not a row number (0-based rows of the query set)`);
    }
    return Number(s);
  });
  const kText = v.k ?? "10";
  if (!/^[0-9]+$/.test(kText) || Number(kText) < 1) {
    throw new Error(`--k: '${kText}' is not a positive integer`);
  }
  const mod = modality(v.modality, "modality", "image");
  return {
    model: v.model.replace(/\/+$/, "") || "/",
    rows: parsedRows,
    modality: mod,
    target: modality(v.target, "target", mod === "image" ? "text" : "image"),
    k: Number(kText),
    dataset: v.dataset,
    dataDir: v["data-dir"],
    backend: v.backend,
  };
}

/** One database item of a ranking. */
export interface SearchHit {
  /** Rank, from 1. */
  rank: number;
  /** Index in the database (row of the saved database arrays). */
  index: number;
  /** Row of the dataset. */
  datasetRow: number;
  /** Hamming distance to the query's code. */
  distance: number;
  /** Names of its labels. */
  labels: string[];
}

/** The ranking of one query row. */
export interface SearchQuery {
  /** Row of the query set. */
  row: number;
  /** Row of the dataset. */
  datasetRow: number;
  /** Names of its labels. */
  labels: string[];
  /** Bits in which the freshly encoded query code differs from the saved one (normally 0). */
  differsFromSaved: number;
  /** The top-k database items. */
  hits: SearchHit[];
}

/** What {@link search} found. */
export interface SearchResult {
  /** The saved cell's id. */
  id: string;
  /** Query and database modality. */
  modality: Modality;
  /** Database modality. */
  target: Modality;
  /** Database size. */
  database: number;
  /** One ranking per query row, in the order asked. */
  queries: SearchQuery[];
}

function labelNames(l: LabelMatrix, row: number, names: readonly string[]): string[] {
  const out: string[] = [];
  for (let c = 0; c < l.classes; c++) {
    if (l.data[row * l.classes + c]) out.push(names[c] ?? `label${c}`);
  }
  return out;
}

/** Bits in which row `i` of `a` and row `j` of `b` differ. */
function differingBits(a: PackedCodes, i: number, b: PackedCodes, j: number): number {
  let d = 0;
  for (let w = 0; w < a.words; w++) {
    let x = (a.data[i * a.words + w] ^ b.data[j * b.words + w]) >>> 0;
    while (x) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}

/**
 * Rank a saved cell's database for query rows: checks the options against the saved cell
 * (rows within the query set, k within the database, the dataset it was trained on), loads
 * the model and the dataset, encodes the rows, and ranks the saved database codes.
 */
export async function search(opts: SearchOptions): Promise<SearchResult> {
  const manifest = await readSavedManifest(opts.model).catch((e) => {
    throw new Error(`--model: ${(e as Error).message}`);
  });
  const nQuery = manifest.arrays.query_indices.shape[0];
  const nDb = manifest.arrays.database_indices.shape[0];
  const bad = opts.rows.find((r) => r >= nQuery);
  if (bad !== undefined) {
    throw new Error(`--rows: ${bad} is outside the query set (rows 0..${nQuery - 1})`);
  }
  if (opts.k > nDb) throw new Error(`--k: ${opts.k} is more than the ${nDb} database items`);
  const dsName = manifest.dataset.name;
  // npy:DIR names a user's folder by its path; the cell records npy:<folder name>.
  const npy = opts.dataset !== undefined && isNpyDataset(opts.dataset)
    ? parseNpyDataset(opts.dataset)
    : undefined;
  const given = npy?.name ?? opts.dataset;
  if (given !== undefined && given !== dsName) {
    throw new Error(`--dataset: the saved cell was trained on '${dsName}', not '${given}'`);
  }
  const backend = parseBackendName(opts.backend ?? manifest.spec.backend ?? "wasm", "--backend");
  const cell: SavedCell = await loadSavedCell(opts.model);
  await initBackend({ name: backend });
  const ds = await loadDataset(npy ? `npy:${npy.dir}` : dsName, {
    dataDir: opts.dataDir,
    variant: manifest.dataset.variant,
  });
  if (
    ds.labels.rows !== manifest.dataset.rows || ds.image.cols !== manifest.dataset.imageDim ||
    ds.text.cols !== manifest.dataset.textDim
  ) {
    throw new Error(
      `--dataset: '${dsName}' in the data directory has ${ds.labels.rows} rows, ${ds.image.cols}-d ` +
        `images and ${ds.text.cols}-d text; the cell was saved with ${manifest.dataset.rows}, ` +
        `${manifest.dataset.imageDim} and ${manifest.dataset.textDim}`,
    );
  }
  const { model } = await loadSavedModel(opts.model);
  const names = manifest.dataset.labelNames;
  const rows = Int32Array.from(opts.rows, (r) => cell.indices.query[r]);
  let codes: PackedCodes;
  try {
    codes = opts.modality === "image"
      ? model.encodeImage(gatherRows(ds.image, rows))
      : model.encodeText(gatherRows(ds.text, rows));
  } finally {
    model.dispose();
  }
  const saved = opts.modality === "image" ? cell.codes.queryImage : cell.codes.queryText;
  const db = opts.target === "image" ? cell.codes.databaseImage : cell.codes.databaseText;
  const queries: SearchQuery[] = opts.rows.map((row, i) => {
    const dist = hammingDistances(codes, i, db);
    const order = hammingRanking(codes, i, db);
    const hits: SearchHit[] = [];
    for (let r = 0; r < opts.k; r++) {
      const j = order[r];
      hits.push({
        rank: r + 1,
        index: j,
        datasetRow: cell.indices.database[j],
        distance: dist[j],
        labels: labelNames(cell.labels.database, j, names),
      });
    }
    return {
      row,
      datasetRow: rows[i],
      labels: labelNames(cell.labels.query, row, names),
      differsFromSaved: differingBits(codes, i, saved, row),
      hits,
    };
  });
  return { id: manifest.id, modality: opts.modality, target: opts.target, database: nDb, queries };
}

/** The result as printed by the CLI: a header, then a table per query row. */
export function formatSearch(r: SearchResult): string {
  const lines = [
    `search: ${r.id} — ${r.modality} queries against the ${r.target} database ` +
    `(${r.database} items), top ${r.queries[0]?.hits.length ?? 0} by Hamming distance (ties: ` +
    `lower database index first)`,
  ];
  for (const q of r.queries) {
    lines.push("");
    lines.push(
      `query row ${q.row} (dataset row ${q.datasetRow}; labels: ${q.labels.join(", ") || "none"})`,
    );
    if (q.differsFromSaved) {
      lines.push(
        `  note: its code differs from the saved query code in ${q.differsFromSaved} bit(s) ` +
          `(another backend or kernels than the cell's)`,
      );
    }
    lines.push("  rank  db index  dataset row  hamming  labels");
    for (const h of q.hits) {
      lines.push(
        `  ${String(h.rank).padStart(4)}  ${String(h.index).padStart(8)}  ${
          String(h.datasetRow).padStart(11)
        }  ${String(h.distance).padStart(7)}  ${h.labels.join(", ") || "none"}`,
      );
    }
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<void> {
  if (printedHelpOrVersion(argv, HELP, TOOLKIT_VERSION)) return;
  console.log(formatSearch(await search(parseSearchCli(argv))));
}

if (import.meta.main) await runCli("search", main);
