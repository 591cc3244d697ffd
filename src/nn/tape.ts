/**
 * The gradient tape helpers: ONE way to keep computation off the gradient, {@link withoutTape},
 * and the two shapes in which the models use it: {@link stopGradient} (a value held constant,
 * e.g. a regression target) and {@link constantOf} (tensors computed as constants, e.g. ReLU
 * masks).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";

/**
 * Run `f` as if no gradient were being recorded, inside an enclosing `tf.variableGrads` (or
 * `tf.grad`): its ops are not added to the enclosing tape, any gradient `f` itself takes gets a
 * tape of its own (first-order, as at the top level), and tensors it reads from the enclosing
 * computation act as constants there. The enclosing tape is restored afterwards, also when `f`
 * throws. tfjs has no public API for this; the helper sets the engine's gradient depth to 0
 * for the duration (checked in tests/nn_optim_checkpoint.test.ts against tfjs 4.22).
 */
export function withoutTape<T>(f: () => T): T {
  const state = (tf.engine() as unknown as {
    state: { gradientDepth: number; activeTape: unknown[] | null };
  }).state;
  const depth = state.gradientDepth, tape = state.activeTape;
  if (depth === 0) return f();
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = depth;
    state.activeTape = tape;
  }
}

/**
 * x held constant: the same values, and no gradient flows back through the result (the copy is
 * made off the tape, {@link withoutTape}). For targets such as DFAH's relaxed regression onto u.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return withoutTape(() => tf.clone(x));
}

/**
 * Tensors computed by `f` that the gradient tape treats as constants ({@link withoutTape});
 * `f`'s intermediate tensors are freed, the caller owns (and disposes) the returned ones.
 * `_anchor` is kept for the callers of the earlier signature.
 */
export function constantOf(_anchor: tf.Tensor, f: () => tf.Tensor[]): tf.Tensor[] {
  return withoutTape(() => tf.tidy(f)).map((t) => tf.keep(t));
}
