"""Times the parts of a training step on the GPU, eager against CUDA graphs (graphs.py).

    PYTHONPATH=gpu-worker/training python3 gpu-worker/training/scripts/profile_step.py [--quick]

Prints one JSON line per measurement: the data workers' batch rate, render + VAE encode, the
DiT + text encoder step (forward, backward, clip, AdamW, EMA) at several batch sizes, and the
VAE step.
"""

import copy
import json
import sys
import time

import torch
import torch.nn.functional as F

from ditserve_train.data import batches, render_arrays, unpack
from ditserve_train.flow import flow_loss
from ditserve_train.graphs import GraphedFn, GraphedLoss
from ditserve_train.models.mmdit import MMDiT, MMDiTConfig
from ditserve_train.models.text_encoder import TextEncoder, TextEncoderConfig
from ditserve_train.models.vae import Vae, VaeConfig
from ditserve_train.tokenizer import WordTokenizer

DEV = torch.device("cuda")


def out(**kw):
    print(json.dumps(kw), flush=True)


def timed(fn, n=20):
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / n * 1000


def data_rate(batch, workers, n=30):
    it = batches(batch, 0, workers)
    for _ in range(workers * 2):
        next(it)
    t = time.perf_counter()
    for _ in range(n):
        next(it)
    return n / (time.perf_counter() - t)


def dit_step(batch, size, graph, dit_cfg=None, n=20):
    tok = WordTokenizer()
    torch.manual_seed(0)
    te = TextEncoder(TextEncoderConfig(vocab_size=len(tok.vocab))).to(DEV)
    dit = MMDiT(dit_cfg or MMDiTConfig(in_channels=16, out_channels=16)).to(DEV)
    params = [*te.parameters(), *dit.parameters()]
    ema = [copy.deepcopy(p.detach()) for p in params]
    opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
    w, h = size
    x0 = torch.randn(batch, 16, h // 8, w // 8, device=DEV)
    ids = torch.randint(4, len(tok.vocab), (batch, 32), device=DEV)

    def loss_fn(x0, ids):
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            hdn, pooled = te(ids)
            return flow_loss(dit, x0, (hdn, pooled))

    g = GraphedLoss(loss_fn, params)

    def step():
        if graph:
            loss = g(x0, ids)
        else:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(x0, ids)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        torch._foreach_lerp_(ema, [p.detach() for p in params], 0.001)
        return loss

    t = time.perf_counter()
    step()
    torch.cuda.synchronize()
    first = time.perf_counter() - t
    ms = timed(step, n)
    # Same RNG state: the graphed and the eager loss must agree (bf16 autocast both).
    check = {}
    if graph:
        torch.cuda.manual_seed(123)
        a = g(x0, ids).item()
        torch.cuda.manual_seed(123)
        b = loss_fn(x0, ids).item()
        check = {"graph_loss": a, "eager_loss": b}
    out(what="dit_step", batch=batch, size=size, graph=graph, first_s=round(first, 2), ms=round(ms, 2),
        samples_per_s=round(batch / ms * 1000), mem_gb=round(torch.cuda.max_memory_allocated() / 1e9, 1),
        cfg=(dit_cfg or MMDiTConfig()).patch_size, **check)


def encode_time(batch, size, graph):
    vae = Vae(VaeConfig()).to(DEV)
    it = batches(batch, 0, 2, buckets=(size,))
    arrays, _, _ = unpack(next(it), DEV)

    def enc(*a):
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            return vae.encode_latents(render_arrays(a, *size)).float()

    g = GraphedFn(enc)
    with torch.no_grad():
        ms = timed(lambda: g(*arrays) if graph else enc(*arrays))
        ms_render = timed(lambda: render_arrays(arrays, *size))
    out(what="render_encode", batch=batch, size=size, graph=graph, ms=round(ms, 2), render_eager_ms=round(ms_render, 2))


def vae_step(batch, graph):
    vae = Vae(VaeConfig()).to(DEV)
    params = list(vae.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
    it = batches(batch, 0, 2, buckets=((128, 128),))
    arrays, _, size = unpack(next(it), DEV)

    def loss_fn(*a):
        images = render_arrays(a, *size)
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            mean, logvar = vae.encoder(images)
            rec = vae.decoder(mean + torch.exp(0.5 * logvar) * torch.randn_like(mean))
        return F.l1_loss(rec.float(), images) + F.mse_loss(rec.float(), images)

    g = GraphedLoss(loss_fn, params)

    def step():
        if graph:
            g(*arrays)
        else:
            opt.zero_grad(set_to_none=True)
            loss_fn(*arrays).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    out(what="vae_step", batch=batch, graph=graph, ms=round(timed(step), 2))


def trace(batch=512, size=(128, 128)):
    """Top CUDA kernels of eager DiT + text encoder steps (a graph replays the same kernels)."""
    from torch.profiler import ProfilerActivity, profile

    tok = WordTokenizer()
    te = TextEncoder(TextEncoderConfig(vocab_size=len(tok.vocab))).to(DEV)
    dit = MMDiT(MMDiTConfig(in_channels=16, out_channels=16)).to(DEV)
    params = [*te.parameters(), *dit.parameters()]
    w, h = size
    x0 = torch.randn(batch, 16, h // 8, w // 8, device=DEV)
    ids = torch.randint(4, len(tok.vocab), (batch, 32), device=DEV)

    def step():
        for p in params:
            p.grad = None
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            hdn, pooled = te(ids)
            loss = flow_loss(dit, x0, (hdn, pooled))
        loss.backward()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            step()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=30, max_name_column_width=90), flush=True)


def main():
    if "--trace" in sys.argv:
        trace()
        return
    quick = "--quick" in sys.argv
    out(what="device", name=torch.cuda.get_device_name(), torch=torch.__version__)
    for b in (512, 1024):
        out(what="data_batches_per_s", batch=b, workers=10, rate=round(data_rate(b, 10), 1))
    for b in (512, 1024):
        for graph in (False, True):
            encode_time(b, (128, 128), graph)
    for b in (512, 1024, 2048):
        for graph in (False, True):
            if graph or b == 512 or not quick:
                dit_step(b, (128, 128), graph)
    dit_step(1024, (192, 128), True)
    dit_step(512, (128, 128), True, MMDiTConfig(in_channels=16, out_channels=16, patch_size=1))
    dit_step(1024, (128, 128), True, MMDiTConfig(in_channels=16, out_channels=16, hidden_size=192, num_heads=6))
    for b in (64, 128, 256):
        for graph in (False, True):
            vae_step(b, graph)


if __name__ == "__main__":
    main()
