"""CUDA graphs for the training loops: one capture per input shape, replayed every step.

The shipped model is tiny (a few million parameters, ~100 tokens), so an eager training step is
bound by kernel launches, not by the GPU: thousands of small kernels each step. A CUDA graph
replays the whole forward + backward with one launch and costs a second or two to capture (a
static `torch.compile` of the DiT cost ~40 s per aspect bucket). The optimizer step, gradient
clipping and EMA stay eager (a handful of fused kernels).

Rules the captured functions follow: static shapes per capture (one capture per aspect bucket),
no host synchronisation inside, random numbers only from torch's CUDA generator (graph-safe:
each replay draws fresh values), and autocast with `cache_enabled=False` so that the bf16 weight
casts are part of the graph and see the weights the optimizer just changed.

`pool` (torch.cuda.graph_pool_handle()) lets many captures share one memory pool, so memory is the
largest capture's, not the sum (the video model has one capture per frame count and size). That
is safe only when each replay's outputs are consumed before another graph of the pool replays,
as the training loops do (the loss and gradients at once; an encoded batch only by its own
bucket's loss graph).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def _key(tensors: Sequence[torch.Tensor]) -> tuple:
    return tuple((tuple(t.shape), t.dtype) for t in tensors)


def _warmup(fn: Callable[[], None], n: int) -> None:
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(n):
            fn()
    torch.cuda.current_stream().wait_stream(side)


def _total(loss: torch.Tensor) -> torch.Tensor:
    """A scalar loss, or the first entry of a vector [total, parts...] (parts are for the log)."""
    return loss if loss.dim() == 0 else loss[0]


class GraphedLoss:
    """loss = loss_fn(*inputs); loss.backward() as one CUDA graph per input shape.

    After a call, each parameter's .grad holds this step's gradient (not accumulated): the
    caller clips and steps the optimizer as usual, and must not set the grads to None.
    """

    def __init__(self, loss_fn: Callable[..., torch.Tensor], params: Sequence[torch.nn.Parameter], warmup: int = 3,
                 pool=None):
        self.loss_fn, self.params, self.warmup, self.pool = loss_fn, list(params), warmup, pool
        self.graphs: dict[tuple, tuple] = {}

    def _capture(self, inputs: Sequence[torch.Tensor]) -> tuple:
        static = [x.clone() for x in inputs]

        def once() -> None:
            for p in self.params:
                p.grad = None
            _total(self.loss_fn(*static)).backward()

        _warmup(once, self.warmup)
        for p in self.params:
            p.grad = None
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            loss = self.loss_fn(*static)
            _total(loss).backward()
        grads = [p.grad for p in self.params]
        return graph, static, loss, grads

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        key = _key(inputs)
        if key not in self.graphs:
            self.graphs[key] = self._capture(inputs)
        graph, static, loss, grads = self.graphs[key]
        for s, x in zip(static, inputs):
            s.copy_(x)
        graph.replay()
        for p, g in zip(self.params, grads):  # each shape's graph owns its gradient buffers
            p.grad = g
        return loss


class GraphedFn:
    """out = fn(*inputs) without gradients, as one CUDA graph per input shape (outputs are reused
    buffers: consume or clone them before the next call of the same shape)."""

    def __init__(self, fn: Callable[..., torch.Tensor], warmup: int = 2, pool=None):
        self.fn, self.warmup, self.pool = fn, warmup, pool
        self.graphs: dict[tuple, tuple] = {}

    def _capture(self, inputs: Sequence[torch.Tensor]) -> tuple:
        static = [x.clone() for x in inputs]
        with torch.no_grad():
            _warmup(lambda: self.fn(*static), self.warmup)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self.pool):
                out = self.fn(*static)
        return graph, static, out

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        key = _key(inputs)
        if key not in self.graphs:
            self.graphs[key] = self._capture(inputs)
        graph, static, out = self.graphs[key]
        for s, x in zip(static, inputs):
            s.copy_(x)
        graph.replay()
        return out
