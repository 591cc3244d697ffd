/**
 * The helpers shared by the benchmarks' command lines.
 *
 * @module
 */
export { readEnv } from "../src/io.ts";

/** An integer option >= `min`, with a one-line error naming the option. */
export function positiveInt(value: string, option: string, min = 1): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`${option} must be an integer >= ${min}, got '${value}'`);
  }
  return v;
}

/** One of the allowed values, with a one-line error naming the option. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${option} is '${value}', expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** String options with defaults for `parseArgs`, from the defaults. */
export function stringOptions<K extends string>(
  defaults: Record<K, string>,
): Record<K, { type: "string"; default: string }> {
  const out = {} as Record<K, { type: "string"; default: string }>;
  for (const k of Object.keys(defaults) as K[]) out[k] = { type: "string", default: defaults[k] };
  return out;
}
