/**
 * Small file, environment and command-line helpers shared across the toolkit: THE atomic write
 * (checkpoints, result files), reading a file with a one-line error when it is missing,
 * reading an environment variable without --allow-env, and running a CLI's main.
 *
 * @module
 */

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

/** Run a CLI's `main` with the process arguments; an error prints `${name}: message`, exit 1. */
export async function runCli(name: string, main: (argv: string[]) => Promise<void>) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
