#!/usr/bin/env python3
"""PyTorch fixtures for receptive's weight import (src/io/import/torch.ts).

Run:  /usr/bin/python3 test/golden/make_torch_weights.py
Writes test/fixtures/torch/:

  manifests.json          the state_dict names and shapes (no values) of torchvision-style
                          resnet18, vgg16, densenet121 (all 10 classes), googlenet (10 classes,
                          auxiliary heads, the paper's 5x5 branch) and the paper's alexnet
                          (96-256-384-384-256 with LRN, 10 classes); receptive's zoo models must
                          map onto exactly these names and shapes.
  resnet_tiny.safetensors torchvision's ResNet code with widths (8, 16) and one BasicBlock per
                          stage, random weights and batch-norm statistics, 5 classes;
  lenet5.safetensors      LeNet-5 as nn.Module(features, classifier), random weights;
  io.json                 an input for each (NHWC, as receptive takes it) and torch's output.

The architectures are written out here (torchvision need not be installed) with torchvision's
module names. The safetensors files are written by a small writer below (the `safetensors`
package need not be installed); its layout is the format's: u64 header length, JSON header,
raw little-endian data. Deterministic: torch.manual_seed(0). Fails if the fixtures pass 2 MB.
"""

import json
import os
import struct

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "torch"))


# --- torchvision's ResNet (BasicBlock), with the widths and block counts as arguments ---------


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2), num_classes=1000):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i, (w, n) in enumerate(zip(widths, blocks)):
            setattr(self, f"layer{i + 1}", self._make_layer(w, n, 1 if i == 0 else 2))
        self.n_stages = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)

    def _make_layer(self, planes, n, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, n)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.n_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- torchvision's VGG16 and DenseNet-121 (names only are used) --------------------------------


def vgg16(num_classes):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    m = nn.Module()
    m.features = nn.Sequential(*layers)
    m.avgpool = nn.AdaptiveAvgPool2d((7, 7))
    m.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
        nn.Linear(4096, num_classes),
    )
    return m


def densenet121(num_classes, growth=32, blocks=(6, 12, 24, 16), init=64, bn_size=4):
    features = nn.Sequential()
    features.add_module("conv0", nn.Conv2d(3, init, 7, 2, 3, bias=False))
    features.add_module("norm0", nn.BatchNorm2d(init))
    features.add_module("relu0", nn.ReLU(inplace=True))
    features.add_module("pool0", nn.MaxPool2d(3, 2, 1))
    c = init
    for i, n in enumerate(blocks):
        block = nn.Module()
        for j in range(n):
            layer = nn.Module()
            layer.norm1 = nn.BatchNorm2d(c + j * growth)
            layer.relu1 = nn.ReLU(inplace=True)
            layer.conv1 = nn.Conv2d(c + j * growth, bn_size * growth, 1, bias=False)
            layer.norm2 = nn.BatchNorm2d(bn_size * growth)
            layer.relu2 = nn.ReLU(inplace=True)
            layer.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)
            block.add_module(f"denselayer{j + 1}", layer)
        features.add_module(f"denseblock{i + 1}", block)
        c += n * growth
        if i != len(blocks) - 1:
            t = nn.Module()
            t.norm = nn.BatchNorm2d(c)
            t.relu = nn.ReLU(inplace=True)
            t.conv = nn.Conv2d(c, c // 2, 1, bias=False)
            t.pool = nn.AvgPool2d(2, 2)
            features.add_module(f"transition{i + 1}", t)
            c //= 2
    features.add_module("norm5", nn.BatchNorm2d(c))
    m = nn.Module()
    m.features = features
    m.classifier = nn.Linear(c, num_classes)
    return m


# --- GoogLeNet with torchvision's names (BasicConv2d = conv + bn eps 1e-3), the paper's 5x5 ---


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, k, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)


class Inception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = BasicConv2d(cin, c1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(cin, c3r, 1), BasicConv2d(c3r, c3, 3, padding=1))
        # torchvision uses a 3x3 here (a known slip it keeps for its weights); the paper and receptive a 5x5.
        self.branch3 = nn.Sequential(BasicConv2d(cin, c5r, 1), BasicConv2d(c5r, c5, 5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(cin, pp, 1))


class InceptionAux(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.conv = BasicConv2d(cin, 128, 1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)


def googlenet(num_classes):
    m = nn.Module()
    m.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3)
    m.conv2 = BasicConv2d(64, 64, 1)
    m.conv3 = BasicConv2d(64, 192, 3, padding=1)
    spec = {
        "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
        "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
        "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
        "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
        "5b": (832, 384, 192, 384, 48, 128, 128),
    }
    for k, v in spec.items():
        setattr(m, f"inception{k}", Inception(*v))
    m.aux1 = InceptionAux(512, num_classes)
    m.aux2 = InceptionAux(528, num_classes)
    m.fc = nn.Linear(1024, num_classes)
    return m


def alexnet_paper(num_classes):
    """The paper's AlexNet (one tower): torchvision's module layout, with LRN after conv 1 and 2."""
    m = nn.Module()
    m.features = nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), nn.ReLU(True), nn.LocalResponseNorm(5, 5e-4, 0.75, 2), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(True), nn.LocalResponseNorm(5, 5e-4, 0.75, 2), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
    )
    m.classifier = nn.Sequential(
        nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(True),
        nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, num_classes),
    )
    return m


class LeNet5(nn.Module):
    """The notes' Keras LeNet-5 (tanh, average pooling, softmax) in PyTorch."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2)
        )
        self.classifier = nn.Sequential(
            nn.Linear(256, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10), nn.Softmax(dim=1)
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# --- helpers --------------------------------------------------------------------------------------


def save_safetensors(path, state):
    """The safetensors layout: u64 little-endian header size, JSON header, raw data (8-aligned header)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    for name, t in state.items():
        b = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def randomize(model):
    """Random weights and batch-norm statistics, so a wrong layout cannot pass."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(torch.randn_like(t) * 0.1)
            elif t.dim() == 1:  # bn weight
                t.copy_(torch.rand_like(t) + 0.5)


def manifest(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


def nhwc(x):
    return x.permute(0, 2, 3, 1).contiguous()


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    manifests = {
        "resnet18": manifest(ResNet(num_classes=10)),
        "vgg16": manifest(vgg16(10)),
        "densenet121": manifest(densenet121(10)),
        "googlenet": manifest(googlenet(10)),
        "alexnet": manifest(alexnet_paper(10)),
    }
    with open(os.path.join(OUT, "manifests.json"), "w") as f:
        json.dump(manifests, f, separators=(",", ":"))

    io = {}
    tiny = ResNet(widths=(8, 16), blocks=(1, 1), num_classes=5).eval()
    randomize(tiny)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        y = tiny(x)
    save_safetensors(os.path.join(OUT, "resnet_tiny.safetensors"), tiny.state_dict())
    io["resnet_tiny"] = {"input": {"shape": list(nhwc(x).shape), "data": nhwc(x).flatten().tolist()},
                         "output": {"shape": list(y.shape), "data": y.flatten().tolist()}}

    lenet = LeNet5().eval()
    randomize(lenet)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        y = lenet(x)
    save_safetensors(os.path.join(OUT, "lenet5.safetensors"), lenet.state_dict())
    io["lenet5"] = {"input": {"shape": list(nhwc(x).shape), "data": nhwc(x).flatten().tolist()},
                    "output": {"shape": list(y.shape), "data": y.flatten().tolist()}}
    with open(os.path.join(OUT, "io.json"), "w") as f:
        json.dump(io, f, separators=(",", ":"))

    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    assert total < 2_000_000, f"fixtures are {total} bytes"
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
