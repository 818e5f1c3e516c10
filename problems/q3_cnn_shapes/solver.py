"""Reference solver for Q3: output shape and parameter count of each CNN layer.

General, not tied to the homework: the architecture comes from ``problem.toml``
in the homework's own notation (``Conv(64, (5,5), 2)``, ``Max-Pool(3*3)``).
Shapes are channels-last ``(height, width, channels)``, or ``(n,)`` after
``Flatten``. Sizes follow PyTorch (``floor((n + 2p - d(k-1) - 1) / s) + 1``,
its ``ceil_mode`` rule for pooling); ``padding=same`` follows Keras
(``ceil(n / s)``), which PyTorch agrees with at stride 1. Parameter counts are
Keras's ``Param #``: a batch norm counts its moving mean and variance as
non-trainable parameters (PyTorch keeps them as buffers).

Mistake switches re-run the same computation the way a student who makes that
mistake would, so the grader can recognise the mistake's numbers.
"""

from __future__ import annotations

import ast
import enum
import functools
import math
import random
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from grader.errors import SolverError

MISTAKES = frozenset({
    "no_bias",             # parameters counted without biases
    "ceil_mode",           # ceil instead of floor in the size formula
    "same_padding",        # 'same' padding assumed in the convolutions
    "channels_first",      # shapes written (channels, height, width)
    "input_channels_one",  # the image taken as one channel in the first layer
    "input_depth_ignored", # every convolution's input depth taken as 1
    "stride_ignored",      # convolution strides taken as 1
    "pool_stride_one",     # pooling stride taken as 1 instead of the pool size
})

Shape = tuple[int, ...]


class Kind(enum.StrEnum):
    """Layer types the notation knows."""

    CONV = "conv"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    GLOBAL_AVG_POOL = "global_avg_pool"
    FLATTEN = "flatten"
    DENSE = "dense"
    BATCH_NORM = "batch_norm"
    IDENTITY = "identity"  # activations and dropout


_NAMES = {
    **dict.fromkeys(["conv", "conv2d", "convolution", "convolution2d"], Kind.CONV),
    **dict.fromkeys(["maxpool", "maxpool2d", "maxpooling", "maxpooling2d"], Kind.MAX_POOL),
    **dict.fromkeys(["avgpool", "avgpool2d", "averagepool", "averagepooling", "averagepooling2d", "meanpool"],
                    Kind.AVG_POOL),
    **dict.fromkeys(["gap", "globalavgpool", "globalaveragepool", "globalaveragepooling", "globalaveragepooling2d",
                     "globalavgpool2d", "adaptiveavgpool"], Kind.GLOBAL_AVG_POOL),
    "flatten": Kind.FLATTEN,
    **dict.fromkeys(["dense", "linear", "fc", "fullyconnected"], Kind.DENSE),
    **dict.fromkeys(["batchnorm", "batchnorm2d", "bn", "batchnormalization"], Kind.BATCH_NORM),
    **dict.fromkeys(["relu", "leakyrelu", "sigmoid", "tanh", "softmax", "activation", "dropout", "identity"],
                    Kind.IDENTITY),
}
_KEYWORDS = {
    "filters": "units", "out_channels": "units", "units": "units", "out_features": "units",
    "kernel": "kernel", "kernel_size": "kernel", "size": "kernel", "pool_size": "kernel",
    "stride": "stride", "strides": "stride",
    "padding": "padding", "dilation": "dilation", "dilation_rate": "dilation", "groups": "groups",
    "bias": "bias", "use_bias": "bias", "ceil": "ceil", "ceil_mode": "ceil", "keepdims": "keepdims",
}
# Positional arguments of each layer type, in the homework's order.
_POSITIONAL = {
    Kind.CONV: ("units", "kernel", "stride", "padding"),
    Kind.MAX_POOL: ("kernel", "stride", "padding"),
    Kind.AVG_POOL: ("kernel", "stride", "padding"),
    Kind.DENSE: ("units",),
}
_HEAD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _\-]*?)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_TIMES = re.compile(r"(\d+)\s*[x×]\s*(\d+)")


@dataclass(frozen=True)
class Layer:
    """One layer, parsed from the notation.

    Attributes:
        kind: The layer type.
        text: The notation it was read from.
        units: Filters of a convolution, units of a dense layer.
        kernel: Kernel or pool size (height, width).
        stride: Stride (height, width); pooling defaults to the pool size.
        padding: Zero padding per side (height, width), or ``"same"``.
        dilation: Kernel dilation (height, width).
        groups: Convolution groups (``groups = C_in`` is depthwise).
        bias: Whether the layer has biases.
        ceil: Pooling's ``ceil_mode``.
        keepdims: Whether global pooling keeps the 1×1 spatial size.
    """

    kind: Kind
    text: str
    units: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | str = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    bias: bool = True
    ceil: bool = False
    keepdims: bool = True


@dataclass(frozen=True)
class LayerResult:
    """A layer's output shape and parameter counts."""

    output_shape: Shape
    trainable: int
    non_trainable: int

    @property
    def params(self) -> int:
        """All parameters (Keras's ``Param #``)."""
        return self.trainable + self.non_trainable


@functools.lru_cache(maxsize=1024)
def parse_layer(text: str) -> Layer:
    """Read a layer written in the homework's notation.

    Raises:
        SolverError: When the text is not a known layer.
    """
    head = _HEAD.match(text)
    if head is None:
        raise SolverError(f"not a layer: {text!r}")
    name = re.sub(r"[\s_\-]", "", head[1]).lower()
    if name not in _NAMES:
        raise SolverError(f"unknown layer type {head[1]!r} in {text!r}")
    kind = _NAMES[name]
    arguments = _TIMES.sub(r"(\1,\2)", head[2] or "")
    try:
        call = ast.parse(f"_({arguments})", mode="eval").body
    except SyntaxError:
        raise SolverError(f"cannot read the arguments of {text!r}") from None
    assert isinstance(call, ast.Call)
    values: dict[str, Any] = {}
    positional = _POSITIONAL.get(kind, ())
    if kind is Kind.IDENTITY:
        call.args = []  # Dropout(0.5), Activation(relu): nothing that changes shapes
    if len(call.args) > len(positional):
        raise SolverError(f"too many arguments in {text!r}")
    for name_, node in zip(positional, call.args):
        values[name_] = _literal(node, text)
    for keyword in call.keywords:
        key = _KEYWORDS.get((keyword.arg or "").lower())
        if key is None:
            raise SolverError(f"unknown argument {keyword.arg!r} in {text!r}")
        values[key] = _literal(keyword.value, text)
    return _build(kind, text, values)


def _literal(node: ast.AST, text: str) -> Any:
    """A constant, pair or word from the argument syntax tree (nothing is evaluated)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Name):
        return {"true": True, "false": False}.get(node.id.lower(), node.id.lower())
    if isinstance(node, ast.Tuple):
        return tuple(_literal(item, text) for item in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):  # 3*3 means a 3×3 window
        return (_literal(node.left, text), _literal(node.right, text))
    raise SolverError(f"cannot read {ast.unparse(node)!r} in {text!r}")


def _pair(value: Any, what: str, text: str, minimum: int = 1) -> tuple[int, int]:
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in pair):
        raise SolverError(f"{what} must be an integer >= {minimum} or a pair of them in {text!r}")
    return pair


def _build(kind: Kind, text: str, values: dict[str, Any]) -> Layer:
    layer = Layer(kind, text)
    if kind in (Kind.CONV, Kind.DENSE):
        units = values.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise SolverError(f"the number of filters/units must be a positive integer in {text!r}")
        layer = replace(layer, units=units)
    if kind in (Kind.CONV, Kind.MAX_POOL, Kind.AVG_POOL):
        if "kernel" not in values:
            raise SolverError(f"a kernel/pool size is required in {text!r}")
        kernel = _pair(values["kernel"], "kernel size", text)
        stride = _pair(values["stride"], "stride", text) if "stride" in values else None
        padding = values.get("padding", "valid")
        if padding == "valid":
            padding = (0, 0)
        elif padding != "same":
            padding = _pair(padding, "padding", text, minimum=0)
        layer = replace(layer, kernel=kernel, stride=stride, padding=padding,
                        dilation=_pair(values.get("dilation", 1), "dilation", text))
    if "groups" in values:
        layer = replace(layer, groups=_pair(values["groups"], "groups", text)[0])
    for flag in ("bias", "ceil", "keepdims"):
        if flag in values:
            if not isinstance(values[flag], bool):
                raise SolverError(f"{flag} must be true or false in {text!r}")
            layer = replace(layer, **{flag: values[flag]})
    return layer


def _size(n: int, kernel: int, stride: int, pad: int | str, dilation: int, ceil: bool) -> int:
    """Output length along one axis (PyTorch's formula; Keras's for 'same')."""
    if pad == "same":
        return -(-n // stride)
    span = n + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        raise SolverError(f"window {kernel} (dilation {dilation}) is larger than the padded input {n + 2 * pad}")
    return (-(-span // stride) if ceil else span // stride) + 1


def _pool_size(n: int, kernel: int, stride: int, pad: int | str, ceil: bool) -> int:
    if pad != "same" and 2 * pad > kernel:
        raise SolverError(f"pooling padding {pad} is more than half the window {kernel}")
    out = _size(n, kernel, stride, pad, 1, ceil)
    # PyTorch's ceil_mode rule: the last window must start inside the input or the left padding.
    if ceil and pad != "same" and (out - 1) * stride >= n + pad:
        out -= 1
    return out


def apply_layer(layer: Layer, shape: Shape, mistakes: frozenset[str] = frozenset(),
                first: bool = False) -> LayerResult:
    """The output shape and parameters of ``layer`` on an input of ``shape`` (channels last).

    Args:
        layer: The layer.
        shape: Its input shape, ``(h, w, c)`` or ``(n,)``.
        mistakes: Mistake switches to apply (see ``MISTAKES``).
        first: Whether the layer reads the network's input image.

    Raises:
        SolverError: When the layer cannot apply to the shape.
    """
    bias = layer.bias and "no_bias" not in mistakes
    ceil = "ceil_mode" in mistakes
    if layer.kind in (Kind.CONV, Kind.MAX_POOL, Kind.AVG_POOL, Kind.GLOBAL_AVG_POOL) and len(shape) != 3:
        raise SolverError(f"{layer.text} needs an (h, w, c) input, got {shape}")
    if layer.kind is Kind.CONV:
        h, w, c = shape
        stride = (1, 1) if "stride_ignored" in mistakes else (layer.stride or (1, 1))
        padding = "same" if "same_padding" in mistakes else layer.padding
        if c % layer.groups or layer.units % layer.groups:
            raise SolverError(f"{layer.text}: groups {layer.groups} must divide {c} input and {layer.units} output channels")
        c_in = 1 if ("input_depth_ignored" in mistakes or ("input_channels_one" in mistakes and first)) else c
        pads = ("same", "same") if padding == "same" else padding
        out = tuple(_size(n, k, s, p, d, ceil)
                    for n, k, s, p, d in zip((h, w), layer.kernel, stride, pads, layer.dilation))
        weights = layer.kernel[0] * layer.kernel[1] * max(c_in // layer.groups, 1) * layer.units
        return LayerResult((*out, layer.units), weights + (layer.units if bias else 0), 0)
    if layer.kind in (Kind.MAX_POOL, Kind.AVG_POOL):
        h, w, c = shape
        stride = (1, 1) if "pool_stride_one" in mistakes else (layer.stride or layer.kernel)
        pads = ("same", "same") if layer.padding == "same" else layer.padding
        out = tuple(_pool_size(n, k, s, p, layer.ceil or ceil) for n, k, s, p in zip((h, w), layer.kernel, stride, pads))
        return LayerResult((*out, c), 0, 0)
    if layer.kind is Kind.GLOBAL_AVG_POOL:
        return LayerResult((1, 1, shape[2]) if layer.keepdims else (shape[2],), 0, 0)
    if layer.kind is Kind.FLATTEN:
        return LayerResult((math.prod(shape),), 0, 0)
    if layer.kind is Kind.DENSE:
        # Like nn.Linear and Keras Dense, a dense layer acts on the last axis.
        return LayerResult((*shape[:-1], layer.units), shape[-1] * layer.units + (layer.units if bias else 0), 0)
    if layer.kind is Kind.BATCH_NORM:
        return LayerResult(shape, 2 * shape[-1], 2 * shape[-1])
    return LayerResult(shape, 0, 0)


def solve_network(input_shape: Shape, layers: list[str], mistakes: frozenset[str] = frozenset()) -> list[LayerResult]:
    """Every layer's result for a network, in order (channels last).

    Raises:
        SolverError: When a layer is unknown or cannot apply.
    """
    shape = tuple(input_shape)
    results = []
    for index, text in enumerate(layers):
        result = apply_layer(parse_layer(text), shape, mistakes, first=index == 0)
        results.append(result)
        shape = result.output_shape
    return results


def _reported(shape: Shape, mistakes: frozenset[str]) -> Shape:
    """A shape as the student writes it (channels first under that mistake)."""
    if "channels_first" in mistakes and len(shape) == 3:
        return (shape[2], shape[0], shape[1])
    return shape


def _as_input(shape: Any, mistakes: frozenset[str]) -> Shape | None:
    """A student's shape read back as a channels-last input, or None when unusable."""
    if not isinstance(shape, tuple) or not shape:
        return None
    if "channels_first" in mistakes and len(shape) == 3:
        return (shape[1], shape[2], shape[0])
    return shape


def solve(parameters: Mapping[str, Any], *, mistakes: frozenset[str] = frozenset(),
          given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Expected answers: ``layers[i].output_shape`` and ``layers[i].params`` for every layer.

    Args:
        parameters: ``input_shape`` ([h, w, c]) and ``layers`` (notation strings).
        mistakes: Mistake switches to apply.
        given: The student's own readable answers; each layer is then solved
            from the student's previous output shape (error carried forward).

    Raises:
        SolverError: For the reference (no mistakes, nothing given) when the
            parameters are invalid; otherwise impossible layers are left out.
    """
    input_shape = parameters.get("input_shape")
    texts = parameters.get("layers")
    if not (isinstance(input_shape, list) and len(input_shape) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_shape)):
        raise SolverError("parameters.input_shape must be [height, width, channels] of positive integers")
    if not (isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts)):
        raise SolverError("parameters.layers must be a non-empty list of layer strings")
    layers = [parse_layer(text) for text in texts]
    strict = not mistakes and given is None
    answers: dict[str, Any] = {}
    shape: Shape | None = tuple(input_shape)
    for index, layer in enumerate(layers):
        prefix = f"layers[{index}]"
        result = None
        if shape is not None:
            try:
                result = apply_layer(layer, shape, mistakes, first=index == 0)
            except SolverError:
                if strict:
                    raise
        if result is not None:
            answers[f"{prefix}.output_shape"] = _reported(result.output_shape, mistakes)
            answers[f"{prefix}.params"] = result.params
            answers[f"{prefix}.trainable_params"] = result.trainable
            answers[f"{prefix}.non_trainable_params"] = result.non_trainable
        shape = result.output_shape if result is not None else None
        if given is not None and f"{prefix}.output_shape" in given:
            shape = _as_input(given[f"{prefix}.output_shape"], mistakes)
    return answers


def vary(parameters: Mapping[str, Any], variants: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """A student's own network: the homework's layers with drawn sizes, written in the same notation.

    ``[variants]`` lists the choices: ``input_sizes``, ``filters``, ``kernels``,
    ``strides`` (of the convolutions) and ``pool_sizes``. Only convolution and
    pooling layers change; the engine redraws a network whose shapes do not stay valid.

    Raises:
        SolverError: When a choice list is missing or not of positive integers.
    """
    def choice(key: str) -> int:
        values = variants.get(key)
        if not (isinstance(values, list) and values
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)):
            raise SolverError(f"variants.{key} must be a list of positive integers")
        return rng.choice(values)

    size = choice("input_sizes")
    layers = []
    for text in parameters["layers"]:
        layer = parse_layer(text)
        if layer.kind is Kind.CONV:
            kernel = choice("kernels")
            text = f"Conv({choice('filters')}, ({kernel},{kernel}), {choice('strides')})"
        elif layer.kind in (Kind.MAX_POOL, Kind.AVG_POOL):
            pool = choice("pool_sizes")
            text = f"{'Max' if layer.kind is Kind.MAX_POOL else 'Avg'}-Pool({pool}*{pool})"
        layers.append(text)
    return {**parameters, "input_shape": [size, size, *list(parameters["input_shape"])[2:]], "layers": layers}
