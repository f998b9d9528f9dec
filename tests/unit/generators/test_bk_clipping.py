"""Book-keeping clipping equals Opacus per-sample clipping; its optimizer adds Opacus's noise
(the same std on the same clipped sum), drawn from the NumPy stream it is given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from governance.datasets.encoding import PublicEncoder
from governance.generators.vae.bk_clipping import CLIP_EPS, LinearClipper
from governance.generators.vae.dp_sgd import _summed_grad_optimizer, add_gaussian_noise
from governance.generators.vae.dp_vae import DPVAEGenerator
from governance.generators.vae.model import TabularVAE, VAELoss, build_heads
from tests.utils.data import MIXED_SCHEMA, mixed_table


def _vae_batch(n: int = 48) -> tuple[TabularVAE, VAELoss, torch.Tensor]:
    encoder = PublicEncoder(MIXED_SCHEMA)
    heads = build_heads(encoder)
    torch.manual_seed(3)
    model = TabularVAE(encoder.width, heads, latent_dim=4, hidden=16)
    x = torch.from_numpy(encoder.encode(mixed_table(n)))
    return model, VAELoss(heads, 4, beta=0.3, reduction="none"), x


def _opacus_clipped_sum(model: nn.Module, loss: VAELoss, x: torch.Tensor,
                        max_grad_norm: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Materialise every per-sample gradient with Opacus (hooks mode), clip, sum."""
    from opacus import GradSampleModule

    wrapped = GradSampleModule(model, loss_reduction="sum")
    torch.manual_seed(11)  # the reparameterisation noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss(wrapped(x), x).sum().backward()
    per_sample = {n: p.grad_sample.reshape(len(x), -1) for n, p in model.named_parameters()}
    norms = torch.cat(list(per_sample.values()), dim=1).norm(dim=1)
    coef = (max_grad_norm / (norms + CLIP_EPS)).clamp(max=1.0)
    clipped = {n: (g * coef[:, None]).sum(0) for n, g in per_sample.items()}
    wrapped._close()
    return clipped, norms


@pytest.mark.parametrize("max_grad_norm", [0.05, 1.0, 1e6])
def test_clipped_sum_equals_opacus_per_sample_clipping(max_grad_norm):
    # Arrange: the same model, batch and reparameterisation noise for both methods
    model, loss, x = _vae_batch()
    expected, expected_norms = _opacus_clipped_sum(model, loss, x, max_grad_norm)
    for p in model.parameters():
        p.grad = None
    clipper = LinearClipper(model, max_grad_norm=max_grad_norm)
    # Run
    torch.manual_seed(11)
    norms = clipper.backward(loss(model(x), x))
    # Assert: identical norms and clipped sums, whether all, some or no samples are clipped
    torch.testing.assert_close(norms, expected_norms, rtol=1e-4, atol=1e-6)
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad.flatten(), expected[name], rtol=1e-4, atol=1e-6)
    clipped_share = float((expected_norms > max_grad_norm).float().mean())
    assert clipped_share == {0.05: 1.0, 1e6: 0.0}.get(max_grad_norm, clipped_share)


def test_each_samples_contribution_is_bounded_by_the_clipping_norm():
    # Arrange: a batch of one sample, whose clipped gradient must have norm <= C
    model, loss, x = _vae_batch()
    clipper = LinearClipper(model, max_grad_norm=0.1)
    # Run
    norms = clipper.backward(loss(model(x[:1]), x[:1]))
    total = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    # Assert
    assert float(norms[0]) > 0.1
    assert float(total) == pytest.approx(0.1, rel=1e-4)


def test_empty_batch_gives_zero_gradients():
    # Arrange
    model, loss, x = _vae_batch()
    clipper = LinearClipper(model, max_grad_norm=1.0)
    # Run
    norms = clipper.backward(loss(model(x[:0]), x[:0]))
    # Assert
    assert norms.shape == (0,)
    assert all(p.grad is not None and not p.grad.any() for p in model.parameters())


def test_unsupported_networks_are_refused():
    # Arrange / Assert: a non-linear parameterised layer, a frozen layer
    with pytest.raises(ValueError, match="not in an nn.Linear layer"):
        LinearClipper(nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3)), max_grad_norm=1.0)
    frozen = nn.Linear(3, 3)
    frozen.bias.requires_grad_(False)
    with pytest.raises(ValueError, match="frozen"):
        LinearClipper(frozen, max_grad_norm=1.0)
    with pytest.raises(ValueError, match="max_grad_norm"):
        LinearClipper(nn.Linear(3, 3), max_grad_norm=0.0)


def test_a_layer_used_twice_or_on_3d_input_is_refused():
    # Arrange: weight tying would need the sum of two outer products per sample
    layer = nn.Linear(3, 3)
    clipper = LinearClipper(layer, max_grad_norm=1.0)
    x = torch.randn(4, 3)
    # Run / Assert
    with pytest.raises(RuntimeError, match="exactly once"):
        clipper.backward(layer(layer(x)).sum(1))
    with pytest.raises(RuntimeError, match="2-D batch-first"):
        clipper.backward(layer(torch.randn(4, 2, 3)).sum((1, 2)))
    with pytest.raises(ValueError, match="one loss per sample"):
        clipper.backward(layer(x))


def test_optimizer_adds_exactly_the_noise_of_its_stream():
    # Arrange: the same clipped gradients and noise stream for Opacus's optimizer (noised
    # as the ghost path does it) and ours
    from opacus.optimizers import DPOptimizerFastGradientClipping

    results, befores = [], []
    for ours in (False, True):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2))
        befores.append([p.detach().clone() for p in net.parameters()])
        args = (torch.optim.SGD(net.parameters(), lr=1.0),)
        kwargs = {"noise_multiplier": 1.3, "max_grad_norm": 0.7, "expected_batch_size": 16}
        if ours:
            optimizer = _summed_grad_optimizer()(*args, noise_rng=np.random.default_rng(9),
                                                 **kwargs)
        else:
            optimizer = DPOptimizerFastGradientClipping(*args, **kwargs)
            rng = np.random.default_rng(9)
            optimizer.add_noise = lambda opt=optimizer, rng=rng: add_gaussian_noise(opt, rng)
        for p in net.parameters():
            p.grad = torch.full_like(p, 0.25)
        # Run
        optimizer.step()
        results.append([p.detach().clone() for p in net.parameters()])
    # Assert: identical, and each step is -(0.25 + noise) / 16, the noise of each tensor
    # drawn with std 1.3 * 0.7 by torch from a 32-bit seed taken from the stream
    for ours, theirs in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    seeds = np.random.default_rng(9).integers(2**32, size=4, dtype=np.uint64)
    for before, after, seed in zip(befores[1], results[1], seeds, strict=True):
        noise = torch.normal(0.0, 1.3 * 0.7, size=before.shape,
                             generator=torch.Generator().manual_seed(int(seed)))
        torch.testing.assert_close(after, before - (0.25 + noise) / 16, rtol=0, atol=1e-6)


def test_optimizer_noise_has_the_calibrated_spread():
    # Arrange: zero gradients, so the update is the noise over the expected batch size
    net = nn.Linear(200, 200)
    before = net.weight.detach().clone()
    optimizer = _summed_grad_optimizer()(
        torch.optim.SGD(net.parameters(), lr=1.0), noise_multiplier=2.0, max_grad_norm=0.5,
        expected_batch_size=10, noise_rng=np.random.default_rng(1))
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    # Run
    optimizer.step()
    # Assert: std = noise_multiplier * max_grad_norm / expected_batch_size = 0.1
    step = before - net.weight.detach()
    assert float(step.std()) == pytest.approx(0.1, rel=0.02)
    assert abs(float(step.mean())) < 0.002
    with pytest.raises(ValueError, match="already noised"):
        optimizer.add_noise()  # a second noising of the same gradients


def test_book_keeping_and_ghost_training_give_the_same_model():
    # Arrange: same seed and reproducible noise, so the same Poisson batches,
    # reparameterisation and DP noise
    data = mixed_table(300)
    options = {"epsilon": 2.0, "seed": 4, "epochs": 2, "batch_size": 50, "hidden": 16,
               "latent_dim": 4, "reproducible_noise": True}
    # Run
    fits = [DPVAEGenerator(clipping=mode, **options).fit(data, MIXED_SCHEMA)
            for mode in ("book_keeping", "ghost")]
    # Assert
    ours, ghost = (f._model.state_dict() for f in fits)
    for name in ours:
        torch.testing.assert_close(ours[name], ghost[name], rtol=1e-3, atol=1e-4)
    assert fits[0].privacy().epsilon_spent == fits[1].privacy().epsilon_spent
