"""Regenerates tests/data/norm_reference.json and tests/data/batchnorm2d_state.safetensors:
PyTorch float64 reference values for batch normalisation (F.batch_norm and the BatchNorm1d /
BatchNorm2d layers over several training steps) and adaptive average pooling. Layout as
torch_reference.json (README.md); the layer cases add their own fields (below).

    /work/venv/bin/python tests/data/norm_reference.py   # from the repository root

Cases:
- `batchnorm_train` / `batchnorm_eval`: `F.batch_norm(x, running_mean, running_var, w, b,
  training, momentum, eps)`; inputs `x`, `w`, `b` (differentiated; absent when `affine` is
  false) and, in eval, the constants `running_mean`, `running_var`; outputs `y` and every
  `grad_<input>` of `sum(y * grad_out)`.
- `batchnorm1d_layer` / `batchnorm2d_layer`: a layer (PyTorch's default initialisation, then
  `weight` and `bias` set to the inputs of those names) run for `steps` training steps on
  `x0, x1, ...` (batch sizes differ), each differentiating `sum(y_k * g_k)`: outputs `y_k`,
  `grad_x_k`, `grad_weight_k`, `grad_bias_k`, and after the step `running_mean_k`,
  `running_var_k`, `num_batches_tracked_k`; then one step in eval mode on `x_eval` with
  `g_eval` (outputs `y_eval`, `grad_x_eval`, `grad_weight_eval`, `grad_bias_eval`).
  `momentum` null is PyTorch's cumulative average (`momentum=None`).
- `adaptive_avgpool2d`: `F.adaptive_avg_pool2d(x, output_size)`.

The layer case `bn2d_layer_0` is also saved, in float32 as a model would be, with
`safetensors.torch.save_file(layer.state_dict())` to `batchnorm2d_state.safetensors`, keys
prefixed `bn.`: the names, dtypes and shapes a PyTorch user's file has.
"""

import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

SEED = 15
torch.manual_seed(SEED)
HERE = os.path.dirname(os.path.abspath(__file__))


def array(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def randn(*shape, offset=0.0, scale=1.0):
    return torch.randn(*shape, dtype=torch.float64) * scale + offset


def functional_case(name, op, params, inputs, constants, f):
    """Runs f on the inputs (requiring gradients) and constants; records y and every
    grad_<input> of sum(y * grad_out) for a random grad_out."""
    tensors = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = f(**tensors, **constants)
    grad_out = torch.randn_like(y)
    (y * grad_out).sum().backward()
    outputs = {"y": array(y)}
    outputs.update({f"grad_{k}": array(t.grad) for k, t in tensors.items()})
    all_inputs = {k: array(t) for k, t in tensors.items()}
    all_inputs.update({k: array(t) for k, t in constants.items()})
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": all_inputs,
        "grad_out": array(grad_out),
        "outputs": outputs,
    }


def batchnorm_train(name, shape, affine=True, offset=0.0, scale=1.0, momentum=0.1, eps=1e-5):
    c = shape[1]
    inputs = {"x": randn(*shape, offset=offset, scale=scale)}
    if affine:
        inputs["w"] = randn(c, offset=1.0, scale=0.5)
        inputs["b"] = randn(c)

    def f(x, w=None, b=None):
        return F.batch_norm(x, None, None, w, b, True, momentum, eps)

    params = {"affine": affine, "momentum": momentum, "eps": eps}
    return functional_case(name, "batchnorm_train", params, inputs, {}, f)


def batchnorm_eval(name, shape, affine=True, eps=1e-5):
    c = shape[1]
    inputs = {"x": randn(*shape)}
    if affine:
        inputs["w"] = randn(c, offset=1.0, scale=0.5)
        inputs["b"] = randn(c)
    constants = {"running_mean": randn(c, scale=0.5), "running_var": randn(c).abs() + 0.5}

    def f(running_mean, running_var, x, w=None, b=None):
        return F.batch_norm(x, running_mean, running_var, w, b, False, 0.1, eps)

    params = {"affine": affine, "eps": eps}
    return functional_case(name, "batchnorm_eval", params, inputs, constants, f)


def layer_case(name, op, layer, train_shapes, eval_shape, momentum):
    """A layer's training steps and one eval step (see the module doc)."""
    c = train_shapes[0][1]
    weight, bias = randn(c, offset=1.0, scale=0.5), randn(c)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    inputs = {"weight": array(weight), "bias": array(bias)}
    outputs = {}

    def step(suffix, shape):
        x = randn(*shape, offset=0.5, scale=2.0).requires_grad_(True)
        g = randn(*shape)
        layer.zero_grad()
        y = layer(x)
        (y * g).sum().backward()
        inputs[f"x_{suffix}"] = array(x)
        inputs[f"g_{suffix}"] = array(g)
        outputs[f"y_{suffix}"] = array(y)
        outputs[f"grad_x_{suffix}"] = array(x.grad)
        outputs[f"grad_weight_{suffix}"] = array(layer.weight.grad)
        outputs[f"grad_bias_{suffix}"] = array(layer.bias.grad)

    layer.train()
    for k, shape in enumerate(train_shapes):
        step(str(k), shape)
        outputs[f"running_mean_{k}"] = array(layer.running_mean)
        outputs[f"running_var_{k}"] = array(layer.running_var)
        outputs[f"num_batches_tracked_{k}"] = array(layer.num_batches_tracked.double())
    layer.eval()
    step("eval", eval_shape)
    params = {"momentum": momentum, "eps": layer.eps, "steps": len(train_shapes)}
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": inputs,
        "grad_out": None,
        "outputs": outputs,
    }


def bn2d_layer(name, train_shapes, eval_shape, momentum=0.1):
    layer = torch.nn.BatchNorm2d(train_shapes[0][1], momentum=momentum).double()
    return layer_case(name, "batchnorm2d_layer", layer, train_shapes, eval_shape, momentum), layer


def bn1d_layer(name, train_shapes, eval_shape, momentum=0.1):
    layer = torch.nn.BatchNorm1d(train_shapes[0][1], momentum=momentum).double()
    return layer_case(name, "batchnorm1d_layer", layer, train_shapes, eval_shape, momentum)


def adaptive(name, shape, output_size):
    return functional_case(name, "adaptive_avgpool2d", {"output_size": list(output_size)},
                           {"x": randn(*shape)}, {},
                           lambda x: F.adaptive_avg_pool2d(x, output_size))


cases = [
    batchnorm_train("bn_train_2d", [4, 3, 5, 6]),
    batchnorm_train("bn_train_1d", [6, 4]),
    batchnorm_train("bn_train_1d_length", [3, 5, 7]),
    batchnorm_train("bn_train_batch_1", [1, 3, 4, 4]),
    batchnorm_train("bn_train_two_values", [2, 2, 1, 1]),
    batchnorm_train("bn_train_3d", [2, 3, 2, 2, 3]),
    batchnorm_train("bn_train_offset", [8, 2, 3, 3], offset=50.0, scale=0.5),
    batchnorm_train("bn_train_no_affine", [3, 4, 2, 5], affine=False),
    batchnorm_train("bn_train_eps", [5, 3, 2, 2], scale=1e-3, eps=1e-3),
    batchnorm_eval("bn_eval_2d", [3, 4, 3, 5]),
    batchnorm_eval("bn_eval_1d", [5, 3]),
    batchnorm_eval("bn_eval_batch_1", [1, 3, 1, 1]),
    batchnorm_eval("bn_eval_batch_1_1d", [1, 4]),
    batchnorm_eval("bn_eval_no_affine", [2, 3, 4], affine=False),
]

case, bn2d = bn2d_layer("bn2d_layer_0", [[4, 3, 5, 5], [2, 3, 5, 5], [3, 3, 5, 5]], [1, 3, 5, 5])
cases.append(case)
state = {f"bn.{k}": (v.float() if v.is_floating_point() else v).contiguous()
         for k, v in bn2d.state_dict().items()}
save_file(state, os.path.join(HERE, "batchnorm2d_state.safetensors"))
case, _ = bn2d_layer("bn2d_layer_cumulative", [[3, 2, 4, 4], [5, 2, 4, 4], [2, 2, 4, 4], [4, 2, 4, 4]],
                     [2, 2, 4, 4], momentum=None)
cases.append(case)
case, _ = bn2d_layer("bn2d_layer_momentum", [[2, 4, 3, 3], [3, 4, 3, 3]], [1, 4, 3, 3], momentum=0.3)
cases.append(case)
cases.append(bn1d_layer("bn1d_layer_0", [[8, 4], [5, 4], [6, 4]], [1, 4]))
cases.append(bn1d_layer("bn1d_layer_length", [[3, 4, 6], [2, 4, 6]], [2, 4, 6]))

cases += [
    adaptive("adaptive_7x5_to_3x3", [2, 3, 7, 5], (3, 3)),
    adaptive("adaptive_5x7_to_7x5", [1, 2, 5, 7], (7, 5)),
    adaptive("adaptive_global", [2, 4, 6, 6], (1, 1)),
    adaptive("adaptive_divisible", [1, 2, 8, 8], (4, 4)),
    adaptive("adaptive_identity", [3, 2, 4, 6], (4, 6)),
    adaptive("adaptive_9x4_to_2x3", [1, 1, 9, 4], (2, 3)),
    adaptive("adaptive_global_batch", [5, 3, 7, 7], (1, 1)),
    adaptive("adaptive_1x1_to_2x3", [2, 2, 1, 1], (2, 3)),
    # bins that overlap along both axes (H 5 -> 3: rows 0-1, 1-3, 3-4; W 7 -> 2: 0-3, 3-6)
    adaptive("adaptive_5x7_to_3x2", [2, 3, 5, 7], (3, 2)),
    # H 7 -> 4: rows 0-1, 1-3, 3-5, 5-6; W 5 -> 4: 0-1, 1-2, 2-3, 3-4
    adaptive("adaptive_7x5_to_4x4", [2, 2, 7, 5], (4, 4)),
]

out = {"generator": f"tests/data/norm_reference.py (PyTorch {torch.__version__}, float64, seed {SEED})",
       "cases": cases}
with open(os.path.join(HERE, "norm_reference.json"), "w") as f:
    json.dump(out, f)
