"""An ONNX model as a trainable PyTorch module, and the ONNX file again with the trained weights.

train_ddp.py --onnx uses this for a model receptive exported with `rc.exportOnnx` (or
`receptive export DIR --format onnx`): any architecture, no PyTorch twin needed. The float
initializers become parameters (batch-norm means and variances buffers); the nodes run as
torch.nn.functional calls, so autograd and DDP see an ordinary module. `onnx_bytes` writes the
original file back with only the initializers' values replaced, which receptive reads with
`rc.loadModel('trained.onnx')`. Neither the `onnx` nor the `protobuf` package is needed: the
protobuf wire format (varints and length-delimited fields) is read and written here.

Operators: those receptive's exporter writes for CNNs (Conv, ConvTranspose, BatchNormalization,
Gemm, MatMul, the activations, pooling, Add/Sub/Mul/Div/Min/Max, Concat, Flatten, Reshape,
Transpose, Pad, LRN, ReduceMean/ReduceMax, Unsqueeze, Identity, Dropout, Constant). Another is
an error naming it. Batch normalization trains with ONNX's momentum attribute (0.9 when absent:
PyTorch's 0.1).
"""

import struct

import torch
import torch.nn.functional as F
from torch import nn


class OnnxError(Exception):
    """A file this module cannot read or run (its message names the node and operator)."""


# --- protobuf wire format ---------------------------------------------------------------------------


def _varint(b, i):
    r = s = 0
    while True:
        if i >= len(b):
            raise OnnxError("truncated protobuf (a varint runs past the end)")
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b):
    """[(field number, wire type, value)]: ints for varints, bytes otherwise."""
    i, out = 0, []
    while i < len(b):
        key, i = _varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = _varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise OnnxError(f"unsupported protobuf wire type {w}: is this an ONNX file?")
        if i > len(b):
            raise OnnxError("truncated protobuf (a field runs past the end)")
        out.append((f, w, v))
    return out


def _enc_varint(n):
    out = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        out.append(c | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _enc_field(f, w, v):
    key = _enc_varint((f << 3) | w)
    if w == 0:
        return key + _enc_varint(v)
    if w == 2:
        return key + _enc_varint(len(v)) + v
    return key + v


def _packed_ints(fields, number):
    vals = []
    for f, w, v in fields:
        if f != number:
            continue
        if w == 0:
            vals.append(v)
        else:  # packed
            i = 0
            while i < len(v):
                x, i = _varint(v, i)
                vals.append(x)
    return [x - (1 << 64) if x >= 1 << 63 else x for x in vals]


def _packed_floats(fields, number):
    out = []
    for f, w, v in fields:
        if f == number:
            out += struct.unpack(f"<{len(v) // 4}f", v) if w == 2 else struct.unpack("<f", v)
    return out


# TensorProto data types and the torch dtypes they read as.
_TYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 11: torch.float64, 9: torch.bool}


def _tensor(b):
    """(name, tensor) of a TensorProto."""
    fs = _fields(b)
    dims = _packed_ints(fs, 1)
    dtype_code = next((v for f, _, v in fs if f == 2), 1)
    name = next((v.decode() for f, _, v in fs if f == 8), "")
    raw = next((v for f, _, v in fs if f == 9), None)
    if dtype_code not in _TYPES:
        raise OnnxError(f"tensor '{name}' has ONNX data type {dtype_code}; known: {sorted(_TYPES)}")
    dtype = _TYPES[dtype_code]
    if raw is not None:
        t = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)
    elif dtype_code == 1:
        t = torch.tensor(_packed_floats(fs, 4), dtype=dtype)
    elif dtype_code in (6, 9):
        t = torch.tensor(_packed_ints(fs, 5), dtype=dtype)
    elif dtype_code == 7:
        t = torch.tensor(_packed_ints(fs, 7), dtype=dtype)
    else:
        t = torch.tensor(struct.unpack(f"<{len(raw or b'') // 8}d", raw or b""), dtype=dtype)
    return name, t.reshape(dims).clone()


def _attribute(b):
    fs = _fields(b)
    name = next(v.decode() for f, _, v in fs if f == 1)
    kind = next((v for f, _, v in fs if f == 20), 0)
    if kind == 1:
        return name, struct.unpack("<f", next(v for f, _, v in fs if f == 2))[0]
    if kind == 2:
        v = _packed_ints(fs, 3)
        return name, v[0] if v else 0
    if kind == 3:
        return name, next(v for f, _, v in fs if f == 4).decode()
    if kind == 4:
        return name, _tensor(next(v for f, _, v in fs if f == 5))[1]
    if kind == 6:
        return name, _packed_floats(fs, 7)
    if kind == 7:
        return name, _packed_ints(fs, 8)
    return name, None


class Node:
    def __init__(self, b):
        fs = _fields(b)
        self.inputs = [v.decode() for f, _, v in fs if f == 1]
        self.outputs = [v.decode() for f, _, v in fs if f == 2]
        self.name = next((v.decode() for f, _, v in fs if f == 3), "")
        self.op = next(v.decode() for f, _, v in fs if f == 4)
        self.attrs = dict(_attribute(v) for f, _, v in fs if f == 5)

    def __str__(self):
        return f"node '{self.name or self.outputs[0]}' ({self.op})"


def _value_names(fs, number):
    return [next(v.decode() for ff, _, v in _fields(b) if ff == 1) for f, _, b in fs if f == number]


def _dims(graph_fields, name):
    """The declared shape of a graph input (None for a symbolic or missing size)."""
    for f, _, b in graph_fields:
        if f != 11:
            continue
        vi = _fields(b)
        if next(v.decode() for ff, _, v in vi if ff == 1) != name:
            continue
        ttype = next((v for ff, _, v in _fields(next((v for ff, _, v in vi if ff == 2), b"")) if ff == 1), b"")
        shape = next((v for ff, _, v in _fields(ttype) if ff == 2), b"")
        return [next((v for ff, w, v in _fields(d) if ff == 1 and w == 0), None) for ff, _, d in _fields(shape) if ff == 1]
    return []


# --- running the graph --------------------------------------------------------------------------------


def _safe(name):
    return "w_" + "".join(c if c.isalnum() else "_" for c in name)


def _pads2d(pads):
    """ONNX pads [top, left, bottom, right] → F.pad's (left, right, top, bottom)."""
    t, l, b, r = pads
    return (l, r, t, b)


class OnnxNet(nn.Module):
    """The graph of an ONNX model (bytes) as a module: float initializers are its parameters."""

    SUPPORTED = sorted("""Conv ConvTranspose BatchNormalization Gemm MatMul Relu Tanh Sigmoid LeakyRelu
        Elu Softplus HardSigmoid HardSwish Clip PRelu Softmax LogSoftmax Add Sub Mul Div Min Max Concat
        Flatten Reshape Transpose Pad LRN ReduceMean ReduceMax Unsqueeze Identity Dropout Constant
        MaxPool AveragePool GlobalAveragePool GlobalMaxPool""".split())

    def __init__(self, data, where="model.onnx"):
        super().__init__()
        self.where = where
        self.data = bytes(data)
        try:
            model = _fields(self.data)
            graphs = [v for f, _, v in model if f == 7]
            if not graphs:
                raise OnnxError("no graph (is it an ONNX model?)")
            g = _fields(graphs[0])
            self.nodes = [Node(v) for f, _, v in g if f == 1]
            inits = dict(_tensor(v) for f, _, v in g if f == 5)
            inputs = [n for n in _value_names(g, 11) if n not in inits]
            self.input_name = inputs[0]
            self.input_dims = _dims(g, self.input_name)
            self.output_name = _value_names(g, 12)[0]
        except (OnnxError, StopIteration, IndexError, ValueError, struct.error, UnicodeDecodeError) as e:
            raise OnnxError(f"{where}: not an ONNX model this reader understands ({e or type(e).__name__})") from None
        if len(inputs) != 1:
            raise OnnxError(f"{where}: the graph has {len(inputs)} inputs ({', '.join(inputs)}); one image input is supported")
        for n in self.nodes:
            if n.op not in self.SUPPORTED:
                raise OnnxError(f"{where}: {n} is not supported here; supported: {', '.join(self.SUPPORTED)}")
        stats = {n.inputs[i] for n in self.nodes if n.op == "BatchNormalization" for i in (3, 4)}
        self.names = {}  # initializer name → attribute name
        for name, t in inits.items():
            key = _safe(name)
            while hasattr(self, key):
                key += "_"
            self.names[name] = key
            if t.is_floating_point() and name not in stats:
                self.register_parameter(key, nn.Parameter(t.float()))
            else:
                self.register_buffer(key, t)

    def initializers(self):
        """{initializer name: its current value}."""
        return {name: getattr(self, key) for name, key in self.names.items()}

    def forward(self, x, logits=False):
        """The graph's output; with logits=True, the input of a final Softmax (for the loss)."""
        self._device = x.device  # where Constant nodes' values go
        env = {self.input_name: x}
        env.update(self.initializers())
        for n in self.nodes:
            if logits and n.op == "Softmax" and n.outputs[0] == self.output_name:
                return env[n.inputs[0]]
            args = [env[i] if i else None for i in n.inputs]
            try:
                out = self._run(n, args)
            except (RuntimeError, ValueError, TypeError, KeyError, IndexError) as e:
                raise OnnxError(f"{self.where}: {n} failed: {e}") from None
            env[n.outputs[0]] = out
        return env[self.output_name]

    def _run(self, n, a):
        at, op = n.attrs, n.op
        x = a[0] if a else None
        if op == "Conv" or op == "ConvTranspose":
            if at.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
                raise ValueError(f"auto_pad {at['auto_pad']} (explicit pads are supported)")
            pads = at.get("pads", [0, 0, 0, 0])
            stride, dil, groups = at.get("strides", [1, 1]), at.get("dilations", [1, 1]), at.get("group", 1)
            if op == "Conv":
                return F.conv2d(F.pad(x, _pads2d(pads)), a[1], a[2] if len(a) > 2 else None, stride, 0, dil, groups)
            y = F.conv_transpose2d(x, a[1], a[2] if len(a) > 2 else None, stride, 0,
                                   at.get("output_padding", [0, 0]), groups, dil)
            t, l, b, r = pads
            return y[:, :, t:y.shape[2] - b, l:y.shape[3] - r]
        if op == "BatchNormalization":
            momentum = 1 - at.get("momentum", 0.9)
            return F.batch_norm(x, a[3], a[4], a[1], a[2], self.training, momentum, at.get("epsilon", 1e-5))
        if op == "Gemm":
            A = a[0].t() if at.get("transA", 0) else a[0]
            B = a[1].t() if at.get("transB", 0) else a[1]
            y = at.get("alpha", 1.0) * (A @ B)
            return y + at.get("beta", 1.0) * a[2] if len(a) > 2 and a[2] is not None else y
        if op == "MatMul":
            return torch.matmul(a[0], a[1])
        simple = {"Relu": F.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid, "Softplus": F.softplus,
                  "HardSwish": F.hardswish, "Identity": lambda v: v}
        if op in simple:
            return simple[op](x)
        if op == "LeakyRelu":
            return F.leaky_relu(x, at.get("alpha", 0.01))
        if op == "Elu":
            return F.elu(x, at.get("alpha", 1.0))
        if op == "HardSigmoid":
            return torch.clamp(at.get("alpha", 0.2) * x + at.get("beta", 0.5), 0, 1)
        if op == "Clip":
            lo = a[1] if len(a) > 1 and a[1] is not None else at.get("min")
            hi = a[2] if len(a) > 2 and a[2] is not None else at.get("max")
            return torch.clamp(x, None if lo is None else float(lo), None if hi is None else float(hi))
        if op == "PRelu":
            return torch.where(x >= 0, x, x * a[1])
        if op in ("Softmax", "LogSoftmax"):
            axis = at.get("axis", -1)
            return F.softmax(x, axis) if op == "Softmax" else F.log_softmax(x, axis)
        binary = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div,
                  "Min": torch.minimum, "Max": torch.maximum}
        if op in binary:
            y = a[0]
            for b in a[1:]:
                y = binary[op](y, b)
            return y
        if op == "Concat":
            return torch.cat(a, at["axis"])
        if op == "Flatten":
            axis = at.get("axis", 1)
            return x.reshape(int(torch.tensor(x.shape[:axis]).prod()), -1)
        if op == "Reshape":
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(a[1].tolist())]
            return x.reshape(shape)
        if op == "Transpose":
            return x.permute(at.get("perm", list(range(x.dim() - 1, -1, -1))))
        if op == "Unsqueeze":
            axes = at.get("axes") if "axes" in at else a[1].tolist()
            for ax in sorted(d % (x.dim() + len(axes)) for d in axes):
                x = x.unsqueeze(ax)
            return x
        if op == "Pad":
            pads = at.get("pads") if "pads" in at else a[1].tolist()
            value = float(a[2]) if len(a) > 2 and a[2] is not None else at.get("value", 0.0)
            if at.get("mode", "constant") != "constant" or len(pads) != 8 or any(pads[:2]) or any(pads[4:6]):
                raise ValueError("only constant padding of the two spatial axes is supported")
            return F.pad(x, (pads[3], pads[7], pads[2], pads[6]), value=value)
        if op == "LRN":
            return F.local_response_norm(x, at["size"], at.get("alpha", 1e-4), at.get("beta", 0.75), at.get("bias", 1.0))
        if op in ("ReduceMean", "ReduceMax"):
            axes = at.get("axes") if "axes" in at else (a[1].tolist() if len(a) > 1 else list(range(x.dim())))
            keep = bool(at.get("keepdims", 1))
            if op == "ReduceMean":
                return x.mean(dim=axes, keepdim=keep)
            for ax in sorted((d % x.dim() for d in axes), reverse=True):
                x = x.amax(dim=ax, keepdim=keep)
            return x
        if op == "Dropout":
            return F.dropout(x, at.get("ratio", 0.5), self.training)
        if op == "Constant":
            return at["value"].to(self._device)
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            return x.mean((2, 3), keepdim=True) if op == "GlobalAveragePool" else x.amax((2, 3), keepdim=True)
        if op in ("MaxPool", "AveragePool"):
            if at.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
                raise ValueError(f"auto_pad {at['auto_pad']} (explicit pads are supported)")
            k, s = at["kernel_shape"], at.get("strides", [1, 1])
            pads, ceil = at.get("pads", [0, 0, 0, 0]), bool(at.get("ceil_mode", 0))
            if op == "MaxPool":
                return F.max_pool2d(F.pad(x, _pads2d(pads), value=float("-inf")), k, s, 0,
                                    at.get("dilations", [1, 1]), ceil)
            if at.get("count_include_pad", 0) or not any(pads):
                return F.avg_pool2d(F.pad(x, _pads2d(pads)), k, s, 0, ceil, True)
            # Divide by the real pixels in each window: pool the padded sum and a padded mask alike.
            total = F.avg_pool2d(F.pad(x, _pads2d(pads)), k, s, 0, ceil, True)
            ones = torch.ones_like(x[:1, :1])
            share = F.avg_pool2d(F.pad(ones, _pads2d(pads)), k, s, 0, ceil, True)
            return total / share
        raise ValueError("unsupported")  # SUPPORTED lists every branch above

    def onnx_bytes(self):
        """The original file with the initializers' current values (as raw little-endian data)."""
        values = {name: t.detach().cpu().contiguous() for name, t in self.initializers().items()}
        graph_out = bytearray()
        model = _fields(self.data)
        graph = _fields(next(v for f, _, v in model if f == 7))
        for f, w, v in graph:
            if f == 5:
                name = next(x.decode() for ff, _, x in _fields(v) if ff == 8)
                t = values[name]
                code = {torch.float32: 1, torch.int32: 6, torch.int64: 7, torch.float64: 11, torch.bool: 9}[t.dtype]
                tb = b"".join(_enc_field(1, 0, d) for d in t.shape) + _enc_field(2, 0, code)
                tb += _enc_field(8, 2, name.encode()) + _enc_field(9, 2, t.numpy().tobytes())
                v = tb
            graph_out += _enc_field(f, w, v)
        out = bytearray()
        for f, w, v in model:
            out += _enc_field(f, w, bytes(graph_out) if f == 7 else v)
        return bytes(out)
