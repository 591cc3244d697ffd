"""MAP@all by Hamming ranking in NumPy, two ways, for bench/eval_scale.ts.

Written for this benchmark (not taken from any repository):
- "loop": the per-query loop that the public DCMH/DADH code uses (relevance and Hamming
  distance by dot products, one argsort per query, AP from the ranks of the relevant items);
- "vectorised": queries in chunks, distances as one matrix product per chunk, a stable argsort
  along the database axis, AP from cumulative sums.

Usage: python3 eval_peers.py DIR MODE  (DIR holds q.i8 db.i8 ql.u8 dl.u8 and shape.txt)
Prints one line: MODE seconds map peak_rss_mb
"""
import resource
import sys
import time

import numpy as np


def load(d):
    nq, ndb, bits, classes = map(int, open(f"{d}/shape.txt").read().split())
    q = np.fromfile(f"{d}/q.i8", dtype=np.int8).reshape(nq, bits).astype(np.float32)
    db = np.fromfile(f"{d}/db.i8", dtype=np.int8).reshape(ndb, bits).astype(np.float32)
    ql = np.fromfile(f"{d}/ql.u8", dtype=np.uint8).reshape(nq, classes).astype(np.float32)
    dl = np.fromfile(f"{d}/dl.u8", dtype=np.uint8).reshape(ndb, classes).astype(np.float32)
    return q, db, ql, dl, bits


def map_loop(q, db, ql, dl, bits):
    total = 0.0
    for i in range(q.shape[0]):
        rel = (dl @ ql[i] > 0).astype(np.float32)
        r = int(rel.sum())
        if r == 0:
            continue
        ham = 0.5 * (bits - db @ q[i])
        order = np.argsort(ham)
        rel = rel[order]
        ranks = np.nonzero(rel)[0] + 1.0
        total += np.mean(np.arange(1, r + 1) / ranks)
    return total / q.shape[0]


def map_vectorised(q, db, ql, dl, bits, chunk=64):
    total = 0.0
    for s in range(0, q.shape[0], chunk):
        # integer distances: NumPy's stable sort of small integers is a radix sort
        ham = ((bits - q[s:s + chunk] @ db.T) / 2).round().astype(np.int16)
        order = np.argsort(ham, axis=1, kind="stable")
        rel = ((ql[s:s + chunk] @ dl.T) > 0)
        rel = np.take_along_axis(rel, order, axis=1)
        r = rel.sum(axis=1)
        hits = np.cumsum(rel, axis=1)
        ranks = np.arange(1, db.shape[0] + 1)
        prec = np.where(rel, hits / ranks, 0.0).sum(axis=1)
        total += np.where(r > 0, prec / np.maximum(r, 1), 0.0).sum()
    return total / q.shape[0]


if __name__ == "__main__":
    d, mode = sys.argv[1], sys.argv[2]
    q, db, ql, dl, bits = load(d)
    t0 = time.perf_counter()
    m = map_loop(q, db, ql, dl, bits) if mode == "loop" else map_vectorised(q, db, ql, dl, bits)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{mode} {secs:.3f} {m:.6f} {peak:.0f}")
