/**
 * Fabricated result files for the mechanism study's tests: a cell's result with given MAP@all
 * values and a short history, no training.
 *
 * @module
 */
import { cellId, type ExperimentSpec } from "../../../src/experiments/spec.ts";
import type { CellResult } from "../../../src/experiments/results.ts";

/** A result file's content for a cell, with the given MAP@all values and history. */
export function fabricate(
  spec: ExperimentSpec,
  i2t: number,
  t2i: number,
  extra: Partial<CellResult> = {},
): CellResult {
  const epochs = 4;
  return {
    format: "cmh-result-1",
    id: cellId(spec),
    spec,
    config: {},
    dataset: {
      name: "synthetic",
      provenance: "fabricated",
      imageDim: 256,
      textDim: 128,
      classes: 10,
      split: {
        convention: "permutation",
        query: 500,
        database: 2500,
        train: 2250,
        validation: 250,
      },
    },
    backend: { name: "wasm", tfjs: "4.22.0", explicitTransposeGrad: true, deno: "2.9.6" },
    versions: { toolkit: "0.1.0", tfjs: "4.22.0", deno: "2.9.6" },
    training: {
      history: Array.from({ length: epochs }, (_, e) => ({ epoch: e, losses: {}, seconds: 3 })),
      selectedEpoch: epochs - 1,
      seconds: 3 * epochs,
    },
    metrics: { I2T: { mapAll: i2t }, T2I: { mapAll: t2i } } as never,
    encodeSeconds: 0.5,
    started: "2025-01-01T00:00:00.000Z",
    finished: "2025-01-01T00:00:20.000Z",
    ...extra,
  };
}
