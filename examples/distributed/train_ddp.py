#!/usr/bin/env python3
"""Continue training a receptive model under PyTorch DistributedDataParallel, and send it back.

receptive writes the model's weights with PyTorch's names and layouts (`rc.exportTorchWeights`,
or `receptive export DIR --format torch`) and the training data as a safetensors file of two
tensors, `x` [N, H, W, C] float32 (NHWC, as receptive takes images) and `y` [N] integer class
ids. The model comes one of two ways:

  --arch NAME --init FILE  PyTorch weights of a receptive zoo model (lenet5, lenet5-bn, mnist-cnn,
                           resnet18, resnet18-cifar, resnet34, resnet50, resnet101, resnet152):
                           the script builds the same network in PyTorch and loads them;
  --onnx FILE              any model receptive exported as ONNX (`rc.exportOnnx`): its graph runs
                           as a PyTorch module (onnx_net.py), its initializers the parameters.

It trains with DDP and on rank 0 writes, each atomically:

  OUT/trained.safetensors  (--arch) the trained state_dict: `rc.loadTorchWeights(model, path)`
  OUT/trained.onnx         (--onnx) the ONNX file with the trained weights: `rc.loadModel(path)`
  OUT/outputs.safetensors  `outputs`: the model's predictions (softmax, as receptive's zoo models
                           end) on the first --eval-count images of the data, in eval mode on the
                           CPU, for checking receptive's predictions with the returned weights
  OUT/report.json          what ran: ranks, backend, steps, losses, examples seen per rank

How it starts:
  - under torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT set): one process per rank,
    rendezvous env://;
  - otherwise it starts --nproc ranks itself with torch.multiprocessing.spawn and a TCP
    rendezvous on 127.0.0.1 at a free port (Debian's torch 1.13 torchrun fails under Python 3.11
    with an AttributeError in its elastic agent; spawn works there).
Backend: NCCL with one GPU per rank when CUDA is available (and --cpu is not given), else gloo
on the CPU. Only the Python standard library and torch are needed (torchvision for ResNets);
the safetensors format (u64 header size, JSON header, raw little-endian data) and ONNX's
protobuf are read and written here directly: no `safetensors`, `onnx` or `protobuf` package.

  python3 train_ddp.py --arch lenet5 --init init.safetensors --data data.safetensors \\
      --out runs/ddp --nproc 2 --steps 20
  torchrun --nnodes 4 --nproc_per_node 8 --rdzv_id job1 --rdzv_backend c10d --rdzv_endpoint head:29500 \\
      train_ddp.py --arch resnet50 ...
"""

import argparse
import datetime
import json
import os
import socket
import struct
import sys
import tempfile
import warnings

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from onnx_net import OnnxError, OnnxNet


class UsageError(Exception):
    """Bad input (a file, an option, a mismatch): printed without a traceback, exit status 2."""


# --- safetensors, both ways ------------------------------------------------------------------------

DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """{name: tensor} from a safetensors file, with clear errors for a file that is not one."""
    if sys.byteorder != "little":
        raise UsageError("safetensors data is little-endian; this reader runs on little-endian hosts only")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    if len(data) < 8:
        raise UsageError(f"{path}: {len(data)} bytes, too short to be a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise UsageError(f"{path}: the header claims {n} bytes but the file has {len(data) - 8} after the size")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise UsageError(f"{path}: the header is not JSON ({e}); is it a safetensors file?") from None
    base, out = 8 + n, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info.get("dtype") not in DTYPES:
            raise UsageError(f"{path}: tensor '{name}' has dtype {info.get('dtype')!r}; known: {', '.join(DTYPES)}")
        dtype, shape = DTYPES[info["dtype"]], info["shape"]
        start, end = info["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        if not 0 <= start <= end <= len(data) - base or end - start != count * torch.tensor([], dtype=dtype).element_size():
            raise UsageError(f"{path}: tensor '{name}' {shape} {info['dtype']} has data offsets {start}..{end} that do not fit")
        if count == 0:
            out[name] = torch.empty(shape, dtype=dtype)
        else:
            out[name] = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=dtype).reshape(shape)
    return out


def write_atomic(path, data):
    """Writes bytes to path through a temporary file in the same folder and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def safetensors_bytes(tensors, metadata=None):
    header, blobs, offset = {"__metadata__": metadata or {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        b = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


# --- receptive's zoo in PyTorch: the module names receptive's exportTorchWeights uses -------------


class Stack(nn.Module):
    """receptive's Sequential models: `features` before the Flatten, `classifier` after it."""

    def __init__(self, features, classifier):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def flat_size(features, hwc):
    with torch.no_grad():
        return features(torch.zeros(1, hwc[2], hwc[0], hwc[1])).numel()


def lenet5(hwc, num_classes):
    # Conv2D(6, 5, tanh) → AveragePooling2D(2) → Conv2D(16, 5, tanh) → AveragePooling2D(2) → 120 → 84 → n.
    f = nn.Sequential(nn.Conv2d(hwc[2], 6, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
                      nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2))
    c = nn.Sequential(nn.Linear(flat_size(f, hwc), 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
                      nn.Linear(84, num_classes))
    return Stack(f, c)


def lenet5_bn(hwc, num_classes):
    # receptive's BatchNormalization defaults: epsilon 1e-3, momentum 0.99 (PyTorch's 0.01).
    def bn(ch):
        return nn.BatchNorm2d(ch, eps=1e-3, momentum=0.01)

    f = nn.Sequential(nn.Conv2d(hwc[2], 6, 5), bn(6), nn.ReLU(), nn.AvgPool2d(2, 2),
                      nn.Conv2d(6, 16, 5), bn(16), nn.ReLU(), nn.AvgPool2d(2, 2))
    c = nn.Sequential(nn.Linear(flat_size(f, hwc), 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, num_classes))
    return Stack(f, c)


def mnist_cnn(hwc, num_classes):
    f = nn.Sequential(nn.Conv2d(hwc[2], 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(64, 64, 3), nn.ReLU())
    c = nn.Sequential(nn.Linear(flat_size(f, hwc), 64), nn.ReLU(), nn.Linear(64, num_classes))
    return Stack(f, c)


def resnet(depth, cifar_stem=False):
    def build(hwc, num_classes):
        import torchvision  # only the ResNets need it

        m = getattr(torchvision.models, f"resnet{depth}")(num_classes=num_classes)
        if cifar_stem:  # receptive's cifarStem: a 3x3/1 convolution, no max pooling
            m.conv1 = nn.Conv2d(hwc[2], 64, 3, 1, 1, bias=False)
            m.maxpool = nn.Identity()
        elif hwc[2] != 3:
            m.conv1 = nn.Conv2d(hwc[2], 64, 7, 2, 3, bias=False)
        return m

    return build


ARCHS = {
    "lenet5": lenet5,
    "lenet5-bn": lenet5_bn,
    "mnist-cnn": mnist_cnn,
    "resnet18": resnet(18), "resnet34": resnet(34), "resnet50": resnet(50),
    "resnet101": resnet(101), "resnet152": resnet(152), "resnet18-cifar": resnet(18, cifar_stem=True),
}


# --- inputs ----------------------------------------------------------------------------------------


def load_inputs(args):
    """The images in the model's layout, int64 labels, and the model with its initial weights, checked."""
    data = read_safetensors(args.data)
    if "x" not in data or "y" not in data:
        raise UsageError(f"{args.data}: needs tensors 'x' [N, H, W, C] and 'y' [N]; it has {', '.join(data) or 'none'}")
    x, y = data["x"], data["y"]
    if x.dim() != 4 or not x.is_floating_point():
        raise UsageError(f"{args.data}: 'x' must be float images [N, H, W, C] (NHWC), got {list(x.shape)} {x.dtype}")
    if y.dim() != 1 or y.is_floating_point() or y.shape[0] != x.shape[0]:
        raise UsageError(f"{args.data}: 'y' must be {x.shape[0]} integer class ids, got {list(y.shape)} {y.dtype}")
    if args.onnx:
        return load_onnx(args, x, y)
    init = read_safetensors(args.init)
    head = [k for k in init if k.endswith(".weight") and init[k].dim() == 2]
    if not head:
        raise UsageError(f"{args.init}: no linear layer weight found; is it a receptive model's PyTorch export?")
    num_classes = init[head[-1]].shape[0]
    y = check_labels(args, y, num_classes)
    hwc = list(x.shape[1:])
    model = ARCHS[args.arch](hwc, num_classes)
    try:
        model.load_state_dict(init, strict=True)
    except RuntimeError as e:
        raise UsageError(f"{args.init} does not fit --arch {args.arch} on {hwc} images: {e}. "
                         "Give the receptive zoo name the model was built with.") from None
    return x.float().permute(0, 3, 1, 2).contiguous(), y, model


def check_labels(args, y, num_classes):
    y = y.long()
    if y.numel() and (y.min() < 0 or y.max() >= num_classes):
        raise UsageError(f"{args.data}: labels must lie in [0, {num_classes}) for this model's {num_classes} outputs, "
                         f"found {int(y.min())}..{int(y.max())}")
    return y


def load_onnx(args, x, y):
    """An ONNX model (receptive's exportOnnx takes NHWC images; one from PyTorch NCHW) as a module."""
    try:
        with open(args.onnx, "rb") as f:
            model = OnnxNet(f.read(), args.onnx)
    except OSError as e:
        raise UsageError(f"cannot read {args.onnx}: {e.strerror}") from None
    except OnnxError as e:
        raise UsageError(str(e)) from None
    dims, nhwc = model.input_dims, list(x.shape[1:])
    nchw = [nhwc[2], nhwc[0], nhwc[1]]

    def fits(want):
        return len(dims) == 4 and all(d is None or d == e for d, e in zip(dims[1:], want))

    if not fits(nhwc):
        if not fits(nchw):
            raise UsageError(f"{args.onnx} takes images {dims}, the data's are {nhwc} (NHWC)")
        x = x.permute(0, 3, 1, 2)  # an NCHW graph (PyTorch's exporter)
    model.eval()
    try:
        with torch.no_grad():
            num_classes = model(x[:1].float()).shape[-1]
    except OnnxError as e:
        raise UsageError(str(e)) from None
    return x.float().contiguous(), check_labels(args, y, num_classes), model


# --- one rank ----------------------------------------------------------------------------------------


def run_rank(rank, world, local_rank, args):
    # A weight with one input channel has two valid stride layouts; DDP's notice about it is noise.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    use_cuda = torch.cuda.is_available() and not args.cpu
    backend = "nccl" if use_cuda else "gloo"
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    else:  # ranks on one machine share its cores
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", world)))))
    timeout = datetime.timedelta(seconds=args.timeout)
    if args.init_method:
        dist.init_process_group(backend, init_method=args.init_method, rank=rank, world_size=world, timeout=timeout)
    else:
        dist.init_process_group(backend, init_method="env://", timeout=timeout)
    try:
        train(rank, world, device, backend, args)
    finally:
        dist.destroy_process_group()


def train(rank, world, device, backend, args):
    torch.manual_seed(args.seed)
    x, y, model = load_inputs(args)
    model.to(device)
    net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    is_onnx = isinstance(model, OnnxNet)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    if len(loader) == 0:
        raise UsageError(f"{len(data)} examples over {world} ranks give no full batch of {args.batch_size}; "
                         "lower --batch-size or give more data")
    if args.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    steps, losses, seen = 0, [], 0
    net.train()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            if args.steps is not None and steps >= args.steps:
                break
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            # An ONNX graph that ends in Softmax gives the loss its input (the logits).
            loss = F.cross_entropy(net(xb, logits=True) if is_onnx else net(xb), yb)
            loss.backward()  # DDP averages the gradients over the ranks here
            opt.step()
            # The mean loss over all ranks, for the log.
            total = loss.detach().clone()
            dist.all_reduce(total)
            losses.append(total.item() / world)
            steps += 1
            seen += len(yb)
            if rank == 0 and (steps == 1 or steps % args.log_every == 0):
                print(f"step {steps}: loss {losses[-1]:.5f}", flush=True)
    counts = torch.tensor([seen], dtype=torch.int64, device=device)
    gathered = [torch.zeros_like(counts) for _ in range(world)]
    dist.all_gather(gathered, counts)
    if rank == 0:
        finish(model, x, args, {
            "arch": args.arch or "onnx", "worldSize": world, "backend": backend, "device": str(device),
            "steps": steps, "losses": losses, "examplesPerRank": [int(c.item()) for c in gathered],
            "torch": torch.__version__,
        })
    dist.barrier()


def finish(model, x, args, report):
    """Rank 0: the trained weights, the predictions on the first images (CPU, eval mode), the report."""
    model = model.cpu().eval()
    with torch.no_grad():
        outputs = model(x[:args.eval_count])
    if isinstance(model, OnnxNet):
        write_atomic(os.path.join(args.out, "trained.onnx"), model.onnx_bytes())
    else:  # the zoo twins end with logits; receptive's models with a softmax
        outputs = torch.softmax(outputs, dim=1)
        state = {k: v.float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
        write_atomic(os.path.join(args.out, "trained.safetensors"), safetensors_bytes(state))
    write_atomic(os.path.join(args.out, "outputs.safetensors"), safetensors_bytes({"outputs": outputs}))
    write_atomic(os.path.join(args.out, "report.json"), (json.dumps(report, indent=1) + "\n").encode())
    weights = "trained.onnx" if isinstance(model, OnnxNet) else "trained.safetensors"
    print(f"wrote {args.out}: {weights}, outputs.safetensors, report.json "
          f"({report['steps']} steps on {report['worldSize']} ranks, {report['backend']})", flush=True)


def spawned(index, world, port, args):
    """A rank started by mp.spawn: the TCP rendezvous on 127.0.0.1."""
    args.init_method = f"tcp://127.0.0.1:{port}"
    try:
        run_rank(index, world, index, args)
    except UsageError as e:
        print(f"train_ddp.py (rank {index}): {e}", file=sys.stderr, flush=True)
        sys.exit(2)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", choices=sorted(ARCHS), help="the receptive zoo model the weights belong to")
    p.add_argument("--init", help="the weights: rc.exportTorchWeights / `receptive export --format torch`")
    p.add_argument("--onnx", help="instead of --arch and --init: the model as ONNX (rc.exportOnnx), any architecture")
    p.add_argument("--data", required=True, help="safetensors with x [N, H, W, C] float32 and y [N] class ids")
    p.add_argument("--out", required=True, help="folder for trained.safetensors, outputs.safetensors, report.json")
    p.add_argument("--nproc", type=int, default=None,
                   help="ranks to start here without torchrun (default: the GPUs, or 2 on the CPU)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps (all epochs together)")
    p.add_argument("--batch-size", type=int, default=32, help="per rank")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-count", type=int, default=8, help="images whose predictions go to outputs.safetensors")
    p.add_argument("--cpu", action="store_true", help="gloo on the CPU even where CUDA is available")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the other ranks")
    p.add_argument("--log-every", type=int, default=10)
    args = p.parse_args(argv)
    if bool(args.onnx) == bool(args.arch or args.init) or (not args.onnx and not (args.arch and args.init)):
        p.error("give either --arch and --init (PyTorch weights of a zoo model) or --onnx (an ONNX model)")
    for name in ("epochs", "batch_size", "eval_count", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.steps is not None and args.steps < 0:
        p.error("--steps must be 0 or more")
    if args.nproc is not None and args.nproc < 1:
        p.error("--nproc must be at least 1")
    if not args.lr > 0:
        p.error("--lr must be positive")
    args.init_method = None
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        load_inputs(args)  # fail here, once, before any rank starts
        if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # torchrun (or any env:// launcher)
            rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
            run_rank(rank, world, int(os.environ.get("LOCAL_RANK", 0)), args)
            return 0
    except UsageError as e:
        print(f"train_ddp.py: {e}", file=sys.stderr)
        return 2
    use_cuda = torch.cuda.is_available() and not args.cpu
    world = args.nproc or (torch.cuda.device_count() if use_cuda else 2)
    if use_cuda and world > torch.cuda.device_count():
        print(f"train_ddp.py: --nproc {world} but {torch.cuda.device_count()} GPUs; use --cpu for gloo ranks", file=sys.stderr)
        return 2
    try:
        mp.spawn(spawned, args=(world, free_port(), args), nprocs=world, join=True)
    except mp.ProcessExitedException as e:
        print(f"train_ddp.py: a rank stopped ({e})", file=sys.stderr)
        return 2 if e.exit_code == 2 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
