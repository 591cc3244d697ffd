/**
 * The Web Worker of sr./parallel.ts: evaluates one query range and posts back its
 * per-query APs (or the error message).
 *
 * @module
 */
import { type MapJob, runMapJob } from "./parallel.ts";

/** The worker scope's messaging, typed without the DOM worker library. */
const scope = self as unknown as {
  onmessage: (e: MessageEvent<MapJob>) => void;
  postMessage: (message: unknown) => void;
};

scope.onmessage = (e: MessageEvent<MapJob>) => {
  try {
    scope.postMessage({ ok: true, result: runMapJob(e.data) });
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message });
  }
};
