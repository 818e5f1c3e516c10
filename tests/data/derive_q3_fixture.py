"""Derive tests/data/q3_architectures.json from real PyTorch modules.

This script documents how the Q3 (CNN output shapes / parameter counts)
fixture was produced.  Every expected value is *measured*, not computed by
hand: each layer string is parsed, the matching torch module is built, a batch
of one all-zero NCHW tensor is pushed through it, the output shape is read off
(and converted to the grader's channels-last (H, W, C) convention) and the
parameters are counted with ``p.numel()``.

Conventions (mirroring the grader's spec):

* shapes are (H, W, C) for 3-D tensors, (N,) after Flatten / a 1-D Dense;
* ``params`` is the Keras "Param #": trainable + non-trainable.  For BatchNorm
  the trainable part is gamma+beta (2C) and the non-trainable part is
  running_mean+running_var (2C); torch's ``num_batches_tracked`` is ignored;
* ``Flatten()`` flattens in H, W, C order (Keras order);
* ``Dense``/``Linear`` on a 3-D input acts on the last (channel) axis;
* ``GAP()`` keeps dims -> (1, 1, C);
* ``padding=same`` on a conv: for stride 1 the torch module is built with
  ``padding='same'``.  PyTorch rejects 'same' with stride > 1, so there the
  Keras/TensorFlow rule is used (out = ceil(H / stride), total padding
  max((out-1)*s + d*(k-1) + 1 - H, 0), the odd extra pixel at the bottom /
  right), realised in torch as ``ZeroPad2d`` + a valid conv, checked against
  ceil(H / stride), and the architecture is marked ``"source": "keras-formula"``.

Usage (torch is deliberately not a project dependency):

    /tmp/torchvenv/bin/python tests/data/derive_q3_fixture.py          # write fixture
    /tmp/torchvenv/bin/python tests/data/derive_q3_fixture.py --check  # compare only

Without torch the script prints a short message and exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "q3_architectures.json"

# ---------------------------------------------------------------------------
# The architectures.  (name, input [H, W, C], layer strings)
# ---------------------------------------------------------------------------
ARCHITECTURES: list[tuple[str, list[int], list[str]]] = [
    # The homework question itself comes first.
    ("homework7", [128, 128, 3], [
        "Conv(64, (5,5), 2)", "Conv(64, (3,3), 2)", "Max-Pool(3*3)",
    ]),
    ("lenet5", [32, 32, 1], [
        "Conv(6, 5)", "Avg-Pool(2)", "Conv(16, 5)", "Avg-Pool(2)",
        "Flatten()", "Dense(120)", "Dense(84)", "Dense(10)",
    ]),
    ("lenet5_relu_maxpool", [32, 32, 1], [
        "Conv(6, (5,5))", "ReLU()", "MaxPool(2, 2)", "Conv(16, (5,5))", "ReLU()",
        "MaxPool(2, 2)", "Flatten()", "Linear(120)", "ReLU()", "Linear(84)",
        "ReLU()", "Linear(10)",
    ]),
    ("alexnet", [227, 227, 3], [
        "Conv(96, 11, 4)", "ReLU()", "MaxPool(3, 2)",
        "Conv(256, 5, padding=2)", "ReLU()", "MaxPool(3, 2)",
        "Conv(384, 3, padding=1)", "ReLU()", "Conv(384, 3, padding=1)", "ReLU()",
        "Conv(256, 3, padding=1)", "ReLU()", "MaxPool(3, 2)",
        "Flatten()", "Dropout(0.5)", "Dense(4096)", "ReLU()", "Dropout(0.5)",
        "Dense(4096)", "ReLU()", "Dense(1000)",
    ]),
    ("alexnet_two_gpu_groups", [227, 227, 3], [
        "Conv(96, (11,11), stride=4)", "Max-Pool(3, stride=2)",
        "Conv(256, (5,5), padding=2, groups=2)", "Max-Pool(3, stride=2)",
        "Conv(384, 3*3, padding=1)", "Conv(384, 3*3, padding=1, groups=2)",
        "Conv(256, 3*3, padding=1, groups=2)", "Max-Pool(3, stride=2)",
    ]),
    ("zfnet_stem", [224, 224, 3], [
        "Conv(96, 7, 2, padding=1)", "MaxPool(3, 2, padding=1)",
        "Conv(256, 5, 2)", "MaxPool(3, 2, padding=1)",
    ]),
    ("resnet_stem", [224, 224, 3], [
        "Conv(64, 7, 2, padding=3)", "MaxPool(3, 2, padding=1)",
    ]),
    ("resnet18_stem_bn", [224, 224, 3], [
        "Conv(64, 7, 2, padding=3, bias=false)", "BatchNorm()", "ReLU()",
        "MaxPool(3, 2, padding=1)",
    ]),
    ("resnet_basic_blocks_head", [56, 56, 64], [
        "Conv(64, 3, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 3, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 3, 2, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 3, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "GAP()", "Flatten()", "Dense(1000)",
    ]),
    ("resnet_bottleneck", [56, 56, 256], [
        "Conv(64, 1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 3, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(256, 1, bias=false)", "BatchNorm()",
    ]),
    ("vgg16", [224, 224, 3], [
        "Conv(64, 3, padding=same)", "Conv(64, 3, padding=same)", "MaxPool(2, 2)",
        "Conv(128, 3, padding=same)", "Conv(128, 3, padding=same)", "MaxPool(2, 2)",
        "Conv(256, 3, padding=same)", "Conv(256, 3, padding=same)",
        "Conv(256, 3, padding=same)", "MaxPool(2, 2)",
        "Conv(512, 3, padding=same)", "Conv(512, 3, padding=same)",
        "Conv(512, 3, padding=same)", "MaxPool(2, 2)",
        "Conv(512, 3, padding=same)", "Conv(512, 3, padding=same)",
        "Conv(512, 3, padding=same)", "MaxPool(2, 2)",
        "Flatten()", "Dense(4096)", "ReLU()", "Dropout(0.5)",
        "Dense(4096)", "ReLU()", "Dropout(0.5)", "Dense(1000)",
    ]),
    ("vgg_cifar_bn", [32, 32, 3], [
        "Conv(32, 3*3, padding=1)", "BatchNorm()", "ReLU()",
        "Conv(32, 3*3, padding=1)", "BatchNorm()", "ReLU()", "Max-Pool(2)",
        "Dropout(0.25)",
        "Conv(64, 3*3, padding=1)", "BatchNorm()", "ReLU()",
        "Conv(64, 3*3, padding=1)", "BatchNorm()", "ReLU()", "Max-Pool(2)",
        "Flatten()", "Dense(512)", "BatchNorm()", "ReLU()", "Dropout(0.5)",
        "Dense(10)",
    ]),
    ("vgg_valid_odd", [75, 75, 3], [
        "Conv(32, 3)", "Conv(32, 3)", "Max-Pool(2)", "Conv(64, 3)", "Conv(64, 3)",
        "Max-Pool(2)", "Conv(128, 3)", "Max-Pool(2)",
    ]),
    ("mobilenet_v1_head", [224, 224, 3], [
        "Conv(32, 3, 2, padding=1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(32, 3, padding=1, groups=32, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 3, 2, padding=1, groups=64, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 3, padding=1, groups=128, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 1, bias=false)", "BatchNorm()", "ReLU()",
        "GAP()", "Flatten()", "Dropout(0.001)", "Dense(1000)",
    ]),
    ("mobilenet_keras_same", [224, 224, 3], [
        "Conv(32, 3, 2, padding=same, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(32, 3, padding=same, groups=32, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 1, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(64, 3, 2, padding=same, groups=64, bias=false)", "BatchNorm()", "ReLU()",
        "Conv(128, 1, bias=false)", "BatchNorm()", "ReLU()",
    ]),
    ("depthwise_separable_odd", [33, 33, 16], [
        "Conv(16, 3, groups=16)", "Conv(32, 1)",
        "Conv(32, 3, 2, groups=32)", "Conv(64, 1, bias=false)",
    ]),
    ("depthwise_multiplier2", [28, 28, 8], [
        "Conv(16, 3, padding=1, groups=8, bias=false)", "Conv(24, 1)",
        "Conv(48, 5, 2, padding=2, groups=24)",
    ]),
    ("grouped_conv_groups4", [32, 32, 16], [
        "Conv(32, 3, groups=4)", "Conv(64, 3, padding=1, groups=4, bias=false)",
        "Conv(64, 1, groups=8)",
    ]),
    ("odd_sizes_kernel_pairs", [37, 29, 5], [
        "Conv(8, (3,5), 2)", "Conv(12, (5,3))", "Max-Pool(2)",
    ]),
    ("nonsquare_input", [64, 48, 3], [
        "Conv(16, (3,5), padding=(1,2))", "MaxPool((2,3))",
        "Conv(32, (5,3), 2)", "AvgPool(2)",
    ]),
    ("stride3_conv", [50, 50, 3], [
        "Conv(16, 5, 3)", "Conv(32, 3, stride=3)", "Conv(32, 2, 3)",
    ]),
    ("stride4_conv", [99, 101, 3], [
        "Conv(24, 8, 4)", "Conv(48, 4, stride=4, padding=1)",
    ]),
    ("stride_larger_than_kernel", [31, 31, 4], [
        "Conv(8, 2, 3)", "Conv(8, 1, 4)",
    ]),
    ("dilation2", [32, 32, 3], [
        "Conv(16, 3, dilation=2)", "Conv(16, 3, padding=2, dilation=2)",
        "Conv(32, 3, 2, dilation=2)",
    ]),
    ("dilation3", [41, 37, 8], [
        "Conv(8, 3, dilation=3)", "Conv(16, (3,5), dilation=3, bias=false)",
        "Conv(16, 3, padding=(3,6), dilation=3)",
    ]),
    ("explicit_int_padding", [17, 17, 3], [
        "Conv(8, 5, padding=2)", "Conv(8, 3, 2, padding=1)", "Conv(16, 4, padding=3)",
    ]),
    ("explicit_pair_padding", [20, 15, 3], [
        "Conv(8, (3,5), padding=(1,2))", "Conv(8, (5,5), 2, padding=(2,1))",
        "Conv(4, (1,3), padding=(0,1))",
    ]),
    ("explicit_padding_valid_keyword", [12, 12, 2], [
        "Conv(4, 3, padding=valid)", "Conv(4, 3, 1, padding=valid)",
        "Max-Pool(2)",
    ]),
    ("same_stride1", [31, 27, 3], [
        "Conv(16, 3, padding=same)", "Conv(16, 5, padding=same)",
        "Conv(32, (3,5), padding=same)", "Conv(32, 4, padding=same)",
    ]),
    ("same_stride1_dilation_groups", [20, 20, 8], [
        "Conv(8, 3, padding=same, dilation=2)",
        "Conv(16, 3, padding=same, dilation=3, groups=8)",
        "Conv(16, 5, padding=same, groups=16, bias=false)",
    ]),
    ("same_stride2", [15, 15, 3], [
        "Conv(16, 3, 2, padding=same)", "Conv(32, 3, stride=2, padding=same)",
        "Conv(32, 2, 2, padding=same)",
    ]),
    ("same_stride3", [20, 22, 3], [
        "Conv(16, 4, 3, padding=same)", "Conv(16, (3,5), 3, padding=same)",
    ]),
    ("same_stride2_even", [224, 224, 3], [
        "Conv(64, 7, 2, padding=same)", "Conv(64, 1, padding=same)",
        "Conv(128, 3, 2, padding=same)",
    ]),
    ("maxpool_padding", [15, 15, 8], [
        "MaxPool(3, 2, padding=1)", "MaxPool(2, padding=1)", "MaxPool(3, stride=1, padding=1)",
    ]),
    ("avgpool_padding", [13, 10, 4], [
        "AvgPool(3, 2, padding=1)", "Avg-Pool(2, stride=1, padding=1)",
        "Avg-Pool(3*3, padding=1)",
    ]),
    ("pool_stride_larger_than_kernel", [23, 20, 3], [
        "MaxPool(2, 3)", "AvgPool(1, 2)",
    ]),
    ("ceil_changes_size", [6, 7, 4], [
        "MaxPool(3, 2, ceil=true)", "Conv(4, 1)",
    ]),
    ("ceil_changes_size_avg", [10, 11, 2], [
        "AvgPool(3, 2, ceil=true)", "AvgPool(2, ceil=true)",
    ]),
    ("ceil_last_window_rule_padding", [5, 5, 3], [
        "MaxPool(2, 2, padding=1, ceil=true)",
    ]),
    ("ceil_last_window_rule_k3s3", [5, 8, 3], [
        "AvgPool(3, 3, padding=1, ceil=true)", "MaxPool(1, 2, ceil=true)",
    ]),
    ("ceil_last_window_rule_no_padding", [6, 7, 2], [
        "MaxPool(2, 3, ceil=true)",
    ]),
    ("ceil_with_padding_grows", [8, 8, 3], [
        "AvgPool(3, 2, padding=1, ceil=true)", "MaxPool(3, 2, padding=1, ceil=true)",
    ]),
    ("googlenet_stem_ceil", [224, 224, 3], [
        "Conv(64, 7, 2, padding=3, bias=false)", "BatchNorm()", "ReLU()",
        "MaxPool(3, 2, ceil=true)", "Conv(64, 1, bias=false)", "BatchNorm()",
        "Conv(192, 3, padding=1, bias=false)", "BatchNorm()", "MaxPool(3, 2, ceil=true)",
    ]),
    ("squeezenet_stem_ceil", [224, 224, 3], [
        "Conv(96, 7, 2)", "ReLU()", "MaxPool(3, 2, ceil=true)",
        "Conv(16, 1)", "Conv(64, 3, padding=1)",
    ]),
    ("gap_then_dense", [14, 14, 256], [
        "GAP()", "Dense(10)",
    ]),
    ("gap_flatten_dense", [7, 7, 512], [
        "GAP()", "Flatten()", "Dense(1000)",
    ]),
    ("gap_bn_dense_nobias", [9, 9, 32], [
        "Conv(64, 3)", "GAP()", "BatchNorm()", "Dense(16, bias=false)",
    ]),
    ("flatten_dense", [7, 7, 64], [
        "Flatten()", "Dense(128)", "ReLU()", "Dropout(0.5)", "Dense(10)",
    ]),
    ("dense_on_3d", [8, 6, 16], [
        "Dense(32)", "Linear(8, bias=false)", "Conv(4, 3)",
    ]),
    ("dense_bn_1d", [4, 4, 8], [
        "Flatten()", "Dense(64, bias=false)", "BatchNorm()", "ReLU()", "Dense(10)",
    ]),
    ("star_kernel_notation", [28, 28, 1], [
        "Conv(32, 3*3)", "Conv(32, 3*3, 2)", "Max-Pool(2*2)", "Conv(64, 5*5, padding=2)",
    ]),
    ("one_by_one_conv", [19, 19, 192], [
        "Conv(64, 1)", "Conv(16, (1,1), bias=false)", "Conv(32, 1, 2)",
    ]),
    ("kernel_equals_input", [7, 7, 64], [
        "Conv(128, 7)", "Flatten()", "Dense(10)",
    ]),
    ("all_conv_net", [32, 32, 3], [
        "Conv(96, 3, padding=1)", "Conv(96, 3, padding=1)", "Conv(96, 3, 2, padding=1)",
        "Conv(192, 3, padding=1)", "Conv(192, 3, 2, padding=1)", "Conv(192, 3)",
        "Conv(192, 1)", "Conv(10, 1)", "GAP()", "Flatten()",
    ]),
    ("mixed_everything_odd", [63, 47, 5], [
        "Conv(20, (3,5), 2, padding=(1,2), bias=false)", "BatchNorm()", "ReLU()",
        "Conv(20, 3, dilation=2, groups=5)", "Avg-Pool(3, stride=2, padding=1, ceil=true)",
        "Conv(40, 1, groups=4)", "Max-Pool(2)", "Flatten()", "Dense(7)",
    ]),
]


# ---------------------------------------------------------------------------
# Layer-string parsing (only what the generator needs; the grader has its own).
# ---------------------------------------------------------------------------
_CALL = re.compile(r"^\s*([A-Za-z][A-Za-z\-]*)\s*\((.*)\)\s*$")


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _pair(v: str) -> tuple[int, int]:
    v = v.strip()
    if v.startswith("("):
        a, b = _split_top(v[1:-1])
        return int(a), int(b)
    if "*" in v:
        a, b = v.split("*")
        return int(a), int(b)
    return int(v), int(v)


def _bool(v: str) -> bool:
    v = v.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise ValueError(v)


def parse_layer(text: str) -> tuple[str, list[str], dict[str, str]]:
    m = _CALL.match(text)
    if not m:
        raise ValueError(f"cannot parse layer {text!r}")
    name = m.group(1).lower().replace("-", "")
    pos, kw = [], {}
    for part in _split_top(m.group(2)):
        if "=" in part:
            k, v = part.split("=", 1)
            kw[k.strip().lower()] = v.strip()
        else:
            pos.append(part)
    return name, pos, kw


# ---------------------------------------------------------------------------
# Measuring with torch.
# ---------------------------------------------------------------------------
def derive(torch, nn, name: str, hwc: list[int], layers: list[str]) -> dict:
    h, w, c = hwc
    x = torch.zeros(1, c, h, w)  # NCHW, or (1, N) once 1-D
    expected = []
    keras_formula = False
    for text in layers:
        kind, pos, kw = parse_layer(text)
        check = None  # optional independent assertion on the output shape
        if kind == "conv":
            assert x.dim() == 4, f"{name}: conv on 1-D input"
            c_in, h_in, w_in = x.shape[1], x.shape[2], x.shape[3]
            filters = int(pos[0])
            kh, kw_ = _pair(pos[1])
            stride = int(pos[2]) if len(pos) > 2 else int(kw.get("stride", 1))
            dil = int(kw.get("dilation", 1))
            groups = int(kw.get("groups", 1))
            bias = _bool(kw.get("bias", "true"))
            pad = kw.get("padding", "valid").lower()
            if pad == "same" and stride > 1:
                # Keras / TensorFlow 'same' (torch forbids 'same' with stride > 1).
                assert dil == 1, "Keras forbids stride > 1 together with dilation > 1"
                keras_formula = True
                pads = []
                for size, k in ((h_in, kh), (w_in, kw_)):
                    out = math.ceil(size / stride)
                    total = max((out - 1) * stride + dil * (k - 1) + 1 - size, 0)
                    pads.append((total // 2, total - total // 2))
                (pt, pb), (pl, pr) = pads
                conv = nn.Conv2d(c_in, filters, (kh, kw_), stride=stride, padding=0,
                                 dilation=dil, groups=groups, bias=bias)
                module = nn.Sequential(nn.ZeroPad2d((pl, pr, pt, pb)), conv)
                check = (math.ceil(h_in / stride), math.ceil(w_in / stride))
            else:
                if pad == "same":
                    padding = "same"
                    check = (h_in, w_in)
                elif pad == "valid":
                    padding = 0
                else:
                    padding = _pair(pad)
                module = nn.Conv2d(c_in, filters, (kh, kw_), stride=stride, padding=padding,
                                   dilation=dil, groups=groups, bias=bias)
            y = module(x)
        elif kind in ("maxpool", "avgpool"):
            assert x.dim() == 4
            k = _pair(pos[0])
            if len(pos) > 1:
                stride = _pair(pos[1])
            elif "stride" in kw:
                stride = _pair(kw["stride"])
            else:
                stride = k
            padding = int(kw.get("padding", 0))
            ceil = _bool(kw.get("ceil", "false"))
            cls = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
            module = cls(k, stride=stride, padding=padding, ceil_mode=ceil)
            y = module(x)
        elif kind == "gap":
            assert x.dim() == 4
            module = nn.AdaptiveAvgPool2d(1)
            y = module(x)
        elif kind == "flatten":
            assert x.dim() == 4
            module = nn.Flatten()
            y = module(x.permute(0, 2, 3, 1))  # H, W, C order (Keras)
        elif kind in ("dense", "linear"):
            units = int(pos[0])
            bias = _bool(kw.get("bias", "true"))
            n_in = x.shape[1]  # channels for NCHW, features for (1, N)
            module = nn.Linear(n_in, units, bias=bias)
            if x.dim() == 4:
                y = module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            else:
                y = module(x)
        elif kind == "batchnorm":
            module = nn.BatchNorm2d(x.shape[1]) if x.dim() == 4 else nn.BatchNorm1d(x.shape[1])
            module.eval()  # batch of one: use running statistics
            y = module(x)
        elif kind == "relu":
            module = nn.ReLU()
            y = module(x)
        elif kind == "dropout":
            module = nn.Dropout(float(pos[0]) if pos else 0.5)
            module.eval()
            y = module(x)
        else:
            raise ValueError(f"{name}: unknown layer {text!r}")

        assert y.numel() > 0, f"{name}: empty output at {text!r}"
        if y.dim() == 4:
            shape = [int(y.shape[2]), int(y.shape[3]), int(y.shape[1])]
        else:
            shape = [int(y.shape[1])]
        if check is not None:
            assert tuple(shape[:2]) == check, (name, text, shape, check)

        trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
        buffers = 0
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                buffers += m.running_mean.numel() + m.running_var.numel()
        non_trainable = frozen + buffers
        expected.append({
            "output_shape": shape,
            "params": int(trainable + non_trainable),
            "trainable": int(trainable),
            "non_trainable": int(non_trainable),
        })
        x = y
    version = torch.__version__.split("+")[0]
    return {
        "name": name,
        "input": list(hwc),
        "layers": list(layers),
        "expected": expected,
        "source": "keras-formula" if keras_formula else f"torch {version}",
    }


def dumps(archs: list[dict]) -> str:
    """Pretty JSON with one line per expected layer (stable, diff-friendly)."""
    def one(o):
        return json.dumps(o, ensure_ascii=False)

    out = ["["]
    for i, a in enumerate(archs):
        out.append("  {")
        out.append(f'    "name": {one(a["name"])},')
        out.append(f'    "input": {one(a["input"])},')
        out.append('    "layers": [')
        out.append(",\n".join(f"      {one(s)}" for s in a["layers"]))
        out.append("    ],")
        out.append('    "expected": [')
        out.append(",\n".join(f"      {one(e)}" for e in a["expected"]))
        out.append("    ],")
        out.append(f'    "source": {one(a["source"])}')
        out.append("  }" + ("," if i < len(archs) - 1 else ""))
    out.append("]")
    text = "\n".join(out) + "\n"
    assert json.loads(text) == archs
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="only compare the derived values with the existing fixture")
    ap.add_argument("--out", type=Path, default=FIXTURE)
    args = ap.parse_args(argv)
    try:
        import torch
        from torch import nn
    except ImportError:
        print("torch is not installed; nothing derived (fixture left unchanged).")
        return 0

    names = [a[0] for a in ARCHITECTURES]
    assert len(names) == len(set(names)), "duplicate architecture names"
    torch.manual_seed(0)
    with torch.no_grad():
        archs = [derive(torch, nn, n, i, ls) for n, i, ls in ARCHITECTURES]
    text = dumps(archs)
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != text:
            print(f"{args.out} differs from what torch {torch.__version__} derives")
            return 1
        print(f"{args.out} matches ({len(archs)} architectures)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(archs)} architectures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
