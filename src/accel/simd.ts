/**
 * Small WebAssembly SIMD kernels that work directly on the wasm backend's heap.
 *
 * The kernels are written below in WebAssembly text instructions (one per line, `;;`
 * comments) and assembled (src/accel/wasm_assembler.ts) into a module at first use: no toolchain and no binary in the
 * repository. The module imports the TensorFlow.js wasm backend's own `WebAssembly.Memory`,
 * so its kernels read and write tensors in place at their heap offsets, without copies. Each
 * kernel handles 4 float32 lanes per instruction (`f32x4`), then a scalar remainder.
 *
 * Kernels:
 * - `adam`: one Adam step over a variable in one pass (src/nn/optim.ts), instead of the ~10
 *   passes of the tensor-op form.
 * - `colsum`: column sums of a rows x cols matrix, rows added in order (src/accel/fast_kernels.ts:
 *   the reductions over the batch axis of bias and BatchNorm gradients).
 * - `softplus`: log(1 + exp(x)) by polynomials, 4 lanes at a time (src/accel/fast_kernels.ts).
 * - `pairnll`: the pairwise likelihood's elementwise part over m x n pairs in one pass —
 *   softplus(theta) - S theta summed, and the gradient (sigmoid(theta) - S) scale
 *   (src/nn/losses.ts).
 * - `axpy`: y += a x over a row (src/accel/blas.ts: products whose left operand is mostly zeros).
 * - `bnmoments`, `bnforward`, `bnbackward`: training-mode batch normalisation with an optional
 *   fused ReLU, forward and backward in 2-3 passes over the batch (src/nn/layers.ts).
 *
 * {@link wasmKernels} returns undefined when the active backend is not `wasm`, its memory is
 * not reachable, or the runtime lacks WebAssembly SIMD; callers then take another path.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { assemble, type FuncDef } from "./wasm_assembler.ts";

// ---------------------------------------------------------------------------------------
// Kernels, in WebAssembly text instructions

/**
 * for (o = 0; o + 16 <= end; o += 16) { body }  — then for (; o < end; o += 4) { tail }.
 * `o` and `end` are i32 byte offsets (locals `$o`, `$end`).
 */
function vectorThenScalar(body: string, tail: string): string {
  return `
    i32.const 0
    local.set $o
    block
      loop
        local.get $o
        i32.const 16
        i32.add
        local.get $end
        i32.gt_u
        br_if 1            ;; exit when o + 16 > end
        ${body}
        local.get $o
        i32.const 16
        i32.add
        local.set $o
        br 0
      end
    end
    block
      loop
        local.get $o
        local.get $end
        i32.lt_u
        i32.eqz
        br_if 1            ;; exit when o >= end
        ${tail}
        local.get $o
        i32.const 4
        i32.add
        local.set $o
        br 0
      end
    end`;
}

/**
 * The Adam step, per entry, with g' = g + wd w, reading w, m, v and writing the new values to
 * wo, mo, vo (which may equal w, m, v for an in-place update):
 * mo = b1 m + a1 g';  vo = b2 v + a2 g'^2;  wo = w - ss mo / (sqrt(vo) ic + eps).
 * "vector": 4 lanes (`f32x4`, constants in the splatted locals `$B1`...), temporaries
 * `$G $M $V`; "scalar": one entry (`f32`, constants in the parameters `$b1`...), `$Gs $Ms $Vs`.
 */
function adamBody(lanes: "vector" | "scalar"): string {
  const vector = lanes === "vector";
  const T = vector ? "f32x4" : "f32", mem = vector ? "v128" : "f32";
  const k = (p: string) => `local.get $${vector ? p.toUpperCase() : p}`;
  const [G, M, V] = vector ? ["$G", "$M", "$V"] : ["$Gs", "$Ms", "$Vs"];
  const at = (ptr: string) => `local.get $${ptr}  local.get $o  i32.add`;
  return `
    ${at("g")}  ${mem}.load
    ${k("wd")}  ${at("w")}  ${mem}.load  ${T}.mul  ${T}.add
    local.set ${G}                                        ;; g' = g + wd w
    ${k("b1")}  ${at("m")}  ${mem}.load  ${T}.mul
    ${k("a1")}  local.get ${G}  ${T}.mul  ${T}.add
    local.set ${M}                                        ;; m = b1 m + a1 g'
    ${at("mo")}  local.get ${M}  ${mem}.store
    ${k("b2")}  ${at("v")}  ${mem}.load  ${T}.mul
    ${k("a2")}  local.get ${G}  ${T}.mul  local.get ${G}  ${T}.mul  ${T}.add
    local.set ${V}                                        ;; v = b2 v + a2 g'^2
    ${at("vo")}  local.get ${V}  ${mem}.store
    ${at("wo")}
    ${at("w")}  ${mem}.load
    ${k("ss")}  local.get ${M}  ${T}.mul
    local.get ${V}  ${T}.sqrt  ${k("ic")}  ${T}.mul  ${k("eps")}  ${T}.add
    ${T}.div  ${T}.sub
    ${mem}.store                                          ;; wo = w - ss m / (sqrt(v) ic + eps)`;
}

/**
 * adam(w, m, v, g, wo, mo, vo, n, b1, a1, b2, a2, eps, wd, ss, ic): heap byte offsets of
 * seven float32 arrays of n entries: the step reads w, m, v, g and writes wo, mo, vo (see
 * {@link adamBody}). The caller passes
 * a1 = 1 - b1 and a2 = 1 - b2 computed in float64 (1 - 0.999 in float32 loses 4 digits),
 * ss = lr / (1 - b1^t) and ic = 1 / sqrt(1 - b2^t).
 */
const ADAM: FuncDef = {
  name: "adam",
  params: "$w i32 $m i32 $v i32 $g i32 $wo i32 $mo i32 $vo i32 $n i32 " +
    "$b1 f32 $a1 f32 $b2 f32 $a2 f32 $eps f32 $wd f32 $ss f32 $ic f32",
  locals: "$end i32 $o i32 $B1 v128 $A1 v128 $B2 v128 $A2 v128 $EPS v128 $WD v128 $SS v128 " +
    "$IC v128 $G v128 $M v128 $V v128 $Gs f32 $Ms f32 $Vs f32",
  body: `
    local.get $n  i32.const 2  i32.shl  local.set $end     ;; end = 4 n bytes
    ${
    ["b1", "a1", "b2", "a2", "eps", "wd", "ss", "ic"].map((p) =>
      `local.get $${p}  f32x4.splat  local.set $${p.toUpperCase()}`
    ).join("\n")
  }
    ${vectorThenScalar(adamBody("vector"), adamBody("scalar"))}`,
};

/** colsum(x, out, rows, cols): out[j] = sum_i x[i cols + j] (float32, rows in order). */
const COLSUM: FuncDef = {
  name: "colsum",
  params: "$x i32 $out i32 $rows i32 $cols i32",
  locals: "$end i32 $o i32 $row i32 $base i32",
  body: `
    local.get $cols  i32.const 2  i32.shl  local.set $end  ;; bytes per row
    ${
    vectorThenScalar(
      "local.get $out local.get $o i32.add  v128.const 0  v128.store",
      "local.get $out local.get $o i32.add  f32.const 0  f32.store",
    )
  }
    local.get $x  local.set $base
    i32.const 0  local.set $row
    block
      loop
        local.get $row  local.get $rows  i32.lt_u  i32.eqz  br_if 1
        ${
    vectorThenScalar(
      `local.get $out local.get $o i32.add
       local.get $out local.get $o i32.add  v128.load
       local.get $base local.get $o i32.add  v128.load
       f32x4.add  v128.store`,
      `local.get $out local.get $o i32.add
       local.get $out local.get $o i32.add  f32.load
       local.get $base local.get $o i32.add  f32.load
       f32.add  f32.store`,
    )
  }
        local.get $base  local.get $end  i32.add  local.set $base
        local.get $row  i32.const 1  i32.add  local.set $row
        br 0
      end
    end`,
};

/** Locals of {@link EXP_NEG_ABS} and {@link LOG1P}. */
const EXP_LOG1P_LOCALS = "$X v128 $Y v128 $F v128 $K v128 $R v128 $P v128 $E v128 $S v128 " +
  "$S2 v128 $Q v128 $L v128";

/** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer in the low bits. */
const ROUND_MAGIC = 12582912;

/**
 * From `$X`: `$E` = exp(y), y = max(-|x|, -87.3) <= 0, 4 lanes. y = k ln2 + r with
 * k = nearest(y / ln2) and |r| <= ln2 / 2 (ln2 split in a 9-bit head and a tail, so k ln2_hi
 * is exact); exp(r) by its Taylor series to r^7/7! (truncation < 1e-8 relative); 2^k built in
 * the exponent bits. k is rounded by adding 1.5 * 2^23 (F = y / ln2 + magic, whose low
 * mantissa bits then hold k), which also gives 2^k's bits as (bits(F) + 127) << 23 without a
 * float-to-int conversion. `pmax` (one x86 instruction) clamps; NaN passes through.
 */
const EXP_NEG_ABS = `
      local.get $X  f32x4.abs  f32x4.neg  f32x4.const -87.3  f32x4.pmax  local.set $Y  ;; y
      local.get $Y  f32x4.const 1.4426950408889634  f32x4.mul
      f32x4.const ${ROUND_MAGIC}  f32x4.add  local.set $F
      local.get $F  f32x4.const ${ROUND_MAGIC}  f32x4.sub  local.set $K            ;; k
      local.get $Y  local.get $K  f32x4.const 0.693359375  f32x4.mul  f32x4.sub
      local.get $K  f32x4.const -2.1219444005469057e-4  f32x4.mul  f32x4.sub
      local.set $R                                                               ;; r = y - k ln2
      ${horner("$R", "$P", [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1])}
      local.get $P
      local.get $F  i32.const 127  i32x4.splat  i32x4.add  i32.const 23  i32x4.shl  ;; 2^k
      f32x4.mul  local.set $E                                    ;; e = exp(y) = exp(r) 2^k`;

/**
 * From `$S` = e / (2 + e), e in (0, 1]: `$L` = log1p(e) = 2 atanh(s), s in (0, 1/3], by the
 * series 2s (1 + s^2/3 + ... + s^12/13) (truncation < 2e-8 relative). Forming s this way
 * never computes 1 + e, so small e keeps its digits.
 */
const LOG1P = `
      local.get $S  local.get $S  f32x4.mul  local.set $S2
      ${horner("$S2", "$Q", [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1])}
      local.get $S  local.get $S  f32x4.add  local.get $Q  f32x4.mul  local.set $L  ;; 2 s Q(s^2)`;

/**
 * softplus(x, out, n): out = log(1 + exp(x)) for 4n float32 entries (callers handle the
 * remainder), computed stably as max(x, 0) + log1p(exp(-|x|)) ({@link EXP_NEG_ABS}, {@link LOG1P}).
 * Accuracy: within a few float32 ulps of the exact value (tests/fast_kernels.test.ts checks
 * it against Math.log1p/Math.exp over 10^5 points in [-100, 100]).
 */
const SOFTPLUS: FuncDef = {
  name: "softplus",
  params: "$x i32 $out i32 $n i32",
  locals: `$end i32 $o i32 ${EXP_LOG1P_LOCALS}`,
  body: `
    local.get $n  i32.const 4  i32.shl  local.set $end     ;; end = 16 n bytes
    ${
    vectorThenScalar(
      `
      local.get $x  local.get $o  i32.add  v128.load  local.set $X
      ${EXP_NEG_ABS}
      local.get $E  f32x4.const 2  local.get $E  f32x4.add  f32x4.div  local.set $S
      ${LOG1P}
      local.get $out  local.get $o  i32.add
      local.get $X  v128.const 0  f32x4.pmax  local.get $L  f32x4.add  ;; max(x, 0) + log1p(e)
      v128.store`,
      "",
    )
  }`,
};

/**
 * pairnll(t, s, g, n, scale, acc), for the first 4 n entries of theta `t` and similarities `s`
 * (callers handle the remainder): the pairwise likelihood's terms and gradient in one pass,
 * - g = (sigmoid(t) - s) scale, with sigmoid(t) = 1 / (1 + e) for t >= 0 and e / (1 + e)
 *   below, e = exp(-|t|) (so neither branch overflows);
 * - acc[0..3] = the lane sums of softplus(t) - s t (4 float32 partial sums; the caller adds
 *   them in float64, a row at a time).
 * e and softplus come from {@link EXP_NEG_ABS} and {@link LOG1P}; one division serves both
 * s = e (1 + e) / ((2 + e)(1 + e)) and 1 / (1 + e) = (2 + e) / ((2 + e)(1 + e)).
 */
const PAIRNLL: FuncDef = {
  name: "pairnll",
  params: "$t i32 $s i32 $g i32 $n i32 $scale f32 $acc i32",
  locals: `$end i32 $o i32 $SV v128 $A v128 $B v128 $D v128 $SUM v128 $SC v128 ${EXP_LOG1P_LOCALS}`,
  body: `
    local.get $n  i32.const 4  i32.shl  local.set $end     ;; end = 16 n bytes
    local.get $scale  f32x4.splat  local.set $SC
    v128.const 0  local.set $SUM
    ${
    vectorThenScalar(
      `
      local.get $t  local.get $o  i32.add  v128.load  local.set $X
      local.get $s  local.get $o  i32.add  v128.load  local.set $SV
      ${EXP_NEG_ABS}
      local.get $E  f32x4.const 2  f32x4.add  local.set $A                ;; 2 + e
      local.get $E  f32x4.const 1  f32x4.add  local.set $B                ;; 1 + e
      f32x4.const 1  local.get $A  local.get $B  f32x4.mul  f32x4.div  local.set $D
      local.get $E  local.get $B  f32x4.mul  local.get $D  f32x4.mul  local.set $S  ;; e/(2+e)
      ${LOG1P}
      local.get $SUM
      local.get $X  v128.const 0  f32x4.pmax  local.get $L  f32x4.add   ;; softplus(t)
      local.get $SV  local.get $X  f32x4.mul  f32x4.sub  f32x4.add
      local.set $SUM                                          ;; sum += softplus(t) - s t
      local.get $g  local.get $o  i32.add
      local.get $A  local.get $D  f32x4.mul  local.set $B        ;; 1 / (1 + e)   (t >= 0)
      local.get $B
      local.get $E  local.get $B  f32x4.mul                     ;; e / (1 + e)   (t < 0)
      local.get $X  v128.const 0  f32x4.ge  v128.bitselect      ;; sigmoid(t)
      local.get $SV  f32x4.sub  local.get $SC  f32x4.mul
      v128.store                                                ;; g = (sigmoid(t) - s) scale`,
      "",
    )
  }
    local.get $acc  local.get $SUM  v128.store`,
};

/** axpy(y, x, a, n): y += a x for the first 4 n float32 entries (callers handle the rest). */
const AXPY: FuncDef = {
  name: "axpy",
  params: "$y i32 $x i32 $a f32 $n i32",
  locals: "$end i32 $o i32 $A v128",
  body: `
    local.get $n  i32.const 4  i32.shl  local.set $end
    local.get $a  f32x4.splat  local.set $A
    ${
    vectorThenScalar(
      `local.get $y local.get $o i32.add
       local.get $y local.get $o i32.add  v128.load
       local.get $x local.get $o i32.add  v128.load  local.get $A  f32x4.mul
       f32x4.add  v128.store`,
      "",
    )
  }`,
};

// ---------------------------------------------------------------------------------------
// Batch normalisation over the rows of a rows x cols matrix (src/nn/layers.ts batchNormTraining).
// cols must be a multiple of 4; per-column vectors are float32 arrays of cols entries.

/** for (o = 0; o < rowBytes; o += 16) { body } — one pass over the column groups. */
function columns(body: string): string {
  return `
    i32.const 0  local.set $o
    block
      loop
        local.get $o  local.get $rowBytes  i32.lt_u  i32.eqz  br_if 1
        ${body}
        local.get $o  i32.const 16  i32.add  local.set $o
        br 0
      end
    end`;
}

/** for each row (`$rowBase` = its byte offset) { columns(body) }. */
function rowsThenColumns(body: string): string {
  return `
    i32.const 0  local.set $rowBase
    i32.const 0  local.set $row
    block
      loop
        local.get $row  local.get $rows  i32.lt_u  i32.eqz  br_if 1
        ${columns(body)}
        local.get $rowBase  local.get $rowBytes  i32.add  local.set $rowBase
        local.get $row  i32.const 1  i32.add  local.set $row
        br 0
      end
    end`;
}

/** Address of the column group `$o` of the current row of the matrix at `base`. */
const entry = (base: string) =>
  `local.get ${base}  local.get $rowBase  i32.add  local.get $o  i32.add`;
/** Address of the column group `$o` of the per-column vector at `base`. */
const column = (base: string) => `local.get ${base}  local.get $o  i32.add`;

const BN_LOCALS = "$row i32 $rowBase i32 $rowBytes i32 $o i32";
const ROW_BYTES = "local.get $cols  i32.const 2  i32.shl  local.set $rowBytes";

/** vec[j] = 0 for every column. */
const zero = (vec: string) => columns(`${column(vec)}  v128.const 0  v128.store`);
/** vec[j] *= s (`$S` a splatted local). */
const scale = (vec: string) =>
  columns(`${column(vec)}  ${column(vec)}  v128.load  local.get $S  f32x4.mul  v128.store`);

/**
 * bnmoments(x, rows, cols, mean, var, invRows): column means and biased variances,
 * mean = sum(x) / rows, var = sum((x - mean)^2) / rows (two passes, rows in order).
 */
const BN_MOMENTS: FuncDef = {
  name: "bnmoments",
  params: "$x i32 $rows i32 $cols i32 $mean i32 $var i32 $invRows f32",
  locals: `${BN_LOCALS} $S v128 $D v128`,
  body: `
    ${ROW_BYTES}
    local.get $invRows  f32x4.splat  local.set $S
    ${zero("$mean")}
    ${zero("$var")}
    ${
    rowsThenColumns(`${column("$mean")}  ${column("$mean")}  v128.load
      ${entry("$x")}  v128.load  f32x4.add  v128.store`)
  }
    ${scale("$mean")}
    ${
    rowsThenColumns(`${entry("$x")}  v128.load  ${column("$mean")}  v128.load  f32x4.sub
      local.set $D
      ${column("$var")}  ${column("$var")}  v128.load
      local.get $D  local.get $D  f32x4.mul  f32x4.add  v128.store`)
  }
    ${scale("$var")}`,
};

/**
 * bnforward(x, y, xhat, rows, cols, mean, inv, gamma, beta, floor): per column j,
 * xhat = (x - mean_j) inv_j and y = pmax(xhat gamma_j + beta_j, floor) — floor 0 fuses a
 * ReLU, -Infinity leaves y as is.
 */
const BN_FORWARD: FuncDef = {
  name: "bnforward",
  params: "$x i32 $y i32 $xh i32 $rows i32 $cols i32 $mean i32 $inv i32 $gamma i32 $beta i32 " +
    "$floor f32",
  locals: `${BN_LOCALS} $H v128 $F v128`,
  body: `
    ${ROW_BYTES}
    local.get $floor  f32x4.splat  local.set $F
    ${
    rowsThenColumns(`
      ${entry("$x")}  v128.load  ${column("$mean")}  v128.load  f32x4.sub
      ${column("$inv")}  v128.load  f32x4.mul  local.set $H
      ${entry("$xh")}  local.get $H  v128.store
      ${entry("$y")}
      local.get $H  ${column("$gamma")}  v128.load  f32x4.mul  ${column("$beta")}  v128.load
      f32x4.add  local.get $F  f32x4.pmax  v128.store`)
  }`,
};

/**
 * bnbackward(dy, y, xhat, rows, cols, gamma, inv, dx, dgamma, dbeta, tmp, floor, invRows):
 * with g = dy where y > floor (else 0: the fused ReLU's mask; floor -Infinity keeps all),
 * dbeta = sum(g), dgamma = sum(g xhat), and
 * dx = (g gamma - mean(g gamma) - xhat mean(g gamma xhat)) inv. `tmp`: 2 cols scratch floats.
 */
const BN_BACKWARD: FuncDef = {
  name: "bnbackward",
  params: "$dy i32 $y i32 $xh i32 $rows i32 $cols i32 $gamma i32 $inv i32 $dx i32 " +
    "$dgamma i32 $dbeta i32 $tmp i32 $floor f32 $invRows f32",
  locals: `${BN_LOCALS} $F v128 $S v128 $G v128 $m2 i32`,
  body: `
    ${ROW_BYTES}
    local.get $floor  f32x4.splat  local.set $F
    local.get $invRows  f32x4.splat  local.set $S
    local.get $tmp  local.get $rowBytes  i32.add  local.set $m2
    ${zero("$dgamma")}
    ${zero("$dbeta")}
    ${
    rowsThenColumns(`
      ${entry("$dy")}  v128.load  v128.const 0
      ${entry("$y")}  v128.load  local.get $F  f32x4.gt  v128.bitselect  local.set $G
      ${column("$dbeta")}  ${column("$dbeta")}  v128.load  local.get $G  f32x4.add  v128.store
      ${column("$dgamma")}  ${column("$dgamma")}  v128.load
      local.get $G  ${entry("$xh")}  v128.load  f32x4.mul  f32x4.add  v128.store`)
  }
    ${
    columns(`
      ${column("$tmp")}  ${column("$dbeta")}  v128.load  ${column("$gamma")}  v128.load  f32x4.mul
      local.get $S  f32x4.mul  v128.store                                ;; mean(g gamma)
      ${column("$m2")}  ${column("$dgamma")}  v128.load  ${column("$gamma")}  v128.load
      f32x4.mul  local.get $S  f32x4.mul  v128.store                     ;; mean(g gamma xhat)`)
  }
    ${
    rowsThenColumns(`
      ${entry("$dy")}  v128.load  v128.const 0
      ${entry("$y")}  v128.load  local.get $F  f32x4.gt  v128.bitselect
      ${column("$gamma")}  v128.load  f32x4.mul
      ${column("$tmp")}  v128.load  f32x4.sub
      ${entry("$xh")}  v128.load  ${column("$m2")}  v128.load  f32x4.mul  f32x4.sub
      ${column("$inv")}  v128.load  f32x4.mul  local.set $G
      ${entry("$dx")}  local.get $G  v128.store`)
  }`,
};

/** Horner's rule in 4 lanes: dst = ((c0 x + c1) x + ...) x + c_last (constant vectors). */
function horner(x: string, dst: string, coefficients: number[]): string {
  const [first, ...rest] = coefficients;
  return `f32x4.const ${first}\n` +
    rest.map((c) => `local.get ${x}  f32x4.mul  f32x4.const ${c}  f32x4.add`).join("\n") +
    `\nlocal.set ${dst}`;
}

// ---------------------------------------------------------------------------------------
// Instantiation against the backend's memory

/** The kernels, bound to one wasm backend's memory. Pointers are heap byte offsets. */
export interface WasmKernels {
  /** One Adam step: reads w, m, v, g; writes wo, mo, vo (n entries each). */
  adam(
    w: number,
    m: number,
    v: number,
    g: number,
    wo: number,
    mo: number,
    vo: number,
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
  /** out = softplus(x) for the first 4 n entries. */
  softplus(x: number, out: number, n: number): void;
  /**
   * For the first 4 n entries: g = (sigmoid(t) - s) scale, and the 4 lane sums of
   * softplus(t) - s t stored at `acc` (16 bytes).
   */
  pairnll(t: number, s: number, g: number, n: number, scale: number, acc: number): void;
  /** y += a x for the first 4 n entries (byte offsets y, x). */
  axpy(y: number, x: number, a: number, n: number): void;
  /** Column means and biased variances of a rows x cols matrix (cols % 4 == 0). */
  bnmoments(
    x: number,
    rows: number,
    cols: number,
    mean: number,
    variance: number,
    invRows: number,
  ): void;
  /** xhat = (x - mean) inv; y = max(xhat gamma + beta, floor). */
  bnforward(
    x: number,
    y: number,
    xhat: number,
    rows: number,
    cols: number,
    mean: number,
    inv: number,
    gamma: number,
    beta: number,
    floor: number,
  ): void;
  /** BatchNorm (+ ReLU when floor = 0) backward; tmp holds 2 cols floats. */
  bnbackward(
    dy: number,
    y: number,
    xhat: number,
    rows: number,
    cols: number,
    gamma: number,
    inv: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    tmp: number,
    floor: number,
    invRows: number,
  ): void;
}

let moduleBytes: Uint8Array | undefined;
let simdEnabled = true;

/**
 * Switch the SIMD paths of the library code on or off (on by default): the Adam step, the
 * pair likelihood, BatchNorm and the sparse products use {@link simdKernels}, which returns
 * undefined while off, so they take their tensor-op or JS path. src/accel/fast_kernels.ts ties this
 * to the fast kernels (`initBackend({fastKernels})`), so "fast kernels off" means no SIMD
 * code of this project runs at all.
 */
export function setSimdEnabled(on: boolean): void {
  simdEnabled = on;
}

/** The SIMD kernels for the library code: {@link wasmKernels} while enabled, else undefined. */
export function simdKernels(): WasmKernels | undefined {
  return simdEnabled ? wasmKernels() : undefined;
}
const bound = new WeakMap<object, WasmKernels | null>();

/** The assembled module (built once). Throws a one-line error on an assembler mistake. */
export function simdModuleBytes(): Uint8Array {
  return (moduleBytes ??= assemble([
    ADAM,
    COLSUM,
    SOFTPLUS,
    PAIRNLL,
    AXPY,
    BN_MOMENTS,
    BN_FORWARD,
    BN_BACKWARD,
  ]));
}

interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown } };
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
  const bytes = simdModuleBytes();
  if (memory instanceof WebAssembly.Memory && WebAssembly.validate(bytes as BufferSource)) {
    const module = new WebAssembly.Module(bytes as BufferSource);
    kernels = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as WasmKernels;
  }
  bound.set(backend, kernels);
  return kernels ?? undefined;
}
