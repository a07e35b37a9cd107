"""Times the parts of one training step on the GPU (CUDA events), to see where the time goes.

    PYTHONPATH=gpu-worker/training python3 gpu-worker/training/scripts/profile_step.py
"""

import time

import torch

from ditserve_train.data import SceneBatches, to_device
from ditserve_train.flow import flow_loss
from ditserve_train.models.mmdit import MMDiT, MMDiTConfig
from ditserve_train.models.text_encoder import TextEncoder, TextEncoderConfig
from ditserve_train.models.vae import Vae, VaeConfig


def timed(fn, n=10):
    fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(n):
        fn()
    b.record()
    torch.cuda.synchronize()
    return a.elapsed_time(b) / n


def main():
    dev = torch.device("cuda")
    batch = next(iter(SceneBatches(512, 0, buckets=((128, 128),))))
    batch = {"arrays": batch["arrays"], "ids": batch["ids"], "size": batch["size"]}
    for enc in ((48, 96, 128, 160), (32, 64, 128, 160)):
        vae = Vae(VaeConfig(encoder_channels=enc)).to(dev)
        images, ids = to_device(batch, dev)
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            print("encoder", enc, "ms", round(timed(lambda: vae.encode_latents(images)), 2), flush=True)
    print("render ms", round(timed(lambda: to_device(batch, dev)), 2), flush=True)
    te = TextEncoder(TextEncoderConfig(vocab_size=70)).to(dev)
    for compile_ in (False, True):
        dit = MMDiT(MMDiTConfig()).to(dev)
        fwd = torch.compile(dit) if compile_ else dit
        params = [*te.parameters(), *dit.parameters()]
        opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
        x0 = torch.randn(512, 8, 16, 16, device=dev)

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                h, p = te(ids)
                loss = flow_loss(fwd, x0, (h, p))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        t = time.time()
        step()
        torch.cuda.synchronize()
        print("compile" if compile_ else "eager", "first step s", round(time.time() - t, 1), flush=True)
        print("compile" if compile_ else "eager", "step ms", round(timed(step), 2), flush=True)


if __name__ == "__main__":
    main()
