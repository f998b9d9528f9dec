"""The bundled demo dataset: RAND HIE from statsmodels, with a public-domain schema."""

from __future__ import annotations

from pathlib import Path

from governance.errors import DatasetError

SCHEMA_PATH = Path(__file__).with_name("bundled") / "randhie.schema.yaml"


def randhie_path() -> Path:
    """Return the path of ``randhie.csv`` inside the installed statsmodels."""
    try:
        import statsmodels.datasets.randhie as randhie
    except ImportError as exc:  # pragma: no cover - statsmodels is a dependency
        raise ImportError("the demo needs statsmodels: pip install statsmodels") from exc
    path = Path(randhie.__file__).with_name("randhie.csv")
    if not path.is_file():
        raise DatasetError(f"statsmodels is installed but {path} is missing")
    return path
