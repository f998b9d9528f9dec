"""A small tabular VAE over the public-domain encoding, shaped for per-sample clipping.

The encoder reads the ``PublicEncoder`` matrix (numerics scaled by public bounds to
[0, 1], one-hot categories from the public lists). The decoder has one head per column:
logits for a categorical block (softmax / cross-entropy) and, for a numeric column, a
mean in (0, 1) and a scale in (0.01, 0.51) (Gaussian likelihood).

Ghost clipping (``grad_sample_mode="ghost"``) needs the loss as a criterion that can
return one value per sample. So ``TabularVAE.forward`` returns everything the loss needs
in one tensor, ``[decoder output | mu | logvar]``, and ``VAELoss`` is an ``nn.Module``
with a ``reduction`` attribute: Opacus's ``DPLossFastGradientClipping`` switches it to
``"none"`` to get the per-sample ELBO terms for the two-pass clipping, and the default
one-pass clipping (``governance.generators.vae.bk_clipping``) reads the same per-sample terms.
The model has only ``nn.Linear`` layers, whose per-sample gradient norms both get from
the ghost norm trick.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from governance.datasets.encoding import PublicEncoder

_MIN_SCALE, _SCALE_RANGE = 0.01, 0.5


@dataclass(frozen=True)
class Head:
    """One column's slice of the input encoding and of the decoder output."""

    categorical: bool
    in_start: int
    in_width: int
    out_start: int
    out_width: int


def build_heads(encoder: PublicEncoder) -> tuple[Head, ...]:
    """Decoder heads for every block of the public encoding, in schema order."""
    heads, out = [], 0
    for b in encoder.blocks:
        width = b.width if b.is_categorical else 2
        heads.append(Head(b.is_categorical, b.start, b.width, out, width))
        out += width
    return tuple(heads)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class TabularVAE(nn.Module):
    """Encoder/decoder MLPs; ``forward`` returns ``[decoder output | mu | logvar]``."""

    def __init__(self, in_width: int, heads: tuple[Head, ...], *, latent_dim: int,
                 hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.latent_dim = latent_dim
        self.out_width = sum(h.out_width for h in heads)
        self.encoder = _mlp([in_width, hidden, hidden, 2 * latent_dim])
        self.decoder = _mlp([latent_dim, hidden, hidden, self.out_width])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode, reparameterise (noise from torch's global generator), decode."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        logvar = logvar.clamp(-10.0, 10.0)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.cat([self.decoder(z), mu, logvar], dim=1)

    @torch.no_grad()
    def generate(self, n: int, in_width: int, *, generator: torch.Generator) -> torch.Tensor:
        """Decode ``n`` prior draws into a matrix in the public encoding's layout.

        Categorical blocks hold softmax probabilities (``PublicEncoder.decode`` samples a
        category from them); numeric columns hold a draw from the Gaussian head.
        """
        z = torch.randn(n, self.latent_dim, generator=generator)
        out = self.decoder(z)
        matrix = torch.zeros(n, in_width)
        for h in self.heads:
            part = out[:, h.out_start : h.out_start + h.out_width]
            if h.categorical:
                matrix[:, h.in_start : h.in_start + h.in_width] = torch.softmax(part, dim=1)
            else:
                mean, scale = _gaussian(part)
                noise = torch.randn(n, generator=generator)
                matrix[:, h.in_start] = mean + scale * noise
        return matrix


class VAELoss(nn.Module):
    """Negative ELBO per sample: cross-entropy + Gaussian NLL + ``beta`` * KL(q(z|x) || N(0, I)).

    ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"`` (per-sample vector), as for
    torch losses; Opacus's ghost-clipping wrapper relies on that attribute.

    Notes:
        Kingma & Welling (2014), "Auto-Encoding Variational Bayes": the KL term of a
        diagonal Gaussian posterior against the standard normal prior is
        ``-0.5 * sum(1 + logvar - mu**2 - exp(logvar))``.
    """

    def __init__(self, heads: tuple[Head, ...], latent_dim: int, *, beta: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.heads = heads
        self.latent_dim = latent_dim
        self.beta = beta
        self.reduction = reduction
        self.out_width = sum(h.out_width for h in heads)
        num = [h for h in heads if not h.categorical]
        self.register_buffer("_num_out", torch.tensor([h.out_start for h in num], dtype=torch.long))
        self.register_buffer("_num_in", torch.tensor([h.in_start for h in num], dtype=torch.long))

    @property
    def numeric_out(self) -> torch.Tensor:
        """Output columns where the numeric heads' (mean, log-scale) pairs start."""
        out: torch.Tensor = self.get_buffer("_num_out")
        return out

    @property
    def numeric_in(self) -> torch.Tensor:
        """Encoded input columns of the numeric heads."""
        out: torch.Tensor = self.get_buffer("_num_in")
        return out

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of ``output`` (from ``TabularVAE.forward``) against the encoded ``target``."""
        recon = output[:, : self.out_width]
        mu = output[:, self.out_width : self.out_width + self.latent_dim]
        logvar = output[:, self.out_width + self.latent_dim :]
        loss = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1) * self.beta
        for h in self.heads:
            if h.categorical:
                logits = recon[:, h.out_start : h.out_start + h.out_width]
                onehot = target[:, h.in_start : h.in_start + h.in_width]
                loss = loss - (onehot * torch.log_softmax(logits, dim=1)).sum(dim=1)
        num_out, num_in = self.numeric_out, self.numeric_in
        if len(num_out):
            pair = torch.stack([recon[:, num_out], recon[:, num_out + 1]], dim=2)
            mean, scale = _gaussian(pair)
            x = target[:, num_in]
            loss = loss + (0.5 * ((x - mean) / scale).pow(2) + scale.log()).sum(dim=1)
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()


def _gaussian(part: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean in (0, 1) and scale in (0.01, 0.51) from a head's two raw outputs (last dim)."""
    raw_mean, raw_scale = part[..., 0], part[..., 1]
    return torch.sigmoid(raw_mean), _MIN_SCALE + _SCALE_RANGE * torch.sigmoid(raw_scale)
