/**
 * A small reader of ZIP archives as NumPy's `.npz` files use them (`numpy.savez`,
 * `numpy.savez_compressed`, `scipy.sparse.save_npz`): the central directory is read, and each
 * entry is returned stored or inflated (method 0 or 8, through DecompressionStream). ZIP64 and
 * encrypted entries are refused with a one-line error.
 *
 * @module
 */

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Every entry of a ZIP archive, by name. `where` names the file in errors.
 *
 * @throws a one-line error for a file that is not a ZIP archive, or uses ZIP64, encryption or a
 *   compression method other than stored/deflate.
 */
export async function readZipEntries(
  bytes: Uint8Array,
  where: string,
): Promise<Map<string, Uint8Array>> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${where}: not a ZIP (.npz) archive`);
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  if (p === 0xffffffff || count === 0xffff) {
    throw new Error(`${where}: ZIP64 archive; expected a plain .npz (save arrays under 4 GiB)`);
  }
  const out = new Map<string, Uint8Array>();
  for (let e = 0; e < count; e++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) {
      throw new Error(`${where}: corrupted ZIP central directory`);
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 1) throw new Error(`${where}: entry '${name}' is encrypted`);
    if (csize === 0xffffffff || local === 0xffffffff) {
      throw new Error(`${where}: ZIP64 entry '${name}'; expected a plain .npz`);
    }
    if (dv.getUint32(local, true) !== 0x04034b50) {
      throw new Error(`${where}: corrupted ZIP entry '${name}'`);
    }
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + csize);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, await inflateRaw(raw));
    else {
      throw new Error(
        `${where}: entry '${name}' uses compression method ${method}; expected stored or deflate`,
      );
    }
  }
  return out;
}
