/**
 * The registry of hashing methods: one entry per method with its config factory, its model
 * factory and its ablation flags, plus generic save/load of a trained model.
 *
 * @module
 */
import type { HashModel, TrainingSetInfo } from "./model.ts";
import { type CpahConfig, cpahConfig, createCpah } from "./cpah.ts";
import { createDfah, type DfahConfig, dfahConfig } from "./dfah.ts";
import { readCheckpoint, writeCheckpoint } from "../nn/checkpoint.ts";

/** Method names. */
export type MethodName = "cpah" | "dfah";

/** One method's entry in the registry. */
export interface MethodEntry<C extends object = object> {
  /** Method name. */
  name: MethodName;
  /** Ablation flags of the method's config (each one boolean). */
  ablations: readonly string[];
  /** Defaults for a dataset and code length, with overrides (ablation flags among them). */
  config(dataset: string, bits: number, overrides?: Partial<C>): C;
  /** Build an untrained model for a training set. */
  create(info: TrainingSetInfo, config: C): HashModel;
}

/** The registered methods. */
export const METHODS: Record<MethodName, MethodEntry> = {
  cpah: {
    name: "cpah",
    ablations: ["noCR", "noAdversary", "noMultiTask", "relaxed"],
    config: (d, b, o) => cpahConfig(d, b, o as Partial<CpahConfig>),
    create: (info, c) => createCpah(info, c as CpahConfig),
  },
  dfah: {
    name: "dfah",
    ablations: ["noFusion", "noAdversary", "relaxed"],
    config: (d, b, o) => dfahConfig(d, b, o as Partial<DfahConfig>),
    create: (info, c) => createDfah(info, c as DfahConfig),
  },
};

/** Look up a method by name, with a one-line error listing the known ones. */
export function method(name: string, source = "method"): MethodEntry {
  const m = (METHODS as Record<string, MethodEntry>)[name];
  if (!m) {
    throw new Error(
      `${source}: unknown method '${name}'; expected one of ${Object.keys(METHODS).join(", ")}`,
    );
  }
  return m;
}

/** Save a trained model (config, training-set info and all state) to a directory. */
export async function saveModel(
  model: HashModel,
  info: TrainingSetInfo,
  dir: string,
): Promise<void> {
  await writeCheckpoint(dir, {
    kind: "model",
    method: model.method,
    bits: model.bits,
    config: model.config,
    info: {
      n: info.n,
      imageDim: info.imageDim,
      textDim: info.textDim,
      classes: info.labels.classes,
    },
  }, {
    ...model.state(),
    "info.labels": {
      shape: [info.labels.rows, info.labels.classes],
      data: Float32Array.from(info.labels.data),
    },
  });
}

/** Load a model saved by {@link saveModel}; it encodes exactly as the saved one did. */
export async function loadModel(dir: string): Promise<{ model: HashModel; info: TrainingSetInfo }> {
  const ck = await readCheckpoint(dir);
  const meta = ck.meta as {
    kind?: string;
    method: string;
    config: object;
    info: { n: number; imageDim: number; textDim: number; classes: number };
  };
  if (meta.kind !== "model") {
    throw new Error(`${dir}/state.json: not a saved model (kind '${meta.kind}')`);
  }
  const entry = method(meta.method, `${dir}/state.json`);
  const lab = ck.arrays["info.labels"];
  if (!lab) throw new Error(`${dir}/state.json: array 'info.labels' is missing`);
  const info: TrainingSetInfo = {
    n: meta.info.n,
    imageDim: meta.info.imageDim,
    textDim: meta.info.textDim,
    labels: { rows: meta.info.n, classes: meta.info.classes, data: Uint8Array.from(lab.data) },
  };
  const model = entry.create(info, meta.config);
  model.loadState(ck.arrays, `${dir}/state.json`);
  return { model, info };
}
