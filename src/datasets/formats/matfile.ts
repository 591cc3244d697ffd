/**
 * One entry point for MAT-files of either format: MAT v5 (`mat.ts`) or MAT v7.3 / HDF5
 * (`hdf5.ts`), chosen by looking at the file's first bytes. Both give the same
 * {@link MatVariable} representation (MATLAB dims, column-major data).
 *
 * @module
 */
import { inspectMat, type MatVariable, type MatVariableInfo, readMat } from "./mat.ts";
import { inspectMat73, isHdf5File, readMat73 } from "./hdf5.ts";

/** Which MAT-file format a file is in. */
export type MatFormat = "v5" | "v7.3";

/** Detect the format of a MAT-file (throws a clear error if it does not exist). */
export async function matFormat(path: string): Promise<MatFormat> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: file not found`);
    throw e;
  }
  return (await isHdf5File(path)) ? "v7.3" : "v5";
}

/** List variables (name, class, dims) of a MAT v5 or v7.3 file without reading their data. */
export async function inspectMatFile(path: string): Promise<MatVariableInfo[]> {
  return (await matFormat(path)) === "v7.3" ? await inspectMat73(path) : await inspectMat(path);
}

/**
 * Read variables from a MAT v5 or v7.3 file. With `variables`, each must exist and be
 * supported (else a one-line error naming the file and variable).
 */
export async function readMatFile(
  path: string,
  opts: { readonly variables?: readonly string[] } = {},
): Promise<Map<string, MatVariable>> {
  return (await matFormat(path)) === "v7.3"
    ? await readMat73(path, opts)
    : await readMat(path, opts);
}
