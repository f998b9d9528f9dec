"""Per-sample gradient clipping for ``nn.Linear`` networks in one backward pass.

DP-SGD needs, for each step, ``sum_i clip(grad_i)`` where ``grad_i`` is the gradient of
sample ``i``'s loss and ``clip(g) = g * min(1, C / (||g|| + 1e-6))`` (Opacus's flat clipping,
norm over all parameters). Opacus's ghost clipping gets it with two backward passes: one
to compute the per-sample norms, a second over ``sum_i c_i * loss_i``. For a linear layer
``out = a @ W.T + b`` with 2-D input, sample ``i``'s gradients are the rank-one
``outer(g_i, a_i)`` and ``g_i``, where ``g_i = d loss_i / d out_i``, so

* the per-sample norm needs only ``||g_i||^2 * (||a_i||^2 + 1)`` per layer (the ghost norm),
* and the clipped sum is ``(c * g).T @ a`` and ``c @ g`` per layer,

both from the layer inputs ``a`` (kept by a forward hook) and output gradients ``g`` (one
``torch.autograd.grad`` call that computes no weight gradient). That is the "book-keeping"
algorithm of Bu, Wang, Zha and Karypis, "Differentially Private Optimization on Large Model
at Small Cost" (ICML 2023): the second backward pass is replaced by one matrix product per
layer. The result is the same sum Opacus computes; ``tests/unit/generators/test_bk_clipping.py``
checks it against Opacus's per-sample gradients (``grad_sample_mode="hooks"``).

Only networks whose parameters all belong to ``nn.Linear`` layers, each called once per
forward on 2-D input, are supported; anything else is refused rather than clipped wrongly.
Noise, scaling and accounting stay with Opacus's optimizer and accountant.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

CLIP_EPS = 1e-6  # Opacus's get_clipping_coef: C / (norm + 1e-6)


class LinearClipper:
    """Writes ``sum_i clip(grad_i)`` into ``p.grad`` for every parameter of ``model``.

    Args:
        model: A module whose parameters all belong to ``nn.Linear`` layers.
        max_grad_norm: The clipping norm ``C`` (over all parameters of a sample).

    Raises:
        ValueError: for a parameter outside an ``nn.Linear`` layer or a frozen one.

    >>> torch.manual_seed(0) and None
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> clipper = LinearClipper(net, max_grad_norm=0.5)
    >>> x = torch.randn(5, 3)
    >>> norms = clipper.backward(net(x).squeeze(1) ** 2)
    >>> total = torch.cat([p.grad.flatten() for p in net.parameters()]).norm()
    >>> bool(total <= 5 * 0.5), norms.shape
    (True, torch.Size([5]))
    """

    def __init__(self, model: nn.Module, *, max_grad_norm: float) -> None:
        if not max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be positive, got {max_grad_norm!r}")
        linear = {id(p) for m in model.modules() if isinstance(m, nn.Linear)
                  for p in m.parameters(recurse=False)}
        for name, p in model.named_parameters():
            if id(p) not in linear:
                raise ValueError(f"parameter {name!r} is not in an nn.Linear layer; "
                                 "book-keeping clipping supports linear layers only")
            if not p.requires_grad:
                raise ValueError(f"parameter {name!r} is frozen; unfreeze it or drop it")
        self.layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
        self.max_grad_norm = float(max_grad_norm)
        self._records: list[tuple[nn.Linear, torch.Tensor, torch.Tensor]] = []
        self._handles: list[RemovableHandle] = [
            m.register_forward_hook(self._record) for m in self.layers]

    def _record(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if torch.is_grad_enabled():
            self._records.append((module, inputs[0], output))  # type: ignore[arg-type]

    def backward(self, losses: torch.Tensor) -> torch.Tensor:
        """Set ``p.grad`` to the clipped per-sample gradient sum; return per-sample norms.

        ``losses`` holds one loss per sample (``reduction="none"``) from a forward pass
        made since the last call. Sample ``i``'s loss must depend on sample ``i`` only.
        """
        records, self._records = self._records, []
        if losses.dim() != 1:
            raise ValueError(f"expected one loss per sample, got shape {tuple(losses.shape)}")
        seen = [m for m, _, _ in records]
        if len(seen) != len(self.layers) or len({id(m) for m in seen}) != len(seen):
            raise RuntimeError(
                f"{len(seen)} linear calls recorded for {len(self.layers)} layers since the "
                "last backward: each layer must run exactly once per forward pass")
        for _, a, _ in records:
            if a.dim() != 2 or len(a) != len(losses):
                raise RuntimeError(f"layer input of shape {tuple(a.shape)} for "
                                   f"{len(losses)} losses; only 2-D batch-first input works")
        grads = torch.autograd.grad(losses.sum(), [out for _, _, out in records])
        with torch.no_grad():
            vector_norm = torch.linalg.vector_norm
            g_norms = torch.stack([vector_norm(g, dim=1) for g in grads])  # layers x batch
            a_norms = torch.stack([vector_norm(a, dim=1) for _, a, _ in records])
            # per layer, ||grad_i||^2 = ||g_i||^2 * (||a_i||^2 + 1), no + 1 without a bias
            bias = torch.tensor([[float(m.bias is not None)] for m, _, _ in records])
            norms = (g_norms.square() * (a_norms.square() + bias)).sum(0).sqrt()
            coef = (self.max_grad_norm / (norms + CLIP_EPS)).clamp(max=1.0)
            for (m, a, _), g in zip(records, grads, strict=True):
                m.weight.grad = torch.mm(g.t() * coef, a)
                if m.bias is not None:
                    m.bias.grad = torch.mv(g.t(), coef)
        return norms

    def remove(self) -> None:
        """Detach the forward hooks."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
