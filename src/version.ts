/**
 * Version of this toolkit: recorded in every result file and printed by `--version`. Keep it
 * equal to `version` in deno.json (tests/package.test.ts checks).
 */
export const TOOLKIT_VERSION = "0.2.0";
