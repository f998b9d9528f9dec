"""Where privacy noise comes from: fresh operating-system entropy, never the public seed.

A candidate's seed is public: it is derived from the run seed, generator and epsilon and
written to the audit log. It reproduces what may be public (splits, model
initialisation, sampling from a fitted model). If it also seeded the privacy noise, anyone
who can read the log and knows all rows but one could rerun the generator on both
neighbouring tables and see which output matches: the (epsilon, delta) guarantee would
be void. So every privacy-noise stream (Gaussian and Laplace noise, exponential-mechanism
draws, DP-SGD's Poisson batch selection, private preprocessing) comes from ``noise_rng``,
which by default ignores the public seed and seeds NumPy's PCG64 with 128 bits from the
operating system's CSPRNG (``secrets``). That entropy is never stored, logged or returned.

PCG64 is a statistical generator, not a cryptographic one; its raw outputs are never
released (only noisy counts fitted into a model, or a model trained on noisy gradients,
and samples from those), and its 128-bit seed is never written anywhere.

Only a policy with ``risk.reproducible_noise: true`` (research sandboxes) makes the noise
reproducible from the logged seed; the candidate's record then says so and every policy
without that flag refuses it.

Opacus's ``secure_mode`` would draw DP-SGD's randomness from a CSPRNG, but it needs the
``torchcsprng`` package, which is not installed; and a ``torch.Generator`` seeded from
the OS keeps only 32 bits of its seed (measured: seeds ``s`` and ``s + 2**32`` give the
same stream). So DP-SGD's batch masks come from this stream, and its Gaussian noise from
torch generators each seeded with 32 fresh bits of it, per tensor and step
(``governance.generators.vae.dp_sgd.add_gaussian_noise``).

>>> a, b = noise_rng(0, 1, reproducible=True), noise_rng(0, 1, reproducible=True)
>>> a.random() == b.random()
True
>>> noise_rng(0, 1, reproducible=False).random() == noise_rng(0, 1, reproducible=False).random()
False
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np

from governance.core.errors import InputError
from governance.generators.determinism import derive_seed

#: Bits of operating-system entropy behind each secret noise stream.
ENTROPY_BITS = 128
#: The constructor option that makes a DP generator's noise reproducible.
OPTION = "reproducible_noise"

REPRODUCIBLE_NOTE = ("noise reproducible from the logged seed: not differentially private "
                     "against anyone who can read the log")
SECRET_NOTE = (
    "privacy randomness (noise, exponential-mechanism draws, DP-SGD batch selection, private "
    f"preprocessing) keyed by a NumPy PCG64 stream seeded with {ENTROPY_BITS} bits of fresh "
    "operating-system entropy, never stored or logged; the logged seed reproduces only the "
    "public randomness (initialisation, sampling from the fitted model)")
FLOATING_POINT_NOTE = (
    "not hardened against floating-point attacks: Gaussian and Laplace noise are drawn in "
    "floating point without snapping, and exponential-mechanism probabilities are computed "
    "in floating point, so the low-order bits of a released value can leak more than the "
    "accounted epsilon (Mironov 2012, 'On significance of the least significant bits for "
    "differential privacy', CCS)")


def fresh_entropy() -> int:
    """``ENTROPY_BITS`` bits from the operating system's CSPRNG, for one noise stream."""
    return secrets.randbits(ENTROPY_BITS)


def noise_rng(*public: int, reproducible: bool) -> np.random.Generator:
    """A NumPy generator for privacy noise.

    Args:
        public: The candidate's public seed and a stream label, e.g. ``(seed, 1)``; used
            only when ``reproducible``.
        reproducible: Seed the stream from ``derive_seed(*public)`` (research sandboxes:
            not DP against anyone who can read the log) instead of fresh OS entropy.

    Returns:
        A PCG64 generator. Its seed is never stored by this function; callers keep the
        generator local to ``fit`` and drop it afterwards.
    """
    if check_flag(reproducible):
        return np.random.default_rng(derive_seed(*public))
    return np.random.default_rng(fresh_entropy())


def noise_notes(reproducible: bool) -> list[str]:
    """The privacy-record notes that say where a DP candidate's noise came from."""
    return [REPRODUCIBLE_NOTE if reproducible else SECRET_NOTE, FLOATING_POINT_NOTE]


def check_flag(value: object) -> bool:
    """``value`` as the ``reproducible_noise`` option.

    Raises:
        InputError: for anything but ``True`` or ``False``.
    """
    if not isinstance(value, bool):
        raise InputError(f"{OPTION} must be True or False, got {value!r}")
    return value


def refuse_requested_flag(generator_options: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a request that sets ``reproducible_noise`` itself: the policy decides it.

    Raises:
        InputError: naming the generator whose options carry the flag.
    """
    for name, options in generator_options.items():
        if OPTION in options:
            raise InputError(
                f"generator option {OPTION!r} for {name!r} is set by the policy "
                "(risk.reproducible_noise, research sandboxes only), not by a request; "
                "remove it")


def with_noise_policy(options: Mapping[str, Any], *, private: bool,
                      reproducible: bool) -> dict[str, Any]:
    """A generator's options with the policy's noise flag (DP generators only).

    The policy's value replaces whatever ``options`` held, so a request can never turn
    reproducible noise on under a policy that forbids it; non-private generators take no
    such option and get ``options`` unchanged.
    """
    out = {k: v for k, v in options.items() if k != OPTION}
    if private:
        out[OPTION] = bool(reproducible)
    return out
