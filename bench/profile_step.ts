/**
 * Where does a training step spend its time? Wraps every kernel registered for the active
 * backend with a timer and prints, per kernel name, calls and total ms over the timed steps,
 * next to the step's wall time (the difference is time outside kernels: JS, tape, dataSync).
 *
 * `deno run -A bench/profile_step.ts [--method cpah|dfah] [--kernels stock|blas] [--steps 5]
 * [--warmup 2] [--threads 1]`
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  DEFAULT_SHAPE,
  makeModel,
  makeTrainingData,
  selectKernels,
  StepRunner,
  type TrainingMethod,
} from "./training_bench.ts";
import type { KernelSet } from "./matmul_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    method: { type: "string", default: "cpah" },
    kernels: { type: "string", default: "blas" },
    steps: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
  },
});
console.log(await selectKernels(values.kernels as KernelSet, { threads: Number(values.threads) }));
const stats = new Map<string, { calls: number; ms: number }>();
let on = false;
for (const k of tf.getKernelsForBackend(tf.getBackend())) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, k.backendName);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!on) return inner(args);
      const t = performance.now();
      const r = inner(args);
      const ms = performance.now() - t;
      const detail = [
        "BatchMatMul",
        "_FusedMatMul",
        "Softplus",
        "Identity",
        "Multiply",
        "Add",
        "Sum",
      ].includes(k.kernelName);
      const key = detail
        ? `${k.kernelName} ${
          Object.values(args.inputs).map((x) => (x as tf.TensorInfo).shape.join("x")).join(",")
        }${
          args.attrs && "transposeA" in args.attrs
            ? ` T${+!!args.attrs.transposeA}${+!!args.attrs.transposeB}`
            : ""
        }`
        : k.kernelName;
      const s = stats.get(key) ?? { calls: 0, ms: 0 };
      s.calls++;
      s.ms += ms;
      stats.set(key, s);
      return r;
    },
  });
}
const shape = DEFAULT_SHAPE;
const data = makeTrainingData(shape);
const model = makeModel(values.method as TrainingMethod, data, shape);
const runner = new StepRunner(model, data, shape.batchSize);
for (let i = 0; i < Number(values.warmup); i++) runner.step();
on = true;
(globalThis as Record<string, unknown>).T = {};
let wall = 0;
const steps = Number(values.steps);
for (let i = 0; i < steps; i++) wall += runner.step();
on = false;
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
const kernelMs = rows.reduce((s, [, v]) => s + v.ms, 0);
const calls = rows.reduce((s, [, v]) => s + v.calls, 0);
console.log(
  `step wall ${(wall / steps).toFixed(1)} ms; in kernels ${(kernelMs / steps).toFixed(1)} ms; ${
    (calls / steps).toFixed(0)
  } kernel calls/step`,
);
for (const [name, v] of rows.slice(0, 60)) {
  console.log(
    `${name.padEnd(44)} ${String(v.calls / steps).padStart(6)} calls ${
      (v.ms / steps).toFixed(2).padStart(9)
    } ms`,
  );
}
const T = (globalThis as Record<string, unknown>).T as Record<string, number> | undefined;
if (T) console.log(Object.entries(T).map(([k, v]) => `${k} ${(v / steps).toFixed(1)}`).join("  "));
