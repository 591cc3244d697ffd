/**
 * The Wikipedia loader (wikiData.mat; variant tfidf from raw_features.mat and the list files).
 *
 * @module
 */
import { join } from "node:path";
import { type LoadDatasetOptions, WIKIPEDIA_CATEGORIES } from "./datasets.ts";
import {
  checkRows,
  exists,
  featureMatrix,
  fileRecord,
  missingFile,
  readVars,
  toText,
  type VarSpec,
} from "./files.ts";
import { matValues } from "./formats/mat.ts";
import { assertFinite, labelsFromClassIndices, vstack, vstackLabels } from "./matrix.ts";
import type { CrossModalDataset, LabelMatrix } from "../types.ts";

// ---------------------------------------------------------------- wikipedia

export async function loadWikipedia(
  dir: string,
  o: LoadDatasetOptions,
): Promise<CrossModalDataset> {
  const variant = o.variant ?? "lda";
  if (variant !== "lda" && variant !== "tfidf") {
    throw new Error(`wikipedia: unknown variant '${variant}' (expected 'lda' or 'tfidf')`);
  }
  const wdir = join(dir, "wikipedia");
  const checks = o.checksums ?? true;
  const format = o.textFormat ?? "dense";
  if (variant === "lda") {
    const path = join(wdir, "wikiData.mat");
    if (!(await exists(path))) {
      throw missingFile("wikipedia", path, "I_tr/I_te, T_tr/T_te, L_tr/L_te");
    }
    const specs: VarSpec[] = [
      { names: ["I_tr"], what: "the 128-d SIFT BoVW training image features", cols: 128 },
      { names: ["I_te"], what: "the 128-d SIFT BoVW test image features", cols: 128 },
      { names: ["T_tr"], what: "the 10-d LDA training text features", cols: 10 },
      { names: ["T_te"], what: "the 10-d LDA test text features", cols: 10 },
      { names: ["L_tr"], what: "the training categories (n x 1, values 1..10)", cols: 1 },
      { names: ["L_te"], what: "the test categories (n x 1, values 1..10)", cols: 1 },
    ];
    const { vars } = await readVars(path, specs);
    const w = (n: string) => `${path}: variable '${n}'`;
    const Itr = featureMatrix(vars.get("I_tr")!, w("I_tr"));
    const Ite = featureMatrix(vars.get("I_te")!, w("I_te"));
    const Ttr = toText(vars.get("T_tr")!, w("T_tr"), format);
    const Tte = toText(vars.get("T_te")!, w("T_te"), format);
    assertFinite(Ttr, w("T_tr"));
    assertFinite(Tte, w("T_te"));
    const Ltr = labelsFromClassIndices(matValues(vars.get("L_tr")!), 10, 1, w("L_tr"));
    const Lte = labelsFromClassIndices(matValues(vars.get("L_te")!), 10, 1, w("L_te"));
    checkRows(path, "T_tr", Ttr, Itr.rows, "'I_tr'");
    checkRows(path, "L_tr", Ltr, Itr.rows, "'I_tr'");
    checkRows(path, "T_te", Tte, Ite.rows, "'I_te'");
    checkRows(path, "L_te", Lte, Ite.rows, "'I_te'");
    const ntr = Itr.rows, n = ntr + Ite.rows;
    return {
      name: "wikipedia",
      image: vstack([Itr, Ite]),
      text: vstack([Ttr, Tte]),
      labels: vstackLabels([Ltr, Lte]),
      labelNames: WIKIPEDIA_CATEGORIES,
      provenance:
        `wikipedia (variant lda): ${await fileRecord(path, checks)}; image = [I_tr; I_te] ` +
        `128-d SIFT BoVW, text = [T_tr; T_te] 10-d LDA, labels = one-hot of [L_tr; L_te] (1..10); ` +
        `rows 0..${ntr - 1} train, ${ntr}..${n - 1} test`,
      fixedSplit: { queryStart: ntr, queryEnd: n },
    };
  }
  const path = join(wdir, "raw_features.mat");
  const trList = join(wdir, "trainset_txt_img_cat.list");
  const teList = join(wdir, "testset_txt_img_cat.list");
  for (
    const [p, what] of [
      [path, "I_tr/I_te, T_tfidf_tr/T_tfidf_te"],
      [trList, "training categories"],
      [teList, "test categories"],
    ]
  ) {
    if (!(await exists(p))) throw missingFile("wikipedia", p, what);
  }
  const specs: VarSpec[] = [
    { names: ["I_tr"], what: "the 128-d SIFT BoVW training image features", cols: 128 },
    { names: ["I_te"], what: "the 128-d SIFT BoVW test image features", cols: 128 },
    { names: ["T_tfidf_tr"], what: "the 1000-d tf-idf training text features", cols: 1000 },
    { names: ["T_tfidf_te"], what: "the 1000-d tf-idf test text features", cols: 1000 },
  ];
  const { vars } = await readVars(path, specs);
  const w = (n: string) => `${path}: variable '${n}'`;
  const Itr = featureMatrix(vars.get("I_tr")!, w("I_tr"));
  const Ite = featureMatrix(vars.get("I_te")!, w("I_te"));
  const Ttr = toText(vars.get("T_tfidf_tr")!, w("T_tfidf_tr"), format);
  const Tte = toText(vars.get("T_tfidf_te")!, w("T_tfidf_te"), format);
  assertFinite(Ttr, w("T_tfidf_tr"));
  assertFinite(Tte, w("T_tfidf_te"));
  const Ltr = await readWikiList(trList);
  const Lte = await readWikiList(teList);
  checkRows(path, "T_tfidf_tr", Ttr, Itr.rows, "'I_tr'");
  checkRows(path, "T_tfidf_te", Tte, Ite.rows, "'I_te'");
  if (Ltr.rows !== Itr.rows) {
    throw new Error(
      `${trList}: has ${Ltr.rows} lines, expected ${Itr.rows} (rows of I_tr in ${path})`,
    );
  }
  if (Lte.rows !== Ite.rows) {
    throw new Error(
      `${teList}: has ${Lte.rows} lines, expected ${Ite.rows} (rows of I_te in ${path})`,
    );
  }
  const ntr = Itr.rows, n = ntr + Ite.rows;
  return {
    name: "wikipedia-tfidf",
    image: vstack([Itr, Ite]),
    text: vstack([Ttr, Tte]),
    labels: vstackLabels([Ltr, Lte]),
    labelNames: WIKIPEDIA_CATEGORIES,
    provenance: `wikipedia (variant tfidf): ${await fileRecord(path, checks)}; ${await fileRecord(
      trList,
      checks,
    )}; ${await fileRecord(teList, checks)}; image = [I_tr; I_te] 128-d SIFT BoVW, text = ` +
      `[T_tfidf_tr; T_tfidf_te] 1000-d tf-idf, labels = one-hot of the list files' 3rd column; ` +
      `rows 0..${ntr - 1} train, ${ntr}..${n - 1} test`,
    fixedSplit: { queryStart: ntr, queryEnd: n },
  };
}

/** Parse a Wikipedia `*_txt_img_cat.list` file (text id, image id, category 1..10). */
export async function readWikiList(path: string): Promise<LabelMatrix> {
  const text = await Deno.readTextFile(path);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const cats = new Float64Array(lines.length);
  lines.forEach((l, i) => {
    const parts = l.trim().split(/\s+/);
    if (parts.length < 3) {
      throw new Error(
        `${path}: line ${i + 1} has ${parts.length} fields, expected text id, image id, category`,
      );
    }
    cats[i] = Number(parts[2]);
  });
  return labelsFromClassIndices(cats, 10, 1, `${path}: category column`);
}
