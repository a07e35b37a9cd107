"""An MMDiT exported with ditserve's fused ops (gpu-worker/ops, docs/custom-ops.md) in place of
the elementwise chains around its joint attention, for onnxruntime's CUDA provider:

- JointQkvNorm: both streams' QKV bias, the q/k RMSNorm and the text|image concatenation
- GateResidual: x + gate * (y + bias), a projection's bias with its gate and residual
- GateResidualNorm: the same and the LayerNorm after it with its adaLN modulation (the MLP's,
  and the next block's or the final one: across blocks where nothing else sits between them)
- LinearGelu (optional): the MLP's first layer with its bias and tanh-GELU
- LinearFp8 / LinearGeluFp8 (and their E4M3-in/out forms, with GateResidualNormFp8): the
  blocks' linear layers in E4M3 where fp8.attach marked them
- attention as com.microsoft::MultiHeadAttention, the MLP's bias + tanh-GELU as com.microsoft::FastGelu

`patch(model)` rebinds the blocks' forward for export; each op's `forward` is the model's own
arithmetic, so the patched model computes what the original does (in PyTorch) and the trace
records the op. Needs PyTorch's TorchScript exporter (dynamo=False).
"""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F

from . import fp8
from .models.mmdit import JointBlock, JointTransformer, MMDiT, Stream, modulate, timestep_embedding

DOMAIN = "ditserve"
OPSETS = {"com.microsoft": 1, DOMAIN: 1}


def _typed(outs, like):
    for o in outs if isinstance(outs, (list, tuple)) else [outs]:
        o.setType(like.type())
    return outs


class MultiHeadAttention(torch.autograd.Function):
    """q, k, v [B, N, H*dh] -> [B, N, H*dh]; exported as com.microsoft::MultiHeadAttention."""

    @staticmethod
    def forward(ctx, q, k, v, heads: int):
        b, n, d = q.shape
        split = lambda t: t.view(b, n, heads, d // heads).transpose(1, 2)  # noqa: E731
        return F.scaled_dot_product_attention(split(q), split(k), split(v)).transpose(1, 2).reshape(b, n, d)

    @staticmethod
    def symbolic(g, q, k, v, heads: int):
        return _typed(g.op("com.microsoft::MultiHeadAttention", q, k, v, num_heads_i=heads), q)


class BiasGelu(torch.autograd.Function):
    """gelu_tanh(x + bias); exported as com.microsoft::FastGelu(x, bias)."""

    @staticmethod
    def forward(ctx, x, bias):
        return F.gelu(x + bias, approximate="tanh")

    @staticmethod
    def symbolic(g, x, bias):
        return _typed(g.op("com.microsoft::FastGelu", x, bias), x)


def _qkv_heads(qkv, bias, q_weight, k_weight, heads: int, eps: float):
    b, n, d3 = qkv.shape
    q, k, v = (qkv + bias).view(b, n, 3, heads, d3 // 3 // heads).unbind(2)
    rms = lambda t, w: t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * w  # noqa: E731
    return rms(q, q_weight).flatten(2), rms(k, k_weight).flatten(2), v.flatten(2)


class LinearGelu(torch.autograd.Function):
    """gelu_tanh(x · weightᵀ + bias), weight [out, in]: on CUDA one cuBLASLt GEMM with the bias
    and the activation in its epilogue (no pass of its own over the MLP's widest tensor)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        return F.gelu(F.linear(x, weight, bias), approximate="tanh")

    @staticmethod
    def symbolic(g, x, weight, bias):
        out = g.op(f"{DOMAIN}::LinearGelu", x, weight, bias)
        rank = x.type().dim()  # the trace does not always know x's sizes: its rank, else 3-D tokens
        out.setType(x.type().with_sizes([None] * (rank if rank is not None else 3)))
        return out


class JointQkvNorm(torch.autograd.Function):
    """Both streams' qkv (before bias) -> the joint attention's q, k, v, text tokens first."""

    @staticmethod
    def forward(ctx, qkv_a, bias_a, qw_a, kw_a, qkv_b, bias_b, qw_b, kw_b, heads: int, eps: float):
        a = _qkv_heads(qkv_a, bias_a, qw_a, kw_a, heads, eps)
        b = _qkv_heads(qkv_b, bias_b, qw_b, kw_b, heads, eps)
        return tuple(torch.cat([x, y], dim=1) for x, y in zip(a, b))

    @staticmethod
    def symbolic(g, qkv_a, bias_a, qw_a, kw_a, qkv_b, bias_b, qw_b, kw_b, heads: int, eps: float):
        outs = g.op(f"{DOMAIN}::JointQkvNorm", qkv_a, bias_a, qw_a, kw_a, qkv_b, bias_b, qw_b, kw_b,
                    num_heads_i=heads, epsilon_f=eps, outputs=3)
        # Element type only: the shapes ([B, Na + Nb, D]) are the op's to say.
        for o in outs:
            o.setType(qkv_a.type().with_sizes([None, None, None]))
        return outs


class GateResidual(torch.autograd.Function):
    """x + gate[:, None] * (y + bias)."""

    @staticmethod
    def forward(ctx, x, y, bias, gate):
        return x + gate[:, None] * (y + bias)

    @staticmethod
    def symbolic(g, x, y, bias, gate):
        return _typed(g.op(f"{DOMAIN}::GateResidual", x, y, bias, gate), x)


class GateResidualNormFp8(torch.autograd.Function):
    """GateResidualNorm whose normalised output is E4M3 bytes, e4m3(h / h_scale), for the FP8
    layer after it (`like` is an E4M3 tensor, for the output's type in the trace)."""

    @staticmethod
    def forward(ctx, x, y, bias, gate, shift, scale, eps: float, h_scale: float, like):
        out = x + gate[:, None] * (y + bias)
        h = modulate(F.layer_norm(out, (out.shape[-1],), eps=eps), shift, scale)
        return out, fp8.to_bytes(fp8.quantize(h, h_scale))

    @staticmethod
    def symbolic(g, x, y, bias, gate, shift, scale, eps: float, h_scale: float, like):
        out, h = g.op(f"{DOMAIN}::GateResidualNormFp8", x, y, bias, gate, shift, scale, epsilon_f=eps,
                      h_scale_f=h_scale, outputs=2)
        out.setType(x.type())
        h.setType(like.type().with_sizes([None] * (x.type().dim() or 3)))
        return out, h


def _gate_norm(x, y, bias, gate, shift, scale, eps: float, consumer=None):
    """GateResidualNorm, with E4M3 output where the FP8 layer after it takes it."""
    h_scale = None if consumer is None else fp8.input_scale(consumer)
    if h_scale is None:
        return GateResidualNorm.apply(x, y, bias, gate, shift, scale, eps)
    return GateResidualNormFp8.apply(x, y, bias, gate, shift, scale, eps, h_scale, consumer.weight_e4m3)


class GateResidualNorm(torch.autograd.Function):
    """(out = x + gate * (y + bias), LayerNorm(out) * (1 + scale) + shift)."""

    @staticmethod
    def forward(ctx, x, y, bias, gate, shift, scale, eps: float):
        out = x + gate[:, None] * (y + bias)
        return out, modulate(F.layer_norm(out, (out.shape[-1],), eps=eps), shift, scale)

    @staticmethod
    def symbolic(g, x, y, bias, gate, shift, scale, eps: float):
        return _typed(g.op(f"{DOMAIN}::GateResidualNorm", x, y, bias, gate, shift, scale, epsilon_f=eps, outputs=2), x)


def _qkv(s: Stream, h):
    return fp8.linear(s.qkv, h), s.qkv.bias, s.q_norm.weight, s.k_norm.weight


def _attention(blk: JointBlock, h_ctx, h_x):
    q, k, v = JointQkvNorm.apply(*_qkv(blk.context, h_ctx), *_qkv(blk.image, h_x), blk.image.heads, blk.image.q_norm.eps)
    a = MultiHeadAttention.apply(q, k, v, blk.image.heads)
    n_ctx = h_ctx.shape[1]
    return a[:, :n_ctx], a[:, n_ctx:]


def _post(s: Stream, x, attn, mods, next_norm=None):
    """The stream's attention residual and MLP; with `next_norm` (shift, scale, eps, the layer
    after it or None), also the next layer's modulated LayerNorm of the result, fused into the
    MLP's residual."""
    _, _, gate_msa, shift_mlp, scale_mlp, gate_mlp = mods
    fc1, _, fc2 = s.mlp
    x, h = _gate_norm(x, fp8.linear(s.proj, attn), s.proj.bias, gate_msa, shift_mlp, scale_mlp, s.norm2.eps, fc1)
    quantized = fp8.linear_gelu(fc1, h)
    if quantized is not None:
        h = quantized
    elif getattr(s, "_linear_gelu", False):
        h = LinearGelu.apply(h, fc1.weight, fc1.bias)
    else:
        h = BiasGelu.apply(F.linear(h, fc1.weight), fc1.bias)
    if next_norm is None:
        return GateResidual.apply(x, fp8.linear(fc2, h), fc2.bias, gate_mlp), None
    return _gate_norm(x, fp8.linear(fc2, h), fc2.bias, gate_mlp, *next_norm)


def _mods(s: Stream, c):
    return s.ada(F.silu(c)).chunk(2 if s.pre_only else 6, dim=-1)


def _block(self: JointBlock, ctx, x, c):
    """One block on its own (a model whose blocks are followed by other layers)."""
    mc, mx = _mods(self.context, c), _mods(self.image, c)
    a_ctx, a_x = _attention(self, modulate(self.context.norm1(ctx), mc[0], mc[1]), modulate(self.image.norm1(x), mx[0], mx[1]))
    x, _ = _post(self.image, x, a_x, mx)
    ctx = ctx if self.context.pre_only else _post(self.context, ctx, a_ctx, mc)[0]
    return ctx, x


def _joint(self: MMDiT, x, timestep, encoder_hidden_states, pooled_projections, tap: int):
    """The whole stack with each MLP residual fused with the LayerNorm after it (the next
    block's, or the final one): MMDiT._joint's arithmetic, one pass over the tokens fewer a block."""
    if tap != -1:
        raise ValueError("the fused export has no feature tap")
    c = self.t_embed(timestep_embedding(timestep).to(x.dtype)) + self.pooled_embed(pooled_projections)
    ctx = self.context_embed(encoder_hidden_states)
    mods = [(_mods(blk.context, c), _mods(blk.image, c)) for blk in self.blocks]
    final_shift, final_scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
    first = self.blocks[0]
    h_ctx = modulate(first.context.norm1(ctx), mods[0][0][0], mods[0][0][1])
    h_x = modulate(first.image.norm1(x), mods[0][1][0], mods[0][1][1])
    for i, blk in enumerate(self.blocks):
        (mc, mx), last = mods[i], i + 1 == len(self.blocks)
        a_ctx, a_x = _attention(blk, h_ctx, h_x)
        if last:  # the text stream ends pre-only: its norm would have nothing to feed
            x_norm, ctx_norm = (final_shift, final_scale, self.final_norm.eps, None), None
        else:
            nxt = self.blocks[i + 1]
            x_norm = (mods[i + 1][1][0], mods[i + 1][1][1], nxt.image.norm1.eps, nxt.image.qkv)
            ctx_norm = (mods[i + 1][0][0], mods[i + 1][0][1], nxt.context.norm1.eps, nxt.context.qkv)
        x, h_x = _post(blk.image, x, a_x, mx, x_norm)
        if not blk.context.pre_only:
            ctx, h_ctx = _post(blk.context, ctx, a_ctx, mc, ctx_norm)
    return self.final(h_x), None


def supported(model: MMDiT) -> str | None:
    """Why the CUDA kernels cannot take this model (None when they can)."""
    d, heads = model.cfg.hidden_size, model.cfg.num_heads
    if (d // heads) not in (64, 128, 192, 256):
        return f"head_dim {d // heads} (the kernels take 64, 128, 192 or 256)"
    if d % 64 or d > 4096:
        return f"hidden size {d} (the kernels take multiples of 64 up to 4096)"
    return None


def patch(model: MMDiT, linear_gelu: bool = False) -> MMDiT:
    """`linear_gelu`: the MLP's first layer as LinearGelu (needs the library's cuBLASLt build on
    CUDA) instead of a MatMul and com.microsoft::FastGelu."""
    reason = supported(model)
    if reason is not None:
        raise ValueError(f"the fused ops cannot take this model: {reason}")
    for blk in model.blocks:
        for s in (blk.context, blk.image):
            s._linear_gelu = linear_gelu
    if type(model)._after_block is JointTransformer._after_block:
        model._joint = types.MethodType(_joint, model)
    else:  # layers between the blocks (a video model's): each block on its own
        for blk in model.blocks:
            blk.forward = types.MethodType(_block, blk)
    return model
