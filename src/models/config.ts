/**
 * The one config helper of the trained methods (CPAH, DFAH, DCMH): a config is a defaults table
 * with overrides applied ({@link withOverrides}), checked against a table of field rules
 * ({@link validateFields}) that also rejects fields it does not know. Every error is one line in
 * one format: `<fn>: config.<field> must be <expected>, got <value>` (or
 * `<fn>: overrides.<field> is not a <Type> field`).
 *
 * @module
 */

/** A rule of the table: the fields it covers, what they must be, and the test. */
export type FieldRule = readonly [
  fields: readonly string[],
  expected: string | ((c: Record<string, unknown>) => string),
  ok: (value: unknown, config: Record<string, unknown>) => boolean,
];

/** Throw the one-line error for an invalid field. */
export function configError(fn: string, field: string, value: unknown, expected: string): never {
  throw new Error(`${fn}: config.${field} must be ${expected}, got ${JSON.stringify(value)}`);
}

/** An integer >= 1. */
export const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
/** An integer. */
export const isInteger = (v: unknown): boolean => Number.isInteger(v);
/** A finite number >= 0. */
export const isNonNegative = (v: unknown): boolean =>
  typeof v === "number" && Number.isFinite(v) && v >= 0;
/** A finite number > 0. */
export const isPositive = (v: unknown): boolean =>
  typeof v === "number" && Number.isFinite(v) && v > 0;
/** A number in [0, 1). */
export const isUnitInterval = (v: unknown): boolean => typeof v === "number" && v >= 0 && v < 1;
/** A boolean. */
export const isBoolean = (v: unknown): boolean => typeof v === "boolean";
/** A non-empty string. */
export const isName = (v: unknown): boolean => typeof v === "string" && v !== "";
/** An array of at least `min` integers >= 1 (layer widths). */
export const isLayers = (min: number) => (v: unknown): boolean =>
  Array.isArray(v) && v.length >= min && v.every(isCount);
/** One of the given values. */
export const isOneOf = (...values: unknown[]) => (v: unknown): boolean => values.includes(v);

/** The rule both two-branch models share: the text extractor ends at the image feature width. */
export const SAME_FEATURE_WIDTH: FieldRule = [
  ["textLayers"],
  (c) => `to end with the image feature width ${(c.imageLayers as number[]).at(-1)}`,
  (v, c) => Array.isArray(v) && v.at(-1) === (c.imageLayers as number[]).at(-1),
];

/**
 * Check `c` against `rules`: a field no rule covers is rejected (`<fn>: config.<k> is not a
 * <typeName> field`), and the first field that fails its rule throws {@link configError}.
 * Returns `c`.
 */
export function validateFields<T extends object>(
  fn: string,
  typeName: string,
  c: T,
  rules: readonly FieldRule[],
): T {
  if (c === null || typeof c !== "object") {
    throw new Error(`${fn}: config must be an object, got ${JSON.stringify(c)}`);
  }
  const rec = c as Record<string, unknown>;
  const known = new Set(rules.flatMap(([fields]) => fields));
  for (const k of Object.keys(rec)) {
    if (!known.has(k)) throw new Error(`${fn}: config.${k} is not a ${typeName} field`);
  }
  for (const [fields, expected, ok] of rules) {
    for (const k of fields) {
      if (!ok(rec[k], rec)) {
        configError(fn, k, rec[k], typeof expected === "function" ? expected(rec) : expected);
      }
    }
  }
  return c;
}

/**
 * `defaults` with `overrides` applied (deep copies; undefined overrides ignored); an override
 * naming a field the defaults do not have throws `<fn>: overrides.<k> is not a <typeName>
 * field`.
 */
export function withOverrides<T extends object>(
  fn: string,
  typeName: string,
  defaults: T,
  overrides: Partial<T>,
): T {
  const out = structuredClone(defaults) as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in out)) throw new Error(`${fn}: overrides.${k} is not a ${typeName} field`);
    if (v !== undefined) out[k] = structuredClone(v);
  }
  return out as T;
}
