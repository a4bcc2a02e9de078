#!/usr/bin/env python3
"""shapetorch against PyTorch on the performance table's work, from one run.

Runs `cargo bench --bench speed` (shapetorch, through its public API) and the same work in
PyTorch (CPU, f32), interleaved: for each repetition, shapetorch measures every case at every
thread count, then PyTorch does. Prints, per case, pass and thread count, both medians, both
GFLOP/s and the ratio PyTorch time / shapetorch time (above 1.0, shapetorch is faster).

    python3 benches/torch_compare.py                  # 3 repetitions of 21 runs, 1 and 2 threads
    python3 benches/torch_compare.py --reps 5 --runs 31 --threads 1,2 --filter conv2d
    python3 benches/torch_compare.py --markdown       # the table for the README
    python3 benches/torch_compare.py --cpu            # 1 thread timed by CPU time (busy machine)

Same definitions on both sides: forward is `conv(x, w)` (no bias) or `a @ b`; forward +
backward is `conv(x, w)`, loss `sum(y)`, backward for x and w, with fresh gradient buffers
each time (PyTorch: `.grad = None`; shapetorch: a new tape). FLOPs: 2·B·O·H_out·W_out·C·KH·KW
per forward, three times that per forward + backward; 2·n³ per matmul. Each side's time is the
median of the repetitions' medians. Without PyTorch (`python3 -c 'import torch'` fails) the
script says so and prints shapetorch's numbers alone.

The ResNet-18 step (`resnet18 step b=32`) is one SGD step of the same network on both sides
(`ResNet18` in speed.rs, `resnet18_no_norm` here): forward, cross-entropy, backward, update.

Thread counts: shapetorch builds a rayon pool of each size in-process; PyTorch calls
`torch.set_num_threads`. Run it on a quiet machine: other processes' load moves 2-thread
numbers most.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# (case name as speed.rs prints it, kind, arguments). Shapes are NCHW / NCW, stride 1, no
# padding, dilation 1 (the depthwise row gives its own stride, padding and groups).
CASES = [
    # the machine's multiply-add peak, measured by speed.rs alone (the ceiling for the others)
    ("fma peak", "peak", ()),
    ("conv2d x=[64,1,28,28] w=[6,1,5,5]", "conv2d", ((64, 1, 28, 28), (6, 1, 5, 5))),
    ("conv2d x=[16,1,28,28] w=[4,1,3,3]", "conv2d", ((16, 1, 28, 28), (4, 1, 3, 3))),
    ("conv2d x=[64,6,12,12] w=[16,6,5,5]", "conv2d", ((64, 6, 12, 12), (16, 6, 5, 5))),
    ("conv2d x=[64,32,12,12] w=[64,32,5,5]", "conv2d", ((64, 32, 12, 12), (64, 32, 5, 5))),
    ("conv2d x=[32,32,32,32] w=[64,32,3,3]", "conv2d", ((32, 32, 32, 32), (64, 32, 3, 3))),
    ("conv2d x=[8,64,56,56] w=[64,64,3,3]", "conv2d", ((8, 64, 56, 56), (64, 64, 3, 3))),
    ("conv1d x=[64,8,128] w=[16,8,5]", "conv1d", ((64, 8, 128), (16, 8, 5))),
    # depthwise: (x, w, stride, padding, groups)
    ("dwconv2d x=[8,144,56,56] w=[144,1,3,3] p=1", "dwconv2d",
     ((8, 144, 56, 56), (144, 1, 3, 3), 1, 1, 144)),
    ("sgemm 256^3", "matmul", (256,)),
    ("sgemm 1024^3", "matmul", (1024,)),
    ("sgemm 2048^3", "matmul", (2048,)),
    # Hooks for rows that come with the nn layer; speed.rs prints nothing for them yet, so the
    # table shows PyTorch alone until it does.
    ("max_pool2d x=[64,6,24,24] k=2", "max_pool2d", ((64, 6, 24, 24), 2)),
    ("lenet5 step b=64", "lenet5", (64,)),
    ("resnet18 step b=32", "resnet18", (32,)),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (3)")
    p.add_argument("--runs", type=int, default=21, help="timed runs per repetition (21)")
    p.add_argument("--threads", default="1,2", help="thread counts (1,2)")
    p.add_argument("--filter", default="", help="only cases whose name contains this")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--cargo", default="cargo", help="the cargo to run")
    p.add_argument("--cpu", action="store_true",
                   help="time 1-thread runs by the thread's CPU time on both sides (a busy machine)")
    return p.parse_args()


def run_shapetorch(args):
    """One run of benches/speed.rs: {(case, pass, threads): median seconds}."""
    cmd = [args.cargo, "bench", "-q", "--bench", "speed", "--", "--runs", str(args.runs),
           "--threads", args.threads, "--filter", args.filter] + (["--cpu"] if args.cpu else [])
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    times = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 6 and fields[2] == "api":
            name, pss, _, threads, seconds, _ = fields
            times[(name, pss, int(threads))] = float(seconds)
    return times


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except Exception as e:  # ImportError, or a broken install
        print(f"PyTorch unavailable ({e}): shapetorch's numbers only", file=sys.stderr)
        return False


def median_time(f, runs, clock=time.perf_counter):
    """The median of `runs` timed runs of f, after a warm-up of 3 runs and at least 0.2 s;
    `clock` is the wall clock, or the thread's CPU time (`time.thread_time`: with one thread,
    PyTorch runs its forward and backward kernels on the calling thread)."""
    start, warm = time.perf_counter(), 0
    while warm < 3 or time.perf_counter() - start < 0.2:
        f()
        warm += 1
    times = []
    for _ in range(runs):
        t = clock()
        f()
        times.append(clock() - t)
    return statistics.median(times)


def torch_work(kind, shape):
    """{pass: (closure, FLOPs)} for one case, in PyTorch."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    if kind in ("conv1d", "conv2d"):
        xs, ws = shape
        conv = F.conv1d if kind == "conv1d" else F.conv2d
        x, w = torch.randn(*xs, generator=g), torch.randn(*ws, generator=g)
        out = conv(x, w)
        flop = 2 * out.numel() * ws[1] * int(torch.tensor(ws[2:]).prod())
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

        def fwd():
            conv(x, w)

        def fwd_bwd():
            xg.grad, wg.grad = None, None
            conv(xg, wg).sum().backward()

        return {"fwd": (fwd, flop), "fwd+bwd": (fwd_bwd, 3 * flop)}
    if kind == "dwconv2d":
        xs, ws, stride, padding, groups = shape
        x, w = torch.randn(*xs, generator=g), torch.randn(*ws, generator=g)

        def conv(x, w):
            return F.conv2d(x, w, None, stride, padding, 1, groups)

        out = conv(x, w)
        flop = 2 * out.numel() * ws[1] * ws[2] * ws[3]
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

        def fwd():
            conv(x, w)

        def fwd_bwd():
            xg.grad, wg.grad = None, None
            conv(xg, wg).sum().backward()

        return {"fwd": (fwd, flop), "fwd+bwd": (fwd_bwd, 3 * flop)}
    if kind == "peak":
        return {}
    if kind == "matmul":
        (n,) = shape
        a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
        return {"fwd": (lambda: a @ b, 2 * n ** 3)}
    if kind == "max_pool2d":
        xs, k = shape
        x = torch.randn(*xs, generator=g)
        xg = x.clone().requires_grad_()

        def pool_bwd():
            xg.grad = None
            F.max_pool2d(xg, k).sum().backward()

        return {"fwd": (lambda: F.max_pool2d(x, k), None), "fwd+bwd": (pool_bwd, None)}
    if kind == "lenet5":
        (batch,) = shape
        nn = torch.nn
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (batch,), generator=g)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

        return {"step": (step, None)}
    if kind == "resnet18":
        (batch,) = shape
        model = resnet18_no_norm()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 3, 32, 32, generator=g)
        y = torch.randint(0, 10, (batch,), generator=g)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

        return {"step": (step, resnet18_step_flop(batch))}
    raise ValueError(kind)


# ResNet-18 for 3x32x32 inputs without normalisation, as `ResNet18` in benches/speed.rs:
# (in channels, out channels, stride) of each BasicBlock.
RESNET18_BLOCKS = [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1),
                   (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1)]


def resnet18_no_norm():
    """The stem (3x3 to 64 channels), 8 BasicBlocks (3x3 convs with padding 1; a block that
    changes the width halves the plane with stride 2 and has a 1x1 stride-2 shortcut), 4x4
    average pooling, Linear 512 -> 10. Convolutions have a bias, as `Conv2d` has on both sides."""
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0) if stride != 1 else None

        def forward(self, x):
            y = self.conv2(F.relu(self.conv1(x)))
            return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 64, 3, 1, 1)
            self.blocks = nn.Sequential(*(Block(*b) for b in RESNET18_BLOCKS))
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            x = self.blocks(F.relu(self.stem(x)))
            return self.fc(F.avg_pool2d(x, 4).flatten(1))

    return ResNet18()


def resnet18_step_flop(batch):
    """FLOPs of one step, as speed.rs counts them: each conv's forward multiply-adds, as many
    for the weight's gradient and the input's (not the stem's), the linear map likewise."""
    convs = [(3, 64, 3, 32)]  # (in, out, kernel side, output side)
    side = 32
    for cin, cout, stride in RESNET18_BLOCKS:
        side //= stride
        convs += [(cin, cout, 3, side), (cout, cout, 3, side)]
        if stride != 1:
            convs.append((cin, cout, 1, side))
    macs = [o * s * s * c * k * k for c, o, k, s in convs]
    forward = sum(macs) + 512 * 10
    return 2 * batch * (3 * forward - macs[0])


def run_torch(args, threads):
    """One repetition in PyTorch: {(case, pass, threads): median seconds}, and FLOPs."""
    import torch

    times, flops = {}, {}
    for t in threads:
        torch.set_num_threads(t)
        clock = time.thread_time if args.cpu and t == 1 else time.perf_counter
        for name, kind, shape in CASES:
            if args.filter not in name:
                continue
            for pss, (f, flop) in torch_work(kind, shape).items():
                times[(name, pss, t)] = median_time(f, args.runs, clock)
                flops[(name, pss)] = flop
    return times, flops


def main():
    args = parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    have_torch = torch_available()
    ours, theirs, flops = {}, {}, {}
    for rep in range(args.reps):
        print(f"repetition {rep + 1}/{args.reps}: shapetorch", file=sys.stderr)
        for key, s in run_shapetorch(args).items():
            ours.setdefault(key, []).append(s)
        if have_torch:
            print(f"repetition {rep + 1}/{args.reps}: PyTorch", file=sys.stderr)
            times, fl = run_torch(args, threads)
            flops.update(fl)
            for key, s in times.items():
                theirs.setdefault(key, []).append(s)
    if have_torch:
        import torch
        header = (f"PyTorch {torch.__version__} (oneDNN {torch.backends.mkldnn.is_available()}),"
                  f" {args.reps} repetitions x {args.runs} runs, median of repetition medians"
                  + (", 1 thread timed by CPU time" if args.cpu else ""))
    else:
        header = f"shapetorch only, {args.reps} repetitions x {args.runs} runs"
    print(header)
    cols = ["case", "pass", "threads", "shapetorch ms", "PyTorch ms", "shapetorch GFLOP/s",
            "PyTorch GFLOP/s", "ratio PyTorch/shapetorch"]
    rows = []
    keys = sorted(set(ours) | set(theirs),
                  key=lambda k: ([c[0] for c in CASES].index(k[0]), k[1], k[2]))
    for key in keys:
        name, pss, t = key
        a = statistics.median(ours[key]) if key in ours else None
        b = statistics.median(theirs[key]) if key in theirs else None
        flop = flops.get((name, pss))
        if flop is None and a is not None and name.startswith("sgemm"):
            n = int(name.split()[1].split("^")[0])
            flop = 2 * n ** 3
        if flop is None and name == "fma peak":
            flop = t * 2 * 8 * 12 * (1 << 24)

        def fmt(v, scale=1e3):
            return f"{v * scale:.3f}" if v is not None else "-"

        gf = lambda s: f"{flop / s / 1e9:.1f}" if (s and flop) else "-"
        ratio = f"{b / a:.2f}" if (a and b) else "-"
        rows.append([name, pss, str(t), fmt(a), fmt(b), gf(a), gf(b), ratio])
    if args.markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
                  for i, c in enumerate(cols)]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
        for r in rows:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


if __name__ == "__main__":
    main()
