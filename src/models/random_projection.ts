/**
 * Random-projection baseline: codes are the signs of a fixed random linear map per modality,
 * b = sign(x W) with W ~ N(0, 1) (d x K), sign(0) = +1. Nothing is learned and the two
 * modalities get independent maps, so cross-modal MAP should sit at chance level: this is the
 * floor a trained method must clearly beat.
 *
 * It implements {@link HashModel} so it runs through the same trainer, encoders, metrics and
 * save/load code as the learned methods (`trainStep` and `endEpoch` do nothing).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type { NamedArrays } from "../nn/mod.ts";
import { Rng } from "../random.ts";
import type { Matrix, PackedCodes } from "../types.ts";
import {
  checkFeatureCols,
  encodeInBatches,
  type HashModel,
  NoTrainingSteps,
  type TrainingSetInfo,
} from "./model.ts";

/** Configuration of the random-projection baseline. */
export interface RandomProjectionConfig {
  /** Code length K. */
  bits: number;
  /** Seed of the two projection matrices. */
  seed: number;
}

/** The baseline's config: code length K and the seed of the projections (default 1). */
export function randomProjectionConfig(
  bits: number,
  overrides: Partial<RandomProjectionConfig> = {},
): RandomProjectionConfig {
  for (const k of Object.keys(overrides)) {
    if (k !== "bits" && k !== "seed") {
      throw new Error(
        `randomProjectionConfig: overrides.${k} is not a RandomProjectionConfig field`,
      );
    }
  }
  return { bits, seed: overrides.seed ?? 1 };
}

/** The random-projection encoder; see the module comment. */
export class RandomProjection extends NoTrainingSteps implements HashModel {
  /** Method name. */
  readonly method = "random-projection";
  /** Code length K. */
  readonly bits: number;
  /** The configuration (bits and seed). */
  readonly config: Readonly<RandomProjectionConfig>;
  readonly #wImage: tf.Variable;
  readonly #wText: tf.Variable;

  /** Draw W_v (d_v x K) and W_t (d_t x K) from N(0, 1) with the configured seed. */
  constructor(
    info: Pick<TrainingSetInfo, "imageDim" | "textDim">,
    config: RandomProjectionConfig,
  ) {
    super();
    if (!Number.isInteger(config.bits) || config.bits < 1) {
      throw new Error(`RandomProjection: config.bits is ${config.bits}, expected an integer >= 1`);
    }
    if (!Number.isInteger(config.seed)) {
      throw new Error(`RandomProjection: config.seed is ${config.seed}, expected an integer`);
    }
    for (const [name, v] of [["imageDim", info.imageDim], ["textDim", info.textDim]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`RandomProjection: info.${name} is ${v}, expected an integer >= 1`);
      }
    }
    this.bits = config.bits;
    this.config = Object.freeze({ bits: config.bits, seed: config.seed });
    const rng = new Rng(config.seed);
    const ri = rng.fork(1), rt = rng.fork(2);
    const K = config.bits;
    this.#wImage = tf.variable(
      tf.tensor2d(ri.normals(info.imageDim * K), [info.imageDim, K]),
      false,
    );
    this.#wText = tf.variable(tf.tensor2d(rt.normals(info.textDim * K), [info.textDim, K]), false);
  }

  /** sign(x W_v), packed. */
  encodeImage(x: Matrix): PackedCodes {
    checkFeatureCols(x, this.#wImage.shape[0], "encodeImage", "x");
    return encodeInBatches(x, this.bits, (b) => tf.matMul(b, this.#wImage));
  }

  /** sign(y W_t), packed. */
  encodeText(y: Matrix): PackedCodes {
    checkFeatureCols(y, this.#wText.shape[0], "encodeText", "y");
    return encodeInBatches(y, this.bits, (b) => tf.matMul(b, this.#wText));
  }

  /** The two projection matrices ("rp.Wv", "rp.Wt"). */
  state(): NamedArrays {
    const out: NamedArrays = {};
    for (const [key, w] of [["rp.Wv", this.#wImage], ["rp.Wt", this.#wText]] as const) {
      out[key] = { shape: [...w.shape], data: (w.dataSync() as Float32Array).slice() };
    }
    return out;
  }

  /** Restore the projection matrices (shapes must match). */
  loadState(state: NamedArrays, source: string): void {
    for (const [key, w] of [["rp.Wv", this.#wImage], ["rp.Wt", this.#wText]] as const) {
      const s = state[key];
      if (!s) throw new Error(`${source}: entry '${key}' is missing (random-projection state)`);
      if (s.shape.join("x") !== w.shape.join("x") || s.data.length !== w.size) {
        throw new Error(
          `${source}: entry '${key}' has shape ${s.shape.join("x")}, expected ${w.shape.join("x")}`,
        );
      }
      tf.tidy(() => w.assign(tf.tensor(s.data, s.shape, "float32")));
    }
  }

  /** Free the matrices. */
  dispose(): void {
    this.#wImage.dispose();
    this.#wText.dispose();
  }
}

/** Build the random-projection baseline (a {@link HashModel} factory like the learned methods). */
export function createRandomProjection(
  info: Pick<TrainingSetInfo, "imageDim" | "textDim">,
  config: RandomProjectionConfig,
): HashModel {
  return new RandomProjection(info, config);
}
