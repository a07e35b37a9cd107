"""FP8 (E4M3) linear layers for an MMDiT exported with ditserve's fused ops (fused_ops.patch):
the blocks' qkv, output projection and MLP layers as ditserve::LinearFp8 / LinearGeluFp8 (one
cuBLASLt FP8 GEMM each on CUDA, docs/custom-ops.md), with one scale per tensor:

- weights: amax / 448, quantized once at export and stored as E4M3 bytes (uint8 initializers);
- activations: amax / 448 over a calibration batch (`calibrate`), fixed in the graph as an
  attribute, so quantizing needs no reduction at run time and a CUDA graph can capture it.

`attach(fuse_mlp=, fuse_norms=)` also keeps activations in E4M3 between ops (LinearGeluFp8Out,
which exports as LinearGeluFp8InOut where its input is E4M3 too, LinearFp8In, and fused_ops'
GateResidualNormFp8), so that fewer of them need
a quantizing pass. The ops' `forward` is what the kernels compute (E4M3 operands, float32 products and sums, one
scale for both, then the bias and activation, rounded to fp16 once), so the patched model in
PyTorch says how far FP8 takes the output from fp16 before anything is exported.

`choose` and `attach_groups` make FP8 only some of the layers: those whose error, measured one
group at a time on a calibration input, buys the most saved multiply-adds within a target.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .fp8_select import group_of, select
from .models.mmdit import MMDiT

E4M3_MAX = 448.0
LAYERS = ("qkv", "proj", "fc1", "fc2")


def e4m3_round(t: torch.Tensor) -> torch.Tensor:
    """Each value's nearest E4M3 value (ties to even), saturated to ±448, as float32: 3 mantissa
    bits, so steps of 2^(e-3) in [2^e, 2^(e+1)), and of 2^-9 below 2^-6 (subnormal). Plain
    arithmetic rather than a float8 dtype: the TorchScript exporter traces it."""
    t = t.float().clamp(-E4M3_MAX, E4M3_MAX)
    a = t.abs()
    _, e = torch.frexp(a)  # a in [2^(e-1), 2^e)
    step = torch.exp2((e - 4).clamp(min=-9).float())
    return torch.copysign(torch.round(a / step) * step, t).clamp(-E4M3_MAX, E4M3_MAX)


def quantize(t: torch.Tensor, scale: float) -> torch.Tensor:
    """t / scale as E4M3 values (float32; saturating, ties to even), as the CUDA kernel rounds."""
    return e4m3_round(t.float() * (1.0 / scale))


def to_bytes(q: torch.Tensor) -> torch.Tensor:
    """E4M3 values (from e4m3_round) as their bytes: sign, 4 exponent bits (bias 7), 3 mantissa."""
    a = q.abs()
    m, e = torch.frexp(a)  # a = m * 2^e, m in [0.5, 1)
    normal = ((e + 6) * 8).float() + torch.round((m * 2 - 1) * 8)
    return (torch.where(a < 2.0**-6, torch.round(a * 512), normal) + (q < 0).float() * 128).to(torch.uint8)


def from_bytes(b: torch.Tensor) -> torch.Tensor:
    """E4M3 bytes as their values (float32)."""
    i = torch.arange(256, device=b.device)
    e, m = (i >> 3) & 15, (i & 7).float()
    table = torch.where(e == 0, m * 2.0**-9, (8 + m) * torch.exp2((e - 10).float()))
    table = torch.where(i >= 128, -table, table)
    return table[b.long()]


def relative_l2(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.double() - want.double()).norm() / want.double().norm()).item()


def linears(model: MMDiT, layers=LAYERS) -> dict[str, nn.Linear]:
    """The blocks' linear layers of the kinds in `layers`, by a stable name."""
    out: dict[str, nn.Linear] = {}
    for i, blk in enumerate(model.blocks):
        for name in ("context", "image"):
            s = getattr(blk, name)
            kinds = {"qkv": s.qkv} if s.pre_only else {"qkv": s.qkv, "proj": s.proj, "fc1": s.mlp[0], "fc2": s.mlp[2]}
            out.update({f"blocks.{i}.{name}.{k}": m for k, m in kinds.items() if k in layers})
    return out


@torch.no_grad()
def calibrate(model: MMDiT, args, layers=LAYERS) -> dict[str, float]:
    """Each selected layer's largest input magnitude over one forward pass of `args` (run it on
    the model before fused_ops.patch: the patched blocks call the weights, not the modules)."""
    amax: dict[str, torch.Tensor] = {}

    def hook(name):
        def record(_module, inputs):
            a = inputs[0].detach().abs().amax().float()
            amax[name] = torch.maximum(amax[name], a) if name in amax else a
        return record

    hooks = [m.register_forward_pre_hook(hook(n)) for n, m in linears(model, layers).items()]
    try:
        model(*args)
    finally:
        for h in hooks:
            h.remove()
    return {n: a.item() for n, a in amax.items()}


def groups(model: MMDiT) -> dict[str, tuple[str, ...]]:
    """The layers that go FP8 together, by name: each block and stream's qkv layer, its output
    projection, and its MLP (fp8_select.group_of)."""
    out: dict[str, tuple[str, ...]] = {}
    for name in linears(model):
        out[group_of(name)] = out.get(group_of(name), ()) + (name,)
    return out


def group_macs(model: MMDiT, macs_of: dict[str, int]) -> dict[str, int]:
    """Each group's multiply-adds (`macs_of`: `macs` of the unpatched model)."""
    return {k: sum(macs_of[n] for n in names) for k, names in groups(model).items()}


@torch.no_grad()
def macs(model: MMDiT, args) -> dict[str, int]:
    """Each block linear's multiply-adds in one forward pass of `args` (unpatched model, as
    `calibrate`): what making it FP8 can save."""
    out: dict[str, int] = {}

    def hook(name, m):
        def record(_module, inputs):
            out[name] = out.get(name, 0) + inputs[0].numel() // m.in_features * m.in_features * m.out_features
        return record

    hooks = [m.register_forward_pre_hook(hook(n, m)) for n, m in linears(model).items()]
    try:
        model(*args)
    finally:
        for h in hooks:
            h.remove()
    return out


@torch.no_grad()
def sensitivity(model: MMDiT, args, amax: dict[str, float], fuse: bool = True) -> dict[str, float]:
    """Each group's (`groups`) squared relative L2 error of the output when it alone is FP8, on
    `args` (a model patched by fused_ops; `fuse`: attach's fuse_mlp and fuse_norms). Errors of
    independent roundings add in their squares, so these sum to about the whole model's."""
    clear(model)
    ref = model(*args).float()
    out = {}
    for key, names in groups(model).items():
        clear(model)
        attach(model, {n: amax[n] for n in names}, fuse_mlp=fuse, fuse_norms=fuse)
        out[key] = relative_l2(model(*args).float(), ref) ** 2
    clear(model)
    return out


@torch.no_grad()
def choose(model: MMDiT, args, amax: dict[str, float], target: float, macs_of: dict[str, int]) -> list[str]:
    """The groups `select` picks from their `sensitivity` on `args` (a calibration input, not the
    one measured after) for an output within `target` of fp16. `macs_of`: `macs` of the
    unpatched model. Leaves the model as it found it (no layer FP8)."""
    return select(sensitivity(model, args, amax), group_macs(model, macs_of), target)


def attach_groups(model: MMDiT, amax: dict[str, float], chosen: list[str]) -> MMDiT:
    """`attach`, fused, for the layers of the `chosen` groups only."""
    layers = groups(model)
    return attach(model, {n: amax[n] for k in chosen for n in layers[k]}, fuse_mlp=True, fuse_norms=True)


# Headroom for an activation the GEMM writes in E4M3 (the MLP's hidden one): the input may reach
# past the calibration's largest value, and an E4M3 output does not saturate everywhere.
# Floating point loses nothing by it but the bottom binade.
OUT_MARGIN = 2.0


@torch.no_grad()
def attach(model: MMDiT, amax: dict[str, float], fuse_mlp: bool = False, fuse_norms: bool = False) -> MMDiT:
    """Marks the calibrated layers FP8: their E4M3 weight bytes and both scales, which
    fused_ops' blocks then use in place of the fp16 weight. `fuse_mlp`: where both MLP layers are
    FP8, the first writes its output in E4M3 for the second (LinearGeluFp8Out, LinearFp8In).
    `fuse_norms` (with fuse_mlp): the LayerNorms before the qkv and MLP layers write E4M3 for
    them (GateResidualNormFp8), where a fused residual comes before them."""
    if fuse_norms and not fuse_mlp:
        raise ValueError("fuse_norms needs fuse_mlp (the MLP's first layer then takes and makes E4M3)")
    layers = linears(model)
    for name, a in amax.items():
        m = layers[name]
        w_scale = max(m.weight.abs().amax().item(), 1e-12) / E4M3_MAX
        m.register_buffer("weight_e4m3", to_bytes(quantize(m.weight, w_scale)))  # an initializer in the export
        fc2_after_fc1 = fuse_mlp and name.endswith(".fc2") and name[:-4] + ".fc1" in amax
        m._fp8 = (max(a, 1e-12) * (OUT_MARGIN if fc2_after_fc1 else 1.0) / E4M3_MAX, w_scale)
        # Takes E4M3 bytes where its producer makes them (fp8.linear falls back to fp16 x otherwise).
        m._fp8_in = fc2_after_fc1 or (fuse_norms and name.rsplit(".", 1)[1] in ("qkv", "fc1"))
    for name, m in layers.items():
        if name.endswith(".fc1") and name in amax:
            fc2 = layers[name[:-4] + ".fc2"]
            m._fp8_out = fc2._fp8[0] if fuse_mlp and getattr(fc2, "_fp8_in", False) else None
    return model


def clear(model: MMDiT) -> MMDiT:
    """Undoes `attach`: every block linear back to fp16 (the E4M3 weight bytes stay, unused)."""
    for m in linears(model).values():
        for k in ("_fp8", "_fp8_in", "_fp8_out"):
            m.__dict__.pop(k, None)
    return model


def input_scale(m: nn.Linear):
    """The scale of the E4M3 input `m` takes from its producer (None: it takes fp16)."""
    return m._fp8[0] if getattr(m, "_fp8_in", False) else None


def _gemm(x, weight_e4m3, x_scale: float, w_scale: float, x_is_e4m3: bool = False):
    """What cuBLASLt's FP8 GEMM computes: E4M3 operands, float32 products and sums, one scale."""
    xq = from_bytes(x) if x_is_e4m3 else quantize(x, x_scale)
    return F.linear(xq, from_bytes(weight_e4m3)) * (x_scale * w_scale)


class LinearFp8(torch.autograd.Function):
    """x · wᵀ with both operands in E4M3 (no bias: the op after it adds it)."""

    @staticmethod
    def forward(ctx, x, weight_e4m3, x_scale: float, w_scale: float):
        return _gemm(x, weight_e4m3, x_scale, w_scale).to(x.dtype)

    @staticmethod
    def symbolic(g, x, weight_e4m3, x_scale: float, w_scale: float):
        return _out(g.op("ditserve::LinearFp8", x, weight_e4m3, x_scale_f=x_scale, w_scale_f=w_scale), x)


class LinearGeluFp8(torch.autograd.Function):
    """gelu_tanh(x · wᵀ + bias) with both operands in E4M3."""

    @staticmethod
    def forward(ctx, x, weight_e4m3, bias, x_scale: float, w_scale: float):
        return F.gelu(_gemm(x, weight_e4m3, x_scale, w_scale) + bias.float(), approximate="tanh").to(x.dtype)

    @staticmethod
    def symbolic(g, x, weight_e4m3, bias, x_scale: float, w_scale: float):
        return _out(g.op("ditserve::LinearGeluFp8", x, weight_e4m3, bias, x_scale_f=x_scale, w_scale_f=w_scale), x)


class LinearGeluFp8Out(torch.autograd.Function):
    """LinearGeluFp8 whose output is E4M3 bytes, e4m3(y / y_scale): the next layer's input.
    `x_is_e4m3`: x is E4M3 bytes already (exported as LinearGeluFp8InOut)."""

    @staticmethod
    def forward(ctx, x, weight_e4m3, bias, x_scale: float, w_scale: float, y_scale: float, x_is_e4m3: bool):
        y = F.gelu(_gemm(x, weight_e4m3, x_scale, w_scale, x_is_e4m3) + bias.float(), approximate="tanh")
        return to_bytes(quantize(y, y_scale))

    @staticmethod
    def symbolic(g, x, weight_e4m3, bias, x_scale: float, w_scale: float, y_scale: float, x_is_e4m3: bool):
        name = "ditserve::LinearGeluFp8InOut" if x_is_e4m3 else "ditserve::LinearGeluFp8Out"
        out = g.op(name, x, weight_e4m3, bias, x_scale_f=x_scale, w_scale_f=w_scale, y_scale_f=y_scale)
        return _out(out, weight_e4m3, rank_of=x)


class LinearFp8In(torch.autograd.Function):
    """LinearFp8 of an input that is E4M3 bytes already (x / x_scale)."""

    @staticmethod
    def forward(ctx, x_e4m3, weight_e4m3, x_scale: float, w_scale: float, dtype_like):
        return _gemm(x_e4m3, weight_e4m3, x_scale, w_scale, True).to(dtype_like.dtype)

    @staticmethod
    def symbolic(g, x_e4m3, weight_e4m3, x_scale: float, w_scale: float, dtype_like):
        out = g.op("ditserve::LinearFp8In", x_e4m3, weight_e4m3, x_scale_f=x_scale, w_scale_f=w_scale)
        return _out(out, dtype_like, rank_of=x_e4m3)


def _out(out, like, rank_of=None):
    """`like`'s element type, `rank_of`'s rank (default like's): the sizes are the op's to say
    (the trace does not always know them; without a rank, 3-D tokens)."""
    rank = (like if rank_of is None else rank_of).type().dim()
    out.setType(like.type().with_sizes([None] * (rank if rank is not None else 3)))
    return out


def linear(m: nn.Linear, x):
    """The layer without its bias: FP8 where `attach` marked it (x E4M3 bytes where its producer
    made them)."""
    fp8 = getattr(m, "_fp8", None)
    if fp8 is None:
        return F.linear(x, m.weight)
    if x.dtype == torch.uint8:
        return LinearFp8In.apply(x, m.weight_e4m3, *fp8, m.bias)
    return LinearFp8.apply(x, m.weight_e4m3, *fp8)


def linear_gelu(m: nn.Linear, x):
    """gelu_tanh of the layer with its bias, FP8 where `attach` marked it (else None); E4M3
    bytes for the next layer where `attach` fused the MLP."""
    fp8 = getattr(m, "_fp8", None)
    if fp8 is None:
        return None
    y_scale = getattr(m, "_fp8_out", None)
    x_is_e4m3 = x.dtype == torch.uint8
    if x_is_e4m3 and y_scale is None:
        raise ValueError("an E4M3 input to the MLP needs its output in E4M3 too (attach(fuse_mlp=True))")
    if y_scale is not None:
        return LinearGeluFp8Out.apply(x, m.weight_e4m3, m.bias, *fp8, y_scale, x_is_e4m3)
    return LinearGeluFp8.apply(x, m.weight_e4m3, m.bias, *fp8)
