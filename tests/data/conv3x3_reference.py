"""PyTorch float64 reference values for 3x3 convolutions with stride 1 and dilation 1: the
shapes Winograd's F(2x2, 3x3) computes (deep nets' padding-1 layers), which
`torch_reference.json` has one small case of. Planes with odd sides (the last tiles cut), no
padding, and sums over 32 and 64 input channels (288 and 576 products an output), where the
transforms' rounding in f32 adds up most.

Same layout as `torch_reference.json` (see README.md). Regenerate with

    /work/venv/bin/python tests/data/conv3x3_reference.py > tests/data/conv3x3_reference.json
"""

import json

import torch
import torch.nn.functional as F

torch.manual_seed(16)
DT = torch.float64


def arr(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def conv2d_case(name, x_shape, w_shape, padding):
    x = torch.randn(*x_shape, dtype=DT, requires_grad=True)
    w = torch.randn(*w_shape, dtype=DT, requires_grad=True)
    y = F.conv2d(x, w, stride=1, padding=padding, dilation=1)
    grad_out = torch.randn(y.shape, dtype=DT)
    (y * grad_out).sum().backward()
    return {
        "name": name,
        "op": "conv2d",
        "params": {"stride": 1, "padding": padding, "dilation": 1, "bias": False},
        "inputs": {"x": arr(x), "w": arr(w)},
        "grad_out": arr(grad_out),
        "outputs": {"y": arr(y), "grad_x": arr(x.grad), "grad_w": arr(w.grad)},
    }


cases = [
    conv2d_case("conv2d_3x3_0", (2, 8, 7, 9), (5, 8, 3, 3), 1),
    conv2d_case("conv2d_3x3_1", (1, 32, 6, 6), (8, 32, 3, 3), 1),
    conv2d_case("conv2d_3x3_2", (3, 4, 5, 10), (6, 4, 3, 3), 0),
    conv2d_case("conv2d_3x3_3", (1, 64, 4, 4), (4, 64, 3, 3), 1),
]
print(json.dumps({"generator": "tests/data/conv3x3_reference.py", "cases": cases}))
