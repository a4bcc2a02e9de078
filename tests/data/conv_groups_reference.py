"""PyTorch reference values for shapetorch's grouped, depthwise and transposed convolutions
(`conv1d`/`conv2d` with `groups`, `conv_transpose1d`, `conv_transpose2d`).

Same layout as `torch_reference.json` (see README.md). Regenerate with

    /work/venv/bin/python tests/data/conv_groups_reference.py > tests/data/conv_groups_reference.json

Params use PyTorch's names; `groups` and, for the transposed ops, `output_padding` are added.
Every float input gets a gradient (`grad_<input>`) of `sum(y * grad_out)`.
"""

import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(15)
DT = torch.float64


def arr(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def case(name, op, params, inputs, fn):
    """Runs `fn(**inputs)`, backward from sum(y * grad_out), and records the case."""
    leaves = {k: v.clone().to(DT).requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    grad_out = torch.randn(y.shape, dtype=DT)
    (y * grad_out).sum().backward()
    outputs = {"y": arr(y)}
    for k, v in leaves.items():
        outputs["grad_" + k] = arr(v.grad)
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: arr(v) for k, v in inputs.items()},
        "grad_out": arr(grad_out),
        "outputs": outputs,
    }


def r(*shape):
    return torch.randn(*shape, dtype=DT)


cases = []


def conv(name, op, x, w, stride, padding, dilation, groups, bias):
    f = F.conv1d if op == "conv1d" else F.conv2d
    inputs = {"x": r(*x), "w": r(*w)}
    if bias:
        inputs["b"] = r(w[0])
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "bias": bias}
    fn = (lambda x, w, b: f(x, w, b, stride, padding, dilation, groups)) if bias else \
        (lambda x, w: f(x, w, None, stride, padding, dilation, groups))
    cases.append(case(name, op, params, inputs, fn))


# grouped
conv("conv1d_groups_0", "conv1d", [2, 4, 10], [6, 2, 3], 1, 1, 1, 2, True)
conv("conv2d_groups_0", "conv2d", [2, 6, 7, 8], [6, 2, 3, 3], 2, 1, 1, 3, False)
conv("conv2d_groups_1", "conv2d", [1, 8, 6, 6], [4, 2, 3, 2], 1, 0, 1, 4, True)
# depthwise (groups = in_channels), multiplier 1 and 2
conv("conv1d_depthwise_0", "conv1d", [2, 3, 12], [6, 1, 5], 1, 2, 1, 3, False)
conv("conv2d_depthwise_0", "conv2d", [2, 4, 9, 9], [4, 1, 3, 3], 1, 1, 1, 4, True)
conv("conv2d_depthwise_1", "conv2d", [2, 3, 11, 10], [6, 1, 3, 3], 2, 2, 2, 3, False)


def transpose(name, op, x, w, stride, padding, output_padding, dilation, groups, bias=False):
    f = F.conv_transpose1d if op == "conv_transpose1d" else F.conv_transpose2d
    params = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "dilation": dilation, "groups": groups, "bias": bias}
    inputs = {"x": r(*x), "w": r(*w)}
    if bias:
        inputs["b"] = r(w[1] * groups)
    cases.append(case(name, op, params, inputs,
                      lambda x, w, b=None: f(x, w, b, stride, padding, output_padding, groups,
                                             dilation)))


transpose("conv_transpose1d_0", "conv_transpose1d", [2, 4, 7], [4, 3, 3], 2, 1, 1, 1, 1)
transpose("conv_transpose1d_1", "conv_transpose1d", [1, 4, 5], [4, 2, 4], 3, 2, 2, 1, 2)
transpose("conv_transpose2d_0", "conv_transpose2d", [2, 3, 5, 6], [3, 2, 3, 3], 2, 1, 1, 1, 1)
# output padding 1 at stride 1: allowed because it is below the dilation
transpose("conv_transpose2d_1", "conv_transpose2d", [1, 4, 4, 5], [4, 3, 2, 3], 1, 0, 1, 2, 2)
transpose("conv_transpose2d_2", "conv_transpose2d", [2, 2, 4, 3], [2, 3, 3, 2],
          (2, 1), (1, 0), (1, 0), (1, 2), 1)
# depthwise transposed: groups = in_channels = out_channels
transpose("conv_transpose2d_3", "conv_transpose2d", [2, 3, 4, 4], [3, 1, 3, 3], 2, 1, 0, 1, 3)
# with a bias of out_channels = 3 * 2 groups
transpose("conv_transpose2d_4", "conv_transpose2d", [2, 4, 3, 5], [4, 3, 3, 3], 2, 0, 1, 1, 2,
          bias=True)
transpose("conv_transpose1d_2", "conv_transpose1d", [2, 3, 6], [3, 2, 4], 1, 1, 0, 1, 1, bias=True)

json.dump({"generator": f"PyTorch {torch.__version__}, float64, tests/data/conv_groups_reference.py",
           "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
