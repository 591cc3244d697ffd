/**
 * Where a result came from, beyond the versions: the git commit of the toolkit's source tree
 * that computed it (recorded in every result file, `versions.commit`).
 *
 * @module
 */

let commit: Promise<string | undefined> | undefined;

async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await new Deno.Command("git", {
      args: ["-C", dir, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : undefined;
  } catch {
    return undefined; // no git, no --allow-run, or not a checkout
  }
}

/**
 * The git commit of the source tree this module is loaded from, with "+dirty" when tracked
 * files differ from it (untracked files, such as new result files, do not count); undefined
 * when the source is not a git checkout, git is missing or running it is not permitted. Asked
 * once per process.
 */
export function gitCommit(): Promise<string | undefined> {
  commit ??= (async () => {
    const url = new URL("../..", import.meta.url);
    if (url.protocol !== "file:") return undefined;
    const dir = decodeURIComponent(url.pathname);
    const head = await git(dir, ["rev-parse", "HEAD"]);
    if (!head || !/^[0-9a-f]{40}$/.test(head)) return undefined;
    const changed = await git(dir, ["status", "--porcelain", "--untracked-files=no"]);
    return changed ? `${head}+dirty` : head;
  })();
  return commit;
}
