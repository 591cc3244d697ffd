/**
 * Checkpoint files: named Float32 arrays plus JSON metadata, written atomically.
 *
 * Layout of a checkpoint directory `dir/`:
 * - `state.json`: `{ format: "cmh-state-1", meta, arrays: [{name, shape, offset, length}] }`
 * - `state.bin`: the arrays' float32 values back to back (little-endian).
 * Both are written to temporary names and renamed into place, `state.json` last, so a reader
 * never sees a half-written checkpoint: either the old one or the new one.
 *
 * @module
 */
import type { NamedArrays } from "./params.ts";
import { readFileOr, writeFileAtomic, writeTextAtomic } from "../io.ts";

export { writeFileAtomic, writeTextAtomic } from "../io.ts";

const FORMAT = "cmh-state-1";

/** Write a checkpoint (atomically replaces an existing one in `dir`). */
export async function writeCheckpoint(
  dir: string,
  meta: Record<string, unknown>,
  arrays: NamedArrays,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let total = 0;
  for (const [name, a] of Object.entries(arrays)) {
    index.push({ name, shape: a.shape, offset: total, length: a.data.length });
    total += a.data.length;
  }
  const bin = new Float32Array(total);
  for (const e of index) bin.set(arrays[e.name].data, e.offset);
  const tag = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const binName = `state.${tag}.bin`;
  await writeFileAtomic(`${dir}/${binName}`, new Uint8Array(bin.buffer));
  const json = JSON.stringify({ format: FORMAT, bin: binName, meta, arrays: index });
  // Previous binary (if any) is removed only after the new JSON points at the new one.
  const old = await readIndex(dir).catch(() => undefined);
  await writeTextAtomic(`${dir}/state.json`, json);
  if (old && old.bin !== binName) await Deno.remove(`${dir}/${old.bin}`).catch(() => {});
}

interface Index {
  format: string;
  bin: string;
  meta: Record<string, unknown>;
  arrays: { name: string; shape: number[]; offset: number; length: number }[];
}

async function readIndex(dir: string): Promise<Index> {
  const path = `${dir}/state.json`;
  const text = new TextDecoder().decode(await readFileOr(path, "no checkpoint here"));
  let idx: Index;
  try {
    idx = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not valid JSON (corrupted checkpoint)`);
  }
  if (idx.format !== FORMAT || !Array.isArray(idx.arrays) || typeof idx.bin !== "string") {
    throw new Error(`${path}: format is '${idx.format}', expected '${FORMAT}'`);
  }
  return idx;
}

/** Whether `dir` holds a checkpoint. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await Deno.stat(`${dir}/state.json`);
    return true;
  } catch {
    return false;
  }
}

/** Read a checkpoint written by {@link writeCheckpoint}. */
export async function readCheckpoint(
  dir: string,
): Promise<{ meta: Record<string, unknown>; arrays: NamedArrays }> {
  const idx = await readIndex(dir);
  const binPath = `${dir}/${idx.bin}`;
  const bytes = await Deno.readFile(binPath);
  const total = idx.arrays.reduce((s, a) => s + a.length, 0);
  if (bytes.byteLength !== total * 4) {
    throw new Error(`${binPath}: ${bytes.byteLength} bytes, expected ${total * 4} (truncated?)`);
  }
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, total);
  const arrays: NamedArrays = {};
  for (const a of idx.arrays) {
    arrays[a.name] = { shape: a.shape, data: all.slice(a.offset, a.offset + a.length) };
  }
  return { meta: idx.meta, arrays };
}
