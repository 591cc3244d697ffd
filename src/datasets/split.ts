/**
 * Evaluation splits (query / database / train / validation index sets) following the
 * protocol in docs/methods.md.
 *
 * Conventions:
 * - `fixed`: the dataset's own published split (`dataset.fixedSplit`, Wikipedia): query = the
 *   fixed query rows, database = all other rows, train = all database rows (or a seeded
 *   choice of `train` of them). A dataset with `splitIndices` (a user's `split.json`) gives
 *   query, database and optionally train rows directly.
 * - `first` (DCMH / AGAH code): query = the first `query` rows; database = the rest;
 *   train = the first `train` database rows.
 * - `last` (DADH / CPAH code): query = the last `query` rows; database = the rest;
 *   train = the first `train` database rows.
 * - `permutation` (recommended default; SSAH draws a fresh one): a seeded permutation; query =
 *   its first `query` entries, database = the rest, train = a seeded choice of `train`
 *   database rows.
 *
 * Validation: a seeded slice of the drawn training rows (`validation`: a fraction in (0, 1)
 * of them, or a count; default 0.1; 0 = none) is held out for model selection and REMOVED from
 * `train`, so train + validation = the `train` pairs the protocol draws, and validation never
 * touches the query set. Set `validation: 0` to train on exactly the published number of pairs.
 *
 * All index arrays are sorted ascending. Every random choice uses `seed`.
 *
 * @module
 */
import type { CrossModalDataset, Split } from "../types.ts";
import { Rng } from "../random.ts";

/** How query rows are chosen; see the module documentation. */
export type SplitConvention = "fixed" | "first" | "last" | "permutation";

/** All conventions, for validating user input. */
export const SPLIT_CONVENTIONS: readonly SplitConvention[] = [
  "fixed",
  "first",
  "last",
  "permutation",
];

/** Options of {@link makeSplit}. */
export interface SplitOptions {
  /** Default: "fixed" when the dataset has a fixed split, else "permutation". */
  readonly convention?: SplitConvention;
  /** Number of query rows; default per dataset ({@link defaultSplitSizes}). */
  readonly query?: number;
  /** Number of training pairs drawn from the database (validation included). */
  readonly train?: number;
  /** Validation hold-out from the training pairs: fraction in (0, 1) or count >= 1; 0 = none. */
  readonly validation?: number;
  /** Seed for the permutation and the choices (default 0). */
  readonly seed?: number;
}

/** Standard protocol sizes per dataset name (docs/methods.md). */
export const DEFAULT_SPLIT_SIZES: Readonly<Record<string, { query: number; train: number }>> = {
  "mirflickr25k": { query: 2000, train: 10000 },
  "mirflickr25k-simimg": { query: 2000, train: 10000 },
  "nuswide": { query: 2100, train: 10500 },
  "mscoco": { query: 2000, train: 10000 },
  "iapr": { query: 2000, train: 10000 },
};

/**
 * Default query / train sizes: the standard protocol for known datasets; the fixed split for
 * datasets that have one (train = whole database); otherwise query = round(n / 6) and
 * train = the whole database (e.g. synthetic n = 3000 -> 500 queries, 2500 training pairs).
 */
export function defaultSplitSizes(ds: CrossModalDataset): { query: number; train: number } {
  const n = ds.labels.rows;
  const known = DEFAULT_SPLIT_SIZES[ds.name];
  if (known) return { ...known };
  if (ds.splitSizes && (ds.splitSizes.query || ds.splitSizes.train)) {
    const q = ds.splitSizes.query ?? Math.max(1, Math.round(n / 6));
    return { query: q, train: ds.splitSizes.train ?? n - q };
  }
  if (ds.fixedSplit) {
    const q = ds.fixedSplit.queryEnd - ds.fixedSplit.queryStart;
    return { query: q, train: n - q };
  }
  const q = Math.max(1, Math.round(n / 6));
  return { query: q, train: n - q };
}

function range(a: number, b: number): Int32Array {
  const out = new Int32Array(Math.max(0, b - a));
  for (let i = 0; i < out.length; i++) out[i] = a + i;
  return out;
}

function sorted(a: Int32Array): Int32Array {
  return a.slice().sort();
}

/** A seeded choice of k of the given rows (returned sorted). */
function choose(rows: Int32Array, k: number, rng: Rng): Int32Array {
  if (k === rows.length) return sorted(rows);
  const perm = rng.permutation(rows.length);
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) out[i] = rows[perm[i]];
  return out.sort();
}

function without(rows: Int32Array, remove: Int32Array): Int32Array {
  const r = new Set(remove);
  return rows.filter((x) => !r.has(x));
}

/**
 * Make a split of `ds` (see the module documentation for the conventions). Throws a one-line
 * error for impossible sizes.
 */
export function makeSplit(ds: CrossModalDataset, opts: SplitOptions = {}): Split {
  const n = ds.labels.rows;
  const conv = opts.convention ?? (ds.fixedSplit || ds.splitIndices ? "fixed" : "permutation");
  if (!SPLIT_CONVENTIONS.includes(conv)) {
    throw new Error(
      `makeSplit: unknown convention '${conv}' (expected ${SPLIT_CONVENTIONS.join(", ")})`,
    );
  }
  const seed = opts.seed ?? 0;
  if (!Number.isFinite(seed)) {
    throw new Error(`makeSplit: seed must be a finite number, got ${seed}`);
  }
  const rng = new Rng(seed);
  const queryRng = rng.fork(1), trainRng = rng.fork(2), valRng = rng.fork(3);
  const defaults = defaultSplitSizes(ds);
  const where = `makeSplit(${ds.name}, ${conv})`;

  let query: Int32Array, database: Int32Array;
  let fixedTrain: Int32Array | undefined;
  if (conv === "fixed" && ds.splitIndices) {
    const s = ds.splitIndices;
    if (opts.query !== undefined && opts.query !== s.query.length) {
      throw new Error(
        `${where}: the fixed split has ${s.query.length} query rows; got query=${opts.query}`,
      );
    }
    query = Int32Array.from(s.query).sort();
    database = Int32Array.from(s.database).sort();
    fixedTrain = s.train ? Int32Array.from(s.train).sort() : undefined;
  } else if (conv === "fixed") {
    const f = ds.fixedSplit;
    if (!f) {
      throw new Error(
        `${where}: dataset '${ds.name}' has no fixed split; use convention 'permutation', 'first' or 'last'`,
      );
    }
    if (
      !(Number.isInteger(f.queryStart) && Number.isInteger(f.queryEnd) &&
        f.queryStart >= 0 && f.queryStart < f.queryEnd && f.queryEnd <= n)
    ) {
      throw new Error(
        `${where}: invalid fixedSplit [${f.queryStart}, ${f.queryEnd}) for ${n} rows`,
      );
    }
    const q = f.queryEnd - f.queryStart;
    if (opts.query !== undefined && opts.query !== q) {
      throw new Error(`${where}: the fixed split has ${q} query rows; got query=${opts.query}`);
    }
    query = range(f.queryStart, f.queryEnd);
    database = Int32Array.from([...range(0, f.queryStart), ...range(f.queryEnd, n)]);
  } else {
    const q = opts.query ?? defaults.query;
    if (!Number.isInteger(q) || q < 1 || q >= n) {
      throw new Error(
        `${where}: query must be an integer in [1, ${n - 1}] for ${n} rows, got ${q}`,
      );
    }
    if (conv === "first") {
      query = range(0, q);
      database = range(q, n);
    } else if (conv === "last") {
      query = range(n - q, n);
      database = range(0, n - q);
    } else {
      const perm = queryRng.permutation(n);
      query = perm.slice(0, q).sort();
      database = perm.slice(q).sort();
    }
  }

  const nTrain = opts.train ??
    (conv === "fixed" ? (fixedTrain ?? database).length : defaults.train);
  if (!Number.isInteger(nTrain) || nTrain < 2 || nTrain > database.length) {
    throw new Error(
      `${where}: train must be an integer in [2, ${database.length}] (the database size), got ${nTrain}`,
    );
  }
  let train: Int32Array;
  if (fixedTrain && nTrain === fixedTrain.length) train = fixedTrain;
  else if (fixedTrain) {
    throw new Error(
      `${where}: the fixed split has ${fixedTrain.length} training rows; got train=${nTrain}`,
    );
  } else if (conv === "first" || conv === "last") train = database.slice(0, nTrain);
  else train = choose(database, nTrain, trainRng);

  const v = opts.validation ?? 0.1;
  let nVal: number;
  if (!Number.isFinite(v) || v < 0) {
    throw new Error(
      `${where}: validation must be a fraction in (0, 1), a count >= 1, or 0; got ${v}`,
    );
  } else if (v > 0 && v < 1) nVal = Math.max(1, Math.round(v * nTrain));
  else if (Number.isInteger(v)) nVal = v;
  else {
    throw new Error(
      `${where}: validation must be a fraction in (0, 1), a count >= 1, or 0; got ${v}`,
    );
  }
  if (nVal >= nTrain) {
    throw new Error(
      `${where}: validation (${nVal}) must leave training rows (train=${nTrain})`,
    );
  }
  const validation = nVal > 0 ? choose(train, nVal, valRng) : new Int32Array(0);
  if (nVal > 0) train = without(train, validation);

  return {
    query,
    database,
    train,
    validation,
    convention: `${conv}(seed=${seed}, query=${query.length}, database=${database.length}, ` +
      `train=${train.length}, validation=${validation.length})`,
  };
}
