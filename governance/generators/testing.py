"""The generator contract as executable checks, in the style of scikit-learn's ``check_estimator``.

A generator is done when ``check_generator`` passes on it: it conforms to the schema
with the project's dtypes, is byte-identical for one seed and differs across seeds
(a DP generator only with ``reproducible_noise``: by default its privacy noise comes
from fresh OS entropy, so two fits with one seed differ), checks its arguments,
refuses to sample before it is fitted, and reports a privacy record consistent with its
flags. ``GENERATOR_CHECKS`` lists the checks one by one so
a test suite can parametrize over them (scikit-learn's ``parametrize_with_checks``).

>>> from governance.datasets.schema import Schema
>>> from governance.generators.fake import FakeGenerator
>>> import pandas as pd
>>> schema = Schema.model_validate({"columns": {"x": {"type": "numeric", "min": 0, "max": 1}}})
>>> data = pd.DataFrame({"x": [i / 99 for i in range(100)]})
>>> check_generator(lambda seed: FakeGenerator(seed=seed), data=data, schema=schema,
...                 checks=("check_sample_conforms", "check_sample_size_is_checked"))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from governance.core.errors import DatasetError, InputError
from governance.datasets.schema import Schema, conform
from governance.generators.base import Generator

Factory = Callable[[int], Generator]


class Subject:
    """What the checks run on: a factory, a table, and fitted generators cached by seed.

    Fits are the expensive part, so each check asks for ``fitted(seed)`` and shares it;
    a check that needs an independent fit asks for ``fresh(seed)``.
    """

    def __init__(self, make: Factory, data: pd.DataFrame, schema: Schema, n: int) -> None:
        self.make, self.data, self.schema, self.n = make, data, schema, n
        self._fitted: dict[int, Generator] = {}

    def fresh(self, seed: int) -> Generator:
        """A new, unfitted generator."""
        return self.make(seed)

    def fitted(self, seed: int) -> Generator:
        """The generator fitted once for ``seed`` (shared between checks)."""
        if seed not in self._fitted:
            self._fitted[seed] = self.make(seed).fit(self.data, self.schema)
        return self._fitted[seed]

    def remember(self, seed: int, gen: Generator) -> None:
        """Share a generator a check has fitted itself."""
        self._fitted.setdefault(seed, gen)


Check = Callable[[Subject], None]


def _digest(frame: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()


def check_fit_returns_self(s: Subject) -> None:
    """``fit`` returns the generator itself, now ``fitted``."""
    gen = s.fresh(3)
    assert not gen.fitted, "a new generator already says it is fitted"
    assert gen.fit(s.data, s.schema) is gen, "fit() must return self"
    assert gen.fitted, "fitted is False after fit()"
    s.remember(3, gen)


def check_sample_before_fit_raises(s: Subject) -> None:
    """Sampling or asking for the privacy record before ``fit`` raises."""
    gen = s.fresh(3)
    for call in (lambda: gen.sample(s.n), gen.privacy):
        try:
            call()
        except RuntimeError:
            continue
        raise AssertionError("sample()/privacy() before fit() must raise RuntimeError")


def check_sample_size_is_checked(s: Subject) -> None:
    """A sample size that is not a positive integer is an ``InputError``."""
    gen = s.fitted(3)
    for bad in (0, -3, 2.5, True):
        try:
            gen.sample(bad)  # type: ignore[arg-type]
        except InputError:
            continue
        raise AssertionError(f"sample({bad!r}) must raise InputError")


def check_sample_conforms(s: Subject) -> None:
    """Samples have the schema's columns, order, dtypes, categories and public bounds."""
    schema, n = s.schema, s.n
    out = s.fitted(3).sample(n)
    assert list(out.columns) == schema.names and len(out) == n, "wrong columns or row count"
    try:
        pd.testing.assert_frame_equal(conform(out, schema), out)
    except DatasetError as exc:
        raise AssertionError(f"samples do not fit the schema: {exc}") from exc
    for col, spec in schema.columns.items():
        if spec.type == "categorical":
            assert list(out[col].cat.categories) == list(spec.categories or []), col
        else:
            assert out[col].dtype == (np.int64 if spec.type == "integer" else np.float64), col
            assert out[col].between(spec.min, spec.max).all(), f"{col} leaves its bounds"


def _secret_noise(gen: Generator) -> bool:
    spend = gen.privacy()
    return spend.is_private and spend.reproducible_noise is False


def check_seed_reproduces_public_randomness_only(s: Subject) -> None:
    """Repeated ``sample(n)`` calls repeat; two fits with one seed agree unless DP.

    A DP fit's privacy noise comes from fresh OS entropy, so a second fit with the same
    seed must differ: noise that followed the public seed could be replayed from the log.
    """
    first, second = s.fitted(3), s.fresh(3).fit(s.data, s.schema)
    a, b = first.sample(s.n), second.sample(s.n)
    assert _digest(second.sample(s.n)) == _digest(b), "a repeated sample(n) differs"
    if _secret_noise(first):
        assert _digest(a) != _digest(b), (
            "two DP fits with one seed gave identical samples: the privacy noise follows "
            "the public seed")
    else:
        assert _digest(a) == _digest(b), "the same seed gave different samples"


def check_reproducible_noise_repeats(s: Subject) -> None:
    """With ``reproducible_noise`` set, two DP fits with one seed sample the same bytes."""
    if not _secret_noise(s.fitted(3)):
        return
    fits = []
    for _ in range(2):
        gen = s.fresh(3)
        gen.reproducible_noise = True  # the option the policy's risk.reproducible_noise sets
        fits.append(gen.fit(s.data, s.schema))
    assert _digest(fits[0].sample(s.n)) == _digest(fits[1].sample(s.n)), (
        "reproducible_noise=True, yet two fits with one seed differ")
    assert fits[0].privacy().reproducible_noise is True, (
        "a reproducible-noise record must say so (reproducible_noise=True)")


def check_different_seeds_differ(s: Subject) -> None:
    """Different seeds give different samples."""
    a, b = s.fitted(3).sample(s.n), s.fitted(4).sample(s.n)
    assert _digest(a) != _digest(b), "two seeds gave identical samples"


def check_privacy_record(s: Subject) -> None:
    """The privacy record agrees with the class flags and never exceeds its target."""
    gen = s.fitted(3)
    spend = gen.privacy()
    if not type(gen).differentially_private or not math.isfinite(spend.epsilon_target):
        assert spend.epsilon_spent == math.inf, "a non-private run reports a finite epsilon"
        return
    assert math.isfinite(spend.epsilon_spent), "a DP run must report a finite epsilon"
    assert 0 < spend.epsilon_spent <= spend.epsilon_target * (1 + 1e-9), (
        f"spent epsilon {spend.epsilon_spent} exceeds the target {spend.epsilon_target}")
    assert spend.accountant, "a DP record must name the accountant that computed it"
    assert 0 <= spend.delta < 1
    assert spend.reproducible_noise is getattr(gen, "reproducible_noise", False), (
        "a DP record must say whether its noise is reproducible from the seed")


def check_flags(s: Subject) -> None:
    """The class declares its name and its privacy flags."""
    cls = type(s.fresh(3))
    assert isinstance(getattr(cls, "name", None), str) and cls.name, "no class name"
    assert isinstance(cls.differentially_private, bool)
    assert isinstance(cls.accepts_infinite_epsilon, bool)


GENERATOR_CHECKS: tuple[Check, ...] = (
    check_flags, check_fit_returns_self, check_sample_before_fit_raises,
    check_sample_size_is_checked, check_sample_conforms,
    check_seed_reproduces_public_randomness_only, check_reproducible_noise_repeats,
    check_different_seeds_differ, check_privacy_record,
)


def check_generator(make: Factory, *, data: pd.DataFrame, schema: Schema, n: int = 150,
                    checks: Sequence[str] | None = None) -> None:
    """Run the contract checks on the generators ``make(seed)`` builds.

    Args:
        make: builds a fresh, unfitted generator for a seed.
        data: a conformed training table.
        schema: its public-domain schema.
        n: rows per sample.
        checks: names of the checks to run (all when ``None``).

    Raises:
        AssertionError: naming the first check that failed and why.
    """
    subject = Subject(make, data, schema, n)
    chosen = [c for c in GENERATOR_CHECKS if checks is None or c.__name__ in checks]
    for check in chosen:
        try:
            check(subject)
        except AssertionError as exc:
            raise AssertionError(f"{check.__name__}: {exc}") from exc
