#!/usr/bin/env python3
"""Generate golden fixtures for receptive's CNN ops from PyTorch (float64).

Run:  /usr/bin/python3 test/golden/make_golden.py
Writes one JSON file per op family to test/fixtures/golden/.

All tensors in the fixtures use receptive's layouts:
  images NHWC, conv kernels HWIO [kh, kw, in/groups, filters],
  transposed-conv kernels [kh, kw, filters, inChannels],
  depthwise kernels [kh, kw, inChannels, multiplier].
They are transposed to torch's NCHW / OIHW only for the computation.

Inputs and upstream gradients are drawn with randn and rounded to
float32-representable values (so the float32 TS side sees exactly the same
numbers; written exactly); outputs and gradients are computed in float64 and written
with 10 significant digits. `grads[name]` is d/d(input) of sum(output * upstream).
"""

import json
import math
import os
import struct

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
DT = torch.float64

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "fixtures", "golden"))


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def f32(t):
    """Round to float32-representable values, keep float64 dtype."""
    return t.float().double()


def randn(*shape):
    return f32(torch.randn(*shape, dtype=DT))


def enc(t, dtype=None, exact_f32=False):
    """exact_f32: values are float32-representable (inputs, upstream) and are written exactly
    (full double repr of the float32 value, so float32 and float64 readers see the very same
    number); otherwise (float64 results) 10 significant digits."""
    t = t.detach()
    vals = t.reshape(-1).tolist()
    if dtype is not None:
        return {"shape": list(t.shape), "data": [int(v) for v in vals], "dtype": dtype}
    if exact_f32:
        data = [float(v) for v in vals]
        assert all(struct.unpack("<f", struct.pack("<f", v))[0] == v for v in data)
    else:
        data = [float(f"{v:.10g}") for v in vals]
    return {"shape": list(t.shape), "data": data}


def pair(v):
    if isinstance(v, (list, tuple)):
        assert len(v) == 2
        return int(v[0]), int(v[1])
    return int(v), int(v)


def same_pads(n, k, s, d):
    """TensorFlow 'same': (before, after)."""
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_pads(padding, hw, kernel, strides, dilation):
    """Returns ((top, bottom), (left, right))."""
    (H, W), (kh, kw), (sh, sw), (dh, dw) = hw, kernel, strides, dilation
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return same_pads(H, kh, sh, dh), same_pads(W, kw, sw, dw)
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    (t, b), (l, r) = padding
    return (t, b), (l, r)


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2)


def nchw_to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def hwio_to_oihw(w):
    return w.permute(3, 2, 0, 1)


def run_case(name, options, inputs, fn, grad_names, extra_inputs=None, upstream=None):
    """inputs: dict name -> float64 tensor (receptive layout). fn(**inputs) -> output.

    extra_inputs: dict name -> (tensor, dtype) that are passed to fn but get no grads.
    """
    leaves = {k: v.clone().requires_grad_(k in grad_names) for k, v in inputs.items()}
    kwargs = dict(leaves)
    if extra_inputs:
        for k, (v, _) in extra_inputs.items():
            kwargs[k] = v
    out = fn(**kwargs)
    if upstream is None:
        upstream = randn(*out.shape) if out.dim() > 0 else torch.ones((), dtype=DT)
    gs = torch.autograd.grad(out, [leaves[k] for k in grad_names], grad_outputs=upstream)
    case = {
        "name": name,
        "options": options,
        "inputs": {k: enc(v, exact_f32=True) for k, v in inputs.items()},
        "output": enc(out),
        "upstream": enc(upstream, exact_f32=True),
        "grads": {k: enc(g) for k, g in zip(grad_names, gs)},
    }
    if extra_inputs:
        for k, (v, dtype) in extra_inputs.items():
            case["inputs"][k] = enc(v, dtype)
    return case


def write(op, cases, filename):
    os.makedirs(OUT_DIR, exist_ok=True)
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), names
    path = os.path.join(OUT_DIR, filename)
    with open(path, "w") as f:
        json.dump({"op": op, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(path)
    print(f"{filename}: {len(cases)} cases, {size / 1024:.1f} KB")
    assert size < 300 * 1024, f"{filename} too large"


# ----------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------


def conv2d_ref(x, w, strides=1, padding="valid", dilationRate=1, groups=1):
    kh, kw = w.shape[0], w.shape[1]
    s, d = pair(strides), pair(dilationRate)
    (t, b), (l, r) = resolve_pads(padding, (x.shape[1], x.shape[2]), (kh, kw), s, d)
    xt = F.pad(nhwc_to_nchw(x), (l, r, t, b))  # zeros
    y = F.conv2d(xt, hwio_to_oihw(w), stride=s, padding=0, dilation=d, groups=groups)
    return nchw_to_nhwc(y)


def conv2d_bruteforce(x, w, strides, padding, dilationRate, groups):
    """Direct loop in the receptive layouts (NHWC / HWIO), for cross-checking."""
    N, H, W, C = x.shape
    kh, kw, cin_g, O = w.shape
    (sh, sw), (dh, dw) = pair(strides), pair(dilationRate)
    (t, b), (l, r) = resolve_pads(padding, (H, W), (kh, kw), (sh, sw), (dh, dw))
    Ho = (H + t + b - (dh * (kh - 1) + 1)) // sh + 1
    Wo = (W + l + r - (dw * (kw - 1) + 1)) // sw + 1
    og = O // groups
    out = torch.zeros(N, Ho, Wo, O, dtype=DT)
    for i in range(Ho):
        for j in range(Wo):
            for di in range(kh):
                for dj in range(kw):
                    hi, wj = i * sh - t + di * dh, j * sw - l + dj * dw
                    if not (0 <= hi < H and 0 <= wj < W):
                        continue
                    for o in range(O):
                        g = o // og
                        xs = x[:, hi, wj, g * cin_g:(g + 1) * cin_g]
                        out[:, i, j, o] += xs @ w[di, dj, :, o]
    return out


def gen_conv2d():
    torch.manual_seed(0)
    specs = [
        # name, x shape NHWC, w shape HWIO, options
        ("k3_s1_valid", [2, 5, 7, 3], [3, 3, 3, 4], dict(strides=1, padding="valid")),
        ("k3_s1_same", [2, 5, 7, 3], [3, 3, 3, 3], dict(strides=1, padding="same")),
        # in=6,k=3,s=2 -> total pad 1: 0 before, 1 after (both axes)
        ("k3_s2_same_even", [2, 6, 6, 3], [3, 3, 3, 4], dict(strides=2, padding="same")),
        # in=5,k=4,s=1 -> total pad 3: 1 before, 2 after
        ("k4_s1_same_asym", [2, 5, 5, 3], [4, 4, 3, 2], dict(strides=1, padding="same")),
        ("k3_s2_valid", [2, 7, 6, 3], [3, 3, 3, 4], dict(strides=2, padding="valid")),
        # H: in5,k3,s2 -> pad 1/1 ; W: in7,k2,s1 -> pad 0/1
        ("k3x2_s21_same", [2, 5, 7, 3], [3, 2, 3, 4], dict(strides=[2, 1], padding="same")),
        ("explicit_asym_pad", [2, 5, 7, 3], [3, 3, 3, 2],
         dict(strides=1, padding=[[1, 2], [0, 1]])),
        ("explicit_number_pad_s2", [2, 5, 7, 3], [3, 3, 3, 2], dict(strides=2, padding=1)),
        ("k3_d2_valid", [2, 6, 7, 3], [3, 3, 3, 4], dict(strides=1, padding="valid", dilationRate=2)),
        # H: in6,k3,d2,s2 -> total 3: 1/2 ; W: in7 -> total 4: 2/2
        ("k3_s2_d2_same", [2, 6, 7, 3], [3, 3, 3, 4],
         dict(strides=2, padding="same", dilationRate=2)),
        ("k3x2_d21_same", [2, 5, 7, 3], [3, 2, 3, 2],
         dict(strides=1, padding="same", dilationRate=[2, 1])),
        ("groups2_same", [2, 5, 7, 4], [3, 3, 2, 4], dict(strides=1, padding="same", groups=2)),
        # groups = channels (depthwise-like), 2 filters per group
        ("groups_eq_channels_valid", [2, 5, 7, 4], [3, 3, 1, 8],
         dict(strides=1, padding="valid", groups=4)),
        ("k1x1_s1_valid", [2, 5, 7, 3], [1, 1, 3, 3], dict(strides=1, padding="valid")),
        ("k1x1_s2_same", [2, 5, 7, 3], [1, 1, 3, 4], dict(strides=2, padding="same")),
    ]
    cases = []
    for name, xs, ws, opts in specs:
        options = {
            "strides": opts.get("strides", 1),
            "padding": opts.get("padding", "valid"),
            "dilationRate": opts.get("dilationRate", 1),
            "groups": opts.get("groups", 1),
        }
        x, w = randn(*xs), randn(*ws)
        assert ws[2] * options["groups"] == xs[3] and ws[3] % options["groups"] == 0
        y, yb = conv2d_ref(x, w, **options), conv2d_bruteforce(x, w, **options)
        assert y.shape == yb.shape and torch.allclose(y, yb, atol=1e-12), name
        cases.append(run_case(name, options, {"x": x, "w": w},
                              lambda x, w: conv2d_ref(x, w, **options), ["x", "w"]))
    write("conv2d", cases, "conv2d.json")


# ----------------------------------------------------------------------------
# depthwise conv2d
# ----------------------------------------------------------------------------


def depthwise_ref(x, w, strides=1, padding="valid", dilationRate=1):
    kh, kw, C, M = w.shape
    s, d = pair(strides), pair(dilationRate)
    (t, b), (l, r) = resolve_pads(padding, (x.shape[1], x.shape[2]), (kh, kw), s, d)
    xt = F.pad(nhwc_to_nchw(x), (l, r, t, b))
    # [kh,kw,C,M] -> [kh,kw,1,C*M] (out channel c*M+m) -> OIHW [C*M,1,kh,kw]
    wt = hwio_to_oihw(w.reshape(kh, kw, 1, C * M))
    y = F.conv2d(xt, wt, stride=s, padding=0, dilation=d, groups=C)
    return nchw_to_nhwc(y)


def gen_depthwise():
    torch.manual_seed(0)
    specs = [
        ("k3_s1_valid_m1", [2, 5, 7, 3], [3, 3, 3, 1], dict(strides=1, padding="valid")),
        ("k3_s1_same_m2", [2, 5, 7, 3], [3, 3, 3, 2], dict(strides=1, padding="same")),
        ("k3_s2_same_even_m1", [2, 6, 6, 4], [3, 3, 4, 1], dict(strides=2, padding="same")),
        ("k4_s1_same_asym_m2", [2, 5, 5, 3], [4, 4, 3, 2], dict(strides=1, padding="same")),
        ("k3x2_s21_same_m1", [2, 5, 7, 3], [3, 2, 3, 1], dict(strides=[2, 1], padding="same")),
        ("k3_s2_valid_m2", [2, 7, 6, 3], [3, 3, 3, 2], dict(strides=2, padding="valid")),
        ("k3_d2_same_m1", [2, 5, 7, 3], [3, 3, 3, 1],
         dict(strides=1, padding="same", dilationRate=2)),
        ("k3_s2_d2_same_m2", [2, 6, 7, 3], [3, 3, 3, 2],
         dict(strides=2, padding="same", dilationRate=2)),
        ("k1x1_m3", [2, 5, 7, 3], [1, 1, 3, 3], dict(strides=1, padding="valid")),
        ("explicit_asym_pad_m2", [2, 5, 7, 3], [3, 3, 3, 2],
         dict(strides=1, padding=[[1, 2], [0, 1]])),
    ]
    cases = []
    for name, xs, ws, opts in specs:
        options = {
            "strides": opts.get("strides", 1),
            "padding": opts.get("padding", "valid"),
            "dilationRate": opts.get("dilationRate", 1),
        }
        x, w = randn(*xs), randn(*ws)
        assert ws[2] == xs[3]
        cases.append(run_case(name, options, {"x": x, "w": w},
                              lambda x, w: depthwise_ref(x, w, **options), ["x", "w"]))
    # sanity: depthwise == grouped conv with groups = C on a per-channel loop
    x, w = randn(1, 4, 5, 3), randn(3, 3, 3, 2)
    y = depthwise_ref(x, w, padding="same")
    for c in range(3):
        for m in range(2):
            yc = conv2d_ref(x[..., c:c + 1], w[:, :, c:c + 1, m:m + 1], padding="same")
            assert torch.allclose(y[..., c * 2 + m], yc[..., 0], atol=1e-12)
    write("depthwiseConv2d", cases, "depthwise_conv2d.json")


# ----------------------------------------------------------------------------
# conv2d transpose
# ----------------------------------------------------------------------------


def transpose_geometry(in_size, k, s, d, padding, op):
    """Returns (out_size, crop_before) for one spatial axis.

    'same': base = in*s, pad_before = TF 'same' pad of the forward conv whose input has
            size in*s. 'valid': base = (in-1)*s + d*(k-1)+1, pad_before = 0.
    outputPadding extends the output at the end (bottom/right).
    """
    dk = d * (k - 1) + 1
    if padding == "same":
        base = in_size * s
        before, _ = same_pads(base, k, s, d)
    elif padding == "valid":
        base = (in_size - 1) * s + dk
        before = 0
    else:
        raise ValueError(padding)
    return base + op, before


def conv2d_transpose_ref(x, w, strides=1, padding="valid", outputPadding=0, dilationRate=1):
    """x NHWC [N,H,W,inCh], w [kh,kw,filters,inCh]. Full transposed conv, then crop/extend."""
    kh, kw = w.shape[0], w.shape[1]
    (sh, sw), (dh, dw), (oph, opw) = pair(strides), pair(dilationRate), pair(outputPadding)
    Ho, top = transpose_geometry(x.shape[1], kh, sh, dh, padding, oph)
    Wo, left = transpose_geometry(x.shape[2], kw, sw, dw, padding, opw)
    # torch conv_transpose2d weight: [in_channels, out_channels, kh, kw] == permute(3,2,0,1)
    full = F.conv_transpose2d(nhwc_to_nchw(x), w.permute(3, 2, 0, 1), stride=(sh, sw),
                              dilation=(dh, dw))
    Hf, Wf = full.shape[2], full.shape[3]
    # out[i] = full[i + top]; negative F.pad amounts crop, positive ones add zeros.
    y = F.pad(full, (-left, Wo + left - Wf, -top, Ho + top - Hf))
    assert y.shape[2] == Ho and y.shape[3] == Wo
    return nchw_to_nhwc(y)


def conv2d_transpose_via_conv_grad(x, w, strides=1, padding="valid", outputPadding=0,
                                   dilationRate=1):
    """Independent construction: gradient of a forward conv2d w.r.t. its input."""
    kh, kw = w.shape[0], w.shape[1]
    (sh, sw), (dh, dw), (oph, opw) = pair(strides), pair(dilationRate), pair(outputPadding)
    Ho, top = transpose_geometry(x.shape[1], kh, sh, dh, padding, oph)
    Wo, left = transpose_geometry(x.shape[2], kw, sw, dw, padding, opw)
    H, W = x.shape[1], x.shape[2]
    # forward conv over input of size Ho with pad (top, bottom) giving output size H
    bottom = (H - 1) * sh + dh * (kh - 1) + 1 - Ho - top
    right = (W - 1) * sw + dw * (kw - 1) + 1 - Wo - left
    z = torch.zeros(x.shape[0], Ho, Wo, w.shape[2], dtype=DT, requires_grad=True)
    zp = F.pad(nhwc_to_nchw(z), (left, right, top, bottom))
    y = F.conv2d(zp, hwio_to_oihw(w), stride=(sh, sw), dilation=(dh, dw))
    assert y.shape[2] == H and y.shape[3] == W, (y.shape, H, W)
    (g,) = torch.autograd.grad(y, z, grad_outputs=nhwc_to_nchw(x))
    return g


def gen_conv2d_transpose():
    torch.manual_seed(0)
    specs = [
        # name, x shape [N,H,W,inCh], w shape [kh,kw,filters,inCh], options
        ("k3_s1_same", [2, 5, 7, 3], [3, 3, 4, 3], dict(strides=1, padding="same")),
        ("k3_s1_valid", [2, 5, 7, 3], [3, 3, 4, 3], dict(strides=1, padding="valid")),
        # out 6x8, forward pad total 1 -> 0 before, 1 after
        ("k3_s2_same", [2, 3, 4, 3], [3, 3, 2, 3], dict(strides=2, padding="same")),
        # out 6x6, forward pad total 2 -> 1/1
        ("k4_s2_same", [2, 3, 3, 3], [4, 4, 2, 3], dict(strides=2, padding="same")),
        ("k3_s2_valid", [2, 3, 4, 3], [3, 3, 2, 3], dict(strides=2, padding="valid")),
        ("k2_s2_valid", [2, 3, 4, 3], [2, 2, 2, 3], dict(strides=2, padding="valid")),
        ("k3x2_s21_same", [2, 3, 5, 3], [3, 2, 4, 3], dict(strides=[2, 1], padding="same")),
        ("k3_d2_same", [2, 4, 5, 3], [3, 3, 2, 3],
         dict(strides=1, padding="same", dilationRate=2)),
        # forward pad total 3 -> 1 before, 2 after
        ("k3_s2_d2_same", [2, 3, 4, 3], [3, 3, 2, 3],
         dict(strides=2, padding="same", dilationRate=2)),
        ("k3_s2_same_outpad1", [2, 3, 4, 3], [3, 3, 2, 3],
         dict(strides=2, padding="same", outputPadding=1)),
        ("k3_s2_valid_outpad10", [2, 3, 4, 3], [3, 3, 2, 3],
         dict(strides=2, padding="valid", outputPadding=[1, 0])),
        ("k1x1_s1_valid", [2, 4, 5, 3], [1, 1, 4, 3], dict(strides=1, padding="valid")),
    ]
    cases = []
    for name, xs, ws, opts in specs:
        options = {
            "strides": opts.get("strides", 1),
            "padding": opts.get("padding", "valid"),
            "outputPadding": opts.get("outputPadding", 0),
            "dilationRate": opts.get("dilationRate", 1),
        }
        x, w = randn(*xs), randn(*ws)
        assert ws[3] == xs[3]
        case = run_case(name, options, {"x": x, "w": w},
                        lambda x, w: conv2d_transpose_ref(x, w, **options), ["x", "w"])
        # verify construction: equals d(conv2d)/d(input)
        y1 = conv2d_transpose_ref(x, w, **options)
        y2 = conv2d_transpose_via_conv_grad(x, w, **options)
        assert y1.shape == y2.shape and torch.allclose(y1, y2, atol=1e-12), name
        cases.append(case)

    # adjoint check on a tiny case: <conv2d(z, w), x> == <z, convT(x, w)>
    for opts in [dict(strides=2, padding="same"), dict(strides=[2, 1], padding="valid",
                                                      dilationRate=[1, 2])]:
        x, w = randn(1, 3, 3, 2), randn(3, 3, 2, 2)
        yT = conv2d_transpose_ref(x, w, **opts)
        z = randn(*yT.shape)
        fwd = conv2d_ref(z, w, strides=opts["strides"], padding=opts["padding"],
                         dilationRate=opts.get("dilationRate", 1))
        assert fwd.shape == x.shape, (fwd.shape, x.shape)
        assert abs(float((fwd * x).sum() - (z * yT).sum())) < 1e-10
    write("conv2dTranspose", cases, "conv2d_transpose.json")


# ----------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------


def max_pool_ref(x, poolSize=2, strides=None, padding="valid"):
    k = pair(poolSize)
    s = pair(strides if strides is not None else poolSize)
    (t, b), (l, r) = resolve_pads(padding, (x.shape[1], x.shape[2]), k, s, (1, 1))
    xt = F.pad(nhwc_to_nchw(x), (l, r, t, b), value=float("-inf"))
    return nchw_to_nhwc(F.max_pool2d(xt, k, s))


def avg_pool_ref(x, poolSize=2, strides=None, padding="valid"):
    k = pair(poolSize)
    s = pair(strides if strides is not None else poolSize)
    (t, b), (l, r) = resolve_pads(padding, (x.shape[1], x.shape[2]), k, s, (1, 1))
    xt = nhwc_to_nchw(x)
    ones = torch.ones_like(xt[:1, :1])
    sums = F.avg_pool2d(F.pad(xt, (l, r, t, b)), k, s, divisor_override=1)
    counts = F.avg_pool2d(F.pad(ones, (l, r, t, b)), k, s, divisor_override=1)
    return nchw_to_nhwc(sums / counts)


def avg_pool_bruteforce(x, poolSize, strides, padding):
    k, s = pair(poolSize), pair(strides)
    N, H, W, C = x.shape
    (t, _), (l, _) = resolve_pads(padding, (H, W), k, s, (1, 1))
    if padding == "same":
        Ho, Wo = -(-H // s[0]), -(-W // s[1])
    else:
        Ho, Wo = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1
    out = torch.zeros(N, Ho, Wo, C, dtype=DT)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    acc, cnt = 0.0, 0
                    for di in range(k[0]):
                        for dj in range(k[1]):
                            hi, wj = i * s[0] - t + di, j * s[1] - l + dj
                            if 0 <= hi < H and 0 <= wj < W:
                                acc += float(x[n, hi, wj, c])
                                cnt += 1
                    out[n, i, j, c] = acc / cnt
    return out


def max_pool_bruteforce(x, poolSize, strides, padding):
    k, s = pair(poolSize), pair(strides)
    N, H, W, C = x.shape
    (t, _), (l, _) = resolve_pads(padding, (H, W), k, s, (1, 1))
    if padding == "same":
        Ho, Wo = -(-H // s[0]), -(-W // s[1])
    else:
        Ho, Wo = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1
    out = torch.zeros(N, Ho, Wo, C, dtype=DT)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                for c in range(C):
                    vals = [float(x[n, i * s[0] - t + di, j * s[1] - l + dj, c])
                            for di in range(k[0]) for dj in range(k[1])
                            if 0 <= i * s[0] - t + di < H and 0 <= j * s[1] - l + dj < W]
                    out[n, i, j, c] = max(vals)
    return out


POOL_SPECS = [
    # name, x shape NHWC, options
    ("p2_s2_valid", [2, 6, 7, 3], dict(poolSize=2, strides=2, padding="valid")),
    ("p3_s2_valid_overlap", [2, 7, 7, 3], dict(poolSize=3, strides=2, padding="valid")),
    # H: in5 -> pad 1/1 ; W: in6 -> pad 0/1
    ("p3_s2_same", [2, 5, 6, 3], dict(poolSize=3, strides=2, padding="same")),
    # in 5x7, k2 s2 -> pad 0 before, 1 after on both axes
    ("p2_s2_same_odd", [2, 5, 7, 3], dict(poolSize=2, strides=2, padding="same")),
    ("p3_s1_same", [2, 5, 7, 3], dict(poolSize=3, strides=1, padding="same")),
    ("p2_s1_same", [2, 5, 7, 3], dict(poolSize=2, strides=1, padding="same")),
    ("p3x2_s21_same", [2, 5, 7, 3], dict(poolSize=[3, 2], strides=[2, 1], padding="same")),
    ("p2x3_s1_valid", [2, 5, 7, 3], dict(poolSize=[2, 3], strides=1, padding="valid")),
]


def gen_pool(op, ref, brute, filename):
    torch.manual_seed(0)
    cases = []
    for name, xs, options in POOL_SPECS:
        x = randn(*xs)
        y = ref(x, **options)
        if options["padding"] == "same" or name == "p3_s2_valid_overlap":
            yb = brute(x, options["poolSize"], options["strides"], options["padding"])
            assert yb.shape == y.shape and torch.allclose(y, yb, atol=1e-12), name
        cases.append(run_case(name, dict(options), {"x": x},
                              lambda x: ref(x, **options), ["x"]))
    write(op, cases, filename)


# ----------------------------------------------------------------------------
# batch norm
# ----------------------------------------------------------------------------


def batch_norm_ref(x, mean, variance, gamma, beta, epsilon):
    return (x - mean) / torch.sqrt(variance + epsilon) * gamma + beta


def gen_batch_norm():
    torch.manual_seed(0)
    specs = [
        ("nhwc_eps1e-3", [2, 5, 7, 3], 1e-3),
        ("nhwc_c4_eps1e-5", [2, 3, 4, 4], 1e-5),
        ("2d_nc_eps1e-3", [4, 6], 1e-3),
    ]
    cases = []
    for name, xs, eps in specs:
        C = xs[-1]
        inputs = {
            "x": randn(*xs),
            "mean": randn(C),
            "variance": f32(torch.rand(C, dtype=DT) + 0.5),
            "gamma": randn(C),
            "beta": randn(C),
        }
        cases.append(run_case(name, {"epsilon": eps}, inputs,
                              lambda **kw: batch_norm_ref(**kw, epsilon=eps),
                              ["x", "mean", "variance", "gamma", "beta"]))
    write("batchNorm", cases, "batch_norm.json")


# ----------------------------------------------------------------------------
# LRN
# ----------------------------------------------------------------------------


def lrn_ref(x, depthRadius, bias, alpha, beta):
    C = x.shape[-1]
    sq = x * x
    sqr_sum = torch.zeros_like(x)
    for c in range(C):
        lo, hi = max(0, c - depthRadius), min(C - 1, c + depthRadius)
        sqr_sum[..., c] = sq[..., lo:hi + 1].sum(-1)
    return x / (bias + alpha * sqr_sum) ** beta


def gen_lrn():
    torch.manual_seed(0)
    specs = [
        ("r2_c7", [2, 3, 4, 7], dict(depthRadius=2, bias=1.0, alpha=0.3, beta=0.75)),
        ("r1_c4", [2, 5, 7, 4], dict(depthRadius=1, bias=2.0, alpha=1e-1, beta=0.5)),
        # radius wider than the channel count, TF defaults
        ("r5_c4_tfdefaults", [2, 3, 3, 4], dict(depthRadius=5, bias=1.0, alpha=1.0, beta=0.5)),
    ]
    cases = []
    for name, xs, options in specs:
        x = randn(*xs)
        y = lrn_ref(x, **options)
        # cross-check with torch's local_response_norm (alpha/size convention, size=2r+1)
        n = 2 * options["depthRadius"] + 1
        yt = F.local_response_norm(nhwc_to_nchw(x), n, alpha=options["alpha"] * n,
                                   beta=options["beta"], k=options["bias"])
        assert torch.allclose(y, nchw_to_nhwc(yt), atol=1e-12), name
        cases.append(run_case(name, dict(options), {"x": x},
                              lambda x: lrn_ref(x, **options), ["x"]))
    write("lrn", cases, "lrn.json")


# ----------------------------------------------------------------------------
# softmax cross entropy
# ----------------------------------------------------------------------------


def sce_onehot(logits, labels):
    return -(labels * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def gen_softmax_ce():
    torch.manual_seed(0)
    cases = []
    N, K = 4, 5
    one = torch.ones((), dtype=DT)

    logits = randn(N, K)
    ids = torch.randint(0, K, (N,))
    onehot = F.one_hot(ids, K).to(DT)
    cases.append(run_case("onehot_labels", {}, {"logits": logits, "labels": onehot},
                          sce_onehot, ["logits"], upstream=one))

    logits = randn(N, K)
    ids = torch.randint(0, K, (N,))
    c = run_case("int_labels", {}, {"logits": logits},
                 lambda logits, labels: F.cross_entropy(logits, labels), ["logits"],
                 extra_inputs={"labels": (ids, "int32")}, upstream=one)
    # cross-check against the one-hot formula
    ref = float(sce_onehot(logits, F.one_hot(ids, K).to(DT)))
    assert abs(c["output"]["data"][0] - ref) < 1e-9 * max(1.0, abs(ref))
    cases.append(c)

    # large logits: exercises the max-subtraction in log-softmax
    logits = f32(torch.randn(N, K, dtype=DT) * 40)
    ids = torch.randint(0, K, (N,))
    onehot = F.one_hot(ids, K).to(DT)
    cases.append(run_case("onehot_large_logits", {}, {"logits": logits, "labels": onehot},
                          sce_onehot, ["logits"], upstream=one))
    for c in cases:
        assert c["output"]["shape"] == [] and math.isfinite(c["output"]["data"][0])
    write("softmaxCrossEntropy", cases, "softmax_cross_entropy.json")


def main():
    gen_conv2d()
    gen_depthwise()
    gen_conv2d_transpose()
    gen_pool("maxPool2d", max_pool_ref, max_pool_bruteforce, "max_pool2d.json")
    gen_pool("avgPool2d", avg_pool_ref, avg_pool_bruteforce, "avg_pool2d.json")
    gen_batch_norm()
    gen_lrn()
    gen_softmax_ce()


if __name__ == "__main__":
    main()
