/**
 * The thread that owns the WebGPU device (src/accel/webgpu.ts is the other side).
 *
 * Deno has no synchronous way to read a GPU buffer (no OffscreenCanvas, and `getMappedRange`
 * before `mapAsync` resolves is an error), while training reads values synchronously
 * (`dataSync`) at every step. So the `@tensorflow/tfjs-backend-webgpu` backend lives here, in a
 * worker, and the main thread's `webgpu` backend forwards every kernel call to it and blocks
 * on `Atomics.wait` for the answer. This thread runs a synchronous loop over requests and
 * awaits only to read a buffer back, so the GPU mapping completes while the main thread waits.
 *
 * Protocol (all messages on one MessagePort, in order): the main thread posts a request, then
 * increments `control[REQUESTS]` and notifies; requests that need an answer get one posted
 * back, after which this thread sets `control[REPLY]` to 1 and notifies. Data ids are numbers
 * chosen by the main thread (uploads) or by this thread (kernel outputs: positive from the
 * main thread, negative from here, so they never collide).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import { WebGPUBackend } from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import { type MessagePort, receiveMessageOnPort, workerData } from "node:worker_threads";

/** Slots of the shared Int32Array both threads synchronise on. */
const REQUESTS = 0, REPLY = 1;

interface Wire {
  id: number;
  shape: number[];
  dtype: tf.DataType;
}

type Request =
  | {
    op: "write";
    id: number;
    values: tf.backend_util.BackendValues | null;
    shape: number[];
    dtype: tf.DataType;
    refCount: number;
  }
  | { op: "kernel"; name: string; inputs: Wire[] | Record<string, Wire>; attrs: tf.NamedAttrMap }
  | { op: "dispose"; id: number }
  | { op: "incRef"; id: number }
  | { op: "read"; id: number }
  | { op: "memory" }
  | { op: "close" };

let backend: WebGPUBackend;
const byId = new Map<number, object>();
const idOf = new WeakMap<object, number>();
let nextOwnId = -1;

function info(w: Wire): tf.TensorInfo {
  const dataId = byId.get(w.id);
  if (!dataId) throw new Error(`webgpu worker: unknown tensor data id ${w.id}`);
  return { dataId, shape: w.shape, dtype: w.dtype };
}

function wire(t: tf.TensorInfo): Wire {
  let id = idOf.get(t.dataId);
  if (id === undefined) {
    id = nextOwnId--;
    idOf.set(t.dataId, id);
    byId.set(id, t.dataId);
  }
  return { id, shape: [...t.shape], dtype: t.dtype };
}

/** Forget ids whose data the backend released. */
function forget(id: number): void {
  const dataId = byId.get(id);
  if (dataId && backend.refCount(dataId) === 0) byId.delete(id);
}

function runKernel(name: string, inputs: Wire[] | Record<string, Wire>, attrs: tf.NamedAttrMap) {
  const config = tf.getKernel(name, "webgpu");
  if (!config) throw new Error(`kernel '${name}' is not registered for backend 'webgpu'`);
  const ins = Array.isArray(inputs)
    ? inputs.map(info)
    : Object.fromEntries(Object.entries(inputs).map(([k, w]) => [k, info(w)]));
  const out = config.kernelFunc({
    inputs: ins as unknown as tf.NamedTensorInfoMap,
    attrs,
    backend: backend as unknown as tf.KernelBackend,
  });
  return Array.isArray(out) ? out.map(wire) : wire(out);
}

function replier(port: MessagePort, control: Int32Array) {
  return (message: unknown) => {
    port.postMessage(message);
    Atomics.store(control, REPLY, 1);
    Atomics.notify(control, REPLY);
  };
}

/** Every request but a read, synchronously. Returns false after "close". */
function handleSync(req: Exclude<Request, { op: "read" }>, reply: (m: unknown) => void): boolean {
  switch (req.op) {
    case "write": {
      const dataId = {};
      backend.move(dataId, req.values!, req.shape, req.dtype, req.refCount);
      byId.set(req.id, dataId);
      idOf.set(dataId, req.id);
      return true;
    }
    case "dispose": {
      const dataId = byId.get(req.id);
      if (dataId) backend.disposeData(dataId);
      forget(req.id);
      return true;
    }
    case "incRef": {
      const dataId = byId.get(req.id);
      if (dataId) backend.incRef(dataId);
      return true;
    }
    case "kernel":
      reply({ ok: true, out: runKernel(req.name, req.inputs, req.attrs) });
      return true;
    case "memory":
      reply({ ok: true, memory: backend.memory(), numDataIds: backend.numDataIds() });
      return true;
    case "close":
      backend.dispose();
      return false;
  }
}

async function read(id: number, reply: (m: unknown) => void): Promise<void> {
  const dataId = byId.get(id);
  if (!dataId) throw new Error(`webgpu worker: unknown tensor data id ${id}`);
  reply({ ok: true, values: await backend.read(dataId) });
}

async function serve(port: MessagePort, control: Int32Array): Promise<void> {
  const reply = replier(port, control);
  let seen = 0;
  for (;;) {
    const m = receiveMessageOnPort(port);
    if (!m) {
      Atomics.wait(control, REQUESTS, seen);
      continue;
    }
    seen = (seen + 1) | 0;
    const req = m.message as Request;
    try {
      // Only a read awaits; everything else stays on this synchronous path.
      if (req.op === "read") await read(req.id, reply);
      else if (!handleSync(req, reply)) break;
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      if (req.op === "kernel" || req.op === "read" || req.op === "memory") {
        reply({ ok: false, error: message });
      } else console.error(`webgpu worker: ${req.op}: ${message}`);
    }
  }
  port.close();
}

/** The adapter's description as recorded in result files. */
export interface AdapterDescription {
  description: string;
  vendor: string;
  architecture: string;
  device: string;
  isFallbackAdapter: boolean;
}

async function start(): Promise<
  { ok: true; adapter: AdapterDescription; kernels: string[] } | { ok: false; error: string }
> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, error: "navigator.gpu is missing in this Deno" };
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return { ok: false, error: "no-adapter" };
  const limits = adapter.limits;
  const features: GPUFeatureName[] = [];
  if (adapter.features.has("timestamp-query")) features.push("timestamp-query");
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const ai = adapter.info;
  backend = new WebGPUBackend(device, ai);
  const kernels = tf.getKernelsForBackend("webgpu").map((k) => k.kernelName);
  return {
    ok: true,
    adapter: {
      description: ai.description,
      vendor: ai.vendor,
      architecture: ai.architecture,
      device: ai.device,
      isFallbackAdapter: (ai as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
    kernels,
  };
}

/** Open the device, answer the main thread, then serve its requests until "close". */
async function main(): Promise<void> {
  const { port } = workerData as { port: MessagePort; control: SharedArrayBuffer };
  const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);
  let started;
  try {
    started = await start();
  } catch (err) {
    started = { ok: false as const, error: (err as Error).message.split("\n")[0] };
  }
  replier(port, control)(started);
  if (started.ok) await serve(port, control);
  else port.close();
}

await main();
