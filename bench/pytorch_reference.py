#!/usr/bin/env python3
"""PyTorch reference for bench/training_bench.ts: training pairs per second of CPAH and DFAH.

NOT part of the test suite (nothing under tests/ runs it; CI does not need Python). It exists
so the Deno numbers can be compared with a mainstream framework on the same machine.

The networks, loss terms and step order mirror src/models/cpah/mod.ts and src/models/dfah/mod.ts with
their "mirflickr25k-simimg" defaults at 32 bits (pairMode "stored", CPAH normalization
"perItem", bInit "outputs" so CPAH's quantisation term is off in epoch 0, where the benchmark
runs). Sizes as in the Deno benchmark: n = 2048 random training pairs, image 4096-d
non-negative, text 1386-d binary, 24-label multi-hot, batch 128. The data come from numpy's
seeded generator, so the values differ from the Deno run (irrelevant for timing). Weight
initialisation is PyTorch's default (the Deno code uses the same bounds).

A timed step is everything `trainStep` does in Deno: CPAH = forward, D step (BCE + 10 x
gradient penalty, a second-order gradient), network step on L_pair + beta L_q + alpha (L_cons
+ L_label) + gamma L_adv; DFAH = D step on features computed with frozen BatchNorm statistics,
network step on pair + eta fusionPair + delta labelEmbed + beta quant + gamma adv. Both copy
the batch's outputs into the stored n x K outputs and read the loss values back (as the Deno
step returns numbers). Building the batch is outside the timed part.

Threads: `torch.set_num_threads(t)` and, because Debian's torch calls OpenBLAS through
libblas.so.3 (OpenBLAS keeps its own pool), `openblas_set_num_threads(t)` when available.

Usage (Debian 12: `apt-get install python3-torch`; use /usr/bin/python3):
    /usr/bin/python3 bench/pytorch_reference.py [--steps 5] [--warmup 2] [--threads 1,2]
        [--methods cpah,dfah]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

N, IMAGE_DIM, TEXT_DIM, CLASSES, BATCH, BITS = 2048, 4096, 1386, 24, 128, 32


# ---------------------------------------------------------------------------------------
# Data and shared loss pieces (src/nn/losses.ts)


def make_data(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Image max(0, N(0,1)), text 0/1 with 1% ones, labels 0/1 (p = 0.15, >= 1 per row)."""
    rng = np.random.default_rng(seed)
    image = np.maximum(0, rng.standard_normal((N, IMAGE_DIM), dtype=np.float32))
    text = (rng.random((N, TEXT_DIM)) < 0.01).astype(np.float32)
    labels = (rng.random((N, CLASSES)) < 0.15).astype(np.float32)
    empty = labels.sum(1) == 0
    labels[empty, rng.integers(0, CLASSES, empty.sum())] = 1
    return torch.from_numpy(image), torch.from_numpy(text), torch.from_numpy(labels)


def label_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a @ b.T > 0).float()


def pair_nll(ha: torch.Tensor, hb: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    theta = 0.5 * ha @ hb.T
    return (F.softplus(theta) - s * theta).mean()


def bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, targets)


def gradient_penalty(critic: nn.Module, a: torch.Tensor, b: torch.Tensor, eps: torch.Tensor):
    x = (eps * a + (1 - eps) * b).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    norm = torch.sqrt((g * g).sum(1) + 1e-12)
    return ((norm - 1) ** 2).mean()


def mlp(dims: list[int], batch_norm: bool = True, last_linear: bool = False) -> nn.Sequential:
    """src/nn/layers.ts Mlp: Linear (+BatchNorm1d) + ReLU per layer; optionally a plain last layer."""
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        last = i + 2 == len(dims)
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if last and last_linear:
            break
        if batch_norm:
            layers.append(nn.BatchNorm1d(dims[i + 1]))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------
# CPAH (src/models/cpah/mod.ts)


class CpahBranch(nn.Module):
    def __init__(self, dim: int, hidden: int = 512):
        super().__init__()
        self.E = mlp([dim, hidden, hidden])
        self.mask = nn.Linear(hidden, hidden)
        self.hash = nn.Linear(hidden, BITS)
        self.cls = nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor):
        f = self.E(x)
        m = torch.sigmoid(self.mask(f))
        c, p = f * m, f * (1 - m)
        return c, p, torch.tanh(self.hash(c))


class Cpah:
    """CPAH with alpha 0.1, beta 1, gamma 1, gp weight 10, Adam 1e-4 (wd 5e-4; D: 0.5/0.9, 1e-4)."""

    def __init__(self, labels: torch.Tensor):
        torch.manual_seed(1)
        self.image, self.text = CpahBranch(IMAGE_DIM), CpahBranch(TEXT_DIM)
        self.D = mlp([512, 64, 1], batch_norm=False, last_linear=True)
        self.C = mlp([512, 64, 3], batch_norm=False, last_linear=True)
        net = [*self.image.parameters(), *self.text.parameters(), *self.C.parameters()]
        self.net_opt = torch.optim.Adam(net, lr=1e-4, weight_decay=5e-4)
        self.disc_opt = torch.optim.Adam(
            self.D.parameters(), lr=1e-4, betas=(0.5, 0.9), weight_decay=1e-4
        )
        self.labels = labels
        self.Hv, self.Ht = torch.zeros(N, BITS), torch.zeros(N, BITS)
        self.B, self.b_ready = torch.zeros(N, BITS), False  # bInit "outputs": L_q off in epoch 0

    def train_step(self, pos, x, y, l) -> dict[str, float]:
        m = len(pos)
        cv, pv, hv = self.image(x)
        ct, pt, ht = self.text(y)
        with torch.no_grad():
            self.Hv[pos], self.Ht[pos] = hv, ht
        # D step on the detached common parts
        cvd, ctd, eps = cv.detach(), ct.detach(), torch.rand(m, 1)
        dv, dt = self.D(cvd), self.D(ctd)
        d_loss = bce(dv, torch.ones_like(dv)) + bce(dt, torch.zeros_like(dt))
        gp = gradient_penalty(self.D, cvd, ctd, eps)
        self.disc_opt.zero_grad(set_to_none=True)
        (d_loss + 10 * gp).backward()
        self.disc_opt.step()
        # network step (perItem scales: pair x n, quant x K, cons x 4, label x c)
        s = label_similarity(l, self.labels)
        pair = pair_nll(hv, self.Ht, s) + pair_nll(ht, self.Hv, s)
        quant = (
            ((self.B[pos] - hv) ** 2).mean() + ((self.B[pos] - ht) ** 2).mean()
            if self.b_ready
            else torch.zeros(())
        )
        logits = torch.cat([self.C(cv), self.C(ct), self.C(pv), self.C(pt)])
        classes = torch.cat([torch.zeros(2 * m), torch.ones(m), torch.full((m,), 2.0)]).long()
        cons = F.cross_entropy(logits, classes)
        label = bce(self.image.cls(cv), l) + bce(self.text.cls(ct), l)
        av, at = self.D(cv), self.D(ct)
        adv = bce(av, torch.zeros_like(av)) + bce(at, torch.ones_like(at))
        total = N * pair + BITS * quant + 0.1 * (4 * cons + CLASSES * label) + adv
        self.net_opt.zero_grad(set_to_none=True)
        total.backward()
        self.net_opt.step()
        self.D.zero_grad(set_to_none=True)  # L_adv's gradient on D is not used
        return {"total": total.item(), "D": d_loss.item(), "gp": gp.item()}


# ---------------------------------------------------------------------------------------
# DFAH (src/models/dfah/mod.ts)


class Dfah:
    """DFAH: Ev/Et d -> 1024 -> 512, heads 512 -> K, G 1024 -> 512 -> K, D 512 -> 256 -> 1."""

    def __init__(self, labels: torch.Tensor):
        torch.manual_seed(1)
        self.Ev, self.Et = mlp([IMAGE_DIM, 1024, 512]), mlp([TEXT_DIM, 1024, 512])
        self.headV, self.headT = nn.Linear(512, BITS), nn.Linear(512, BITS)
        self.G = mlp([1024, 512, BITS], last_linear=True)
        self.Pl = nn.Parameter((2 * torch.rand(CLASSES, BITS) - 1) / CLASSES**0.5)
        self.D = mlp([512, 256, 1], batch_norm=False, last_linear=True)
        mods = [self.Ev, self.Et, self.headV, self.headT, self.G]
        net = [p for mod in mods for p in mod.parameters()] + [self.Pl]
        self.net_opt = torch.optim.Adam(net, lr=1e-4, weight_decay=5e-4)
        self.disc_opt = torch.optim.Adam(self.D.parameters(), lr=1e-4, betas=(0.5, 0.9))
        self.labels = labels
        self.Hv, self.Ht, self.U = (torch.zeros(N, BITS) for _ in range(3))
        P = torch.randn(CLASSES, BITS)
        self.B = torch.where(labels @ P >= 0, 1.0, -1.0)  # B = sign(mu L P), sign(0) = +1
        self.bns = [b for mod in (self.Ev, self.Et) for b in mod if isinstance(b, nn.BatchNorm1d)]

    def train_step(self, pos, x, y, l) -> dict[str, float]:
        m = len(pos)
        # D step: features in training mode, BatchNorm running statistics left unchanged
        saved = [(b.running_mean.clone(), b.running_var.clone()) for b in self.bns]
        with torch.no_grad():
            fv, ft = self.Ev(x), self.Et(y)
        for b, (mean, var) in zip(self.bns, saved):
            b.running_mean.copy_(mean)
            b.running_var.copy_(var)
        eps = torch.rand(m, 1)
        d = torch.cat([self.D(fv), self.D(ft)])
        d_loss = bce(d, torch.cat([torch.ones(m, 1), torch.zeros(m, 1)]))
        d_loss = d_loss + 10 * gradient_penalty(self.D, fv, ft, eps)
        self.disc_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.disc_opt.step()
        # network step
        fv, ft = self.Ev(x), self.Et(y)
        hv, ht = torch.tanh(self.headV(fv)), torch.tanh(self.headT(ft))
        u = torch.tanh(self.G(torch.cat([fv, ft], 1)))
        s = label_similarity(l, self.labels)
        pair = 0.5 * (pair_nll(hv, self.Ht, s) + pair_nll(ht, self.Hv, s))
        fusion = pair_nll(u, self.U, s)
        embed = ((l @ self.Pl - u) ** 2).mean()
        b = self.B[pos]
        quant = ((b - hv) ** 2).mean() + ((b - ht) ** 2).mean() + ((b - u) ** 2).mean()
        a = torch.cat([self.D(fv), self.D(ft)])
        adv = bce(a, torch.cat([torch.zeros(m, 1), torch.ones(m, 1)]))
        total = pair + fusion + embed + quant + 0.1 * adv
        self.net_opt.zero_grad(set_to_none=True)
        total.backward()
        self.net_opt.step()
        self.D.zero_grad(set_to_none=True)
        with torch.no_grad():
            self.Hv[pos], self.Ht[pos], self.U[pos] = hv, ht, u
        return {"total": total.item(), "disc": d_loss.item()}


# ---------------------------------------------------------------------------------------
# Timing


def set_threads(t: int) -> str:
    torch.set_num_threads(t)
    name = ctypes.util.find_library("openblas") or "libopenblas.so.0"
    try:
        lib = ctypes.CDLL(name)
        lib.openblas_set_num_threads(t)
        return f"torch {torch.get_num_threads()}, OpenBLAS {lib.openblas_get_num_threads()}"
    except (OSError, AttributeError):
        return f"torch {torch.get_num_threads()}, OpenBLAS not found"


def time_method(method: str, data, steps: int, warmup: int) -> list[float]:
    image, text, labels = data
    model = Cpah(labels) if method == "cpah" else Dfah(labels)
    order = torch.from_numpy(np.random.default_rng(3).permutation(N))
    times = []
    for i in range(warmup + steps):
        b = i % (N // BATCH)
        pos = order[b * BATCH : (b + 1) * BATCH]
        x, y, l = image[pos], text[pos], labels[pos]
        t = time.perf_counter()
        terms = model.train_step(pos, x, y, l)
        dt = (time.perf_counter() - t) * 1000
        if not np.isfinite(terms["total"]):
            raise RuntimeError(f"bench/pytorch_reference.py: {method} step {i}: loss {terms}")
        if i >= warmup:
            times.append(dt)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--methods", default="cpah,dfah")
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in ("cpah", "dfah"):
            ap.error(f"--methods has '{m}', expected a list of cpah, dfah")
    threads = [int(t) for t in args.threads.split(",") if t]
    if args.steps < 1 or args.warmup < 0 or not threads or min(threads) < 1:
        ap.error("--steps >= 1, --warmup >= 0 and --threads >= 1 expected")
    print(
        f"PyTorch {torch.__version__}: n {N}, image {IMAGE_DIM}-d, text {TEXT_DIM}-d, "
        f"{CLASSES} labels, batch {BATCH}, {BITS} bits"
    )
    data = make_data()
    rows = []
    for t in threads:
        info = set_threads(t)
        for method in methods:
            times = time_method(method, data, args.steps, args.warmup)
            ms = statistics.median(times)
            print(f"{method} threads {t} ({info}): {' '.join(f'{x:.0f}' for x in times)} ms")
            rows.append((method, t, ms, len(times), BATCH * 1000 / ms))
    print(f"\n{'method':<7} {'threads':>7} {'ms/step':>8} {'steps':>5} {'pairs/s':>8}")
    for method, t, ms, k, rate in rows:
        print(f"{method:<7} {t:>7} {ms:>8.1f} {k:>5} {rate:>8.1f}")


if __name__ == "__main__":
    main()
