"""Small real and synthetic tables for tests, behind loader functions.

``randhie()`` is the real RAND HIE table shipped with statsmodels (the bundled demo
data); ``mixed_table()`` is a seeded mixed-type table whose rows are all unique, which
the attack controls need (randhie is too discrete: most rows have exact duplicates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.datasets.bundled import SCHEMA_PATH, randhie_path
from governance.datasets.schema import Schema, conform, load_schema

MIXED_SCHEMA = Schema.model_validate(
    {
        "columns": {
            "age": {"type": "integer", "min": 17, "max": 90},
            "income": {"type": "numeric", "min": 0, "max": 200000},
            "hours": {"type": "numeric", "min": 0, "max": 99},
            "sex": {"type": "categorical", "categories": ["female", "male"]},
            "edu": {"type": "categorical", "categories": ["hs", "college", "grad", "other"]},
            "label": {"type": "categorical", "categories": [0, 1]},
        }
    }
)


def mixed_table(n: int = 2000, *, seed: int = 0) -> pd.DataFrame:
    """A seeded mixed-type table with a learnable binary ``label``; rows are unique."""
    rng = np.random.default_rng(seed)
    age = rng.integers(17, 91, n)
    edu = rng.choice(["hs", "college", "grad", "other"], n, p=[0.4, 0.3, 0.2, 0.1])
    sex = rng.choice(["female", "male"], n)
    hours = np.clip(rng.normal(40, 10, n), 0, 99)
    bonus = np.select([edu == "grad", edu == "college"], [25000.0, 12000.0], 0.0)
    income = np.clip(rng.lognormal(10, 0.5, n) + bonus + 300 * (age - 17), 0, 200000)
    logit = (income - 45000) / 15000 + (hours - 40) / 10 + (sex == "male") * 0.5
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {"age": age, "income": income, "hours": hours, "sex": sex, "edu": edu, "label": label}
    )
    return conform(frame, MIXED_SCHEMA)


def randhie_schema() -> Schema:
    """The bundled public-domain schema of randhie."""
    return load_schema(SCHEMA_PATH)


def randhie(n: int | None = None, *, seed: int = 0) -> pd.DataFrame:
    """The real randhie table, conformed to its schema (optionally a seeded sample)."""
    frame = pd.read_csv(randhie_path())
    frame = conform(frame, randhie_schema())
    if n is not None:
        frame = frame.sample(n=n, random_state=seed).reset_index(drop=True)
    return frame
