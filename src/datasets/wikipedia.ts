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
import { matValues, type MatVariable } from "./formats/mat.ts";
import { assertFinite, labelsFromClassIndices, vstack, vstackLabels } from "./matrix.ts";
import type { CrossModalDataset, DenseMatrix, LabelMatrix, Matrix } from "../types.ts";

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
    const f = await readFeatures(path, { tr: "T_tr", te: "T_te", what: "10-d LDA", cols: 10 }, [
      { names: ["L_tr"], what: "the training categories (n x 1, values 1..10)", cols: 1 },
      { names: ["L_te"], what: "the test categories (n x 1, values 1..10)", cols: 1 },
    ], format);
    const Ltr = labelsFromClassIndices(matValues(f.vars.get("L_tr")!), 10, 1, f.where("L_tr"));
    const Lte = labelsFromClassIndices(matValues(f.vars.get("L_te")!), 10, 1, f.where("L_te"));
    checkRows(path, "T_tr", f.Ttr, f.Itr.rows, "'I_tr'");
    checkRows(path, "L_tr", Ltr, f.Itr.rows, "'I_tr'");
    checkRows(path, "T_te", f.Tte, f.Ite.rows, "'I_te'");
    checkRows(path, "L_te", Lte, f.Ite.rows, "'I_te'");
    return stacked(
      "wikipedia",
      f,
      Ltr,
      Lte,
      `wikipedia (variant lda): ${await fileRecord(path, checks)}; image = [I_tr; I_te] ` +
        `128-d SIFT BoVW, text = [T_tr; T_te] 10-d LDA, labels = one-hot of [L_tr; L_te] (1..10)`,
    );
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
  const text = { tr: "T_tfidf_tr", te: "T_tfidf_te", what: "1000-d tf-idf", cols: 1000 };
  const f = await readFeatures(path, text, [], format);
  const Ltr = await readWikiList(trList);
  const Lte = await readWikiList(teList);
  checkRows(path, "T_tfidf_tr", f.Ttr, f.Itr.rows, "'I_tr'");
  checkRows(path, "T_tfidf_te", f.Tte, f.Ite.rows, "'I_te'");
  for (
    const [list, L, I, name] of [[trList, Ltr, f.Itr, "I_tr"], [
      teList,
      Lte,
      f.Ite,
      "I_te",
    ]] as const
  ) {
    if (L.rows !== I.rows) {
      throw new Error(
        `${list}: has ${L.rows} lines, expected ${I.rows} (rows of ${name} in ${path})`,
      );
    }
  }
  return stacked(
    "wikipedia-tfidf",
    f,
    Ltr,
    Lte,
    `wikipedia (variant tfidf): ${await fileRecord(path, checks)}; ${await fileRecord(
      trList,
      checks,
    )}; ${await fileRecord(teList, checks)}; image = [I_tr; I_te] 128-d SIFT BoVW, text = ` +
      `[T_tfidf_tr; T_tfidf_te] 1000-d tf-idf, labels = one-hot of the list files' 3rd column`,
  );
}

/** The image and text features of both Wikipedia variants' .mat files (train and test rows). */
interface Features {
  readonly Itr: DenseMatrix;
  readonly Ite: DenseMatrix;
  readonly Ttr: Matrix;
  readonly Tte: Matrix;
  /** Every variable read, by name. */
  readonly vars: Map<string, MatVariable>;
  /** "<path>: variable '<name>'", the prefix of errors about a variable. */
  readonly where: (name: string) => string;
}

/**
 * Read the 128-d SIFT image features I_tr / I_te, the text features `text.tr` / `text.te`
 * (`text.what`, e.g. "10-d LDA", with `text.cols` columns) and the variables of `more` from a
 * Wikipedia .mat file; the features are checked finite.
 */
async function readFeatures(
  path: string,
  text: { tr: string; te: string; what: string; cols: number },
  more: VarSpec[],
  format: "dense" | "csr",
): Promise<Features> {
  const specs: VarSpec[] = [
    { names: ["I_tr"], what: "the 128-d SIFT BoVW training image features", cols: 128 },
    { names: ["I_te"], what: "the 128-d SIFT BoVW test image features", cols: 128 },
    { names: [text.tr], what: `the ${text.what} training text features`, cols: text.cols },
    { names: [text.te], what: `the ${text.what} test text features`, cols: text.cols },
    ...more,
  ];
  const { vars } = await readVars(path, specs);
  const where = (n: string) => `${path}: variable '${n}'`;
  const Itr = featureMatrix(vars.get("I_tr")!, where("I_tr"));
  const Ite = featureMatrix(vars.get("I_te")!, where("I_te"));
  const Ttr = toText(vars.get(text.tr)!, where(text.tr), format);
  const Tte = toText(vars.get(text.te)!, where(text.te), format);
  assertFinite(Ttr, where(text.tr));
  assertFinite(Tte, where(text.te));
  return { Itr, Ite, Ttr, Tte, vars, where };
}

/**
 * The dataset of training rows then test rows, with the fixed split on the test rows;
 * `provenance` gets the row ranges appended.
 */
function stacked(
  name: string,
  f: Features,
  Ltr: LabelMatrix,
  Lte: LabelMatrix,
  provenance: string,
): CrossModalDataset {
  const ntr = f.Itr.rows, n = ntr + f.Ite.rows;
  return {
    name,
    image: vstack([f.Itr, f.Ite]),
    text: vstack([f.Ttr, f.Tte]),
    labels: vstackLabels([Ltr, Lte]),
    labelNames: WIKIPEDIA_CATEGORIES,
    provenance: `${provenance}; rows 0..${ntr - 1} train, ${ntr}..${n - 1} test`,
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
