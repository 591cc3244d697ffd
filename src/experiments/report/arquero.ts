/**
 * arquero (npm:arquero@7.2.1), with the toolkit's own declarations of the part it uses
 * (arquero.d.ts): every module imports arquero through this one.
 *
 * @module
 */
// @ts-types="./arquero.d.ts"
import * as aq from "npm:arquero@7.2.1";

export type { ColumnTable, FormatOptions } from "./arquero.d.ts";

/** A table from named columns of equal length (arquero's `table`). */
export const table = aq.table;

/** A table from row objects (arquero's `from`). */
export const from = aq.from;
