"""DP-SGD wiring for dp_vae: Opacus's Poisson loader, noisy optimizer and accountant.

``make_plain_sgd`` wires the non-private control the same way: the same Poisson batches
and optimizer, with no clipping, noise or accountant.

Two ways to get the clipped per-sample gradient sum, same result:

* ``"book_keeping"`` (default): ``LinearClipper``, one backward pass
  (see ``governance.generators.vae.bk_clipping``);
* ``"ghost"``: Opacus's ``make_private(grad_sample_mode="ghost")``, two backward passes.

Either way the accountant's history, the scaling (division by the expected batch size)
and the optimizer are Opacus's own, and so are the semantics of the Poisson sampler (each
row in each batch with probability ``sample_rate``) and of the noise (std
``noise_multiplier * max_grad_norm`` on the clipped sum). The *randomness* of both is
not: Opacus draws it from a ``torch.Generator`` (32 bits of seed) or, in ``secure_mode``,
from ``torchcsprng`` (not installed), so the batch masks (``SecretPoissonSampler``) and
the noise (``add_gaussian_noise``) are keyed by the caller's NumPy generator, which
``dp_vae`` seeds from fresh OS entropy (``privacy.noise``). The book-keeping path builds
the rest the way ``PrivacyEngine.make_private`` does, minus the per-sample hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from governance.generators.vae.bk_clipping import LinearClipper

CLIPPING_MODES = ("book_keeping", "ghost")


def add_gaussian_noise(optimizer: Any, rng: np.random.Generator) -> None:
    """Opacus's ``add_noise`` for pre-clipped gradients, with the noise keyed by ``rng``.

    For every parameter, ``p.grad = p.summed_grad + N(0, (noise_multiplier *
    max_grad_norm)^2)``, and the summed gradient is marked as noised; the values and
    checks of ``DPOptimizerFastGradientClipping.add_noise``.

    The noise is drawn by ``torch.normal``: NumPy's sampler took twice as long (measured
    on two shared cores: 1.2 against 0.57 ms for the default VAE's 42,670 values per
    step) and pushed a DP epoch past 1.5x a non-private one. A ``torch.Generator`` keeps
    only 32 bits of its seed, so each tensor of each step gets its own 32-bit seed drawn
    from ``rng``: a run's noise depends on ``min(128, 32 x tensors x steps)`` bits of
    secret entropy (all 128 after one step of any model with four tensors), and no
    tensor's noise can be checked on its own, since only the trained model's output is
    released.

    Raises:
        ValueError: the gradients were already noised (``zero_grad`` was not called).
    """
    std = optimizer.noise_multiplier * optimizer.max_grad_norm
    params = list(optimizer.params)
    seeds = rng.integers(2**32, size=len(params), dtype=np.uint64)
    gen = torch.Generator()
    for p, seed in zip(params, seeds, strict=True):
        if getattr(p.summed_grad, "_processed", False):
            raise ValueError("gradients already noised; call zero_grad() first")
        gen.manual_seed(int(seed))
        noise = torch.normal(0.0, std, size=p.summed_grad.shape, generator=gen,
                             dtype=p.summed_grad.dtype)
        p.grad = (p.summed_grad + noise).view_as(p)
        p.summed_grad._processed = True


def _poisson_sampler() -> type:
    # Deferred import: opacus loads torch; only training does.
    from opacus.utils.uniform_sampler import UniformWithReplacementSampler

    class SecretPoissonSampler(UniformWithReplacementSampler):
        """Opacus's Poisson sampler with its masks drawn from a NumPy generator.

        Each of ``steps`` batches holds every row independently with probability
        ``sample_rate``, as in ``UniformWithReplacementSampler``; only the source of
        the uniforms changes.
        """

        def __init__(self, *, num_samples: int, sample_rate: float,
                     rng: np.random.Generator) -> None:
            super().__init__(num_samples=num_samples, sample_rate=sample_rate)
            self.rng = rng

        def __iter__(self) -> Any:
            for _ in range(self.steps):
                mask = self.rng.random(self.num_samples) < self.sample_rate
                yield np.flatnonzero(mask).tolist()

    return SecretPoissonSampler


def secret_poisson_loader(loader: DataLoader[Any], *, sample_rate: float,
                          rng: np.random.Generator) -> DataLoader[Any]:
    """``loader``'s dataset and collate function, batched by Poisson sampling from ``rng``.

    ``len`` of the result is ``int(1 / sample_rate)`` batches per epoch, as Opacus's
    ``DPDataLoader``; the dataset must return an empty batch for an empty index list.
    """
    sampler = _poisson_sampler()(num_samples=len(loader.dataset),  # type: ignore[arg-type]
                                 sample_rate=sample_rate, rng=rng)
    return DataLoader(loader.dataset, batch_sampler=sampler, collate_fn=loader.collate_fn)


class ReducibleLoss(Protocol):
    """A loss module whose ``reduction`` (``"mean"`` or ``"none"``) can be switched."""

    reduction: str

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``output`` against ``target``."""
        ...


def _nothing() -> None:
    pass


@dataclass
class DPSGD:
    """What a training loop needs to take DP-SGD steps.

    Batches, one step per batch, the accountant (None for the non-private control) and
    what to undo after training.
    """

    batches: Any
    step: Callable[[torch.Tensor], None]
    accountant: Any = None
    cleanup: Callable[[], None] = _nothing


def make_plain_sgd(*, model: nn.Module, optimizer: torch.optim.Optimizer,
                   criterion: nn.Module, loader: DataLoader[Any]) -> DPSGD:
    """The non-private control: Opacus's Poisson batches, plain backward and step."""
    # Deferred import: opacus loads torch; only training does.
    from opacus.data_loader import DPDataLoader

    def step(xb: torch.Tensor) -> None:
        optimizer.zero_grad()
        criterion(model(xb), xb).backward()
        optimizer.step()

    return DPSGD(DPDataLoader.from_data_loader(loader), step)


def schedule(batches: DataLoader[Any]) -> tuple[float, int]:
    """The sample rate and batches per epoch of a Poisson loader (Opacus's or ours)."""
    sampler: Any = batches.batch_sampler
    return float(sampler.sample_rate), len(batches)


def _summed_grad_optimizer() -> type:
    # Deferred import: opacus loads torch; only training does.
    from opacus.optimizers import DPOptimizerFastGradientClipping

    class SummedGradDPOptimizer(DPOptimizerFastGradientClipping):
        """Opacus's optimizer for pre-clipped ``p.grad``, noised from a NumPy generator.

        ``accumulate`` clones ``p.grad`` where Opacus deep-copies it (the same values,
        less per-tensor overhead), and ``add_noise`` is ``add_gaussian_noise`` on
        ``noise_rng``, never Opacus's torch generator.
        """

        def __init__(self, *args: Any, noise_rng: np.random.Generator, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.secure_mode:
                raise ValueError("secure_mode needs Opacus's own noise generation")
            self.noise_rng = noise_rng

        def accumulate(self) -> None:
            for p in self.params:
                if p.summed_grad is not None:
                    p.summed_grad.add_(p.grad)
                else:
                    p.summed_grad = p.grad.detach().clone()

        def add_noise(self) -> None:
            add_gaussian_noise(self, self.noise_rng)

    return SummedGradDPOptimizer


def make_dp_sgd(
    *, model: nn.Module, optimizer: torch.optim.Optimizer, criterion: ReducibleLoss,
    loader: DataLoader[Any], noise_multiplier: float, max_grad_norm: float,
    sample_rate: float, accountant: str, noise_rng: np.random.Generator, clipping: str,
) -> DPSGD:
    """Wrap ``model``/``optimizer``/``loader`` for DP-SGD with ``clipping``.

    ``criterion`` must have a ``reduction`` attribute (``"mean"`` by default); it must
    compute each sample's loss from that sample alone. ``noise_rng`` is the secret
    randomness: two independent streams spawned from it draw the batch masks and the
    Gaussian noise.
    """
    if clipping not in CLIPPING_MODES:
        raise ValueError(f"unknown clipping {clipping!r}; use one of {CLIPPING_MODES}")
    sampling_rng, gaussian_rng = noise_rng.spawn(2)
    batches = secret_poisson_loader(loader, sample_rate=sample_rate, rng=sampling_rng)
    if clipping == "ghost":
        # Deferred import: opacus loads torch; only training does.
        from opacus import PrivacyEngine

        engine = PrivacyEngine(accountant=accountant)
        # The loader is Poisson already (poisson_sampling=False keeps it): Opacus derives
        # the same sample rate, 1 / len(batches), and expected batch size from it.
        dp_model, dp_opt, dp_loss, batches = engine.make_private(
            module=model, optimizer=optimizer, criterion=criterion, data_loader=batches,
            noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
            poisson_sampling=False, grad_sample_mode="ghost")
        dp_opt.add_noise = lambda: add_gaussian_noise(dp_opt, gaussian_rng)

        def ghost_step(xb: torch.Tensor) -> None:
            dp_opt.zero_grad()
            dp_loss(dp_model(xb), xb).backward()
            dp_opt.step()

        return DPSGD(batches, ghost_step, engine.accountant)

    # Deferred import: opacus loads torch; only training does.
    from opacus.accountants import create_accountant

    tracker = create_accountant(mechanism=accountant)
    dp_opt = _summed_grad_optimizer()(
        optimizer, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
        expected_batch_size=int(len(loader.dataset) * sample_rate),  # type: ignore[arg-type]
        loss_reduction="mean", noise_rng=gaussian_rng)
    dp_opt.attach_step_hook(tracker.get_optimizer_hook_fn(sample_rate=sample_rate))
    clipper = LinearClipper(model, max_grad_norm=max_grad_norm)
    criterion.reduction = "none"

    def bk_step(xb: torch.Tensor) -> None:
        dp_opt.zero_grad(set_to_none=True)
        clipper.backward(criterion(model(xb), xb))
        dp_opt.step()

    def cleanup() -> None:
        clipper.remove()
        criterion.reduction = "mean"

    return DPSGD(batches, bk_step, tracker, cleanup)
