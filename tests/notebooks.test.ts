/**
 * Static checks of the committed notebooks (no Jupyter needed; executing them is
 * `deno task notebooks`): stored without outputs, Deno kernel, unique cell ids, every import
 * resolvable, the code cells type-check and pass `deno lint` (which skips .ipynb files itself);
 * and the headless runner's pure helpers.
 */
import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { failureSummary, listNotebooks, readNotebook, stripOutputs } from "../notebooks/run.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NB_DIR = join(REPO, "notebooks");
const names = await listNotebooks();

function cellSource(src: string | string[]): string {
  return Array.isArray(src) ? src.join("") : src;
}

async function codeCells(name: string): Promise<string[]> {
  const nb = await readNotebook(join(NB_DIR, name));
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => cellSource(c.source));
}

/** Module specifiers of static imports in TypeScript source. */
function importSpecifiers(code: string): string[] {
  return [...code.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
}

Deno.test("the four notebooks of the issue are present", () => {
  for (const prefix of ["01_data_and_metrics", "02_cpah", "03_dfah", "04_results"]) {
    assert.ok(names.includes(`${prefix}.ipynb`), `notebooks/${prefix}.ipynb is missing`);
  }
});

Deno.test("committed notebooks are stored without outputs or execution counts", async () => {
  for (const name of names) {
    const nb = await readNotebook(join(NB_DIR, name));
    for (const c of nb.cells.filter((c) => c.cell_type === "code")) {
      assert.deepEqual(
        c.outputs,
        [],
        `${name}: a code cell has outputs; run deno run -A notebooks/run.ts --strip`,
      );
      assert.equal(c.execution_count, null, `${name}: a code cell has an execution count`);
    }
  }
});

Deno.test("notebooks use the Deno kernel and have unique cell ids", async () => {
  for (const name of names) {
    const nb = await readNotebook(join(NB_DIR, name));
    const spec = nb.metadata.kernelspec as { name?: string } | undefined;
    assert.equal(spec?.name, "deno", `${name}: kernelspec.name`);
    const ids = nb.cells.map((c) => (c as { id?: string }).id);
    assert.ok(ids.every((id) => typeof id === "string" && id.length > 0), `${name}: cell ids`);
    assert.equal(new Set(ids).size, ids.length, `${name}: duplicate cell ids`);
  }
});

Deno.test("every import in a notebook resolves: relative files exist, bare names are in deno.json", async () => {
  const imports = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json"))).imports as Record<
    string,
    string
  >;
  for (const name of names) {
    const specs = (await codeCells(name)).flatMap(importSpecifiers);
    assert.ok(specs.length > 0, `${name}: no imports found`);
    for (const s of specs) {
      if (s.startsWith(".")) {
        const path = resolve(NB_DIR, s);
        assert.ok((await Deno.stat(path)).isFile, `${name}: ${s} does not exist`);
      } else if (!s.startsWith("node:") && !s.startsWith("npm:")) {
        assert.ok(s in imports, `${name}: '${s}' is not in deno.json imports`);
      }
    }
  }
});

Deno.test("the notebooks' code cells type-check and lint clean against the current modules", async () => {
  // Each notebook's code cells in order form one module; relative imports are made absolute
  // so the module can live in a temporary directory.
  const tmp = await Deno.makeTempDir({ prefix: "notebooks-check-" });
  try {
    const files: string[] = [];
    for (const name of names) {
      const code = (await codeCells(name)).join("\n\n").replace(
        /from\s+"(\.{1,2}\/[^"]+)"/g,
        (_, rel: string) => `from "${new URL(rel, `file://${NB_DIR}/`).href}"`,
      );
      const file = join(tmp, name.replace(/\.ipynb$/, ".ts"));
      await Deno.writeTextFile(file, code + "\nexport {};\n");
      files.push(file);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(REPO, "deno.json"), ...files],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `deno check of the notebook code failed:\n${err.slice(0, 3000)}`);
    // `deno lint` skips .ipynb files: the same modules, linted with the repository's rules.
    const lint = await new Deno.Command(Deno.execPath(), {
      args: ["lint", "--config", join(REPO, "deno.json"), ...files],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lintOut = new TextDecoder().decode(lint.stdout) + new TextDecoder().decode(lint.stderr);
    assert.equal(lint.code, 0, `deno lint of the notebook code failed:\n${lintOut.slice(0, 3000)}`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("stripOutputs clears outputs and counts and reports whether anything changed", () => {
  const nb = {
    cells: [
      { cell_type: "markdown", source: "x" },
      {
        cell_type: "code",
        source: "1",
        outputs: [{ output_type: "stream" }],
        execution_count: 3,
      },
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  assert.equal(stripOutputs(nb), true);
  assert.deepEqual(nb.cells[1].outputs, []);
  assert.equal(nb.cells[1].execution_count, null);
  assert.equal(stripOutputs(nb), false);
});

Deno.test("failureSummary names the failing cell's first line and the error, once each", () => {
  const stderr = [
    "[NbConvertApp] Converting notebook x.ipynb to notebook",
    "Traceback (most recent call last):",
    '  File "/usr/bin/jupyter-nbconvert", line 33, in <module>',
    "nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:",
    "------------------",
    "",
    "const xs = [1, 2];",
    'throw new Error("boom");',
    "------------------",
    "",
    "\x1b[31mError: boom\x1b[39m",
    "    at <anonymous>:2:7",
    "Error: boom",
    "    at <anonymous>:2:7",
    "",
  ].join("\n");
  assert.deepEqual(failureSummary(stderr), [
    "in cell: const xs = [1, 2];",
    "Error: boom",
    "    at <anonymous>:2:7",
  ]);
  assert.deepEqual(failureSummary("something else\nKernel died\n"), ["Kernel died"]);
});
