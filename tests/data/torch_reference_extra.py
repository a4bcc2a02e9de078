"""Extra PyTorch reference values for shapetorch's functional ops, beyond the shared
`torch_reference.json`: the losses that file lacks (`mse_mean`, `bce_mean`), softmax and
cross-entropy at magnitude 1e4, max with ties and over a sentence's length axis, mean over the
length axis, embeddings of rank-1 and rank-3 ids, and larger nll / cross-entropy batches.

Same layout as `torch_reference.json` (see README.md). Regenerate with

    /work/venv/bin/python tests/data/torch_reference_extra.py > tests/data/torch_reference_extra.json

Inputs at magnitude 1e4 are multiples of 1/4, exact in float32, so the f32 run of a case sees the
same inputs as PyTorch's float64 run. Every float input gets a gradient (`grad_<input>`), except
those listed in a case's `constants`, which are not differentiated.
"""

import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(7)
DT = torch.float64


def arr(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def case(name, op, params, inputs, fn, constants=(), integer=()):
    """Runs `fn(**inputs)`, backward from sum(y * grad_out), and records the case."""
    leaves = {}
    for k, v in inputs.items():
        if k in integer:
            leaves[k] = v
        else:
            leaves[k] = v.clone().to(DT).requires_grad_(k not in constants)
    y = fn(**leaves)
    grad_out = torch.randn(y.shape, dtype=DT)
    (y * grad_out).sum().backward()
    outputs = {"y": arr(y)}
    for k, v in leaves.items():
        if k not in integer and k not in constants:
            outputs["grad_" + k] = arr(v.grad)
    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: arr(v) for k, v in inputs.items()},
        "grad_out": arr(grad_out),
        "outputs": outputs,
    }


def quarter(*shape, scale):
    """Values of magnitude about `scale`, multiples of 1/4 (exact in float32)."""
    return (torch.randn(*shape, dtype=DT) * scale * 4).round() / 4


cases = []

# softmax / log_softmax at magnitude 1e4: a naive exp overflows (float32 at 89, float64 at 710).
big = torch.cat([quarter(3, 6, scale=1e4), 1e4 + quarter(1, 6, scale=2)])
big[0, 0] = 1e4
big[0, 1] = -1e4
cases.append(case("softmax_stable_0", "softmax", {"dim": 1}, {"x": big},
                  lambda x: F.softmax(x, dim=1)))
cases.append(case("logsoftmax_stable_0", "logsoftmax", {"dim": 1}, {"x": big},
                  lambda x: F.log_softmax(x, dim=1)))
cases.append(case("softmax_stable_1", "softmax", {"dim": 0}, {"x": -big.t().contiguous()},
                  lambda x: F.softmax(x, dim=0)))

# max with ties: PyTorch returns (and differentiates) the first maximal index.
ties = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, -1.0, -2.0]])
cases.append(case("max_ties_0", "max", {"dim": 1}, {"x": ties},
                  lambda x: torch.max(x, dim=1, keepdim=True).values))

# The lecture's sentence reduction: [B, C, T] -> [B, C] over the length axis T.
words = torch.randn(2, 3, 7, dtype=DT)
cases.append(case("max_length_0", "max", {"dim": 2}, {"x": words},
                  lambda x: torch.max(x, dim=2, keepdim=True).values))
cases.append(case("mean_length_0", "mean", {"dim": 2}, {"x": words},
                  lambda x: torch.mean(x, dim=2)))

# Embeddings of rank-1 and rank-3 ids, with repeated ids.
cases.append(case("embedding_1", "embedding", {},
                  {"ids": torch.tensor([3, 0, 3, 6, 3]), "w": torch.randn(7, 4, dtype=DT)},
                  lambda ids, w: F.embedding(ids, w), integer=("ids",)))
cases.append(case("embedding_2", "embedding", {},
                  {"ids": torch.randint(0, 5, (2, 3, 2)), "w": torch.randn(5, 3, dtype=DT)},
                  lambda ids, w: F.embedding(ids, w), integer=("ids",)))

# nll / cross-entropy: a larger batch, and logits of magnitude 1e4.
logits = torch.randn(6, 7, dtype=DT) * 3
target = torch.randint(0, 7, (6,))
cases.append(case("nll_1", "nll_mean", {}, {"x": logits, "target": target},
                  lambda x, target: F.nll_loss(F.log_softmax(x, dim=1), target),
                  integer=("target",)))
cases.append(case("cross_entropy_1", "cross_entropy_mean", {}, {"x": logits, "target": target},
                  lambda x, target: F.cross_entropy(x, target), integer=("target",)))
big_logits = quarter(4, 5, scale=1e4)
cases.append(case("cross_entropy_stable_0", "cross_entropy_mean", {},
                  {"x": big_logits, "target": torch.tensor([0, 4, 2, 2])},
                  lambda x, target: F.cross_entropy(x, target), integer=("target",)))

# mse_loss, mean: both the prediction and the target differentiated.
cases.append(case("mse_0", "mse_mean", {},
                  {"x": torch.randn(3, 4, dtype=DT), "target": torch.randn(3, 4, dtype=DT)},
                  lambda x, target: F.mse_loss(x, target)))

# binary_cross_entropy, mean: probabilities inside (0, 1), soft and hard targets.
p = torch.rand(4, 3, dtype=DT) * 0.98 + 0.01
t = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.0], [0.2, 0.9, 0.0], [1.0, 0.0, 0.7]], dtype=DT)
cases.append(case("bce_0", "bce_mean", {}, {"x": p, "target": t},
                  lambda x, target: F.binary_cross_entropy(x, target)))
# At p = 0 and p = 1 the log is clamped at -100 and the gradient's denominator at 1e-12; the
# target's gradient there is infinite, so the target is a constant in this case.
p_edge = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.25, 0.5]], dtype=DT)
t_edge = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.5, 1.0]], dtype=DT)
cases.append(case("bce_clamp_0", "bce_mean", {}, {"x": p_edge, "target": t_edge},
                  lambda x, target: F.binary_cross_entropy(x, target), constants=("target",)))

json.dump({"generator": f"PyTorch {torch.__version__}, float64, tests/data/torch_reference_extra.py",
           "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
