"""A small convolutional VAE with 8x spatial down-sampling (SD-style, KL-regularised)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class VaeConfig:
    latent_channels: int = 16
    encoder_channels: tuple[int, ...] = (32, 64, 128, 160)
    decoder_channels: tuple[int, ...] = (96, 64, 40, 32)
    downsample_factor: int = 8
    scaling_factor: float = 1.0
    shift_factor: float = 0.0

    def to_json(self) -> dict:
        return {"_class_name": "VaeDecoder", **asdict(self)}


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, padding=1)
        self.n2, self.c2 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x)))
        return x + self.c2(F.silu(self.n2(h)))


class Encoder(nn.Module):
    def __init__(self, cfg: VaeConfig):
        super().__init__()
        ch = cfg.encoder_channels
        # No residual block at full resolution: it would cost more than the whole DiT step, and
        # the encoder runs on every training batch (it is not shipped, only the decoder is).
        layers: list[nn.Module] = [nn.Conv2d(3, ch[0], 3, padding=1), nn.SiLU()]
        for a, b in zip(ch, ch[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), ResBlock(b)]
        layers += [ResBlock(ch[-1]), nn.GroupNorm(8, ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], 2 * cfg.latent_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)


class Upsample(nn.Module):
    def __init__(self, a: int, b: int):
        super().__init__()
        self.conv = nn.Conv2d(a, b, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Decoder(nn.Module):
    def __init__(self, cfg: VaeConfig):
        super().__init__()
        ch = cfg.decoder_channels
        layers: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, ch[0], 3, padding=1), ResBlock(ch[0])]
        for a, b in zip(ch, ch[1:]):
            layers += [Upsample(a, b), ResBlock(b)]
        layers += [nn.GroupNorm(8, ch[-1]), nn.SiLU(), nn.Conv2d(ch[-1], 3, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Vae(nn.Module):
    def __init__(self, cfg: VaeConfig):
        super().__init__()
        assert 2 ** (len(cfg.encoder_channels) - 1) == cfg.downsample_factor
        self.cfg = cfg
        self.encoder, self.decoder = Encoder(cfg), Decoder(cfg)

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled latents for the diffusion model (posterior mean; deterministic)."""
        mean, _ = self.encoder(x)
        return (mean - self.cfg.shift_factor) * self.cfg.scaling_factor

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z / self.cfg.scaling_factor + self.cfg.shift_factor)
