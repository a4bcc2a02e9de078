"""Regenerates tests/data/schedule_reference.json: PyTorch's learning rate (and momentum) at
every step of its schedulers, for the configurations below, and the global-norm gradient
clipping of a few gradients. Read by tests/schedule.rs.

    /work/venv/bin/python tests/data/schedule_reference.py   # from the repository root

Each schedule case builds an optimizer on one float64 parameter, builds the scheduler(s) in
order on it (a SequentialLR's schedulers first, as a PyTorch user does), and records
`param_groups[0]["lr"]` (and the momentum: SGD's `momentum`, Adam's `betas[0]`) after
construction and after each of `steps` rounds of `optimizer.step(); scheduler.step()`, as
numbers (`lrs`, `momenta`) and as the float64's bits (`lr_bits`, `momentum_bits`).
A schedule is written as {"kind": <PyTorch class>, "args": {<PyTorch keyword arguments>}};
SequentialLR's `schedulers` is a list of such. Each clipping case records
`clip_grad_norm_(params, max_norm, norm_type)`'s returned norm and the clipped gradients.
"""

import json
import os
import struct

import torch
from torch.optim import SGD, Adam
from torch.optim import lr_scheduler as S

torch.set_default_dtype(torch.float64)

SCHEDULES = [
    ("step_default_gamma", "sgd", 0.1, 12, {"kind": "StepLR", "args": {"step_size": 3}}),
    ("step_half", "sgd", 0.05, 20, {"kind": "StepLR", "args": {"step_size": 4, "gamma": 0.5}}),
    ("multistep", "sgd", 1.0, 15, {"kind": "MultiStepLR", "args": {"milestones": [2, 5, 9]}}),
    ("multistep_repeated_milestone", "sgd", 0.3, 12,
     {"kind": "MultiStepLR", "args": {"milestones": [3, 3, 7], "gamma": 0.3}}),
    ("exponential", "sgd", 0.1, 30, {"kind": "ExponentialLR", "args": {"gamma": 0.9}}),
    ("cosine_past_t_max", "sgd", 0.1, 35, {"kind": "CosineAnnealingLR", "args": {"T_max": 10}}),
    ("cosine_eta_min", "adam", 0.05, 30,
     {"kind": "CosineAnnealingLR", "args": {"T_max": 7, "eta_min": 0.001}}),
    ("linear_default", "sgd", 0.1, 10, {"kind": "LinearLR", "args": {}}),
    ("linear_warm_up", "sgd", 0.2, 12,
     {"kind": "LinearLR", "args": {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 8}}),
    ("linear_decay_to_zero", "sgd", 0.1, 12,
     {"kind": "LinearLR", "args": {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 10}}),
    ("one_cycle_default", "sgd", 0.1, 100,
     {"kind": "OneCycleLR", "args": {"max_lr": 0.1, "total_steps": 100}}),
    ("one_cycle_three_phase_linear", "sgd", 0.1, 57,
     {"kind": "OneCycleLR", "args": {"max_lr": 0.01, "total_steps": 57, "pct_start": 0.25,
                                     "anneal_strategy": "linear", "three_phase": True}}),
    ("one_cycle_adam_epochs", "adam", 1e-3, 55,
     {"kind": "OneCycleLR", "args": {"max_lr": 1e-3, "epochs": 5, "steps_per_epoch": 11,
                                     "base_momentum": 0.8, "max_momentum": 0.9,
                                     "div_factor": 10.0, "final_div_factor": 100.0}}),
    ("one_cycle_no_momentum", "sgd", 0.1, 20,
     {"kind": "OneCycleLR", "args": {"max_lr": 0.1, "total_steps": 20, "cycle_momentum": False}}),
    ("one_cycle_three_steps", "sgd", 0.1, 3,
     {"kind": "OneCycleLR", "args": {"max_lr": 0.1, "total_steps": 3}}),
    ("sequential_warm_up_cosine", "sgd", 0.1, 30,
     {"kind": "SequentialLR", "args": {"milestones": [5], "schedulers": [
         {"kind": "LinearLR", "args": {"start_factor": 0.1, "total_iters": 5}},
         {"kind": "CosineAnnealingLR", "args": {"T_max": 20}}]}}),
    ("sequential_three", "adam", 0.1, 18,
     {"kind": "SequentialLR", "args": {"milestones": [4, 10], "schedulers": [
         {"kind": "ExponentialLR", "args": {"gamma": 0.9}},
         {"kind": "StepLR", "args": {"step_size": 3, "gamma": 0.5}},
         {"kind": "MultiStepLR", "args": {"milestones": [2, 4]}}]}}),
    ("sequential_linear_then_one_cycle", "sgd", 0.1, 13,
     {"kind": "SequentialLR", "args": {"milestones": [3], "schedulers": [
         {"kind": "LinearLR", "args": {}},
         {"kind": "OneCycleLR", "args": {"max_lr": 0.5, "total_steps": 10}}]}}),
    ("sequential_milestone_zero", "sgd", 0.1, 6,
     {"kind": "SequentialLR", "args": {"milestones": [0], "schedulers": [
         {"kind": "StepLR", "args": {"step_size": 2}},
         {"kind": "ExponentialLR", "args": {"gamma": 0.5}}]}}),
    ("sequential_cosine_then_linear", "sgd", 0.1, 16,
     {"kind": "SequentialLR", "args": {"milestones": [8], "schedulers": [
         {"kind": "CosineAnnealingLR", "args": {"T_max": 5, "eta_min": 0.01}},
         {"kind": "LinearLR", "args": {"start_factor": 0.5, "total_iters": 4}}]}}),
]


def build(spec, optimizer):
    kind, args = spec["kind"], dict(spec["args"])
    if kind == "SequentialLR":
        args["schedulers"] = [build(s, optimizer) for s in args["schedulers"]]
    return getattr(S, kind)(optimizer, **args)


def momentum(optimizer):
    group = optimizer.param_groups[0]
    return group["betas"][0] if "betas" in group else group["momentum"]


def schedule_case(name, optimizer_kind, lr, steps, spec):
    param = torch.nn.Parameter(torch.zeros(1))
    if optimizer_kind == "sgd":
        optimizer = SGD([param], lr=lr, momentum=0.9)
    else:
        optimizer = Adam([param], lr=lr)
    scheduler = build(spec, optimizer)
    lrs, momenta = [optimizer.param_groups[0]["lr"]], [momentum(optimizer)]
    for _ in range(steps):
        param.grad = torch.ones(1)
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(momentum(optimizer))
    return {"name": name, "optimizer": optimizer_kind, "lr": lr, "steps": steps,
            "schedule": spec, "lrs": lrs, "momenta": momenta,
            "lr_bits": [bits(x) for x in lrs], "momentum_bits": [bits(x) for x in momenta]}


def bits(x):
    """The float64's bits as an integer: exact, whatever a JSON reader does with decimals."""
    return struct.unpack("<Q", struct.pack("<d", x))[0]


# Clipping: parameters p [3, 2], q [3], r [2, 2] with random gradients (scaled per case),
# and s [2] without a gradient (skipped, as PyTorch skips `grad is None`).
CLIPS = [
    ("l2_clipped", 1.0, 2.0, 1.0),
    ("l2_within", 100.0, 2.0, 1.0),
    ("max_clipped", 0.5, float("inf"), 1e3),
    ("max_within", 5e3, float("inf"), 1e3),
    ("l1_clipped", 2.0, 1.0, 1.0),
    ("l3_clipped", 0.25, 3.0, 1.0),
    ("l2_tiny", 1e-3, 2.0, 1e-4),
]


def clip_case(generator, name, max_norm, norm_type, scale):
    shapes = {"p": [3, 2], "q": [3], "r": [2, 2], "s": [2]}
    params = {k: torch.nn.Parameter(torch.zeros(*v)) for k, v in shapes.items()}
    grads = {}
    for k in "pqr":
        params[k].grad = torch.randn(*shapes[k], generator=generator) * scale
        grads[k] = params[k].grad.flatten().tolist()
    norm = torch.nn.utils.clip_grad_norm_(params.values(), max_norm, norm_type)
    return {
        "name": name, "max_norm": max_norm,
        "norm_type": "inf" if norm_type == float("inf") else norm_type,
        "grads": grads, "total_norm": norm.item(),
        "clipped": {k: params[k].grad.flatten().tolist() for k in "pqr"},
    }


def main():
    generator = torch.Generator().manual_seed(5)
    out = {
        "generator": f"tests/data/schedule_reference.py, PyTorch {torch.__version__}, float64",
        "schedules": [schedule_case(*c) for c in SCHEDULES],
        "clipping": [clip_case(generator, *c) for c in CLIPS],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
