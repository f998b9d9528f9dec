"""Where the benchmarks find data: relative to the repository, or where an env var says.

UCI Adult lives beside the repository in ``../shared/datasets/adult`` (``adult.data``,
``adult.test``); set ``GOVERNANCE_ADULT_DIR`` to read it from somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def adult_dir() -> Path:
    """The folder holding ``adult.data`` and ``adult.test``."""
    return Path(os.environ.get("GOVERNANCE_ADULT_DIR", ROOT.parent / "shared" / "datasets"
                               / "adult"))


ADULT_DIR = adult_dir()
ADULT = ADULT_DIR / "adult.data"
