/**
 * The parameter store: every variable of one model with a stable local name (used in
 * checkpoints) and a group (e.g. "net", "disc") that selects which optimiser updates it.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { Variable } from "../tensor_types.ts";

let storeCounter = 0;

/** Named numeric arrays: the serialisable state of a model (weights, codes, optimiser). */
export type NamedArrays = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * Owns every variable of one model. Variables have a stable local name (used in checkpoints)
 * and a group (e.g. "net", "disc") that selects which optimiser updates them.
 */
export class ParamStore {
  readonly #prefix = `m${storeCounter++}`;
  readonly #vars = new Map<string, { v: Variable; group: string; trainable: boolean }>();

  /** Create a variable from initial values. */
  create(
    name: string,
    shape: number[],
    values: Float32Array,
    group: string,
    trainable = true,
  ): Variable {
    if (this.#vars.has(name)) throw new Error(`ParamStore: duplicate variable name '${name}'`);
    // tidy disposes the initial tensor (a variable shares its data and would leave it counted).
    const v = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, "float32"), trainable, `${this.#prefix}/${name}`)
    );
    this.#vars.set(name, { v, group, trainable });
    return v;
  }

  /** Trainable variables of a group, in creation order. */
  group(group: string): Variable[] {
    return [...this.#vars.values()].filter((e) => e.group === group && e.trainable).map((e) => e.v);
  }

  /** Trainable variables whose local name starts with one of the prefixes. */
  byPrefix(...prefixes: string[]): Variable[] {
    const out: Variable[] = [];
    for (const [name, e] of this.#vars) {
      if (e.trainable && prefixes.some((p) => name.startsWith(p))) out.push(e.v);
    }
    return out;
  }

  /** Local name of a variable created here. */
  localName(v: Variable): string {
    return v.name.slice(this.#prefix.length + 1);
  }

  /** All variables' values, keyed by local name. */
  state(): NamedArrays {
    const out: NamedArrays = {};
    for (const [name, e] of this.#vars) {
      out[name] = { shape: [...e.v.shape], data: e.v.dataSync() as Float32Array };
    }
    return out;
  }

  /** Restore variables from {@link state} output; every variable must be present. */
  load(state: NamedArrays, source = "state"): void {
    for (const [name, e] of this.#vars) {
      const s = state[name];
      if (!s) throw new Error(`${source}: variable '${name}' is missing`);
      if (s.shape.join("x") !== e.v.shape.join("x")) {
        throw new Error(
          `${source}: variable '${name}' has shape ${s.shape.join("x")}, expected ${
            e.v.shape.join("x")
          }`,
        );
      }
      tf.tidy(() => e.v.assign(tf.tensor(s.data, s.shape, "float32")));
    }
  }

  /** Number of trainable scalar parameters. */
  countParams(): number {
    let n = 0;
    for (const e of this.#vars.values()) if (e.trainable) n += e.v.size;
    return n;
  }

  /** Dispose every variable. */
  dispose(): void {
    for (const e of this.#vars.values()) e.v.dispose();
    this.#vars.clear();
  }
}
