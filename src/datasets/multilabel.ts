/**
 * The multi-label loaders (MIRFlickr-25K and its simulated-image variant, NUS-WIDE, MS-COCO,
 * IAPR TC-12): file layouts (DCMH-style and DADH-style), image features from MAT or .npy.
 *
 * @module
 */
import { join } from "node:path";
import { type DatasetName, type LoadDatasetOptions, MIRFLICKR_LABELS } from "./datasets.ts";
import {
  checkRows,
  exists,
  featureMatrix,
  fileRecord,
  genericNames,
  labelMatrixOf,
  missingFile,
  readLabelNames,
  readVars,
  toText,
  type VarSpec,
} from "./files.ts";
import type { MatVariable } from "./formats/mat.ts";
import { npyToDense, readNpy } from "./formats/npy.ts";
import { assertFinite } from "./matrix.ts";
import { describeSimulation, simulatedOptions, simulateImageFeatures } from "./simulated.ts";
import type { CrossModalDataset, DenseMatrix } from "../types.ts";

/** One way of laying out a multi-label dataset on disk. */
export interface Layout {
  readonly image?: { readonly file: string; readonly spec: VarSpec; readonly npy?: boolean };
  readonly text: { readonly file: string; readonly spec: VarSpec };
  readonly labels: { readonly file: string; readonly spec: VarSpec };
}

export interface MultiLabelSpec {
  readonly name: DatasetName;
  readonly dir: string;
  readonly layouts: readonly Layout[];
  readonly labelNamesFile?: string;
  readonly defaultLabelNames: (c: number) => readonly string[];
  readonly classes: number;
}

export function specs(): Record<"mirflickr25k" | "nuswide" | "mscoco" | "iapr", MultiLabelSpec> {
  const feat = (names: string[]): VarSpec => ({
    names,
    what: "a 2-D image feature matrix (n x d, e.g. CNN fc7)",
  });
  const mirText: VarSpec = { names: ["YAll"], what: "the tag bag-of-words (n x 1386)", cols: 1386 };
  const mirLab: VarSpec = { names: ["LAll"], what: "the 0/1 labels (n x 24)", cols: 24 };
  const nusText: VarSpec = { names: ["YAll"], what: "the bag-of-words (n x 1000)", cols: 1000 };
  const nusLab: VarSpec = { names: ["LAll"], what: "the 0/1 labels (n x 21)", cols: 21 };
  const iaprText: VarSpec = { names: ["YAll"], what: "the bag-of-words (n x 2912)", cols: 2912 };
  const iaprLab: VarSpec = { names: ["LAll"], what: "the 0/1 labels (n x 255)", cols: 255 };
  /** A dataset in data/<name>/ (label names from label_names.txt there when present). */
  const dataset = (
    name: MultiLabelSpec["name"],
    classes: number,
    defaultLabelNames: MultiLabelSpec["defaultLabelNames"],
    layouts: Layout[],
  ): MultiLabelSpec => ({
    name,
    dir: name,
    classes,
    labelNamesFile: "label_names.txt",
    defaultLabelNames,
    layouts,
  });
  /** Image, text and labels in one file, each under the first of its names present. */
  const oneFile = (file: string, image: string[], text: VarSpec, labels: VarSpec): Layout => ({
    image: { file, spec: feat(image) },
    text: { file, spec: text },
    labels: { file, spec: labels },
  });
  return {
    mirflickr25k: dataset("mirflickr25k", 24, () => MIRFLICKR_LABELS, [
      {
        image: { file: "mirflickr25k-iall.mat", spec: feat(["IAll"]) },
        text: { file: "mirflickr25k-yall.mat", spec: mirText },
        labels: { file: "mirflickr25k-lall.mat", spec: mirLab },
      },
      {
        image: { file: "mirflickr25k-iall.npy", spec: feat(["array"]), npy: true },
        text: { file: "mirflickr25k-yall.mat", spec: mirText },
        labels: { file: "mirflickr25k-lall.mat", spec: mirLab },
      },
      oneFile(
        "FLICKR-25K.mat",
        ["images", "IAll", "XAll"],
        { ...mirText, names: ["YAll", "tags"] },
        { ...mirLab, names: ["LAll", "labels"] },
      ),
    ]),
    nuswide: dataset("nuswide", 21, (c) => genericNames("concept", c), [
      {
        image: { file: "nus-wide-tc21-iall.mat", spec: feat(["IAll", "XAll"]) },
        text: { file: "nus-wide-tc21-yall.mat", spec: nusText },
        labels: { file: "nus-wide-tc21-lall.mat", spec: nusLab },
      },
      oneFile(
        "NUS-WIDE-TC21.mat",
        ["image", "images", "IAll", "XAll"],
        { ...nusText, names: ["text", "YAll", "tags"] },
        { ...nusLab, names: ["label", "LAll", "labels"] },
      ),
    ]),
    mscoco: dataset("mscoco", 80, (c) => genericNames("category", c), [
      oneFile(
        "MS-COCO.mat",
        ["images", "IAll", "XAll"],
        { names: ["tags", "YAll"], what: "the text features (n x d_t)" },
        { names: ["labels", "LAll"], what: "the 0/1 labels (n x 80)", cols: 80 },
      ),
    ]),
    iapr: dataset("iapr", 255, (c) => genericNames("label", c), [
      {
        image: { file: "iapr-tc12-iall.mat", spec: feat(["IAll", "XAll"]) },
        text: { file: "iapr-tc12-yall.mat", spec: iaprText },
        labels: { file: "iapr-tc12-lall.mat", spec: iaprLab },
      },
    ]),
  };
}

export async function loadMultiLabel(
  spec: MultiLabelSpec,
  dataDir: string,
  o: LoadDatasetOptions,
  simulateImage: boolean,
): Promise<CrossModalDataset> {
  const dir = join(dataDir, spec.dir);
  const checks = o.checksums ?? true;
  const format = o.textFormat ?? "dense";
  let layout: Layout | undefined;
  for (const l of spec.layouts) {
    const files = [
      l.text.file,
      l.labels.file,
      ...(simulateImage || !l.image ? [] : [l.image.file]),
    ];
    let ok = true;
    for (const f of files) if (!(await exists(join(dir, f)))) ok = false;
    if (ok) {
      layout = l;
      break;
    }
  }
  if (!layout) {
    const first = spec.layouts[0];
    // name the first missing file of the primary layout, plus the alternatives
    const textPath = join(dir, first.text.file), labPath = join(dir, first.labels.file);
    const alternatives = [
      ...new Set(
        spec.layouts.map((l) =>
          [
            ...new Set([
              l.image && !simulateImage ? l.image.file : null,
              l.text.file,
              l.labels.file,
            ]),
          ]
            .filter((x) => x).join(" + ")
        ),
      ),
    ].join(" | ");
    if (!(await exists(textPath))) {
      throw missingFile(
        spec.name,
        textPath,
        `${first.text.spec.what}; accepted layouts: ${alternatives}`,
      );
    }
    if (!(await exists(labPath))) {
      throw missingFile(
        spec.name,
        labPath,
        `${first.labels.spec.what}; accepted layouts: ${alternatives}`,
      );
    }
    const imgPath = join(dir, first.image!.file);
    throw new Error(
      `${imgPath}: file not found; dataset '${spec.name}' needs image FEATURES (a 2-D n x d ` +
        `matrix, e.g. CNN fc7) — accepted: ${
          spec.layouts.map((l) => `${l.image!.file} (${l.image!.spec.names.join("/")})`).join(
            ", ",
          )
        }` +
        (spec.name === "mirflickr25k"
          ? "; use 'mirflickr25k-simimg' for a simulated image side"
          : "") +
        "; see docs/data.md",
    );
  }
  // Read text and labels (possibly from the same file), then the image side.
  const textPath = join(dir, layout.text.file), labPath = join(dir, layout.labels.file);
  const records: string[] = [];
  let textVar: MatVariable, labVar: MatVariable, textName: string, labName: string;
  if (textPath === labPath) {
    const { names, vars } = await readVars(textPath, [layout.text.spec, layout.labels.spec]);
    [textName, labName] = names;
    textVar = vars.get(textName)!;
    labVar = vars.get(labName)!;
  } else {
    const t = await readVars(textPath, [layout.text.spec]);
    const l = await readVars(labPath, [layout.labels.spec]);
    textName = t.names[0];
    labName = l.names[0];
    textVar = t.vars.get(textName)!;
    labVar = l.vars.get(labName)!;
  }
  const wText = `${textPath}: variable '${textName}'`, wLab = `${labPath}: variable '${labName}'`;
  const labels = labelMatrixOf(labVar, wLab);
  const text = toText(textVar, wText, format);
  assertFinite(text, wText);
  const n = labels.rows;
  checkRows(textPath, textName, text, n, `'${labName}' in ${labPath}`);

  let image: DenseMatrix;
  let imageDesc: string;
  let name: string = spec.name;
  if (simulateImage) {
    const simOpts = simulatedOptions({
      ...o.simulatedImage,
      seed: o.simulatedImage?.seed ?? o.seed ?? 0,
    });
    image = simulateImageFeatures(labels, simOpts);
    imageDesc = describeSimulation(simOpts);
    name = `${spec.name}-simimg`;
  } else {
    const img = layout.image!;
    const imgPath = join(dir, img.file);
    if (img.npy) {
      const arr = await readNpy(imgPath);
      const where = `${imgPath}: array`;
      if (arr.shape.length !== 2) {
        throw new Error(
          `${imgPath}: array has shape (${arr.shape.join(", ")}); expected ${img.spec.what}` +
            (arr.shape.length > 2 ? " — raw images are not supported, extract features first" : ""),
        );
      }
      image = npyToDense(arr, where);
      assertFinite(image, where);
      checkRows(imgPath, "array", image, n, `'${labName}' in ${labPath}`);
      imageDesc = `image = ${await fileRecord(imgPath, checks)} (${image.rows}x${image.cols})`;
    } else {
      const { names, vars } = await readVars(imgPath, [img.spec], img.spec);
      const where = `${imgPath}: variable '${names[0]}'`;
      image = featureMatrix(vars.get(names[0])!, where);
      checkRows(imgPath, names[0], image, n, `'${labName}' in ${labPath}`);
      imageDesc = `image = ${names[0]} (${image.rows}x${image.cols}) from ${await fileRecord(
        imgPath,
        checks,
      )}`;
    }
  }
  const ln = spec.labelNamesFile
    ? await readLabelNames(join(dir, spec.labelNamesFile), labels.classes, [])
    : { names: [] as readonly string[], file: null };
  const labelNames = ln.file ? ln.names : spec.defaultLabelNames(labels.classes);
  if (labelNames.length !== labels.classes) {
    throw new Error(
      `${labPath}: variable '${labName}' has ${labels.classes} label columns, expected ${labelNames.length}`,
    );
  }
  records.push(
    `text = ${textName} (${text.rows}x${text.cols}) from ${await fileRecord(textPath, checks)}`,
  );
  records.push(
    `labels = ${labName} (${labels.rows}x${labels.classes}) from ${
      labPath === textPath ? "the same file" : await fileRecord(labPath, checks)
    }`,
  );
  if (ln.file) records.push(`label names from ${ln.file}`);
  records.push(imageDesc);
  return {
    name,
    image,
    text,
    labels,
    labelNames,
    provenance: `${name}: ${records.join("; ")}`,
  };
}
