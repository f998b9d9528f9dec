"""Doctest set-up for ``--doctest-modules`` over ``governance/`` and ``api/``."""

from __future__ import annotations

import math

import pytest


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict[str, object]) -> None:
    doctest_namespace["math"] = math
