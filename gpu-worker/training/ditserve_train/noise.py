"""Seeded Gaussian noise that the TypeScript sampler reproduces bit for bit.

Specification (docs/model-format.md, "Noise"):
  * Philox4x32-10 (Salmon et al. 2011, Random123), key = (seed mod 2^32, seed div 2^32),
    counter of block i = (i mod 2^32, i div 2^32, 0, 0); the key is bumped by
    (0x9E3779B9, 0xBB67AE85) between rounds.
  * Each block gives four uint32 x0..x3; u = (x + 0.5) / 2^32 in float64.
  * Box-Muller on (u0, u1) and (u2, u3): r = sqrt(-2 ln ua), z0 = r cos(2 pi ub), z1 = r sin(2 pi ub).
  * Normal n of a stream is element n % 4 of block n // 4 in the order z0(a), z1(a), z0(b), z1(b),
    computed in float64 and rounded once to float32.
  * A sample's latent [C, H, W] takes normals 0 .. C*H*W-1 of its own seed in C order.
"""

from __future__ import annotations

import numpy as np

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = 0x9E3779B9
W1 = 0xBB67AE85
MASK32 = np.uint64(0xFFFFFFFF)
MAX_SEED = 2**53 - 1  # seeds travel through JSON and JavaScript numbers


def philox4x32_10(seed: int, blocks: int) -> np.ndarray:
    """Returns uint32 [blocks, 4]: the Philox4x32-10 output for counters 0..blocks-1."""
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, {MAX_SEED}]")
    i = np.arange(blocks, dtype=np.uint64)
    c0 = i & MASK32
    c1 = i >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0 = seed & 0xFFFFFFFF
    k1 = (seed >> 32) & 0xFFFFFFFF
    for r in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & MASK32
        hi1, lo1 = p1 >> np.uint64(32), p1 & MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        if r < 9:
            k0 = (k0 + W0) & 0xFFFFFFFF
            k1 = (k1 + W1) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def standard_normal(seed: int, count: int) -> np.ndarray:
    """The first `count` normals of the stream of `seed`, as float32."""
    blocks = (count + 3) // 4
    x = philox4x32_10(seed, blocks).astype(np.float64)
    u = (x + 0.5) / 4294967296.0
    out = np.empty((blocks, 4), dtype=np.float64)
    for a, b in ((0, 1), (2, 3)):
        r = np.sqrt(-2.0 * np.log(u[:, a]))
        theta = 2.0 * np.pi * u[:, b]
        out[:, a] = r * np.cos(theta)
        out[:, b] = r * np.sin(theta)
    return out.reshape(-1)[:count].astype(np.float32)


def latent_noise(seeds: list[int], shape: tuple[int, int, int]) -> np.ndarray:
    """Noise for a batch: float32 [len(seeds), C, H, W], each sample from its own seed."""
    n = int(np.prod(shape))
    return np.stack([standard_normal(s, n).reshape(shape) for s in seeds])
