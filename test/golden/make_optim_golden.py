#!/usr/bin/env python3
"""Golden trajectories for receptive's optimizers, computed with torch.optim.

Run:  /usr/bin/python3 test/golden/make_optim_golden.py
Writes test/fixtures/golden/optim.json.

Every case starts from the same two parameters (shapes [3, 4] and [5]) and applies the same
five seeded gradient sets: for each step, p.grad is assigned and opt.step() called (after
clip_grad_norm_ / clip_grad_value_ where the case clips, and followed by scheduler.step()
where it has a schedule). The parameters after each step are recorded.

Parameters and gradients are float32-representable values, written exactly. The torch run
that is recorded is in float64 (values written with 10 significant digits); a float32 run of
the same case must agree with it to 2e-6, so a float32 implementation that follows the same
formulas lands within the 1e-5 that the TS test allows.

`withoutGrad` lists [step, param] pairs whose grad is None at that step (torch skips the
param: no update, no state change, its step count stays).

`options` are receptive's option names (what the TS test passes to getOptimizer); `torch`
documents the arguments given to the torch class. Omitted options are receptive's defaults,
which `torch` spells out (epsilon 1e-7 as Keras, AdamW weightDecay 0.004).
"""

import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "golden", "optim.json"))
SHAPES = [[3, 4], [5]]
STEPS = 5


def f32(t):
    return t.float().double()


def enc_exact(t):
    vals = [float(v) for v in t.reshape(-1).tolist()]
    assert all(struct.unpack("<f", struct.pack("<f", v))[0] == v for v in vals)
    return {"shape": list(t.shape), "data": vals}


def enc(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.10g}") for v in t.reshape(-1).tolist()]}


# receptive name -> (torch class, function from receptive options to torch kwargs)
def sgd_kwargs(o):
    return dict(lr=o.get("learningRate", 0.01), momentum=o.get("momentum", 0.0),
                nesterov=o.get("nesterov", False), weight_decay=o.get("weightDecay", 0.0))


def adam_kwargs(o):
    return dict(lr=o.get("learningRate", 0.001), betas=(o.get("beta1", 0.9), o.get("beta2", 0.999)),
                eps=o.get("epsilon", 1e-7), amsgrad=o.get("amsgrad", False))


def adamw_kwargs(o):
    return dict(adam_kwargs(o), weight_decay=o.get("weightDecay", 0.004))


def rmsprop_kwargs(o):
    return dict(lr=o.get("learningRate", 0.001), alpha=o.get("rho", 0.9), momentum=o.get("momentum", 0.0),
                eps=o.get("epsilon", 1e-7), centered=o.get("centered", False))


OPTIMIZERS = {
    "sgd": (torch.optim.SGD, sgd_kwargs),
    "adam": (torch.optim.Adam, adam_kwargs),
    "adamw": (torch.optim.AdamW, adamw_kwargs),
    "rmsprop": (torch.optim.RMSprop, rmsprop_kwargs),
}

STEP_DECAY = {"className": "stepDecay", "config": {"initial": 0.1, "stepSize": 2, "gamma": 0.5}}

# name, optimizer, receptive options, gradient sets to leave out: {step index: [param indices]}
CASES = [
    ("sgd_defaults", "sgd", {}, {}),
    ("sgd_plain", "sgd", {"learningRate": 0.1}, {}),
    ("sgd_momentum", "sgd", {"learningRate": 0.1, "momentum": 0.9}, {}),
    ("sgd_nesterov", "sgd", {"learningRate": 0.05, "momentum": 0.8, "nesterov": True}, {}),
    ("sgd_weight_decay", "sgd", {"learningRate": 0.1, "weightDecay": 0.05}, {}),
    ("sgd_momentum_weight_decay", "sgd", {"learningRate": 0.1, "momentum": 0.9, "weightDecay": 0.05}, {}),
    ("sgd_momentum_step_decay", "sgd", {"learningRate": STEP_DECAY, "momentum": 0.9}, {}),
    ("sgd_momentum_clip_value", "sgd", {"learningRate": 0.1, "momentum": 0.9, "clipValue": 0.5}, {}),
    ("adam_defaults", "adam", {}, {}),
    ("adam", "adam", {"learningRate": 0.05, "beta1": 0.8, "beta2": 0.99}, {}),
    ("adam_amsgrad", "adam", {"learningRate": 0.05, "beta2": 0.9, "amsgrad": True}, {}),
    ("adam_clip_norm", "adam", {"learningRate": 0.05, "clipNorm": 1.0}, {}),
    ("adam_skip_grad", "adam", {"learningRate": 0.05}, {2: [1], 3: [0]}),
    ("adamw_defaults", "adamw", {}, {}),
    ("adamw", "adamw", {"learningRate": 0.05, "weightDecay": 0.1}, {}),
    ("adamw_amsgrad_skip_grad", "adamw", {"learningRate": 0.05, "weightDecay": 0.1, "beta2": 0.9,
                                          "amsgrad": True}, {1: [0]}),
    ("rmsprop_defaults", "rmsprop", {}, {}),
    ("rmsprop", "rmsprop", {"learningRate": 0.01, "rho": 0.8}, {}),
    ("rmsprop_centered", "rmsprop", {"learningRate": 0.01, "rho": 0.8, "centered": True}, {}),
    ("rmsprop_momentum", "rmsprop", {"learningRate": 0.01, "momentum": 0.9}, {}),
    ("rmsprop_centered_momentum", "rmsprop", {"learningRate": 0.01, "momentum": 0.5,
                                              "centered": True}, {}),
]


def torch_kwargs(opt, options):
    o = dict(options)
    if isinstance(o.get("learningRate"), dict):
        o["learningRate"] = o["learningRate"]["config"]["initial"]
    return OPTIMIZERS[opt][1](o)


def run(opt, options, params0, grads, dtype):
    params = [p.clone().to(dtype).requires_grad_(True) for p in params0]
    cls, _ = OPTIMIZERS[opt]
    optimizer = cls(params, **torch_kwargs(opt, options))
    sched = None
    if isinstance(options.get("learningRate"), dict):
        c = options["learningRate"]["config"]
        sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=c["stepSize"], gamma=c["gamma"])
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else g.clone().to(dtype)
        with_grad = [p for p in params if p.grad is not None]
        if "clipNorm" in options:
            torch.nn.utils.clip_grad_norm_(with_grad, options["clipNorm"])
        if "clipValue" in options:
            torch.nn.utils.clip_grad_value_(with_grad, options["clipValue"])
        optimizer.step()
        if sched is not None:
            sched.step()
        out.append([p.detach().double().clone() for p in params])
    return out


def main():
    torch.manual_seed(0)
    params0 = [f32(torch.randn(*s, dtype=torch.float64)) for s in SHAPES]
    grads_all = [[f32(torch.randn(*s, dtype=torch.float64)) for s in SHAPES] for _ in range(STEPS)]

    cases = []
    results = {}
    for name, opt, options, skip in CASES:
        grads = [[None if j in skip.get(i, []) else g for j, g in enumerate(gs)]
                 for i, gs in enumerate(grads_all)]
        traj = run(opt, options, params0, grads, torch.float64)
        traj32 = run(opt, options, params0, grads, torch.float32)
        worst = max(float((a - b).abs().max()) for s64, s32 in zip(traj, traj32) for a, b in zip(s64, s32))
        assert worst < 2e-6, f"{name}: float32 and float64 torch differ by {worst}"
        for i, gs in enumerate(grads):  # a skipped param must not move on that step
            for j, g in enumerate(gs):
                if g is None:
                    before = params0[j] if i == 0 else traj[i - 1][j]
                    assert torch.equal(before, traj[i][j]), f"{name}: param {j} moved at step {i}"
        results[name] = traj
        kw = torch_kwargs(opt, options)
        kw = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}
        cases.append({
            "name": name,
            "optimizer": opt,
            "options": options,
            "torch": {"class": OPTIMIZERS[opt][0].__name__, "kwargs": kw},
            "withoutGrad": [[i, j] for i, js in sorted(skip.items()) for j in js],
            "trajectory": [[enc(p) for p in step] for step in traj],
        })

    # The cases must tell the variants apart, or the test proves less than it seems to.
    def differ(a, b):
        return max(float((x - y).abs().max()) for sa, sb in zip(results[a], results[b]) for x, y in zip(sa, sb))

    for a, b in [("sgd_plain", "sgd_momentum"), ("sgd_momentum", "sgd_momentum_weight_decay"),
                 ("sgd_plain", "sgd_weight_decay"), ("sgd_momentum", "sgd_momentum_step_decay"),
                 ("sgd_momentum", "sgd_momentum_clip_value"), ("adam", "adam_amsgrad"),
                 ("adam_clip_norm", "adam_skip_grad"),
                 ("rmsprop", "rmsprop_centered"), ("rmsprop_defaults", "rmsprop_momentum"),
                 ("rmsprop_centered", "rmsprop_centered_momentum")]:
        assert differ(a, b) > 1e-4, f"{a} and {b} are too close to tell apart: {differ(a, b)}"
    # AdamW's default decay is small (lr * 0.004 per step) but still 3x the test's tolerance.
    assert differ("adam_defaults", "adamw_defaults") > 3e-5
    # amsgrad: a run where it matters (v decreases somewhere) with the same other settings
    plain = run("adam", {"learningRate": 0.05, "beta2": 0.9}, params0, [list(g) for g in grads_all], torch.float64)
    assert max(float((x - y).abs().max()) for sa, sb in zip(plain, results["adam_amsgrad"])
               for x, y in zip(sa, sb)) > 1e-4, "amsgrad changes nothing in this case"

    doc = {
        "about": "torch.optim trajectories; see test/golden/make_optim_golden.py",
        "torch": torch.__version__,
        "params": [enc_exact(p) for p in params0],
        "grads": [[enc_exact(g) for g in gs] for gs in grads_all],
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(OUT)
    assert size < 300_000, f"{OUT} is {size} bytes"
    print(f"wrote {OUT} ({len(cases)} cases, {size} bytes)")


if __name__ == "__main__":
    main()
