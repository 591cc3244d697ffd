/**
 * Where does a training step spend its time? Wraps every kernel registered for the active
 * backend with a timer, runs training steps of one model (the setup of
 * bench/training_bench.ts) and prints the step's wall time, the time inside kernels, and per
 * kernel the calls and milliseconds per step, largest first. Wall minus kernel time is spent
 * outside kernels: JS, the gradient tape, the optimiser step, reading values back.
 * The timers add overhead (measured: CPAH 84-94 ms per step here vs 64 ms in
 * bench/training_bench.ts), so use the shares, not the wall time, from this tool.
 *
 * `deno run -A bench/profile_step.ts [--method cpah|dfah] [--kernels stock|blas] [--steps 5]
 * [--warmup 2] [--threads 1] [--top 40]`; env PROFILE_SHAPES=1 splits each kernel by input
 * shapes (and transpose flags for matrix products).
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
  TRAINING_METHODS,
  type TrainingMethod,
} from "./training_bench.ts";
import type { KernelSet } from "./matmul_bench.ts";
import { oneOf, positiveInt, stringOptions } from "./bench_utils.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: stringOptions({
    method: "cpah",
    kernels: "blas",
    steps: "5",
    warmup: "2",
    threads: "1",
    top: "40",
  }),
});
const method = oneOf<TrainingMethod>(values.method, TRAINING_METHODS, "--method");
const kernels = oneOf<KernelSet>(values.kernels, ["stock", "blas"], "--kernels");
const steps = positiveInt(values.steps, "--steps");
const warmup = positiveInt(values.warmup, "--warmup", 0);
const threads = positiveInt(values.threads, "--threads");
const top = positiveInt(values.top, "--top");
const byShape = Deno.env.get("PROFILE_SHAPES") === "1";

/** "Name AxB,CxD T01": the kernel split by input shapes and transpose flags. */
function shapeKey(name: string, args: { inputs: object; attrs?: Record<string, unknown> }) {
  const shapes = Object.values(args.inputs).map((x) => (x as tf.TensorInfo).shape.join("x"));
  const flags = args.attrs && "transposeA" in args.attrs
    ? ` T${+!!args.attrs.transposeA}${+!!args.attrs.transposeB}`
    : "";
  return `${name} ${shapes.join(",")}${flags}`;
}

console.log(await selectKernels(kernels, { threads }));
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
      const key = byShape ? shapeKey(k.kernelName, args) : k.kernelName;
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
const runner = new StepRunner(makeModel(method, data, shape), data, shape.batchSize);
for (let i = 0; i < warmup; i++) runner.step();
on = true;
let wall = 0;
for (let i = 0; i < steps; i++) wall += runner.step();
on = false;
runner.model.dispose();
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
const kernelMs = rows.reduce((s, [, v]) => s + v.ms, 0);
const calls = rows.reduce((s, [, v]) => s + v.calls, 0);
console.log(
  `${method} ${kernels}: step wall ${(wall / steps).toFixed(1)} ms; in kernels ${
    (kernelMs / steps).toFixed(1)
  } ms; ${(calls / steps).toFixed(0)} kernel calls per step (${steps} steps)`,
);
const width = Math.max(...rows.slice(0, top).map(([k]) => k.length), 6);
for (const [name, v] of rows.slice(0, top)) {
  console.log(
    `${name.padEnd(width)} ${(v.calls / steps).toFixed(0).padStart(6)} calls ${
      (v.ms / steps).toFixed(2).padStart(8)
    } ms`,
  );
}
