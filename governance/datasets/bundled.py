"""The bundled demo dataset: RAND HIE from statsmodels, with a public-domain schema.

The demo predicts whether a person-year had any outpatient doctor visit
(``any_visit = mdvis > 0``); the count ``mdvis`` itself is dropped from the demo table
so that it cannot give the answer away. ``randhie.schema.yaml`` describes the
untouched table for users who want to run their own tasks on it.

Caveat stated wherever the demo's figures appear: randhie holds several years per
person and no person id, so a row-level split puts the same people in train, holdout
and eval. That inflates the real-only control and, with the table's discreteness,
caps what a membership attack can show (the duplicate rate is reported next to AUCs).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from governance.core.errors import DatasetError

BUNDLED = Path(__file__).with_name("bundled")
SCHEMA_PATH = BUNDLED / "randhie.schema.yaml"
DEMO_SCHEMA_PATH = BUNDLED / "randhie_demo.schema.yaml"
DEMO_TARGET = "any_visit"


def randhie_path() -> Path:
    """Return the path of ``randhie.csv`` inside the installed statsmodels."""
    try:  # Deferred import: statsmodels only locates the bundled table.
        import statsmodels.datasets.randhie as randhie
    except ImportError as exc:  # pragma: no cover - statsmodels is a dependency
        raise ImportError("the demo needs statsmodels: pip install statsmodels") from exc
    path = Path(randhie.__file__).with_name("randhie.csv")
    if not path.is_file():
        raise DatasetError(f"statsmodels is installed but {path} is missing")
    return path


def write_demo_table(out: Path, *, rows: int | None = None, seed: int = 0) -> Path:
    """Write the demo table (``any_visit`` instead of ``mdvis``) as CSV and return its path."""
    frame = pd.read_csv(randhie_path())
    frame.insert(0, DEMO_TARGET, (frame.pop("mdvis") > 0).astype(int))
    if rows is not None:
        frame = frame.sample(n=rows, random_state=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out
