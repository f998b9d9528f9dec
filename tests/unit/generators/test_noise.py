"""Privacy noise is secret: fresh OS entropy, never the public seed, unless a sandbox asks.

The public seed must reproduce splits, initialisation and non-private output; the noise of a
DP candidate must not follow it, or anyone who reads the audit log could replay it.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import torch

import governance.generators.privacy.noise as noise
from governance.core.errors import InputError
from governance.datasets.schema import Schema
from governance.generators.determinism import derive_seed
from governance.generators.marginal.mst import MSTGenerator
from governance.generators.privacy.noise import (
    FLOATING_POINT_NOTE,
    REPRODUCIBLE_NOTE,
    SECRET_NOTE,
    noise_rng,
    refuse_requested_flag,
    with_noise_policy,
)
from governance.generators.vae.dp_vae import DPVAEGenerator
from tests.utils.data import MIXED_SCHEMA, mixed_table

TINY_VAE = {"epochs": 1, "batch_size": 64, "hidden": 16, "latent_dim": 4, "accountant": "rdp"}
PAIR = Schema.model_validate({"columns": {
    "income": MIXED_SCHEMA.columns["income"], "label": MIXED_SCHEMA.columns["label"]}})
TINY_MST = {"iters": 50, "compress": False}


def _bytes(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()


def _weights(gen: DPVAEGenerator) -> bytes:
    assert gen._model is not None
    return b"".join(t.numpy().tobytes() for t in gen._model.state_dict().values())


@functools.cache
def _data() -> pd.DataFrame:
    return mixed_table(300)


def _vae(epsilon: float = 8.0, **options: object) -> DPVAEGenerator:
    return DPVAEGenerator(epsilon=epsilon, seed=7, **TINY_VAE, **options).fit(
        _data(), MIXED_SCHEMA)


def _mst(**options: object) -> MSTGenerator:
    return MSTGenerator(epsilon=1.0, seed=7, **TINY_MST, **options).fit(
        _data()[PAIR.names], PAIR)


# --- the factory ---------------------------------------------------------------------------


def test_noise_rng_ignores_the_public_seed_unless_reproducible(monkeypatch):
    # Setup: pin the OS entropy, so the only input left is the public seed
    monkeypatch.setattr(noise, "fresh_entropy", lambda: 12345)
    # Run
    secret = [noise_rng(seed, 1, reproducible=False).random(3) for seed in (0, 1)]
    public = [noise_rng(seed, 1, reproducible=True).random(3) for seed in (0, 1)]
    # Assert: secret streams are the entropy's whatever the seed; public ones follow the seed
    np.testing.assert_array_equal(secret[0], secret[1])
    np.testing.assert_array_equal(secret[0], np.random.default_rng(12345).random(3))
    assert not np.array_equal(public[0], public[1])
    np.testing.assert_array_equal(public[0],
                                  np.random.default_rng(derive_seed(0, 1)).random(3))


def test_reproducible_stream_known_answer():
    # Run: the stream a sandbox candidate with seed 3 draws its MST noise from
    first = noise_rng(3, 1, reproducible=True).random()
    # Assert: pinned, so a change of derivation (and of every sandbox artifact) is noticed
    assert derive_seed(3, 1) == 457190280
    assert first == 0.6967847923679752


def test_secret_streams_take_128_bits_from_the_os_csprng(monkeypatch):
    # Setup
    asked: list[int] = []

    def randbits(k: int) -> int:
        asked.append(k)
        return 2**127 + 5

    monkeypatch.setattr(noise.secrets, "randbits", randbits)
    # Run
    value = noise_rng(0, reproducible=False).random()
    # Assert
    assert asked == [128]
    assert value == np.random.default_rng(2**127 + 5).random()


def test_two_secret_streams_differ():
    # Run / Assert: real OS entropy (a collision has probability 2**-128)
    a, b = (noise_rng(0, 1, reproducible=False).random(4) for _ in range(2))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_the_flag_must_be_a_bool(bad):
    # Run / Assert
    with pytest.raises(InputError, match="reproducible_noise must be True or False"):
        noise_rng(0, reproducible=bad)
    with pytest.raises(InputError, match="reproducible_noise must be True or False"):
        MSTGenerator(epsilon=1.0, reproducible_noise=bad)


def test_the_policy_sets_the_flag_and_a_request_cannot():
    # Run / Assert: the policy's value replaces the request's, for DP generators only
    assert with_noise_policy({"epochs": 2, "reproducible_noise": True}, private=True,
                             reproducible=False) == {"epochs": 2, "reproducible_noise": False}
    assert with_noise_policy({"epochs": 2}, private=True, reproducible=True) == {
        "epochs": 2, "reproducible_noise": True}
    assert with_noise_policy({"reproducible_noise": True}, private=False,
                             reproducible=True) == {}
    with pytest.raises(InputError, match="set by the policy"):
        refuse_requested_flag({"dp_vae": {"epochs": 2, "reproducible_noise": False}})
    refuse_requested_flag({"dp_vae": {"epochs": 2}})


# --- DP-SGD --------------------------------------------------------------------------------


def test_dp_vae_noise_does_not_follow_the_seed():
    # Run: two private fits with the same seed and data
    first, second = _vae(), _vae()
    # Assert: different models and samples; the record says where the noise came from
    assert _weights(first) != _weights(second)
    assert _bytes(first.sample(100)) != _bytes(second.sample(100))
    spend = first.privacy()
    assert spend.reproducible_noise is False
    assert SECRET_NOTE in spend.notes and FLOATING_POINT_NOTE in spend.notes
    assert "Mironov 2012" in FLOATING_POINT_NOTE


def test_dp_vae_non_private_control_still_follows_the_seed():
    # Run
    first, second = _vae(float("inf")), _vae(float("inf"))
    # Assert
    assert _weights(first) == _weights(second)
    assert _bytes(first.sample(100)) == _bytes(second.sample(100))
    assert first.privacy().reproducible_noise is None


def test_dp_vae_reproducible_noise_follows_the_seed_and_says_so():
    # Run
    first, second = _vae(reproducible_noise=True), _vae(reproducible_noise=True)
    # Assert
    assert _weights(first) == _weights(second)
    assert _bytes(first.sample(100)) == _bytes(second.sample(100))
    spend = first.privacy()
    assert spend.reproducible_noise is True
    assert REPRODUCIBLE_NOTE in spend.notes and SECRET_NOTE not in spend.notes
    assert REPRODUCIBLE_NOTE == ("noise reproducible from the logged seed: not differentially "
                                 "private against anyone who can read the log")


def test_the_only_randomness_outside_the_seed_is_the_noise_entropy(monkeypatch):
    # Setup: pin the entropy: a private fit must then repeat, so nothing else (init, batches,
    # reparameterisation, private domain) draws unseeded randomness
    monkeypatch.setattr(noise, "fresh_entropy", lambda: 99)
    # Run
    first, second = _vae(preprocessing_epsilon=0.5), _vae(preprocessing_epsilon=0.5)
    monkeypatch.setattr(noise, "fresh_entropy", lambda: 100)
    third = _vae(preprocessing_epsilon=0.5)
    # Assert
    assert _weights(first) == _weights(second) != _weights(third)


def test_a_fitted_generator_keeps_no_noise_stream():
    # Run
    gen = _vae(preprocessing_epsilon=0.5)
    # Assert: nothing reachable from the instance is a generator that could replay the noise
    held = list(vars(gen).values())
    held += [v for item in held if hasattr(item, "__dict__") for v in vars(item).values()]
    assert not any(isinstance(v, np.random.Generator | np.random.BitGenerator |
                              torch.Generator) for v in held)


# --- marginal mechanisms -------------------------------------------------------------------


def test_mst_noise_does_not_follow_the_seed():
    # Run
    first, second = _mst(), _mst()
    # Assert
    assert _bytes(first.sample(200)) != _bytes(second.sample(200))
    assert first.privacy().reproducible_noise is False
    assert SECRET_NOTE in first.privacy().notes
    assert FLOATING_POINT_NOTE in first.privacy().notes


def test_mst_reproducible_noise_follows_the_seed_and_says_so():
    # Run
    first, second = _mst(reproducible_noise=True), _mst(reproducible_noise=True)
    # Assert
    assert _bytes(first.sample(200)) == _bytes(second.sample(200))
    assert first.privacy().reproducible_noise is True
    assert REPRODUCIBLE_NOTE in first.privacy().notes
