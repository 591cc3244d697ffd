/**
 * The `webgpu` backend: TensorFlow.js's WebGPU kernels (`@tensorflow/tfjs-backend-webgpu`,
 * same version as tfjs) on Deno's WebGPU, which finds a GPU through Vulkan (Linux), Metal
 * (macOS) or D3D12 (Windows), and on a machine without one Mesa's software rasteriser
 * (llvmpipe) when Mesa's drivers are installed.
 *
 * Deno cannot read a GPU buffer synchronously, and training reads loss values and codes with
 * `dataSync` at every step; so the WebGPU backend runs in a worker
 * (src/accel/webgpu_worker.ts) that owns the device, and the backend registered here under the
 * name `webgpu` forwards each kernel call to it, waiting on `Atomics.wait` for the output's
 * shape (a few tens of µs per call on top of the kernel's own dispatch;
 * bench/gpu_bench.ts measures it). Reads wait while the worker maps the buffer. Gradients, the tape and tf.tidy run
 * on the main thread as on every backend.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";

/** The WebGPU adapter the backend runs on, as recorded in result files. */
export interface WebGpuAdapter {
  /** The driver's description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** PCI vendor id (or driver vendor) as the adapter reports it. */
  vendor: string;
  /** Architecture, when the driver reports one. */
  architecture: string;
  /** Device id as the adapter reports it. */
  device: string;
  /** True for a software (fallback) adapter such as Mesa's llvmpipe: not a GPU. */
  isFallbackAdapter: boolean;
}

/** The one-line error when Deno's WebGPU finds no adapter. */
export const NO_ADAPTER_MESSAGE =
  "backend 'webgpu': Deno's WebGPU found no adapter. Install a GPU driver (Vulkan on Linux), " +
  "or for Mesa's software adapter on Debian/Ubuntu " +
  "'apt-get install libegl1 libgl1-mesa-dri' (or 'mesa-vulkan-drivers'); " +
  "then check with: deno eval 'console.log(await navigator.gpu.requestAdapter())'";

const REQUESTS = 0, REPLY = 1;
/** How long one request may take before the main thread gives up (ms). */
const TIMEOUT_MS = 600_000;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The message waiting on `port`, or undefined. The worker posts its answer before it raises the
 * flag; should the delivery lag behind the flag, this polls for up to a second.
 */
function receiveSoon(port: MessagePort): unknown {
  let got = receiveMessageOnPort(port);
  for (let waited = 0; !got && waited < 1000; waited++) {
    Atomics.wait(pause, 0, 0, 1);
    got = receiveMessageOnPort(port);
  }
  return got?.message;
}

interface Wire {
  id: number;
  shape: number[];
  dtype: tf.DataType;
}

interface Entry {
  id: number;
  refCount: number;
}

/**
 * The main thread's half of the `webgpu` backend: tensor data lives in the worker; this side
 * keeps each data id's reference count (mirroring the worker's) and forwards kernel calls.
 */
export class WebGpuProxyBackend extends tf.KernelBackend {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  readonly #data = new WeakMap<object, Entry>();
  readonly #byId = new Map<number, object>();
  #nextId = 1;
  #disposed = false;

  /** The adapter the worker's device came from. */
  readonly adapter: WebGpuAdapter;
  /** Kernel names the WebGPU backend implements. */
  readonly kernelNames: readonly string[];

  private constructor(
    worker: Worker,
    port: MessagePort,
    control: Int32Array,
    adapter: WebGpuAdapter,
    kernelNames: string[],
  ) {
    super();
    this.#worker = worker;
    this.#port = port;
    this.#control = control;
    this.adapter = adapter;
    this.kernelNames = kernelNames;
  }

  /**
   * Start the worker and open the device; throws {@link NO_ADAPTER_MESSAGE} when there is no
   * adapter.
   */
  static async create(): Promise<WebGpuProxyBackend> {
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(8);
    const control = new Int32Array(shared);
    const worker = new Worker(new URL("./webgpu_worker.ts", import.meta.url), {
      workerData: { port: port2, control: shared },
      transferList: [port2],
    });
    worker.unref(); // the process may exit while the device is open
    let failure: Error | undefined;
    worker.on("error", (e: Error) => {
      failure = new Error(`backend 'webgpu': worker failed: ${e.message.split("\n")[0]}`);
      Atomics.store(control, REPLY, 1);
      Atomics.notify(control, REPLY);
    });
    const waiting = Atomics.waitAsync(control, REPLY, 0, TIMEOUT_MS);
    if (waiting.async) await waiting.value;
    const got = receiveSoon(port1) as
      | { ok: true; adapter: WebGpuAdapter; kernels: string[] }
      | { ok: false; error: string }
      | undefined;
    Atomics.store(control, REPLY, 0);
    if (failure || !got || !got.ok) {
      await worker.terminate();
      port1.close();
      if (failure) throw failure;
      if (!got) throw new Error("backend 'webgpu': the worker did not answer");
      if (got.ok) throw new Error("backend 'webgpu': unreachable");
      throw new Error(
        got.error === "no-adapter"
          ? NO_ADAPTER_MESSAGE
          : `backend 'webgpu' failed to start: ${got.error}`,
      );
    }
    return new WebGpuProxyBackend(worker, port1, control, got.adapter, got.kernels);
  }

  #post(message: unknown): void {
    if (this.#disposed) throw new Error("backend 'webgpu' was disposed");
    this.#port.postMessage(message);
    Atomics.add(this.#control, REQUESTS, 1);
    Atomics.notify(this.#control, REQUESTS);
  }

  #call<T>(message: { op: string; [k: string]: unknown }): T {
    Atomics.store(this.#control, REPLY, 0);
    this.#post(message);
    if (Atomics.wait(this.#control, REPLY, 0, TIMEOUT_MS) === "timed-out") {
      throw new Error(`backend 'webgpu': no answer to '${message.op}' in ${TIMEOUT_MS / 1000} s`);
    }
    const got = receiveSoon(this.#port);
    if (!got) throw new Error(`backend 'webgpu': answer to '${message.op}' missing`);
    const r = got as { ok: boolean; error?: string } & T;
    if (!r.ok) {
      const what = typeof message.name === "string" ? `${message.op} ${message.name}` : message.op;
      throw new Error(`backend 'webgpu': ${what}: ${r.error}`);
    }
    return r;
  }

  #entry(dataId: object): Entry {
    const e = this.#data.get(dataId);
    if (!e) throw new Error("backend 'webgpu': unknown tensor data (disposed?)");
    return e;
  }

  #wire(t: tf.TensorInfo): Wire {
    return { id: this.#entry(t.dataId).id, shape: [...t.shape], dtype: t.dtype };
  }

  #register(id: number, dataId: object, refCount: number): void {
    this.#data.set(dataId, { id, refCount });
    this.#byId.set(id, dataId);
  }

  /** Run kernel `name` in the worker; returns the outputs' infos. */
  runKernel(
    name: string,
    inputs: tf.NamedTensorInfoMap | tf.TensorInfo[],
    attrs: tf.NamedAttrMap | undefined,
  ): tf.TensorInfo | tf.TensorInfo[] {
    const wires = Array.isArray(inputs)
      ? inputs.map((t) => this.#wire(t))
      : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, this.#wire(t!)]));
    const { out } = this.#call<{ out: Wire | Wire[] }>({
      op: "kernel",
      name,
      inputs: wires,
      attrs: attrs ?? {},
    });
    const local = (w: Wire): tf.TensorInfo => {
      let dataId = this.#byId.get(w.id);
      if (dataId) this.#entry(dataId).refCount++; // the kernel shared an existing buffer
      else {
        dataId = { id: w.id };
        this.#register(w.id, dataId, 1);
      }
      return { dataId, shape: w.shape, dtype: w.dtype };
    };
    return Array.isArray(out) ? out.map(local) : local(out);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType) {
    const dataId = { id: this.#nextId };
    this.move(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(
    dataId: object,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    if (dtype === "string" || dtype === "complex64") {
      throw new Error(`backend 'webgpu': tensors of dtype ${dtype} are not supported here`);
    }
    const id = this.#nextId++;
    this.#register(id, dataId, refCount);
    this.#post({ op: "write", id, values, shape, dtype, refCount });
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    return this.#call<{ values: tf.backend_util.BackendValues }>({
      op: "read",
      id: this.#entry(dataId).id,
    }).values;
  }

  override read(dataId: object): Promise<tf.backend_util.BackendValues> {
    return Promise.resolve(this.readSync(dataId));
  }

  override refCount(dataId: object): number {
    return this.#data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: object): void {
    const e = this.#entry(dataId);
    e.refCount++;
    this.#post({ op: "incRef", id: e.id });
  }

  override disposeData(dataId: object, force = false): boolean {
    const e = this.#data.get(dataId);
    if (!e) return true;
    if (this.#disposed) return true;
    const times = force ? e.refCount : 1;
    for (let i = 0; i < times; i++) this.#post({ op: "dispose", id: e.id });
    e.refCount -= times;
    if (e.refCount > 0) return false;
    this.#data.delete(dataId);
    this.#byId.delete(e.id);
    return true;
  }

  override numDataIds(): number {
    return this.#byId.size;
  }

  override memory(): { unreliable: boolean; reasons: string[] } & Record<string, unknown> {
    const r = this.#call<{ memory: Record<string, unknown>; numDataIds: number }>({
      op: "memory",
    });
    return { ...r.memory, workerDataIds: r.numDataIds, unreliable: false, reasons: [] };
  }

  override async time(f: () => void): Promise<tf.BackendTimingInfo> {
    const t0 = performance.now();
    f();
    this.#call({ op: "memory" }); // the queue is flushed before the worker answers
    const ms = performance.now() - t0;
    return await Promise.resolve({ kernelMs: ms, wallMs: ms });
  }

  override floatPrecision(): 16 | 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    if (this.#disposed) return;
    this.#post({ op: "close" });
    this.#disposed = true;
    this.#port.close();
    this.#worker.terminate();
  }
}

let active: WebGpuProxyBackend | undefined;
let registeredKernels = false;

/**
 * Open the WebGPU device (once per process) and register the `webgpu` backend and its kernels
 * with TensorFlow.js; returns the adapter. Throws {@link NO_ADAPTER_MESSAGE} when Deno finds no
 * adapter.
 */
export async function ensureWebGpuBackend(): Promise<WebGpuAdapter> {
  if (active && tf.findBackend("webgpu") === active) return active.adapter;
  const proxy = await WebGpuProxyBackend.create();
  if (!registeredKernels) {
    for (const kernelName of proxy.kernelNames) {
      if (tf.getKernel(kernelName, "webgpu")) continue;
      tf.registerKernel({
        kernelName,
        backendName: "webgpu",
        kernelFunc: ({ inputs, attrs, backend }) =>
          (backend as WebGpuProxyBackend).runKernel(kernelName, inputs, attrs),
      });
    }
    registeredKernels = true;
  }
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => proxy, 0);
  active = proxy;
  return proxy.adapter;
}

/** The adapter of the open `webgpu` backend, if any. */
export function webGpuAdapter(): WebGpuAdapter | undefined {
  return active?.adapter;
}

/** Close the WebGPU device and its worker (tests; a process may also just exit). */
export function closeWebGpuBackend(): void {
  if (!active) return;
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  active.dispose();
  active = undefined;
}
