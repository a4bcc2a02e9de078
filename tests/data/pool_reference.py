"""Regenerates tests/data/pool_reference.json: PyTorch float64 reference values for the cases
torch_reference.json leaves out (pooling with padding, dilation and per-axis values, 1-D
pooling, conv2d with per-axis stride, padding and dilation). Same layout as
torch_reference.json (README.md).

    /work/venv/bin/python tests/data/pool_reference.py   # from the repository root
"""

import json
import os

import torch
import torch.nn.functional as F

SEED = 2
torch.manual_seed(SEED)


def array(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def case(name, op, params, inputs, f):
    """Runs f on the inputs (float64, requiring gradients) and records y and every grad_<input>
    of sum(y * grad_out) for a random grad_out."""
    tensors = {k: torch.randn(*shape, dtype=torch.float64, requires_grad=True) for k, shape in inputs.items()}
    y = f(**tensors)
    grad_out = torch.randn_like(y)
    (y * grad_out).sum().backward()
    outputs = {"y": array(y)}
    outputs.update({f"grad_{k}": array(t.grad) for k, t in tensors.items()})
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: array(t) for k, t in tensors.items()},
        "grad_out": array(grad_out),
        "outputs": outputs,
    }


def maxpool2d(name, x, kernel, stride, padding, dilation):
    params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return case(name, "maxpool2d", params, {"x": x},
                lambda x: F.max_pool2d(x, kernel, stride, padding, dilation))


def avgpool2d(name, x, kernel, stride, padding):
    params = {"kernel": kernel, "stride": stride, "padding": padding}
    return case(name, "avgpool2d", params, {"x": x},
                lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=True))


def maxpool1d(name, x, kernel, stride, padding, dilation):
    params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    return case(name, "maxpool1d", params, {"x": x},
                lambda x: F.max_pool1d(x, kernel, stride, padding, dilation))


def avgpool1d(name, x, kernel, stride, padding):
    params = {"kernel": kernel, "stride": stride, "padding": padding}
    return case(name, "avgpool1d", params, {"x": x},
                lambda x: F.avg_pool1d(x, kernel, stride, padding, count_include_pad=True))


def conv2d(name, x, w, stride, padding, dilation, bias):
    params = {"stride": stride, "padding": padding, "dilation": dilation, "bias": bias}
    inputs = {"x": x, "w": w}
    if bias:
        inputs["b"] = [w[0]]
        f = lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation)
    else:
        f = lambda x, w: F.conv2d(x, w, None, stride, padding, dilation)
    return case(name, "conv2d", params, inputs, f)


cases = [
    maxpool2d("maxpool2d_pad", [2, 2, 7, 7], [3, 3], [2, 2], [1, 1], [1, 1]),
    maxpool2d("maxpool2d_axes", [1, 3, 6, 9], [2, 3], [1, 2], [1, 0], [1, 2]),
    maxpool2d("maxpool2d_dilation", [2, 1, 8, 8], [2, 2], [1, 1], [1, 1], [2, 2]),
    avgpool2d("avgpool2d_pad", [2, 2, 7, 7], [3, 3], [2, 2], [1, 1]),
    avgpool2d("avgpool2d_axes", [1, 2, 5, 10], [1, 5], [1, 2], [0, 2]),
    avgpool2d("avgpool2d_overlap", [2, 1, 6, 6], [3, 3], [1, 1], [0, 0]),
    maxpool1d("maxpool1d_0", [2, 3, 10], 2, 2, 0, 1),
    maxpool1d("maxpool1d_1", [2, 2, 11], 3, 2, 1, 2),
    avgpool1d("avgpool1d_0", [2, 3, 10], 3, 1, 0),
    avgpool1d("avgpool1d_1", [1, 2, 9], 4, 3, 2),
    conv2d("conv2d_axes_0", [2, 3, 6, 9], [4, 3, 1, 5], [1, 1], [0, 2], [1, 1], True),
    conv2d("conv2d_axes_1", [1, 2, 7, 8], [3, 2, 3, 2], [2, 2], [1, 0], [2, 2], False),
    # stride and dilation that differ between height and width (appended: the cases above keep
    # their random values)
    conv2d("conv2d_axes_2", [2, 2, 7, 10], [3, 2, 3, 2], [1, 2], [0, 0], [1, 1], True),
    conv2d("conv2d_axes_3", [1, 3, 9, 6], [2, 3, 2, 3], [1, 1], [0, 0], [3, 1], False),
    conv2d("conv2d_axes_4", [2, 3, 8, 11], [4, 3, 3, 2], [2, 1], [0, 2], [1, 3], True),
    conv2d("conv2d_axes_5", [1, 2, 10, 7], [3, 2, 2, 4], [3, 2], [2, 1], [2, 1], False),
]

out = {"generator": f"PyTorch {torch.__version__}, float64, seed {SEED}, tests/data/pool_reference.py",
       "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool_reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {len(cases)} cases to {path}")
