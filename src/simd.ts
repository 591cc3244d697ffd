/**
 * Small WebAssembly SIMD kernels that work directly on the wasm backend's heap.
 *
 * The module is assembled here, byte by byte, from the instruction lists below (no toolchain,
 * no binary in the repository). It imports the TensorFlow.js wasm backend's own
 * `WebAssembly.Memory`, so its kernels read and write tensors in place at their heap offsets:
 * no copies. Each kernel processes 4 float32 lanes per instruction (`f32x4`) with a scalar
 * loop for the remainder.
 *
 * Kernels:
 * - `adam`: one Adam step over a variable (see {@link adamStepWasm}); one pass instead of
 *   the ~10 passes of the tensor-op form. Measured 3.9M parameters: see docs/benchmarks.md.
 * - `colsum`: column sums of a rows x cols matrix (the bias gradient, BatchNorm sums).
 *
 * {@link wasmKernels} returns undefined when the active backend is not `wasm` or the runtime
 * has no WebAssembly SIMD; callers then take their JS or tensor-op path.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// ---------------------------------------------------------------------------------------
// A minimal assembler: just the instructions the kernels use.

/** Value types. */
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

/** Unsigned LEB128. */
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

/** Signed LEB128 (32-bit). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A length-prefixed vector of byte sequences. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Instruction encoders (a flat byte list per instruction). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32Eqz: [0x45],
  f32Const: (x: number) => [0x43, ...f32Bytes(x)],
  v128Zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  f32Load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0) => [0x38, 2, ...uleb(offset)],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Sqrt: [0x91],
  v128Load: (offset = 0) => [0xfd, ...uleb(0x00), 0, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, ...uleb(0x0b), 0, ...uleb(offset)],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4Sqrt: [0xfd, ...uleb(0xe3)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Div: [0xfd, ...uleb(0xe7)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
};

interface FuncDef {
  name: string;
  params: number[];
  /** Extra locals, after the params, by type. */
  locals: number[];
  body: number[][];
}

/** Assemble a module importing `env.memory` and exporting `funcs` (no results). */
function assemble(funcs: FuncDef[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));
  const importSec = vec([[...name("env"), ...name("memory"), 0x02, 0x00, ...uleb(0)]]);
  const exportSec = vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const codes = funcs.map((f) => {
    const locals = vec(f.locals.map((t) => [...uleb(1), t]));
    const body = [...locals, ...f.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(2, importSec),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, exportSec),
    ...section(10, vec(codes)),
  ]);
}

// ---------------------------------------------------------------------------------------
// Kernels

/**
 * adam(w, m, v, g, n, b1, a1, b2, a2, eps, wd, ss, ic): byte offsets of four float32 arrays
 * of n entries; per entry, with g' = g + wd w:
 * m = b1 m + a1 g'; v = b2 v + a2 g'^2; w = w - ss m / (sqrt(v) ic + eps).
 * The caller passes a1 = 1 - b1 and a2 = 1 - b2 computed in float64 (1 - 0.999 in float32
 * would lose 4 digits), ss = lr / (1 - b1^t) and ic = 1 / sqrt(1 - b2^t).
 */
function adamKernel(): FuncDef {
  // params: 0..4 i32 (w m v g n), 5..12 f32 (b1 a1 b2 a2 eps wd ss ic);
  // locals: 13 end, 14 o (i32); 15..22 the f32 params splatted to v128; 23..25 v128
  // temporaries g m v; 26..28 f32 temporaries g m v
  const [w, m, v, g, n, b1, a1, b2, a2, eps, wd, ss, ic] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
  ];
  const [end, o] = [13, 14];
  const [B1, A1, B2, A2, EPS, WD, SS, IC] = [15, 16, 17, 18, 19, 20, 21, 22];
  const [gv, mv, vv] = [23, 24, 25];
  const [gs, ms, vs] = [26, 27, 28];
  const splat = (src: number[], dst: number) => [...src, ...op.f32x4Splat, ...op.set(dst)];
  const at = (base: number) => [...op.get(base), ...op.get(o), ...op.i32Add];
  const vector = [
    // gv = g + wd * w
    ...at(g),
    ...op.v128Load(),
    ...op.get(WD),
    ...at(w),
    ...op.v128Load(),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(gv),
    // mv = b1 * m + a1 * gv; store m
    ...op.get(B1),
    ...at(m),
    ...op.v128Load(),
    ...op.f32x4Mul,
    ...op.get(A1),
    ...op.get(gv),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(mv),
    ...at(m),
    ...op.get(mv),
    ...op.v128Store(),
    // vv = b2 * v + a2 * gv * gv; store v
    ...op.get(B2),
    ...at(v),
    ...op.v128Load(),
    ...op.f32x4Mul,
    ...op.get(A2),
    ...op.get(gv),
    ...op.f32x4Mul,
    ...op.get(gv),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(vv),
    ...at(v),
    ...op.get(vv),
    ...op.v128Store(),
    // w = w - ss * mv / (sqrt(vv) * ic + eps)
    ...at(w),
    ...at(w),
    ...op.v128Load(),
    ...op.get(SS),
    ...op.get(mv),
    ...op.f32x4Mul,
    ...op.get(vv),
    ...op.f32x4Sqrt,
    ...op.get(IC),
    ...op.f32x4Mul,
    ...op.get(EPS),
    ...op.f32x4Add,
    ...op.f32x4Div,
    ...op.f32x4Sub,
    ...op.v128Store(),
  ];
  const scalar = [
    ...at(g),
    ...op.f32Load(),
    ...op.get(wd),
    ...at(w),
    ...op.f32Load(),
    ...op.f32Mul,
    ...op.f32Add,
    ...op.set(gs),
    ...op.get(b1),
    ...at(m),
    ...op.f32Load(),
    ...op.f32Mul,
    ...op.get(a1),
    ...op.get(gs),
    ...op.f32Mul,
    ...op.f32Add,
    ...op.set(ms),
    ...at(m),
    ...op.get(ms),
    ...op.f32Store(),
    ...op.get(b2),
    ...at(v),
    ...op.f32Load(),
    ...op.f32Mul,
    ...op.get(a2),
    ...op.get(gs),
    ...op.f32Mul,
    ...op.get(gs),
    ...op.f32Mul,
    ...op.f32Add,
    ...op.set(vs),
    ...at(v),
    ...op.get(vs),
    ...op.f32Store(),
    ...at(w),
    ...at(w),
    ...op.f32Load(),
    ...op.get(ss),
    ...op.get(ms),
    ...op.f32Mul,
    ...op.get(vs),
    ...op.f32Sqrt,
    ...op.get(ic),
    ...op.f32Mul,
    ...op.get(eps),
    ...op.f32Add,
    ...op.f32Div,
    ...op.f32Sub,
    ...op.f32Store(),
  ];
  return {
    name: "adam",
    params: [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32],
    locals: [I32, I32, ...new Array<number>(11).fill(V128), F32, F32, F32],
    body: [
      // end = n * 4 (bytes); the constants splatted to 4 lanes
      op.get(n),
      op.i32(2),
      op.i32Shl,
      op.set(end),
      splat(op.get(b1), B1),
      splat(op.get(a1), A1),
      splat(op.get(b2), B2),
      splat(op.get(a2), A2),
      splat(op.get(eps), EPS),
      splat(op.get(wd), WD),
      splat(op.get(ss), SS),
      splat(op.get(ic), IC),
      ...vectorLoop(o, end, vector),
      ...scalarLoop(o, end, scalar),
    ],
  };
}

/** colsum(x, out, rows, cols): out[j] = sum_i x[i cols + j], float32, rows summed in order. */
function colsumKernel(): FuncDef {
  // params 0 x, 1 out, 2 rows, 3 cols; locals 4 end (row bytes), 5 o, 6 row, 7 rowBase
  const [x, out, rows, cols, end, o, row, base] = [0, 1, 2, 3, 4, 5, 6, 7];
  const outAt = [...op.get(out), ...op.get(o), ...op.i32Add];
  const xAt = [...op.get(base), ...op.get(o), ...op.i32Add];
  const zeroVector = [...outAt, ...op.v128Zero, ...op.v128Store()];
  const zeroScalar = [...outAt, ...op.f32Const(0), ...op.f32Store()];
  const addVector = [
    ...outAt,
    ...outAt,
    ...op.v128Load(),
    ...xAt,
    ...op.v128Load(),
    ...op.f32x4Add,
    ...op.v128Store(),
  ];
  const addScalar = [
    ...outAt,
    ...outAt,
    ...op.f32Load(),
    ...xAt,
    ...op.f32Load(),
    ...op.f32Add,
    ...op.f32Store(),
  ];
  return {
    name: "colsum",
    params: [I32, I32, I32, I32],
    locals: [I32, I32, I32, I32],
    body: [
      op.get(cols),
      op.i32(2),
      op.i32Shl,
      op.set(end),
      ...vectorLoop(o, end, zeroVector),
      ...scalarLoop(o, end, zeroScalar),
      op.i32(0),
      op.set(row),
      op.get(x),
      op.set(base),
      op.block,
      op.loop,
      // while row < rows
      op.get(row),
      op.get(rows),
      op.i32LtU,
      op.i32Eqz,
      op.brIf(1),
      ...vectorLoop(o, end, addVector),
      ...scalarLoop(o, end, addScalar),
      op.get(base),
      op.get(end),
      op.i32Add,
      op.set(base),
      op.get(row),
      op.i32(1),
      op.i32Add,
      op.set(row),
      op.br(0),
      op.end,
      op.end,
    ],
  };
}

/** for (o = 0; o + 16 <= end; o += 16) body — leaves o at the first unprocessed byte. */
function vectorLoop(o: number, end: number, body: number[]): number[][] {
  return [
    op.i32(0),
    op.set(o),
    op.block,
    op.loop,
    // exit when o + 16 > end
    op.get(o),
    op.i32(16),
    op.i32Add,
    op.get(end),
    op.i32GtU,
    op.brIf(1),
    body,
    op.get(o),
    op.i32(16),
    op.i32Add,
    op.set(o),
    op.br(0),
    op.end,
    op.end,
  ];
}

/** for (; o < end; o += 4) body — continues from o. */
function scalarLoop(o: number, end: number, body: number[]): number[][] {
  return [
    op.block,
    op.loop,
    op.get(o),
    op.get(end),
    op.i32LtU,
    op.i32Eqz,
    op.brIf(1), // exit when !(o < end)
    body,
    op.get(o),
    op.i32(4),
    op.i32Add,
    op.set(o),
    op.br(0),
    op.end,
    op.end,
  ];
}

function f32Bytes(x: number): number[] {
  return [...new Uint8Array(new Float32Array([x]).buffer)];
}

// ---------------------------------------------------------------------------------------
// Instantiation against the backend's memory

/** The kernels, bound to one wasm backend's memory. Offsets are heap byte offsets. */
export interface WasmKernels {
  adam(
    w: number,
    m: number,
    v: number,
    g: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    eps: number,
    weightDecay: number,
    stepSize: number,
    invSqrtC2: number,
  ): void;
  colsum(x: number, out: number, rows: number, cols: number): void;
}

let bytes: Uint8Array | undefined;
const bound = new WeakMap<object, WasmKernels | null>();

/** The module's bytes (assembled once). */
export function simdModuleBytes(): Uint8Array {
  return (bytes ??= assemble([adamKernel(), colsumKernel()]));
}

interface WasmBackendLike {
  wasm: { asm?: { memory?: unknown } };
}

/**
 * The SIMD kernels bound to the active wasm backend's memory, or undefined when the backend
 * is not `wasm`, its memory is not reachable, or WebAssembly SIMD is unavailable.
 */
export function wasmKernels(): WasmKernels | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const backend = tf.backend() as unknown as WasmBackendLike;
  const cached = bound.get(backend);
  if (cached !== undefined) return cached ?? undefined;
  let kernels: WasmKernels | null = null;
  const memory = backend.wasm?.asm?.memory;
  if (memory instanceof WebAssembly.Memory) {
    try {
      const module = new WebAssembly.Module(simdModuleBytes() as BufferSource);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      kernels = instance.exports as unknown as WasmKernels;
    } catch {
      kernels = null; // no SIMD support (validation fails): callers fall back
    }
  }
  bound.set(backend, kernels);
  return kernels ?? undefined;
}
