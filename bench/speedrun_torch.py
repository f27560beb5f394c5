"""The PyTorch twin of rc.recipes.cifarSpeedrun (airbench94's recipe), for `npm run bench -- --only speedrun`.

    /usr/bin/python3 bench/speedrun_torch.py DIR [--epochs E] [--batch-size B] [--threads T]
    /usr/bin/python3 bench/speedrun_torch.py --count

DIR holds the decoded data that receptive trains on (bench/speedrun.mjs writes it):
train_images.u8 and test_images.u8 ([n, 32, 32, 3] bytes, NHWC), train_labels.i32 and
test_labels.i32 (little-endian int32). The same network, initialization, hyperparameters,
schedules, augmentation and test-time augmentation as src/recipes/cifar_speedrun.ts, float32 on
the CPU. Prints one JSON line per epoch and a last one with the test accuracy.
--count prints the network's parameter counts (test/recipes pins receptive's against them).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.4914, 0.4822, 0.4465])
STD = torch.tensor([0.247, 0.2435, 0.2616])
HYP = dict(epochs=9.9, batch_size=1024, lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64.0,
           label_smoothing=0.2, whiten_bias_epochs=3, translate=2, widths=(64, 256, 256),
           whitening_images=5000, bn_momentum=0.6, scale=1 / 9)


class BatchNorm(nn.BatchNorm2d):
    """BatchNorm with the scale frozen at one; PyTorch's momentum is 1 − receptive's (0.6)."""

    def __init__(self, c):
        super().__init__(c, eps=1e-12, momentum=1 - HYP["bn_momentum"])
        self.weight.requires_grad = False


class Conv(nn.Conv2d):
    """3×3 'same' convolution without bias, the first min(in, out) filters the identity."""

    def __init__(self, cin, cout):
        super().__init__(cin, cout, kernel_size=3, padding="same", bias=False)
        w = self.weight.data
        torch.nn.init.dirac_(w[: min(cin, cout)])


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = Conv(cin, cout)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = BatchNorm(cout)
        self.conv2 = Conv(cout, cout)
        self.norm2 = BatchNorm(cout)

    def forward(self, x):
        x = F.gelu(self.norm1(self.pool(self.conv1(x))))
        return F.gelu(self.norm2(self.conv2(x)))


class Net(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        w = HYP["widths"]
        self.whiten = nn.Conv2d(3, 24, kernel_size=2, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        self.whiten.bias.data.zero_()
        self.blocks = nn.Sequential(Block(24, w[0]), Block(w[0], w[1]), Block(w[1], w[2]))
        self.head = nn.Linear(w[2], classes, bias=False)

    def forward(self, x):
        x = self.blocks(F.gelu(self.whiten(x)))
        x = F.max_pool2d(x, 3).flatten(1)
        return self.head(x) * HYP["scale"]


def whiten_init(conv, images, eps=5e-4):
    """Eigenvectors of the 2×2 patch covariance, scaled by 1/√(λ + eps), and their negatives."""
    c, h, w = images.shape[1], 2, 2
    patches = images.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c, h, w).double()
    flat = patches.reshape(len(patches), -1)
    cov = flat.T @ flat / len(flat)
    values, vectors = torch.linalg.eigh(cov)
    values, vectors = values.flip(0), vectors.T.flip(0).reshape(-1, c, h, w)
    scaled = vectors / torch.sqrt(values.clamp(min=0) + eps).view(-1, 1, 1, 1)
    conv.weight.data[:] = torch.cat((scaled, -scaled)).float()


def counts():
    net = Net()
    params = list(net.named_parameters())
    return {
        "total": sum(p.numel() for _, p in params),
        "trainable": sum(p.numel() for _, p in params if p.requires_grad),
        "whitenFilters": net.whiten.weight.numel(),
        "batchNormScales": sum(p.numel() for k, p in params if "norm" in k and k.endswith("weight")),
    }


def load(d, split):
    x = np.fromfile(os.path.join(d, f"{split}_images.u8"), dtype=np.uint8)
    y = np.fromfile(os.path.join(d, f"{split}_labels.i32"), dtype="<i4")
    x = torch.from_numpy(x.reshape(len(y), 32, 32, 3)).permute(0, 3, 1, 2).float() / 255
    return ((x - MEAN.view(1, 3, 1, 1)) / STD.view(1, 3, 1, 1)).contiguous(), torch.from_numpy(y).long()


def spread(n, count):
    """The indices receptive's spread(set, count) takes."""
    return [(i * n) // count for i in range(count)] if count < n else list(range(n))


def translate(images, pad):
    """Each image moved by up to `pad` pixels along each axis, reflect padding (airbench's crop)."""
    if pad == 0:
        return images
    n, _, h, w = images.shape
    padded = F.pad(images, (pad,) * 4, "reflect")
    shifts = torch.randint(-pad, pad + 1, (n, 2))
    out = torch.empty_like(images)
    for sy in range(-pad, pad + 1):
        for sx in range(-pad, pad + 1):
            m = (shifts[:, 0] == sy) & (shifts[:, 1] == sx)
            out[m] = padded[m, :, pad + sy:pad + sy + h, pad + sx:pad + sx + w]
    return out


def tta_logits(net, x):
    """airbench's flipTranslate: ½ mirror-mean of the image, ¼ of each one-pixel diagonal move."""
    def mirror(v):
        return 0.5 * net(v) + 0.5 * net(v.flip(-1))
    padded = F.pad(x, (1,) * 4, "reflect")
    h, w = x.shape[-2:]
    moved = [padded[:, :, 0:h, 0:w], padded[:, :, 2:h + 2, 2:w + 2]]
    return 0.5 * mirror(x) + 0.25 * mirror(moved[0]) + 0.25 * mirror(moved[1])


def main():
    args = sys.argv[1:]
    if args and args[0] == "--count":
        print(json.dumps(counts()))
        return
    d = args[0]
    opt = lambda name, default: type(default)(args[args.index(name) + 1]) if name in args else default
    epochs = opt("--epochs", HYP["epochs"])
    batch = opt("--batch-size", HYP["batch_size"])
    threads = opt("--threads", 2)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    start = time.perf_counter()
    xtr, ytr = load(d, "train")
    xte, yte = load(d, "test")
    net = Net()
    whiten_init(net.whiten, xtr[spread(len(xtr), HYP["whitening_images"])])

    momentum = HYP["momentum"]
    lr = HYP["lr"] * batch / 1024 / (1 + 1 / (1 - momentum))  # mean loss over the batch
    wd = HYP["weight_decay"] / HYP["lr"]
    norm_biases = [p for k, p in net.named_parameters() if "norm" in k and p.requires_grad]
    others = [p for k, p in net.named_parameters() if "norm" not in k and p.requires_grad]
    s = HYP["bias_scaler"]
    optimizer = torch.optim.SGD([dict(params=norm_biases, lr=lr * s, weight_decay=wd / s),
                                 dict(params=others, lr=lr, weight_decay=wd)],
                                momentum=momentum, nesterov=True)
    steps_per_epoch = len(xtr) // batch
    total = math.ceil(steps_per_epoch * epochs)
    warm = int(total * 0.23)

    def factor(t):
        t = min(t, total)
        return 0.2 + 0.8 * t / warm if t < warm else 1 - 0.93 * (t - warm) / max(1, total - warm)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    trainable = [p for p in net.parameters() if p.requires_grad]
    slow = [p.detach().clone() for p in trainable]
    # BatchNorm's moving statistics are averaged too, as airbench's Lookahead averages the state.
    stats = [b for n, b in net.named_buffers() if n.endswith(("running_mean", "running_var"))]
    slow_stats = [b.detach().clone() for b in stats]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=HYP["label_smoothing"])
    # Alternating flip: a random phase per image, mirrored on alternate epochs.
    phase = torch.rand(len(xtr)) < 0.5
    steps = 0
    epoch_times = []
    for epoch in range(math.ceil(epochs)):
        t0 = time.perf_counter()
        net.whiten.bias.requires_grad = epoch < HYP["whiten_bias_epochs"]
        flip = phase ^ (epoch % 2 == 1)
        images = torch.where(flip.view(-1, 1, 1, 1), xtr.flip(-1), xtr)
        order = torch.randperm(len(xtr))
        net.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            x = translate(images[idx], HYP["translate"])
            y = ytr[idx]
            out = net(x)
            loss = loss_fn(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            steps += 1
            loss_sum += loss.item()
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
            if steps % 5 == 0:
                alpha = 1 - 0.95 ** 5 * min(1.0, steps / total) ** 3
                with torch.no_grad():
                    for p, q in zip(trainable, slow):
                        if p.requires_grad:
                            q.add_(p - q, alpha=alpha)
                            p.copy_(q)
                    for b, q in zip(stats, slow_stats):
                        q.add_(b - q, alpha=alpha)
                        b.copy_(q)
            if steps >= total:
                break
        seconds = time.perf_counter() - t0
        epoch_times.append(seconds)
        print(json.dumps(dict(engine="pytorch", epoch=epoch, steps=steps, loss=loss_sum / max(1, i + 1),
                              accuracy=correct / max(1, seen), epochSeconds=seconds)), flush=True)
        if steps >= total:
            break
    with torch.no_grad():
        for p, q in zip(trainable + stats, slow + slow_stats):
            p.copy_(q)
    train_seconds = time.perf_counter() - start
    net.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        logits = torch.cat([tta_logits(net, xte[i:i + 500]) for i in range(0, len(xte), 500)])
    acc = (logits.argmax(1) == yte).float().mean().item()
    print(json.dumps(dict(engine="pytorch", version=torch.__version__, threads=threads, steps=steps,
                          epochSeconds=epoch_times, trainSeconds=train_seconds,
                          evalSeconds=time.perf_counter() - t0, accuracy=acc)), flush=True)


if __name__ == "__main__":
    main()
