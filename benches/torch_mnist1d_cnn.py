#!/usr/bin/env python3
"""The MNIST-1D paper's ConvBase recipe in PyTorch, for comparison with `examples/mnist1d_cnn.rs`.

The same work as `cargo run --release --example mnist1d_cnn -- --seeds S`: the official data set
(`tests/data/mnist1d/`, which the library's generator reproduces bit for bit), three Conv1d of 25
channels (kernels 5/3/3, stride 2, padding 1, ReLU), Linear 125 -> 10, cross-entropy, Adam 1e-2,
batch 100 taken in order (`bix = step*100 % 4000`, the paper's loop), 8000 steps, PyTorch's
default initialisation from `torch.manual_seed(seed)`. Prints each seed's final test accuracy
and the mean with its standard error.

    python3 benches/torch_mnist1d_cnn.py --seeds 0-39 --threads 1
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "mnist1d")


def load(name, dtype, shape):
    """One of the reference files as a tensor."""
    a = np.fromfile(os.path.join(DATA, name), dtype=dtype).reshape(shape)
    return torch.from_numpy(a.astype(np.float32 if dtype == "<f4" else np.int64))


class ConvBase(nn.Module):
    """The paper's ConvBase: lengths 40 -> 19 -> 10 -> 5, then 125 -> 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 25, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.linear = nn.Linear(125, 10)

    def forward(self, x):
        x = x.view(-1, 1, x.shape[-1])
        h = self.conv3(self.conv2(self.conv1(x).relu()).relu()).relu()
        return self.linear(h.flatten(1))


def run(seed, steps, batch, lr, data):
    """Final test accuracy (%) of one seed."""
    x, y, xt, yt = data
    torch.manual_seed(seed)
    model = ConvBase()
    opt = torch.optim.Adam(model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        b = (step * batch) % len(x)
        loss = loss_fn(model(x[b : b + batch]), y[b : b + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return 100.0 * (model(xt).argmax(-1) == yt).float().mean().item()


def seeds(text):
    """`0,1,2` or `0-39`."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=seeds, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    data = (
        load("train_x.f32", "<f4", (4000, 40)),
        load("train_y.u8", "u1", (4000,)),
        load("test_x.f32", "<f4", (1000, 40)),
        load("test_y.u8", "u1", (1000,)),
    )
    accs = []
    for s in a.seeds:
        t = time.time()
        accs.append(run(s, a.steps, a.batch_size, a.lr, data))
        print(f"seed {s}: test accuracy {accs[-1]:.1f} % ({time.time() - t:.1f} s)", flush=True)
    acc = np.array(accs)
    se = acc.std(ddof=1) / np.sqrt(len(acc)) if len(acc) > 1 else float("nan")
    print(f"mean over {len(acc)} seeds: {acc.mean():.2f} % (standard error {se:.2f}; "
          f"min {acc.min():.1f}, max {acc.max():.1f})")


if __name__ == "__main__":
    main()
