/**
 * The BatchMatMul gradient with explicit transposes (and broadcast batch dimensions), and
 * {@link matMulT}, the product that follows the registered gradient's choice.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";

const stockGradient = tf.getGradient("BatchMatMul");
let registered: "stock" | "explicit" | "flags" = "stock";

/** Transpose the last two axes of a rank >= 2 tensor. */
function swapLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** Sum a gradient back down to the (broadcast) shape of the input it belongs to. */
function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    const s = i - lead;
    if (s < 0 || shape[s] === 1) axes.push(i);
  }
  const summed = axes.length ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

/**
 * Register a BatchMatMul gradient that also handles broadcast batch dimensions (the stock
 * tfjs gradient throws on them). With `explicit`, transposes are materialised and the plain
 * (non-transposed) kernel is called — on the stock wasm kernels this is ~10x faster;
 * otherwise transposes are passed as flags (best when BLAS kernels are installed, where they
 * are free). Both are mathematically identical to the stock gradient.
 */
function registerMatMulGradient(explicit: boolean): void {
  if (registered === (explicit ? "explicit" : "flags")) return;
  const T = swapLast2;
  // x^(tx) . y^(ty), with the transposes done as the mode says.
  const mm = (x: tf.Tensor, tx: boolean, y: tf.Tensor, ty: boolean) =>
    explicit ? tf.matMul(tx ? T(x) : x, ty ? T(y) : y) : tf.matMul(x, y, tx, ty);
  const quiet = silenceOverrideWarning();
  try {
    tf.registerGradient({
      kernelName: "BatchMatMul",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved;
        const { transposeA, transposeB } = attrs as unknown as {
          transposeA: boolean;
          transposeB: boolean;
        };
        const d = dy as tf.Tensor;
        let da: () => tf.Tensor;
        let db: () => tf.Tensor;
        if (!transposeA && !transposeB) { // C = A B
          da = () => mm(d, false, b, true);
          db = () => mm(a, true, d, false);
        } else if (!transposeA && transposeB) { // C = A B^T
          da = () => mm(d, false, b, false);
          db = () => mm(d, true, a, false);
        } else if (transposeA && !transposeB) { // C = A^T B
          da = () => mm(b, false, d, true);
          db = () => mm(a, false, d, false);
        } else { // C = A^T B^T
          da = () => mm(b, true, d, true);
          db = () => mm(d, true, a, true);
        }
        return {
          a: () => reduceToShape(da(), a.shape),
          b: () => reduceToShape(db(), b.shape),
        };
      },
    });
  } finally {
    quiet();
  }
  registered = explicit ? "explicit" : "flags";
}

/**
 * x^(tx) y^(ty) with the transposes done the way the active set of kernels runs fastest:
 * materialised (tf.transpose, then the plain product) while the explicit-transpose MatMul
 * gradient is registered — the stock wasm kernels, whose transposed products run ~10-50x
 * slower — and passed to the kernel as flags otherwise (BLAS, cpu, tensorflow). For products
 * written outside the MatMul gradient (src/nn/layers.ts, src/nn/losses.ts). Same values either way.
 */
export function matMulT(x: tf.Tensor, y: tf.Tensor, tx = false, ty = false): tf.Tensor {
  if (registered !== "explicit" || (!tx && !ty)) return tf.matMul(x, y, tx, ty);
  return tf.tidy(() => tf.matMul(tx ? swapLast2(x) : x, ty ? swapLast2(y) : y));
}

/**
 * Replace the BatchMatMul gradient by one that materialises transposes and calls the plain
 * (non-transposed) matmul kernel, broadcasting handled. Identical values to the stock gradient.
 */
export function registerExplicitTransposeMatMulGradient(): void {
  registerMatMulGradient(true);
}

/** The same gradient with transposes passed to the kernel as flags, broadcasting handled. */
export function registerTransposeFlagMatMulGradient(): void {
  registerMatMulGradient(false);
}

/** Put the stock BatchMatMul gradient back (used by tests). */
export function restoreStockMatMulGradient(): void {
  if (registered === "stock" || !stockGradient) return;
  const quiet = silenceOverrideWarning();
  try {
    tf.registerGradient(stockGradient);
  } finally {
    quiet();
  }
  registered = "stock";
}

/** tfjs warns on every gradient override; we override on purpose. */
function silenceOverrideWarning(): () => void {
  const orig = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("Overriding the gradient")) return;
    orig(...args);
  };
  return () => {
    console.warn = orig;
  };
}
