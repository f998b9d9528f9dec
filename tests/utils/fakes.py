"""A 'private' fake generator for budget tests: instant, and it claims what it is told."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from governance.generators.fake import FakeGenerator
from governance.generators.registry import register_generator, unregister_generator


class FakeDP(FakeGenerator):
    """Copies its training rows and claims ``claimed_epsilon`` (default: its target).

    ``fail=True`` makes ``fit`` raise; ``FakeDP.on_fit`` (a class attribute) is called at
    the start of every fit, so a test can act while a candidate "trains".
    """

    name: ClassVar[str] = "fake_dp"
    differentially_private: ClassVar[bool] = True
    accepts_infinite_epsilon: ClassVar[bool] = False
    on_fit: ClassVar[Callable[[], None] | None] = None

    def __init__(self, *, fail: bool = False, reproducible_noise: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)  # it draws no noise, secret or reproducible
        self._fail = fail

    def fit(self, data: Any, schema: Any) -> FakeDP:
        """Call the test's hook, then fail or remember the rows."""
        if FakeDP.on_fit is not None:
            FakeDP.on_fit()
        if self._fail:
            raise RuntimeError("the mechanism broke")
        super().fit(data, schema)
        return self


@contextlib.contextmanager
def registered_fake_dp() -> Iterator[type[FakeDP]]:
    """``FakeDP`` registered as ``fake_dp`` for the duration (then removed again)."""
    register_generator("fake_dp", FakeDP)
    try:
        yield FakeDP
    finally:
        FakeDP.on_fit = None
        unregister_generator("fake_dp")
