/**
 * What every file-based loader shares: file existence and provenance records, the one-line
 * errors for missing files, reading and checking variables (shapes, row counts) of MAT files,
 * and label names.
 *
 * @module
 */
import {
  dimsString,
  matToCsr,
  matToDense,
  matToLabels,
  type MatVariable,
  type MatVariableInfo,
} from "./formats/mat.ts";
import { inspectMatFile, readMatFile } from "./formats/matfile.ts";
import { assertFinite, assertLabelled } from "./matrix.ts";
import type { DenseMatrix, LabelMatrix, Matrix } from "../types.ts";

export const SOURCES: Record<string, string> = {
  wikipedia: "the Wikipedia image-text dataset release (Rasiwasia et al., ACM MM 2010)",
  mirflickr25k: "the DCMH release of MIRFlickr-25K (Jiang & Li, CVPR 2017)",
  nuswide: "the DCMH / DADH releases of NUS-WIDE (21 concepts)",
  mscoco: "a DADH-style MS-COCO release (MS-COCO.mat)",
  iapr: "the DCMH-style IAPR TC-12 release (iapr-tc12-*.mat)",
};

export async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

export function missingFile(dataset: string, path: string, what: string): Error {
  return new Error(
    `${path}: file not found; dataset '${dataset}' needs it (${what}), from ${
      SOURCES[dataset] ?? "its public release"
    }; see docs/data.md`,
  );
}

/** Provenance record of one file. */
export async function fileRecord(path: string, checksums: boolean): Promise<string> {
  const st = await Deno.stat(path);
  if (!checksums || st.size > 2 ** 30) return `${path} (${st.size} bytes)`;
  const bytes = await Deno.readFile(path);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${path} (${st.size} bytes, sha256 ${hex})`;
}

/** A variable to read: accepted names (first present wins) and what is expected of it. */
export interface VarSpec {
  readonly names: readonly string[];
  readonly what: string;
  /** Required number of columns (undefined: any). */
  readonly cols?: number;
}

/**
 * Check that each spec has a present, 2-D variable (before decoding anything), then read them.
 * Returns the chosen variable names and the decoded variables.
 */
export async function readVars(
  path: string,
  specs: readonly VarSpec[],
  imageRole?: VarSpec,
): Promise<{ names: string[]; vars: Map<string, MatVariable>; infos: MatVariableInfo[] }> {
  const infos = await inspectMatFile(path);
  const byName = new Map(infos.map((i) => [i.name, i]));
  const names: string[] = [];
  for (const s of specs) {
    const name = s.names.find((n) => byName.has(n));
    if (!name) {
      const want = s.names.map((n) => `'${n}'`).join(" or ");
      throw new Error(
        `${path}: variable ${want} not found; expected ${s.what} (file has: ${
          infos.length ? infos.map((i) => i.name).join(", ") : "no variables"
        })`,
      );
    }
    const info = byName.get(name)!;
    checkTwoD(path, info, s, s === imageRole);
    names.push(name);
  }
  const vars = await readMatFile(path, { variables: names });
  return { names, vars, infos };
}

export function checkTwoD(path: string, info: MatVariableInfo, s: VarSpec, isImage: boolean): void {
  const d = info.dims;
  const extra = d.slice(2).some((x) => x !== 1);
  if (d.length < 2 || extra) {
    const hint = isImage
      ? "; it looks like raw image data: image FEATURES are required (a 2-D n x d matrix, " +
        "e.g. CNN fc7 activations) — extract them first, or use 'mirflickr25k-simimg'"
      : "";
    throw new Error(
      `${path}: variable '${info.name}' is ${
        dimsString(d)
      } (${d.length}-D); expected ${s.what}${hint}`,
    );
  }
  if (info.complex) {
    throw new Error(`${path}: variable '${info.name}' is complex; expected ${s.what}`);
  }
  if (s.cols !== undefined && d[1] !== s.cols) {
    throw new Error(
      `${path}: variable '${info.name}' is ${
        dimsString(d)
      }; expected ${s.what} with ${s.cols} columns`,
    );
  }
}

export function checkRows(
  path: string,
  name: string,
  m: { rows: number; cols?: number },
  n: number,
  ref: string,
) {
  if (m.rows !== n) {
    const hint = m.cols === n ? "; stored transposed? rows must be items" : "";
    throw new Error(
      `${path}: variable '${name}' has ${m.rows} rows, expected ${n} like ${ref} (one row per pair)${hint}`,
    );
  }
}

export function toText(v: MatVariable, where: string, format: "dense" | "csr"): Matrix {
  return format === "csr" ? matToCsr(v, where) : matToDense(v, where);
}

export function featureMatrix(v: MatVariable, where: string): DenseMatrix {
  const m = matToDense(v, where);
  assertFinite(m, where);
  return m;
}

export function labelMatrixOf(v: MatVariable, where: string): LabelMatrix {
  const l = matToLabels(v, where);
  assertLabelled(l, where);
  return l;
}

export async function readLabelNames(path: string, classes: number, fallback: readonly string[]) {
  if (!(await exists(path))) return { names: fallback, file: null as string | null };
  const lines = (await Deno.readTextFile(path)).split(/\r?\n/).map((s) => s.trim()).filter((s) =>
    s !== ""
  );
  if (lines.length !== classes) {
    throw new Error(
      `${path}: has ${lines.length} label names, expected ${classes} (one per label column)`,
    );
  }
  return { names: lines, file: path };
}

export function genericNames(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}
