/**
 * Binary codes from arrays written by any framework: a 2-D `.npy` array of n items x K bits
 * becomes packed codes. One rule covers every dtype: an array whose values are all 0 or 1 holds
 * bits (1 -> +1, 0 -> -1; uint8, bool, or any other dtype); otherwise the sign of each value is
 * the bit (int8/float ±1 codes, or real-valued network outputs; sign(0) = +1, as in
 * {@link packSigns}). NaN is refused.
 *
 * @module
 */
import type { NpyArray } from "../datasets/formats/npy.ts";
import type { PackedCodes } from "../types.ts";
import { packSigns } from "./codes.ts";

/** How {@link codesFromNpy} read an array's values. */
export type CodeEncoding = "0/1" | "±1" | "sign";

/** Codes read from an array, and how its values were read. */
export interface CodesFromArray {
  /** The packed codes (n items, K bits). */
  readonly codes: PackedCodes;
  /** "0/1": bits; "±1": every value was -1 or +1; "sign": other values, sign taken. */
  readonly encoding: CodeEncoding;
}

/**
 * Packed codes from a 2-D `.npy` array (n x K); `where` names the file in errors.
 *
 * @throws a one-line error naming `where` when the array is not 2-D, has no columns, or holds
 *   NaN.
 */
export function codesFromNpy(arr: NpyArray, where: string): CodesFromArray {
  if (arr.shape.length !== 2) {
    throw new Error(
      `${where}: array has shape (${arr.shape.join(", ")}); expected codes of shape (n, bits)`,
    );
  }
  const [n, bits] = arr.shape;
  if (bits < 1) throw new Error(`${where}: array has 0 columns; expected codes of shape (n, bits)`);
  const values = new Float64Array(n * bits);
  let binary = true, pm1 = true;
  for (let i = 0; i < values.length; i++) {
    const v = Number(arr.data[i]);
    if (Number.isNaN(v)) {
      throw new Error(
        `${where}: NaN at row ${Math.floor(i / bits)}, column ${i % bits}; expected codes`,
      );
    }
    values[i] = v;
    if (v !== 0 && v !== 1) binary = false;
    if (v !== -1 && v !== 1) pm1 = false;
  }
  if (binary) {
    for (let i = 0; i < values.length; i++) values[i] = values[i] === 1 ? 1 : -1;
    return { codes: packSigns(values, n, bits), encoding: "0/1" };
  }
  return { codes: packSigns(values, n, bits), encoding: pm1 ? "±1" : "sign" };
}
