#!/usr/bin/env python3
"""Small CNNs exported by PyTorch's own ONNX exporter, for receptive's ONNX import.

Run:  /usr/bin/python3 test/golden/make_onnx_models.py
Writes test/fixtures/onnx/:

  <name>_opset<k>.onnx  each model below, exported in eval mode by torch.onnx.export at opsets
                        9 (11 for the one with dilated pooling), 13 and 17 (9 has Upsample and
                        a fixed batch of 2, 11 and later Resize and a symbolic batch axis; the Shape/Gather/Unsqueeze/Concat chains
                        PyTorch writes around view/flatten are in all of them);
  io.json               for each model an NCHW input (batch 2) and PyTorch's outputs.

The models are written to cover what torchvision's CNNs are made of (torchvision need not be
installed): ResNet basic blocks with downsampling, MobileNetV2 inverted residuals (ReLU6,
depthwise), MobileNetV3 pieces (hardswish, hardsigmoid squeeze-excitation), a ShuffleNet
channel shuffle, Inception's input transform (channels read by index) and its concat with ceil-mode pooling, DenseNet-style concat,
SiLU and Mish activations, nearest upsampling, a VGG/AlexNet-style head with adaptive pooling,
flatten, dropout and linear layers (global pooling as adaptive pooling); and a decoder's
resampling (reflection/replication padding, dilated max pooling, bilinear upsampling, max, min,
division and power between computed tensors). Weights and batch-norm statistics are random (not the
identity). Deterministic: torch.manual_seed(0). Fails if the fixtures pass 2 MB.
"""

import json
import os

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "onnx"))


def bn(c):
    b = nn.BatchNorm2d(c)
    with torch.no_grad():
        b.weight.uniform_(0.5, 1.5)
        b.bias.normal_(0, 0.1)
        b.running_mean.normal_(0, 0.1)
        b.running_var.uniform_(0.5, 1.5)
    return b


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNetTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), bn(8), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.layer1 = Basic(8, 8, 1)
        self.layer2 = Basic(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, act=nn.ReLU6, se=False):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = [nn.Conv2d(cin, mid, 1, bias=False), bn(mid), act(),
                  nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), bn(mid), act()]
        if se:
            layers.append(SqueezeExcite(mid))
        layers += [nn.Conv2d(mid, cout, 1, bias=False), bn(cout)]
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Conv2d(c, max(c // 4, 4), 1)
        self.fc2 = nn.Conv2d(max(c // 4, 4), c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))


class MobileNetTiny(nn.Module):
    """MobileNetV2 blocks, then MobileNetV3 ones (hardswish, squeeze-excitation)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), bn(8), nn.ReLU6())
        self.b1 = InvertedResidual(8, 8, 1, 2)
        self.b2 = InvertedResidual(8, 12, 2, 3)
        self.b3 = InvertedResidual(12, 12, 1, 2, act=nn.Hardswish, se=True)
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(12, 4))

    def forward(self, x):
        x = self.b3(self.b2(self.b1(self.stem(x))))
        return self.head(x.mean([2, 3]))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


class MixedTiny(nn.Module):
    """Inception's input transform, ShuffleNet's shuffle, Inception/DenseNet concats, SiLU, Mish,
    upsampling, a VGG head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)
        self.bn = bn(8)
        self.group = nn.Conv2d(8, 8, 3, 1, 1, groups=2, bias=False)
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b3 = nn.Sequential(nn.Conv2d(8, 4, 1), nn.SiLU(), nn.Conv2d(4, 6, 3, padding=1))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(8, 2, 1))
        self.mish = Mish()
        self.dense = nn.Sequential(bn(12), nn.ReLU(), nn.Conv2d(12, 4, 3, padding=1, bias=False))
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.avg = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.features = nn.AvgPool2d(4)
        self.classifier = nn.Sequential(nn.Linear(16 * 4, 10), nn.ReLU(), nn.Dropout(), nn.Linear(10, 3))

    def forward(self, x):
        # torchvision's Inception transform_input: each channel read by index, rescaled, joined.
        x0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        x = torch.cat((x0, x1, x2), 1)
        x = F.leaky_relu(self.bn(self.conv(x)), 0.1)
        x = channel_shuffle(self.group(x), 2)
        x = torch.cat([self.b1(x), self.b3(x), self.bp(x)], 1)
        x = self.mish(x)
        x = torch.cat([x, self.dense(x)], 1)
        x = self.pool(x)
        x = self.avg(self.up(x))
        x = self.features(x)
        return F.log_softmax(self.classifier(x.view(x.size(0), -1)), dim=1)


class ResampleTiny(nn.Module):
    """A segmentation decoder's pieces: reflection and replication padding, dilated max pooling,
    bilinear upsampling (half-pixel, aligned corners, to a size), and arithmetic between two
    computed tensors (max, min, division, power)."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d((1, 2, 2, 1))
        self.conv = nn.Conv2d(3, 6, 3)
        self.bn = bn(6)
        self.rep = nn.ReplicationPad2d(1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, dilation=2)
        self.gate = nn.Conv2d(6, 6, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = nn.Conv2d(6, 4, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(self.pad(x))))
        p = self.pool(self.rep(x))
        g = torch.sigmoid(self.gate(p)) + 0.5
        y = torch.max(p, g) / g - torch.min(p, torch.tanh(g))
        y = torch.pow(g, torch.tanh(y))
        y = self.up(y)
        y = F.interpolate(y, size=(11, 7), mode="bilinear", align_corners=True)
        return self.head(y)


# name: (class, input size, opsets). PyTorch exports dilated max pooling from opset 10 on.
MODELS = {
    "resnet_tiny": (ResNetTiny, 32, (9, 13, 17)),
    "mobilenet_tiny": (MobileNetTiny, 24, (9, 13, 17)),
    "mixed_tiny": (MixedTiny, 16, (9, 13, 17)),
    "resample_tiny": (ResampleTiny, 16, (11, 13, 17)),
}


def f32(t):
    """float32 values as JSON numbers: 9 significant digits give each one back exactly."""
    return [float(f"{v:.9g}") for v in t.flatten().tolist()]


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    io = {}
    for name, (cls, size, opsets) in MODELS.items():
        model = cls().eval()
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            y = model(x)
        io[name] = {"input": [2, 3, size, size], "x": f32(x), "y": f32(y), "y_shape": list(y.shape)}
        for opset in opsets:
            path = os.path.join(OUT, f"{name}_opset{opset}.onnx")
            torch.onnx.export(
                model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                # Opset 9 has no ceil-mode pooling of a symbolic size: those files fix batch 2.
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if opset >= 11 else None,
            )
    with open(os.path.join(OUT, "io.json"), "w") as f:
        json.dump(io, f)
    total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
    if total > 2_000_000:
        raise SystemExit(f"fixtures are {total} bytes, over 2 MB")
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
