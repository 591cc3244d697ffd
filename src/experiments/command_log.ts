/**
 * The command log of a results directory, `<out>/command.txt`: the command lines that produced
 * its result files, one per line, each once. The CLIs append to it (`deno task reproduce`,
 * `deno task mechanisms`); the reports list it.
 *
 * @module
 */

/**
 * Append a command line to `<out>/command.txt` (once): several runs may fill one results
 * directory (e.g. methods run in parallel processes), and the report lists them all. The CLI
 * calls it only after a grid ran at least one cell (not for failed or empty runs).
 */
export async function recordCommand(out: string, command: string): Promise<void> {
  const path = `${out}/command.txt`;
  let lines: string[] = [];
  try {
    lines = (await Deno.readTextFile(path)).split("\n").filter(Boolean);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Appended (O_APPEND), never rewritten: a line another process adds meanwhile is kept.
  if (!lines.includes(command)) await Deno.writeTextFile(path, command + "\n", { append: true });
}
