/**
 * `deno task notebooks`: execute every notebook in this folder headless on Deno's Jupyter
 * kernel and fail if any cell throws.
 *
 * Each notebook is read from `notebooks/` (so the kernel's working directory is this folder
 * and `../mod.ts`, `../src/...` and the deno.json import map resolve exactly as they do for
 * someone opening it in Jupyter), its outputs are cleared, it is executed, and the executed
 * copy is written to the output directory (default `results/notebooks/`). The committed
 * notebooks are never rewritten (except with `--strip`, which only removes outputs).
 *
 * Needs `jupyter nbconvert` (Debian: jupyter-nbconvert jupyter-client jupyter-core
 * python3-nbclient) and the Deno kernelspec (installed here with `deno jupyter --install
 * --force` when it is missing or points at a deno binary that no longer exists).
 *
 * Prints one line per notebook (`ok`/`FAILED`, name, seconds), the failing cell's error, and a
 * closing line `N passed, M failed`. Exits 1 if any notebook failed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const FILE = "notebooks/run.ts";
const NB_DIR = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(NB_DIR, "..");
const APT_PACKAGES = "jupyter-nbconvert jupyter-client jupyter-core python3-nbclient";

const HELP = `deno task notebooks [options] [NAME ...]

Executes the notebooks in notebooks/ headless on Deno's Jupyter kernel (outputs cleared first)
and writes the executed copies to the output directory. NAME filters by substring (e.g. 02).

Options
  --out DIR        output directory for executed notebooks   (default results/notebooks)
  --timeout S      per-cell timeout in seconds                (default 600)
  --jupyter PATH   jupyter executable      (default: env JUPYTER, else /usr/bin/jupyter,
                   else jupyter on PATH)
  --drain S        keep reading a cell's outputs until S seconds pass without one after the
                   kernel reports idle (works around late outputs of Deno's kernel; default 0.3)
  --strip          remove outputs and execution counts from the committed notebooks in place
                   (for after editing them in Jupyter), then exit; executes nothing
  --help           this text

Environment passed to the notebooks (relative paths resolved against the current directory):
  HASH_DATA_DIR     real data directory (default: the repository's data/ folder)
  HASH_RESULTS_DIR  results directory read by 04_results (default results/synthetic)
`;

/** A notebook cell as stored in .ipynb JSON (only the fields this runner touches). */
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; ename?: string; evalue?: string }[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

/** An .ipynb document. */
interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Result of running a command. */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<Ran> {
  try {
    const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
      .output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { code: 127, stdout: "", stderr: "not found" };
    throw e;
  }
}

/** The notebooks of this folder, sorted by name, filtered by substrings. */
export async function listNotebooks(filters: string[] = []): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(NB_DIR)) {
    if (e.isFile && e.name.endsWith(".ipynb")) names.push(e.name);
  }
  names.sort();
  return names.filter((n) => !filters.length || filters.some((f) => n.includes(f)));
}

/** Read and minimally check a notebook file; one-line error naming the file otherwise. */
export async function readNotebook(path: string): Promise<Notebook> {
  let nb: Notebook;
  try {
    nb = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`${path}: not a readable notebook (${(e as Error).message.split("\n")[0]})`);
  }
  if (!nb || !Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new Error(`${path}: expected an nbformat 4 notebook with a cells array`);
  }
  return nb;
}

/** Remove outputs and execution counts from every code cell (returns whether anything changed). */
export function stripOutputs(nb: Notebook): boolean {
  let changed = false;
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    if ((c.outputs?.length ?? 0) > 0 || c.execution_count != null) changed = true;
    c.outputs = [];
    c.execution_count = null;
  }
  return changed;
}

/** Find a working `jupyter` with nbconvert, or throw a one-line error naming the packages. */
async function findJupyter(explicit?: string): Promise<string> {
  const candidates = explicit
    ? [explicit]
    : [Deno.env.get("JUPYTER"), "/usr/bin/jupyter", "jupyter"].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = await run(c, ["nbconvert", "--version"]);
    if (r.code === 0) return c;
  }
  throw new Error(
    `${FILE}: 'jupyter nbconvert' not found (tried ${candidates.join(", ")}); install it with ` +
      `apt-get install -y ${APT_PACKAGES}`,
  );
}

/**
 * Make sure the Deno kernelspec exists and its binary exists; otherwise run
 * `deno jupyter --install --force` with this deno. Returns a note for the log.
 */
async function ensureKernel(jupyter: string): Promise<string> {
  const r = await run(jupyter, ["kernelspec", "list", "--json"]);
  let argv0: string | undefined;
  if (r.code === 0) {
    try {
      const specs = JSON.parse(r.stdout).kernelspecs ?? {};
      argv0 = specs.deno?.spec?.argv?.[0];
    } catch { /* treated as not installed */ }
  }
  let exists = false;
  if (argv0) {
    try {
      exists = (await Deno.stat(argv0)).isFile;
    } catch { /* missing binary */ }
  }
  if (exists) {
    const same = await Deno.realPath(argv0!) === await Deno.realPath(Deno.execPath());
    return same
      ? `kernel deno: ${argv0}`
      : `kernel deno: ${argv0} (this runner is ${Deno.execPath()})`;
  }
  const inst = await run(Deno.execPath(), ["jupyter", "--install", "--force"]);
  if (inst.code !== 0) {
    throw new Error(
      `${FILE}: 'deno jupyter --install --force' failed: ${lastLine(inst.stderr)}`,
    );
  }
  return `kernel deno: installed for ${Deno.execPath()}` +
    (argv0 ? ` (the old kernelspec pointed at missing ${argv0})` : "");
}

function lastLine(s: string): string {
  return s.trim().split("\n").filter((l) => l.trim()).at(-1) ?? "(no output)";
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The useful part of a failed nbconvert run: the first line of the failing cell and the error
 * lines, or the last line of stderr for other failures (dead kernel, timeout).
 */
export function failureSummary(stderr: string): string[] {
  const text = stderr.replace(ANSI, "");
  const marker = "An error occurred while executing the following cell:";
  const at = text.indexOf(marker);
  if (at < 0) return [lastLine(text)];
  const rest = text.slice(at + marker.length).split("\n");
  const dashes = rest.map((l, i) => (/^-{5,}$/.test(l.trim()) ? i : -1)).filter((i) => i >= 0);
  if (dashes.length < 2) return [lastLine(text)];
  const cell = rest.slice(dashes[0] + 1, dashes[1]).find((l) => l.trim()) ?? "";
  const err = rest.slice(dashes[1] + 1).map((l) => l.trimEnd()).filter((l) => l.trim());
  // nbclient prints the error twice (traceback, then ename: evalue): keep distinct lines.
  const uniq = [...new Set(err)].slice(0, 12);
  return [`in cell: ${cell.trim().slice(0, 120)}`, ...uniq];
}

/**
 * A Jupyter config file (Python, read by nbconvert) working around a Deno kernel bug: the
 * kernel sometimes publishes a cell's last stream / display messages a few milliseconds AFTER
 * its "idle" status, and nbclient stops listening at "idle", so those outputs were silently
 * dropped from the executed notebook (Deno 2.9.6: 4 of 13 executions of notebook 01 lost an
 * output; the late messages came about 16 ms after idle). The patch keeps reading the cell's messages until `drain` seconds pass without
 * one. Only applied when nbclient has the method it replaces.
 */
export function drainConfig(drain: number): string {
  return `# Written by notebooks/run.ts for one run; see drainConfig there.
from queue import Empty
try:
    from nbclient.client import NotebookClient
    from nbclient.exceptions import CellExecutionComplete
except ImportError:
    NotebookClient = None
try:
    from jupyter_core.utils import ensure_async
except ImportError:
    try:
        from nbclient.util import ensure_async
    except ImportError:
        NotebookClient = None

if NotebookClient is not None and hasattr(NotebookClient, "_async_poll_output_msg"):
    async def _poll_then_drain(self, parent_msg_id, cell, cell_index):
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    break
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=${drain}))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass

    NotebookClient._async_poll_output_msg = _poll_then_drain
`;
}

/** Execute one notebook; returns ok and the lines to print under it on failure. */
async function executeNotebook(
  jupyter: string,
  name: string,
  outDir: string,
  timeout: number,
  env: Record<string, string>,
  config: string,
): Promise<{ ok: boolean; details: string[] }> {
  const src = join(NB_DIR, name);
  await readNotebook(src); // clear error for a malformed file before starting a kernel
  const r = await run(jupyter, [
    "nbconvert",
    `--config=${config}`,
    "--to",
    "notebook",
    "--execute",
    "--ClearOutputPreprocessor.enabled=True",
    "--ExecutePreprocessor.kernel_name=deno",
    `--ExecutePreprocessor.timeout=${timeout}`,
    "--ExecutePreprocessor.startup_timeout=120",
    "--output-dir",
    outDir,
    src,
  ], env);
  if (r.code !== 0) return { ok: false, details: failureSummary(r.stderr) };
  const out = await readNotebook(join(outDir, name));
  const errors = out.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
  if (errors.length) {
    return { ok: false, details: errors.map((e) => `${e.ename}: ${e.evalue}`) };
  }
  return { ok: true, details: [] };
}

function absEnv(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v ? (isAbsolute(v) ? v : resolve(v)) : undefined;
}

/** CLI entry point. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      timeout: { type: "string" },
      jupyter: { type: "string" },
      drain: { type: "string" },
      strip: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const names = await listNotebooks(positionals);
  if (!names.length) {
    console.error(`${FILE}: no notebooks in ${NB_DIR} match ${positionals.join(", ") || "*"}`);
    console.log("0 passed, 1 failed");
    return 1;
  }

  if (values.strip) {
    for (const name of names) {
      const path = join(NB_DIR, name);
      const nb = await readNotebook(path);
      if (stripOutputs(nb)) {
        await Deno.writeTextFile(path, JSON.stringify(nb, null, 1) + "\n");
        console.log(`stripped ${name}`);
      } else console.log(`clean    ${name}`);
    }
    return 0;
  }

  const timeout = Number(values.timeout ?? 600);
  if (!Number.isInteger(timeout) || timeout < 1) {
    throw new Error(
      `${FILE}: --timeout must be a positive integer (seconds), got '${values.timeout}'`,
    );
  }
  const drain = Number(values.drain ?? 0.3);
  if (!(drain >= 0 && drain <= 60)) {
    throw new Error(
      `${FILE}: --drain must be a number of seconds in [0, 60], got '${values.drain}'`,
    );
  }
  const outDir = resolve(values.out ?? join(REPO, "results", "notebooks"));

  let jupyter: string;
  try {
    jupyter = await findJupyter(values.jupyter);
    console.log(await ensureKernel(jupyter));
  } catch (e) {
    console.error((e as Error).message);
    console.log(`0 passed, ${names.length} failed`);
    return 1;
  }
  await Deno.mkdir(outDir, { recursive: true });

  // The kernel runs with notebooks/ as its working directory: pass absolute paths.
  const env: Record<string, string> = { NO_COLOR: "1" };
  const dataDir = absEnv("HASH_DATA_DIR");
  if (dataDir) env.HASH_DATA_DIR = dataDir;
  const resultsDir = absEnv("HASH_RESULTS_DIR");
  if (resultsDir) env.HASH_RESULTS_DIR = resultsDir;

  const tmp = await Deno.makeTempDir({ prefix: "notebooks-run-" });
  const config = join(tmp, "jupyter_nbconvert_config.py");
  await Deno.writeTextFile(config, drainConfig(drain));

  let passed = 0, failed = 0;
  const t00 = performance.now();
  for (const name of names) {
    const t0 = performance.now();
    let res: { ok: boolean; details: string[] };
    try {
      res = await executeNotebook(jupyter, name, outDir, timeout, env, config);
    } catch (e) {
      res = { ok: false, details: [(e as Error).message] };
    }
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${res.ok ? "ok    " : "FAILED"} ${name}  ${s}s`);
    for (const d of res.details) console.log(`       ${d}`);
    if (res.ok) passed++;
    else failed++;
  }
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  const total = ((performance.now() - t00) / 1000).toFixed(1);
  console.log(`executed copies in ${outDir} (${total}s in all)`);
  console.log(`notebooks: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error((e as Error).message);
    console.log("notebooks: 0 passed, 1 failed");
    Deno.exit(1);
  }
}
