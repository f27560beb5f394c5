"""One bench measurement on PyTorch (2 threads): python3 bench/torch_worker.py <workload>.

Prints one JSON line, like the JavaScript workers. The models are the same as receptive's
(LeNet-5 of the notes, VGG13-CIFAR, ResNet-18 as torchvision builds it), in NCHW.
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1)
workload = sys.argv[1]
out = {"engine": "pytorch", "workload": workload, "version": torch.__version__}


def time_it(fn, min_seconds=3.0, min_iters=3, max_iters=100_000, warmup_seconds=1.0, budget=120.0):
    """As bench/common.mjs's timeIt: warm up (one call, and a second at least), then the median."""
    started = time.perf_counter()
    fn()
    while time.perf_counter() - started < warmup_seconds:
        fn()
    times = []
    t0 = time.perf_counter()
    while len(times) < max_iters and (len(times) < min_iters or time.perf_counter() - t0 < min_seconds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - started > budget:
            break
    times.sort()
    return times[len(times) // 2], len(times)


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(256, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )


def vgg13_cifar():
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    layers += [nn.Flatten(), nn.Linear(512, 256), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(256, 128), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(128, 10)]
    return nn.Sequential(*layers)


class Basic(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


def resnet18(cifar_stem=False, classes=1000):
    if cifar_stem:  # receptive's resnet18({ cifarStem: true }): a 3×3/1 stem convolution, no max pool
        layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True)]
    else:
        layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, planes in enumerate([64, 128, 256, 512]):
        for i in range(2):
            layers.append(Basic(cin, planes, 2 if i == 0 and stage > 0 else 1))
            cin = planes
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def train_speed(model, batch, shape, classes, opt=None):
    opt = opt or torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(batch, *shape)
    y = torch.arange(batch) % classes

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    s, n = time_it(step, min_seconds=5)
    return {"imagesPerSecond": batch / s, "secondsPerStep": s, "iters": n}


if workload == "W1":
    out.update(train_speed(lenet(), 128, (1, 28, 28), 10))
elif workload == "W2":
    out.update(train_speed(vgg13_cifar(), 32, (3, 32, 32), 10))
elif workload == "W6":
    model = resnet18(cifar_stem=True, classes=10).train()  # batch norm in training mode
    out["trainableParams"] = sum(p.numel() for p in model.parameters())
    # receptive counts batch norm's running mean and variance among its weights (Keras's count_params)
    out["params"] = out["trainableParams"] + sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    out.update(train_speed(model, 64, (3, 32, 32), 10, sgd))
elif workload == "W3":
    model = resnet18().eval()
    with torch.no_grad():
        for b in (1, 8):
            x = torch.randn(b, 3, 224, 224)
            s, n = time_it(lambda: model(x), min_seconds=5)
            out[f"batch{b}"] = {"ms": s * 1000, "imagesPerSecond": b / s, "iters": n}
elif workload == "W4":
    gflop = 2 * 8 * 56 * 56 * 64 * 64 * 9 / 1e9
    x = torch.randn(8, 64, 56, 56)
    w = torch.randn(64, 64, 3, 3)
    dy = torch.randn(8, 64, 56, 56)
    with torch.no_grad():
        f, _ = time_it(lambda: F.conv2d(x, w, padding=1))
        bi, _ = time_it(lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1))
        bf, _ = time_it(lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1))
    out.update({"forwardGflops": gflop / f, "backwardInputGflops": gflop / bi, "backwardFilterGflops": gflop / bf})
elif workload == "W5":
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        s, _ = time_it(lambda: a @ b)
        out[f"gflops{threads}t"] = 2 * 1024**3 / s / 1e9
    out["gflops"] = out["gflops2t"]
out["peakMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
