"""Regenerates tests/data/nan_reference.json: what PyTorch does with NaN (and infinities) in the
reductions, poolings and activations shapetorch has, forward and backward, with the NaN first,
in the middle and last of a slice or window. tests/nan.rs runs each case and compares.

    /work/venv/bin/python tests/data/nan_reference.py > tests/data/nan_reference.json

Layout: {"generator": ..., "cases": [CASE, ...]}, each CASE

    {"name", "op", "x": {"shape", "data"}, "y": {...}, "grad_x": {...}, "index": {...}?}

where y is the op's result, grad_x the gradient of sum(y) (an upstream gradient of ones, so
that a NaN in y does not reach grad_x through grad_out), and index (max, argmax) the
positions PyTorch returns. JSON has no NaN, so every value is written as a number or as one of
the strings "nan", "inf", "-inf". float64 throughout.
"""

import json

import torch
import torch.nn.functional as F

NAN, INF = float("nan"), float("inf")


def encode(values):
    out = []
    for v in values:
        if v != v:
            out.append("nan")
        elif v in (INF, -INF):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


def array(t):
    return {"shape": list(t.shape), "data": encode(t.detach().flatten().tolist())}


def case(name, op, x, f):
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = f(x)
    y, index = (out[0], out[1]) if isinstance(out, tuple) else (out, None)
    y.sum().backward()
    c = {"name": name, "op": op, "x": array(x), "y": array(y), "grad_x": array(x.grad)}
    if index is not None:
        c["index"] = {"shape": list(index.shape), "data": index.flatten().tolist()}
    return c


# one slice (row) per position of the NaN: first, middle, last, two of them, none
ROWS = [
    [1.0, NAN, 2.0],
    [NAN, 1.0, 2.0],
    [1.0, 2.0, NAN],
    [NAN, NAN, 1.0],
    [1.0, NAN, NAN],
    [NAN, 1.0, NAN],
    [3.0, 1.0, 3.0],
    [-INF, -INF, -INF],
]
WINDOWS_2X2 = [
    [1.0, NAN, 0.0, 0.0],
    [NAN, 1.0, 0.0, 0.0],
    [1.0, 0.0, 0.0, NAN],
    [NAN, NAN, 0.0, 0.0],
    [0.0, NAN, NAN, 0.0],
    [2.0, 0.0, 2.0, 1.0],
    [-INF, -INF, -INF, -INF],
]


def cases():
    out = []
    out.append(case("max over the last axis", "max1", ROWS, lambda x: torch.max(x, 1)))
    out.append(case("max over the first axis", "max0", [list(r) for r in zip(*ROWS)],
                    lambda x: torch.max(x, 0)))
    out.append(case("argmax over the last axis", "argmax1", ROWS,
                    lambda x: (x.sum() * 0, torch.argmax(x, 1))))
    # each row a channel of one batch entry: [1, 8, 3], one window of 3
    out.append(case("max_pool1d, one window per row", "max_pool1d_3", [ROWS],
                    lambda x: F.max_pool1d(x, 3)))
    # windows of 2 with stride 1 and padding 1: NaNs shared by two windows
    out.append(case("max_pool1d, overlapping padded windows", "max_pool1d_2_1_1", [ROWS],
                    lambda x: F.max_pool1d(x, 2, 1, 1)))
    # each window a channel: [1, 7, 2, 2]
    out.append(case("max_pool2d, one 2x2 window per channel", "max_pool2d_2",
                    [[[w[:2], w[2:]] for w in WINDOWS_2X2]], lambda x: F.max_pool2d(x, 2)))
    plane = [[1.0, 2.0, NAN], [4.0, NAN, 0.5], [NAN, -1.0, 3.0]]
    out.append(case("max_pool2d, 3x3 windows, stride 1, padding 1", "max_pool2d_3_1_1",
                    [[plane, [[-INF] * 3] * 3]], lambda x: F.max_pool2d(x, 3, 1, 1)))
    out.append(case("avg_pool1d", "avg_pool1d_2", [ROWS[:3]],
                    lambda x: F.avg_pool1d(x, 2, 1, 1)))
    out.append(case("relu", "relu", [NAN, -1.0, 0.0, -0.0, 2.0, INF, -INF], F.relu))
    out.append(case("sigmoid", "sigmoid", [NAN, -1.0, 0.0, INF, -INF], torch.sigmoid))
    out.append(case("tanh", "tanh", [NAN, -1.0, 0.0, INF, -INF], torch.tanh))
    out.append(case("softmax over the last axis", "softmax1", ROWS, lambda x: torch.softmax(x, 1)))
    out.append(case("log_softmax over the last axis", "log_softmax1", ROWS,
                    lambda x: torch.log_softmax(x, 1)))
    out.append(case("sum over the last axis", "sum1", ROWS, lambda x: torch.sum(x, 1)))
    out.append(case("mean over the last axis", "mean1", ROWS, lambda x: torch.mean(x, 1)))
    out.append(case("sum of everything", "sum_all", ROWS, torch.sum))
    out.append(case("mean of everything", "mean_all", ROWS, torch.mean))
    # labels 0, 1, 2, 0, ...: a NaN at the label and away from it
    labels = torch.tensor([i % 3 for i in range(len(ROWS))])
    out.append(case("cross_entropy", "cross_entropy", ROWS,
                    lambda x: F.cross_entropy(x, labels)))
    out.append(case("nll_loss", "nll_loss", ROWS, lambda x: F.nll_loss(x, labels)))
    return out


print(json.dumps({"generator": f"tests/data/nan_reference.py, torch {torch.__version__}",
                  "cases": cases()}, indent=1))
