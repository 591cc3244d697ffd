/**
 * Small file, environment and command-line helpers shared across the toolkit: THE atomic write
 * (checkpoints, result files), reading a file with a one-line error when it is missing,
 * reading an environment variable without --allow-env, Markdown formatted by `deno fmt`, and
 * the CLIs' option parsing (errors in CLI terms, help and version before anything else) and
 * main.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * Write `data` to a temporary file next to `path`, then rename it onto `path`: a reader sees
 * the old file or the new one, never a half-written one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${Date.now()}-${Math.floor(Math.random() * 1e9)}.tmp`;
  await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/** {@link writeFileAtomic} for text (UTF-8). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Run `fn` holding an exclusive lock on the file `path` (created when absent; an advisory
 * `flock`, released when `fn` settles or the process dies): processes sharing a results
 * directory take turns, e.g. to read every result file and write the report from them.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

/** The bytes of a file; a missing file throws `${path}: ${missing}`. */
export async function readFileOr(path: string, missing: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: ${missing}`);
    throw e;
  }
}

/** An environment variable, or undefined when unset, empty, or not readable (no --allow-env). */
export function readEnv(name: string): string | undefined {
  try {
    const v = Deno.env.get(name);
    return v === undefined || v === "" ? undefined : v;
  } catch {
    return undefined;
  }
}

/**
 * Format Markdown as the repository's `deno fmt` does (line width 100, prose wrapped), through
 * `deno fmt` itself on stdin. When that fails, `onError` gets the reason and the text comes
 * back unchanged (unless `onError` throws).
 */
export async function formatMarkdown(
  text: string,
  onError: (reason: string) => void,
): Promise<string> {
  try {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--no-config", "--line-width", "100", "--ext", "md", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const { code, stdout, stderr } = await p.output();
    if (code !== 0) throw new Error(new TextDecoder().decode(stderr).trim());
    return new TextDecoder().decode(stdout);
  } catch (e) {
    onError((e as Error).message);
    return text;
  }
}

/** Run a CLI's `main` with the process arguments; an error prints `${name}: message`, exit 1. */
export async function runCli(name: string, main: (argv: string[]) => Promise<void>) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

/** The words before a "--" terminator (what the option scan looks at). */
function optionWords(argv: string[]): string[] {
  const end = argv.indexOf("--");
  return end < 0 ? argv : argv.slice(0, end);
}

/** Whether argv asks for the help text: -h or --help anywhere, whatever else it holds. */
export function wantsHelp(argv: string[]): boolean {
  return optionWords(argv).some((a) => a === "-h" || a === "--help");
}

/** Whether argv asks for the version (help wins when both are given). */
export function wantsVersion(argv: string[]): boolean {
  return optionWords(argv).some((a) => a === "--version");
}

/**
 * The start of every CLI's main: print the help text (-h/--help, which wins) or the toolkit's
 * version (--version) and return true, or return false when argv asks for neither.
 */
export function printedHelpOrVersion(argv: string[], help: string, version: string): boolean {
  if (wantsHelp(argv)) console.log(help);
  else if (wantsVersion(argv)) console.log(`@cmh/hashing ${version}`);
  else return false;
  return true;
}

/** Edit distance between two words (insertions, deletions, substitutions, transpositions). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The option a mistyped one most likely meant: the closest known name within a third of its
 * length in edits (at least 1, at most 3), or the one it is a prefix of; undefined when none is
 * close.
 */
export function didYouMean(typed: string, known: readonly string[]): string | undefined {
  const word = typed.replace(/^-+/, "").split("=")[0];
  if (!word) return undefined;
  const prefixed = known.filter((k) => k.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(word, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.min(3, Math.max(1, Math.floor(word.length / 3))) ? best : undefined;
}

/** node:util parseArgs errors in this CLI's terms: the option named, one line. */
function cliError(e: unknown, command: string, known: readonly string[] = []): Error {
  const m = (e as Error).message ?? String(e);
  let x: RegExpMatchArray | null;
  if ((x = m.match(/^Unknown option '([^']+)'/))) {
    const guess = didYouMean(x[1], known);
    return new Error(
      `unknown option '${x[1]}'${
        guess ? `; did you mean '--${guess}'?` : ""
      } ('deno task ${command} ` +
        `--help' lists the options)`,
    );
  }
  if ((x = m.match(/^Option '(?:-\w, )?(--[\w-]+)[^']*' argument (?:missing|is ambiguous)/))) {
    return new Error(`${x[1]}: expects a value (e.g. ${x[1]}=VALUE)`);
  }
  if ((x = m.match(/^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/))) {
    return new Error(`${x[1]}: takes no value`);
  }
  if ((x = m.match(/^Unexpected argument '([^']+)'/))) {
    return new Error(`unexpected argument '${x[1]}' (every option starts with --; see --help)`);
  }
  return new Error(m.split("\n")[0]);
}

/** The options every CLI of the toolkit takes: `-h`/`--help` and `--version`. */
export const HELP_OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** The options of the CLIs that load a dataset: `--dataset`, `--data-dir`, `--backend`. */
export const DATA_OPTIONS = {
  dataset: { type: "string" },
  "data-dir": { type: "string" },
  backend: { type: "string" },
} as const;

/**
 * Parse argv with node:util's parseArgs, in CLI terms: an unknown option, a missing value, a
 * stray word or an option given twice (other than the repeatable ones) is a one-line error.
 */
export function parseCliOptions<O extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: O,
  command: string,
): Record<string, string | boolean | string[] | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: false, tokens: true });
  } catch (e) {
    throw cliError(e, command, Object.keys(options));
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== "option") continue;
    const multiple = (options as Record<string, { multiple?: boolean }>)[t.name]?.multiple;
    if (seen.has(t.name) && !multiple) {
      throw new Error(`--${t.name}: given twice; give it once`);
    }
    seen.add(t.name);
  }
  return parsed.values as Record<string, string | boolean | string[] | undefined>;
}
