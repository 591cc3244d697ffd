/**
 * The shallow baselines SCM (Zhang & Li, AAAI 2014) and CMFH (Ding, Guo & Zhou, CVPR 2014) on
 * Wikipedia, next to published MAP@all values.
 *
 * Protocol: wikiData.mat (128-d SIFT BoVW images, 10-d LDA texts), the fixed split: query =
 * the 693 test pairs, database = the 2,173 training pairs, which are also the training set;
 * relevant = same category; MAP@all by Hamming ranking (src/metrics.ts). SCM is deterministic
 * (one run); CMFH is reported as mean ± std over the seeds (default 1..5). CMFH's database
 * codes are the unified training codes sign(V - mean(V)) for both directions.
 *
 * Usage: `deno run -A bench/baselines_wikipedia.ts [--data-dir DIR] [--bits 16,32,64]
 *   [--seeds 1,2,3,4,5]` (data dir default: env HASH_DATA_DIR, else ../shared/data).
 *
 * Not part of `deno task bench` (it needs the Wikipedia data).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { defaultDataDir, loadDataset } from "../src/datasets/datasets.ts";
import { makeSplit } from "../src/datasets/split.ts";
import { gatherLabelRows, gatherRows } from "../src/datasets/matrix.ts";
import { mapAll } from "../src/retrieval/metrics.ts";
import { Scm, scmConfig } from "../src/models/scm.ts";
import { Cmfh, cmfhConfig } from "../src/models/cmfh.ts";

/**
 * Published Wikipedia MAP@all, [I->T, T->I] per code length, as supplied with the task (the
 * originating table is not identified; see docs). The SCM-Seq row is reproduced to the 4th
 * decimal at 16 and 32 bits by SCM-Seq with the authors' CCA fallback on this protocol.
 */
export const PUBLISHED: Record<string, Record<number, [number, number]>> = {
  "SCM-Seq": { 16: [0.2341, 0.2257], 32: [0.2410, 0.2459], 64: [0.2445, 0.2482] },
  "CMFH": { 16: [0.2132, 0.4884], 32: [0.2259, 0.5132], 64: [0.2362, 0.5269] },
};

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string" },
    bits: { type: "string", default: "16,32,64" },
    seeds: { type: "string", default: "1,2,3,4,5" },
  },
});
const ints = (s: string, what: string) =>
  s.split(",").map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`bench/baselines_wikipedia.ts: bad ${what} '${v}'`);
    return n;
  });
const bitsList = ints(values.bits!, "--bits"), seeds = ints(values.seeds!, "--seeds");
const dataDir = values["data-dir"] ?? defaultDataDir();

const t0 = performance.now();
const wiki = await loadDataset("wikipedia", { dataDir });
const split = makeSplit(wiki, { convention: "fixed", validation: 0 });
const part = (rows: Int32Array) => ({
  i: gatherRows(wiki.image, rows),
  t: gatherRows(wiki.text, rows),
  l: gatherLabelRows(wiki.labels, rows),
});
const train = part(split.train), query = part(split.query), db = part(split.database);
const info = { imageDim: wiki.image.cols, textDim: wiki.text.cols };
console.log(
  `Wikipedia: ${train.l.rows} training = database pairs, ${query.l.rows} queries; ` +
    `image ${info.imageDim}-d, text ${info.textDim}-d; data ${dataDir}`,
);

const f4 = (v: number) => v.toFixed(4);
const rows: string[][] = [];
function row(
  name: string,
  bits: number,
  i2t: string,
  t2i: string,
  secs: number,
  pub?: [number, number],
) {
  const diff = (ours: string, p: number) => {
    const d = Number(ours.split(" ")[0]) - p;
    return `${d >= 0 ? "+" : ""}${d.toFixed(4)}`;
  };
  rows.push([
    name,
    String(bits),
    i2t,
    pub ? f4(pub[0]) : "—",
    pub ? diff(i2t, pub[0]) : "—",
    t2i,
    pub ? f4(pub[1]) : "—",
    pub ? diff(t2i, pub[1]) : "—",
    `${secs.toFixed(2)} s`,
  ]);
}

for (const bits of bitsList) {
  for (
    const [name, cfg] of [
      ["SCM-Seq", scmConfig(bits)],
      ["SCM-Seq (no fallback)", scmConfig(bits, { ccaFallback: false })],
      ["SCM-Orth", scmConfig(bits, { variant: "orth" })],
    ] as const
  ) {
    const m = new Scm(info, cfg);
    const r = m.fit(train.i, train.t, train.l);
    const i2t = mapAll(m.encodeImage(query.i), query.l, m.encodeText(db.t), db.l);
    const t2i = mapAll(m.encodeText(query.t), query.l, m.encodeImage(db.i), db.l);
    row(name, bits, f4(i2t), f4(t2i), r.seconds, PUBLISHED[name]?.[bits]);
  }
  const i2t: number[] = [], t2i: number[] = [];
  let secs = 0, iters = 0;
  for (const seed of seeds) {
    const m = new Cmfh(info, cmfhConfig(bits, { seed }));
    const r = m.fit(train.i, train.t, train.l);
    secs += r.seconds;
    iters += r.iterations;
    const dbCodes = m.trainingCodes(); // the database is the training set: unified codes
    i2t.push(mapAll(m.encodeImage(query.i), query.l, dbCodes, db.l));
    t2i.push(mapAll(m.encodeText(query.t), query.l, dbCodes, db.l));
  }
  const ms = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
    return `${f4(mean)} ± ${f4(sd)}`;
  };
  const label = `CMFH (${seeds.length} seeds, ${(iters / seeds.length).toFixed(1)} it.)`;
  row(label, bits, ms(i2t), ms(t2i), secs / seeds.length, PUBLISHED.CMFH[bits]);
}

const head = ["method", "bits", "I→T", "published", "Δ", "T→I", "published", "Δ", "train time"];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells: string[]) => `| ${cells.map((v, c) => v.padEnd(widths[c])).join(" | ")} |`;
console.log(line(head));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
console.log(
  `CMFH: mean ± sample std over seeds ${seeds.join(",")}; train time per run (CMFH: mean). ` +
    `Total ${((performance.now() - t0) / 1000).toFixed(1)} s.`,
);
