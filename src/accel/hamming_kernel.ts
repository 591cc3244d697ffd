/**
 * The per-query scan of the retrieval metrics (src/retrieval/ranking.ts) as a WebAssembly
 * kernel: Hamming distances by `i64.popcnt`, fused with the label test and the per-distance
 * counters, and the AP@all sum over the relevant items.
 *
 * Pass 1 (`scan1` for codes and labels of at most 64 bits, `scanN` for any length) walks the
 * database in index order. For item j at distance d with relevance r (1 iff it shares a label
 * with the query) it adds 1 to count[d] and r to relevantCount[d], and, without a branch,
 * appends the record (d, relevantCount[d], count[d]) — taken after the additions — which is
 * kept only when r = 1 (the append position advances by r). The records are the relevant
 * items in index order, each with its position among the relevant items and among all items
 * of its distance bucket.
 *
 * Pass 2 (`apsum`), once the caller has turned the counters into the numbers of items and of
 * relevant items at distance < d, adds (relevant before d + position among the relevant) /
 * (items before d + position among all) over the records in order: the same divisions of the
 * same integers, added in the same order, as the two-pass JavaScript scan over the whole
 * database, so the sums are bit-identical (and the unpredictable per-item branch is gone).
 *
 * The module is assembled at first use (src/accel/wasm_assembler.ts) and instantiated per
 * scanner on a memory of its own holding padded copies of the codes and labels.
 * {@link createHammingScanner} returns undefined when WebAssembly is unavailable or switched
 * off ({@link setHammingWasmEnabled}), or the memory cannot be allocated; the caller then runs
 * its JavaScript kernels.
 *
 * @module
 */
import { assemble, type FuncDef } from "./wasm_assembler.ts";

/** Packed rows: `n` rows of `words` 32-bit words (codes or label bitsets). */
export interface PackedRows {
  /** Number of rows. */
  readonly n: number;
  /** 32-bit words per row. */
  readonly words: number;
  /** n * words words, row-major. */
  readonly data: Uint32Array;
}

/** The loop over the database items: `body` runs with `$db`, `$dl` at item j's rows. */
function itemLoop(body: string): string {
  return `
    block
      loop
        local.get $db  local.get $end  i32.ge_u  br_if 1       ;; exit when db >= end
        ${body}
        ;; count[d] += 1, relevantCount[d] += r (pair at counts + 8 d); append the record
        local.get $d  i32.const 3  i32.shl  local.get $counts  i32.add  local.set $c
        local.get $c
        local.get $c  i32.load  i32.const 1  i32.add  local.tee $b
        i32.store
        local.get $c
        local.get $c  i32.load offset=4  local.get $r  i32.add  local.tee $a
        i32.store offset=4
        local.get $k  local.get $d  i32.store
        local.get $k  local.get $a  i32.store offset=4
        local.get $k  local.get $b  i32.store offset=8
        local.get $k  local.get $r  i32.const 12  i32.mul  i32.add  local.set $k   ;; k += 12 r
        local.get $R  local.get $r  i32.add  local.set $R
        br 0
      end
    end
    local.get $R`;
}

const SCAN_PARAMS = "$n i32 $db i32 $dl i32 $q i32 $ql i32 $W i32 $L i32 $counts i32 $rec i32";
const SCAN_LOCALS = "$end i32 $c i32 $d i32 $r i32 $a i32 $b i32 $k i32 $R i32";

/**
 * scan1(n, db, dl, q, ql, W, L, counts, rec) -> R for W = L = 1 (one 64-bit word of code and of
 * labels per row): byte offsets of the database codes and labels (n rows of 8 bytes), the
 * query's code and labels, the counter pairs and the records (see the module comment).
 * The caller zeroes the counters.
 */
const SCAN1: FuncDef = {
  name: "scan1",
  params: SCAN_PARAMS,
  locals: `${SCAN_LOCALS} $qc i64 $qlab i64`,
  result: "i32",
  body: `
    local.get $q  i64.load  local.set $qc
    local.get $ql  i64.load  local.set $qlab
    local.get $rec  local.set $k
    local.get $n  i32.const 3  i32.shl  local.get $db  i32.add  local.set $end
    ${
    itemLoop(`
        local.get $db  i64.load  local.get $qc  i64.xor  i64.popcnt  i32.wrap_i64  local.set $d
        local.get $dl  i64.load  local.get $qlab  i64.and  i64.const 0  i64.ne  local.set $r
        local.get $db  i32.const 8  i32.add  local.set $db
        local.get $dl  i32.const 8  i32.add  local.set $dl`)
  }`,
};

/** As {@link SCAN1} for rows of W 64-bit code words and L 64-bit label words. */
const SCANN: FuncDef = {
  name: "scanN",
  params: SCAN_PARAMS,
  locals: `${SCAN_LOCALS} $t i32 $m i64`,
  result: "i32",
  body: `
    local.get $rec  local.set $k
    local.get $n  local.get $W  i32.mul  i32.const 3  i32.shl  local.get $db  i32.add
    local.set $end
    ${
    itemLoop(`
        i32.const 0  local.set $d
        i32.const 0  local.set $t
        loop                                                 ;; d = sum of popcounts
          local.get $d
          local.get $db  i64.load  local.get $q  local.get $t  i32.add  i64.load
          i64.xor  i64.popcnt  i32.wrap_i64  i32.add  local.set $d
          local.get $db  i32.const 8  i32.add  local.set $db
          local.get $t  i32.const 8  i32.add  local.tee $t
          local.get $W  i32.const 3  i32.shl  i32.lt_u  br_if 0
        end
        i64.const 0  local.set $m
        i32.const 0  local.set $t
        loop                                                 ;; m = OR of label ANDs
          local.get $m
          local.get $dl  i64.load  local.get $ql  local.get $t  i32.add  i64.load
          i64.and  i64.or  local.set $m
          local.get $dl  i32.const 8  i32.add  local.set $dl
          local.get $t  i32.const 8  i32.add  local.tee $t
          local.get $L  i32.const 3  i32.shl  i32.lt_u  br_if 0
        end
        local.get $m  i64.const 0  i64.ne  local.set $r`)
  }`,
};

/**
 * apsum(R, rec, before) -> sum over the R records (d, a, b), in order, of
 * (relBefore[d] + a) / (rankBefore[d] + b), with the pair (rankBefore[d], relBefore[d]) at
 * before + 8 d.
 */
const APSUM: FuncDef = {
  name: "apsum",
  params: "$R i32 $rec i32 $before i32",
  locals: "$end i32 $p i32 $sum f64",
  result: "f64",
  body: `
    local.get $R  i32.const 12  i32.mul  local.get $rec  i32.add  local.set $end
    block
      loop
        local.get $rec  local.get $end  i32.ge_u  br_if 1
        local.get $rec  i32.load  i32.const 3  i32.shl  local.get $before  i32.add  local.set $p
        local.get $sum
        local.get $p  i32.load offset=4  local.get $rec  i32.load offset=4  i32.add
        f64.convert_i32_u
        local.get $p  i32.load  local.get $rec  i32.load offset=8  i32.add
        f64.convert_i32_u
        f64.div  f64.add  local.set $sum
        local.get $rec  i32.const 12  i32.add  local.set $rec
        br 0
      end
    end
    local.get $sum`,
};

interface Exports {
  scan1(...args: number[]): number;
  scanN(...args: number[]): number;
  apsum(R: number, rec: number, before: number): number;
}

/**
 * Pass 1 and pass 2 of one retrieval direction on its own WebAssembly memory (see the module
 * comment). Views of the memory: {@link counts}, {@link before}, {@link records}.
 */
export interface HammingScanner {
  /**
   * Pass 1 for query row `qi`: fills {@link counts} (pairs: items, relevant items at each
   * distance 0..bits) and {@link records}; returns R, the number of relevant items.
   */
  scan(qi: number): number;
  /** Pass 2: the AP@all numerator of the R records, from the pairs in {@link before}. */
  apSum(R: number): number;
  /** 2 (bits + 1) counters: items and relevant items at distance d at 2d, 2d + 1. */
  readonly counts: Int32Array;
  /** 2 (bits + 1) entries the caller fills: items and relevant items at distance < d. */
  readonly before: Int32Array;
  /** 3 entries per relevant item, in database order: d, position among the relevant and
   * among all items at distance d (1-based). */
  readonly records: Int32Array;
}

let moduleCache: WebAssembly.Module | null | undefined;
let enabled = true;

/**
 * Switch the WebAssembly scan on or off (on by default); while off,
 * {@link createHammingScanner} returns undefined and the metrics run their JavaScript kernels.
 */
export function setHammingWasmEnabled(on: boolean): void {
  enabled = on;
}

/** The assembled scan module (built once). Throws a one-line error on an assembler mistake. */
export function hammingModuleBytes(): Uint8Array {
  return assemble([SCAN1, SCANN, APSUM]);
}

function compiledModule(): WebAssembly.Module | undefined {
  if (moduleCache === undefined) {
    moduleCache = null;
    if (typeof WebAssembly === "object") {
      const bytes = hammingModuleBytes() as BufferSource;
      if (WebAssembly.validate(bytes)) moduleCache = new WebAssembly.Module(bytes);
    }
  }
  return moduleCache ?? undefined;
}

/** Copy rows of `words` 32-bit words into rows of `wide` 64-bit words (zero padded). */
function copyPadded(rows: PackedRows, wide: number, memory: Uint32Array, at: number): void {
  const { n, words, data } = rows;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < words; t++) memory[at / 4 + 2 * wide * i + t] = data[i * words + t];
  }
}

/**
 * A scanner of `query` against `db` with their label bitsets, for codes of `bits` bits; or
 * undefined when WebAssembly is unavailable, switched off or out of memory. Sizes are assumed
 * consistent (validated by the caller).
 */
export function createHammingScanner(
  query: PackedRows,
  db: PackedRows,
  queryLabels: PackedRows,
  dbLabels: PackedRows,
  bits: number,
): HammingScanner | undefined {
  const module = enabled ? compiledModule() : undefined;
  if (module === undefined) return undefined;
  const W = Math.ceil(db.words / 2), L = Math.ceil(dbLabels.words / 2);
  const q = 0;
  const ql = q + 8 * W * query.n;
  const dbAt = ql + 8 * L * queryLabels.n;
  const dl = dbAt + 8 * W * db.n;
  const counts = dl + 8 * L * dbLabels.n;
  const before = counts + 8 * (bits + 1);
  const rec = before + 8 * (bits + 1);
  const bytes = rec + 12 * db.n;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (pages > 65536) return undefined; // beyond the 4 GiB of a 32-bit memory
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages });
  } catch {
    return undefined; // not enough memory for the copies: the JavaScript kernels need none
  }
  const words = new Uint32Array(memory.buffer);
  copyPadded(query, W, words, q);
  copyPadded(queryLabels, L, words, ql);
  copyPadded(db, W, words, dbAt);
  copyPadded(dbLabels, L, words, dl);
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
  const scan = W === 1 && L === 1 ? k.scan1 : k.scanN;
  const countsView = new Int32Array(memory.buffer, counts, 2 * (bits + 1));
  return {
    scan(qi: number): number {
      countsView.fill(0);
      return scan(db.n, dbAt, dl, q + 8 * W * qi, ql + 8 * L * qi, W, L, counts, rec);
    },
    apSum: (R: number) => k.apsum(R, rec, before),
    counts: countsView,
    before: new Int32Array(memory.buffer, before, 2 * (bits + 1)),
    records: new Int32Array(memory.buffer, rec, 3 * db.n),
  };
}
