/**
 * A minimal WebAssembly assembler for the kernels of src/accel/simd.ts and
 * src/accel/hamming_kernel.ts: function definitions written as text instructions (one per line,
 * `;;` comments) become a binary module that imports `env.memory` and exports the functions. It
 * knows exactly the opcodes the kernels use; anything else is a one-line error naming the
 * function and the instruction.
 *
 * @module
 */
/**
 * One exported function: named typed params and locals, a body of text instructions, and an
 * optional result type (the value left on the stack at the end of the body).
 */
export interface FuncDef {
  /** Export name. */
  name: string;
  /** "$name type ..." pairs. */
  params: string;
  /** "$name type ..." pairs. */
  locals: string;
  /** Text instructions, whitespace-separated, `;;` comments. */
  body: string;
  /** Result type ("i32", "f64", ...); none when omitted. */
  result?: string;
}

const VALUE_TYPES: Record<string, number> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
};

/** Opcodes without immediates; SIMD ones as [0xfd, LEB128 sub-opcode]. */
const PLAIN: Record<string, number[]> = {
  "i32.add": [0x6a],
  "i32.mul": [0x6c],
  "i32.shl": [0x74],
  "i32.eqz": [0x45],
  "i32.lt_u": [0x49],
  "i32.gt_u": [0x4b],
  "i32.ge_u": [0x4f],
  "i32.wrap_i64": [0xa7],
  "i64.ne": [0x52],
  "i64.popcnt": [0x7b],
  "i64.and": [0x83],
  "i64.or": [0x84],
  "i64.xor": [0x85],
  "f64.add": [0xa0],
  "f64.div": [0xa3],
  "f64.convert_i32_u": [0xb8],
  "f32.add": [0x92],
  "f32.sub": [0x93],
  "f32.mul": [0x94],
  "f32.div": [0x95],
  "f32.sqrt": [0x91],
  "f32x4.splat": [0xfd, 0x13],
  "i32x4.splat": [0xfd, 0x11],
  "f32x4.abs": [0xfd, 0xe0, 0x01],
  "f32x4.neg": [0xfd, 0xe1, 0x01],
  "f32x4.pmax": [0xfd, 0xeb, 0x01],
  "i32x4.shl": [0xfd, 0xab, 0x01],
  "i32x4.add": [0xfd, 0xae, 0x01],
  "f32x4.sqrt": [0xfd, 0xe3, 0x01],
  "f32x4.add": [0xfd, 0xe4, 0x01],
  "f32x4.sub": [0xfd, 0xe5, 0x01],
  "f32x4.mul": [0xfd, 0xe6, 0x01],
  "f32x4.div": [0xfd, 0xe7, 0x01],
  "f32x4.gt": [0xfd, 0x44],
  "f32x4.ge": [0xfd, 0x46],
  "v128.bitselect": [0xfd, 0x52],
  "block": [0x02, 0x40],
  "loop": [0x03, 0x40],
  "end": [0x0b],
};

/** Memory instructions: opcode and natural alignment (log2 bytes). */
const MEMORY: Record<string, [number[], number]> = {
  "i32.load": [[0x28], 2],
  "i64.load": [[0x29], 3],
  "i32.store": [[0x36], 2],
  "f32.load": [[0x2a], 2],
  "f32.store": [[0x38], 2],
  "v128.load": [[0xfd, 0x00], 4],
  "v128.store": [[0xfd, 0x0b], 4],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function utf8(s: string): number[] {
  return vec([...new TextEncoder().encode(s)].map((b) => [b]));
}

function declarations(text: string, where: string): [string, number][] {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  const out: [string, number][] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const type = VALUE_TYPES[parts[i + 1]];
    if (!parts[i].startsWith("$") || type === undefined) {
      throw new Error(`assemble: ${where}: bad declaration '${parts[i]} ${parts[i + 1]}'`);
    }
    out.push([parts[i], type]);
  }
  return out;
}

/**
 * Constant vectors hoisted out of the loops: each distinct `f32x4.const c` becomes a local,
 * splatted once at the start of the function (V8 rebuilds an inline v128 constant on every
 * use; with the constants in locals the softplus loop ran ~30% faster).
 */
function hoistConstants(f: FuncDef): FuncDef {
  const names = new Map<string, string>();
  const body = f.body.replace(/;;[^\n]*/g, " ").replace(/f32x4\.const\s+(\S+)/g, (_m, c) => {
    if (!names.has(c)) names.set(c, `$const${names.size}`);
    return `local.get ${names.get(c)}`;
  });
  const setup = [...names].map(([c, l]) => `f32.const ${c}  f32x4.splat  local.set ${l}`);
  return {
    ...f,
    locals: [f.locals, ...[...names.values()].map((l) => `${l} v128`)].join(" "),
    body: `${setup.join("\n")}\n${body}`,
  };
}

/** Encode one function body from its text instructions. */
function encodeBody(def: FuncDef): number[] {
  const f = hoistConstants(def);
  const named = [...declarations(f.params, f.name), ...declarations(f.locals, f.name)];
  const index = new Map(named.map(([n], i) => [n, i]));
  const tokens = f.body.replace(/;;[^\n]*/g, " ").trim().split(/\s+/);
  const code: number[] = [];
  const where = (t: string) => `assemble: ${f.name}: '${t}'`;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const arg = () => {
      const a = tokens[++i];
      if (a === undefined) throw new Error(`${where(t)} needs an operand`);
      return a;
    };
    if (t in PLAIN) code.push(...PLAIN[t]);
    else if (t in MEMORY) {
      // An optional `offset=N` (bytes, constant) follows the instruction.
      const offset = tokens[i + 1]?.startsWith("offset=") ? +tokens[++i].slice(7) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new Error(`${where(t)}: bad offset`);
      code.push(...MEMORY[t][0], MEMORY[t][1], ...uleb(offset));
    } else if (t === "local.get" || t === "local.set" || t === "local.tee") {
      const name = arg(), k = index.get(name);
      if (k === undefined) throw new Error(`${where(t)}: unknown local ${name}`);
      code.push({ "local.get": 0x20, "local.set": 0x21, "local.tee": 0x22 }[t], ...uleb(k));
    } else if (t === "br" || t === "br_if") code.push(t === "br" ? 0x0c : 0x0d, ...uleb(+arg()));
    else if (t === "i32.const" || t === "i64.const") {
      code.push(t === "i32.const" ? 0x41 : 0x42, ...sleb(+arg())); // i64: |value| < 2^31 only
    } else if (t === "f32.const") {
      code.push(0x43, ...new Uint8Array(new Float32Array([+arg()]).buffer));
    } else if (t === "v128.const") { // only the all-zero vector is needed
      if (+arg() !== 0) throw new Error(`${where(t)}: only 'v128.const 0' is supported`);
      code.push(0xfd, 0x0c, ...new Array<number>(16).fill(0));
    } else throw new Error(`${where(t)}: unknown instruction`);
  }
  const locals = vec(declarations(f.locals, f.name).map(([, type]) => [1, type]));
  const body = [...locals, ...code, 0x0b];
  return [...uleb(body.length), ...body];
}

function resultTypes(f: FuncDef): number[] {
  if (f.result === undefined) return [0];
  const type = VALUE_TYPES[f.result];
  if (type === undefined) throw new Error(`assemble: ${f.name}: bad result type '${f.result}'`);
  return [1, type];
}

/** Assemble a module that imports `env.memory` and exports `funcs`. */
export function assemble(funcs: FuncDef[]): Uint8Array {
  const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  const types = funcs.map((f) => [
    0x60,
    ...vec(declarations(f.params, f.name).map(([, type]) => [type])),
    ...resultTypes(f),
  ]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vec(types)),
    ...section(2, vec([[...utf8("env"), ...utf8("memory"), 0x02, 0x00, 0x00]])), // memory, min 0
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map(encodeBody))),
  ]);
}
