#!/usr/bin/env python3
"""One LeNet-5 training epoch on MNIST in PyTorch, timed as `examples/mnist_lenet.rs` times its own.

The same work as `cargo run --release --example mnist_lenet -- --model lenet5 --epochs 1
--threads T`: the 60,000 training digits of `data/mnist/` normalised with (0.1307, 0.3081),
shuffled, batches of 64 (the last one smaller), LeNet-5 (conv 1->6 5x5, relu, max-pool 2,
conv 6->16 5x5, relu, max-pool 2, 256 -> 120 -> 84 -> 10), cross-entropy, Adam 1e-3. The time
is the training loop alone (batch gathering included, the test-set evaluation not), as the
example prints it.

    python3 benches/torch_lenet5_epoch.py --threads 1,2 --epochs 2
    python3 benches/torch_lenet5_epoch.py --model lenet --threads 2   # the main example's model

prints the seconds of each epoch per thread count, and the test accuracy after the last.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read_idx(path, offset):
    """The bytes after the header of a gzip'd IDX file."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(data, split):
    """(images [n, 1, 28, 28] normalised, labels [n]) of `train` or `t10k`."""
    x = read_idx(os.path.join(data, f"{split}-images-idx3-ubyte.gz"), 16)
    y = read_idx(os.path.join(data, f"{split}-labels-idx1-ubyte.gz"), 8)
    x = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return (x - 0.1307) / 0.3081, torch.from_numpy(y.astype(np.int64))


def lenet5():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def lenet():
    """The main example's default model: 32 and 64 channels, a 1024 -> 128 -> 10 head."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1,2", help="thread counts (1,2)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per thread count (1)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", choices=["lenet5", "lenet"], default="lenet5",
                   help="lenet5 (default) or the main example's default model, lenet")
    args = p.parse_args()

    x, y = load(args.data, "train")
    xt, yt = load(args.data, "t10k")
    print(f"PyTorch {torch.__version__}, model {args.model}, {len(x)} training digits, "
          f"batch {args.batch_size}")
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        torch.manual_seed(args.seed)
        model = lenet5() if args.model == "lenet5" else lenet()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for epoch in range(1, args.epochs + 1):
            order = torch.randperm(len(x))
            start = time.perf_counter()
            model.train()
            for i in range(0, len(x), args.batch_size):
                idx = order[i:i + args.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
            seconds = time.perf_counter() - start
            model.eval()
            with torch.no_grad():
                accuracy = (model(xt).argmax(1) == yt).float().mean().item() * 100
            print(f"threads {threads} epoch {epoch}: {seconds:.2f} s, "
                  f"test accuracy {accuracy:.2f} %", flush=True)


if __name__ == "__main__":
    main()
