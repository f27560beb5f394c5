#!/usr/bin/env python3
"""torchvision's CNNs exported by PyTorch's own ONNX exporter, with PyTorch's logits.

Run:  /usr/bin/python3 test/golden/export_torchvision.py OUT_DIR [--size N] [--batch N] [name ...]
      (the names default to all of MODELS below; --size and --batch replace each model's own,
      as bench/onnx_import.mjs asks for ResNet-50 at 224×224)

Writes into OUT_DIR, for each model:

  <name>.onnx      torchvision's model with random weights (torch.manual_seed(0)) and batch-norm
                   statistics that are not the identity, in eval mode (Inception's and GoogLeNet's
                   auxiliary heads are off), exported by torch.onnx.export at opset OPSET;
  <name>.x.f32     the NCHW input (float32, little-endian, row-major);
  <name>.y.f32     PyTorch's logits for it (float32);
  <name>.json      {"input": [n, c, h, w], "output": [n, classes], "seconds": s}.

Too large to commit (ResNet-50 is 100 MB, VGG-16 550 MB), so test/io/onnx/import_torchvision.test.ts
runs this at test time where /usr/bin/python3 has torchvision (Debian: python3-torchvision).
Image sizes are the smallest each architecture takes cheaply: VGG and AlexNet keep 224 (their
adaptive pooling to 7×7 / 6×6 exports only where the feature map is a multiple of it),
Inception-v3 takes 75 at least.
"""

import json
import os
import sys
import time

import torch
import torchvision
from torch import nn

OPSET = 13

# name: (batch, image size)
MODELS = {
    "resnet18": (2, 64),
    "resnet50": (1, 64),
    "vgg16_bn": (1, 224),
    "densenet121": (1, 64),
    "googlenet": (2, 64),
    "mobilenet_v2": (2, 64),
    "efficientnet_b0": (2, 64),
    "alexnet": (1, 224),
    "inception_v3": (1, 75),
}


def build(name):
    ctor = getattr(torchvision.models, name)
    if name in ("googlenet", "inception_v3"):
        # As torchvision builds them for ImageNet weights: the input transform on, aux heads
        # (used only in training) left out of eval's graph.
        model = ctor(weights=None, aux_logits=True, transform_input=True, init_weights=True)
    else:
        model = ctor(weights=None)
    # Batch-norm statistics and affine parameters that are not the identity, so that a wrong
    # mean, variance or epsilon shows in the logits.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit("usage: export_torchvision.py OUT_DIR [--size N] [--batch N] [name ...]")
    out = args.pop(0)
    override = {}
    for flag in ("--size", "--batch"):
        if flag in args:
            i = args.index(flag)
            override[flag[2:]] = int(args[i + 1])
            del args[i : i + 2]
    names = args or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for name in names:
        t0 = time.time()
        torch.manual_seed(0)
        batch, size = MODELS[name]
        batch, size = override.get("batch", batch), override.get("size", size)
        model = build(name)
        x = torch.randn(batch, 3, size, size)
        with torch.no_grad():
            y = model(x)
        path = os.path.join(out, f"{name}.onnx")
        torch.onnx.export(
            model, x, path, opset_version=OPSET, input_names=["input"], output_names=["logits"],
            do_constant_folding=True,
        )
        x.numpy().astype("<f4").tofile(os.path.join(out, f"{name}.x.f32"))
        y.numpy().astype("<f4").tofile(os.path.join(out, f"{name}.y.f32"))
        info = {"input": list(x.shape), "output": list(y.shape), "seconds": round(time.time() - t0, 2)}
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(info, f)
        print(f"{name}: {info}", flush=True)


if __name__ == "__main__":
    main()
