/**
 * The part of arquero 7.2.1's API the toolkit uses, typed here: arquero's own declaration files
 * hold a rest parameter marked optional (`...values?:`), which TypeScript's parser rejects, so
 * `deno doc` printed a SyntaxError warning for every document that reached them. Imported
 * through arquero.ts only.
 */

/** Options of the text formats (see arquero's format docs). */
export interface FormatOptions {
  /** Columns to write (default all). */
  columns?: string[];
  /** Rows to write at most. */
  limit?: number;
  /** Rows to skip first. */
  offset?: number;
  /** Per-column or general value formatting. */
  format?: Record<string, (value: unknown) => string>;
  /** Other options arquero understands. */
  [option: string]: unknown;
}

/** A column table (arquero's ColumnTable), read-only use. */
export interface ColumnTable {
  /** Number of rows. */
  numRows(): number;
  /** Number of columns. */
  numCols(): number;
  /** Column names, in order. */
  columnNames(): string[];
  /** The rows as objects keyed by column name. */
  objects(options?: { limit?: number; offset?: number }): Record<string, unknown>[];
  /** One column's values. */
  array(name: string): unknown[];
  /** The value of column `name` at row `row`. */
  get(name: string, row?: number): unknown;
  /** CSV text. */
  toCSV(options?: FormatOptions): string;
  /** Markdown table text. */
  toMarkdown(options?: FormatOptions): string;
  /** HTML table text. */
  toHTML(options?: FormatOptions): string;
}

/** A table from named columns of equal length. */
export function table(columns: Record<string, unknown[]>, names?: string[]): ColumnTable;

/** A table from row objects. */
export function from(values: Iterable<Record<string, unknown>>, names?: string[]): ColumnTable;
