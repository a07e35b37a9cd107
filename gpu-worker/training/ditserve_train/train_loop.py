"""Phase 2's outer loop, shared by the image and the video model: the time-budgeted lr schedule,
the optimizer and EMA steps, the loss log, and validation that keeps the best EMA weights and
stops early when it stalls. What a step computes (data, loss, graphs) stays with each model."""

from __future__ import annotations

import copy
import math
import time
from typing import Callable, Sequence

import torch

from .log import Log

LOG_EVERY = 100  # steps per logged loss: the summed losses are read back only then (no per-step sync)


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():  # one fused kernel per dtype instead of one per parameter
        torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - decay)


def budget_fraction(run, elapsed: float) -> float:
    return min(elapsed / max(run.seconds, 1e-6), 1.0)


def learning_rate(run, step: int, frac: float) -> float:
    """Warm-up, then constant, then a cosine decay over the last run.decay_frac of the time budget."""
    start = 1.0 - run.decay_frac
    return run.lr * min(1.0, (step + 1) / run.warmup_steps) * (
        1.0 if frac < start else 0.5 + 0.5 * math.cos(math.pi * (frac - start) / run.decay_frac))


def train_loop(run, opt: torch.optim.Optimizer, params: list, models: Sequence[torch.nn.Module],
               emas: Sequence[torch.nn.Module], next_batch: Callable[[], tuple], train_step: Callable[..., torch.Tensor],
               validate: Callable[[], dict], log: Log, samples_per_step: int | None = None) -> int:
    """Steps until run.seconds have passed (or validation stalls), then loads the best validated
    EMA weights into emas. train_step(*batch, fresh) returns the [total, flow, aux] losses after
    backward(); a batch is drawn every run.echo steps. samples_per_step: the logged throughput is
    samples/s when batches have a fixed size, else steps/s. Returns the number of steps."""
    best = {"score": -1.0, "state": None, "step": 0}
    t0 = t_log = last_val = time.time()
    step, stale, loss_sum, batch = 0, 0, None, None
    while True:  # at least one step and one validation, whatever the budget
        elapsed = time.time() - t0
        frac = budget_fraction(run, elapsed)
        lr = learning_rate(run, step, frac)
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        fresh = step % run.echo == 0
        if fresh:
            batch = next_batch()
        loss = train_step(*batch, fresh)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(run.ema_decay, (1 + step) / (10 + step))
        for ema, model in zip(emas, models):
            ema_update(ema, model, decay)
        step += 1
        loss_sum = loss.detach().clone() if loss_sum is None else loss_sum + loss.detach()
        if step % LOG_EVERY == 0:
            _, flow, aux = (loss_sum / LOG_EVERY).tolist()
            per_s = LOG_EVERY / (time.time() - t_log)
            rate = {"steps_per_s": round(per_s, 1)} if samples_per_step is None else {
                "samples_per_s": round(per_s * samples_per_step, 1)}
            log.scalar("dit", step=step, t=round(elapsed, 1), loss=round(flow, 5), aux=round(aux, 4), lr=round(lr, 6),
                       **rate)
            loss_sum, t_log = None, time.time()
        done = time.time() - t0 >= run.seconds
        if done or time.time() - last_val > run.val_every_s:
            table = validate()
            last_val = time.time()
            log.scalar("val", step=step, t=round(elapsed, 1), **{k: round(v, 4) for k, v in table.items()})
            if table["overall"] > best["score"]:
                best = {"score": table["overall"], "step": step,
                        "state": tuple(copy.deepcopy(m.state_dict()) for m in emas)}
                stale = 0
            else:
                stale += 1
                if stale >= run.patience and frac > 0.5:
                    log.event("early_stop", step=step)
                    break
        if done:
            break
    for m, state in zip(emas, best["state"]):
        m.load_state_dict(state)
    log.event("dit_done", steps=step, best_step=best["step"], best_val=best["score"], seconds=round(time.time() - t0, 1))
    return step
