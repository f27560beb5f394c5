#!/usr/bin/env python3
"""torchvision's resnet18 to ONNX and back, for test/io/import/torchvision_roundtrip.test.ts.

  export OUT.onnx      resnet18 (10 classes, random weights and batch-norm statistics that are
                       not the identity), eval mode, input [1, 3, 64, 64], written by
                       torch.onnx.export with training=PRESERVE and no constant folding: batch
                       norm stays a node of its own and every weight keeps its state_dict name.
  check WEIGHTS X N C  loads the safetensors file WEIGHTS (receptive's exportTorchWeights) into
                       a fresh resnet18(num_classes=C) with load_state_dict(strict=True), runs
                       it in eval mode on X (N NCHW images of 3×64×64, raw little-endian float32)
                       and prints the logits as JSON.

Deterministic: torch.manual_seed(0). The safetensors file is read by a few lines below (the
`safetensors` package is not needed).
"""

import json
import struct
import sys

import numpy as np
import torch
import torchvision
from torch.onnx import TrainingMode


def export(path):
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=10)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            with torch.no_grad():
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    m.eval()
    torch.onnx.export(
        m, torch.randn(1, 3, 64, 64), path, opset_version=13, input_names=["input"],
        output_names=["logits"], training=TrainingMode.PRESERVE, do_constant_folding=False,
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )


DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[base + a:base + b], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        state[name] = torch.from_numpy(arr.copy())
    return state


def check(weights, xfile, n, classes):
    m = torchvision.models.resnet18(num_classes=classes)
    m.load_state_dict(load_safetensors(weights), strict=True)
    m.eval()
    x = torch.from_numpy(np.fromfile(xfile, dtype="<f4").reshape(n, 3, 64, 64))
    with torch.no_grad():
        print(json.dumps(m(x).flatten().tolist()))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
