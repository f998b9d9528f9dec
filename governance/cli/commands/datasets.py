"""``govern datasets``: register and list source tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.cli.common import open_governance
from governance.cli.output import JsonOpt, emit_json, err, out, table
from governance.core.errors import InputError
from governance.schemas.datasets import DatasetPublic
from governance.services.datasets import list_datasets, register_dataset

app = typer.Typer(no_args_is_help=True, help="Register and list source tables.")


@app.command("add")
def datasets_add(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    schema: Annotated[Path | None, typer.Option(help="Schema YAML with public domains.")] = None,
    infer_schema: Annotated[bool, typer.Option(
        "--infer-schema", help="Draft the schema from the data (marked NOT private).")] = False,
    name: Annotated[str | None, typer.Option(help="Dataset name (default: file stem).")] = None,
    split_seed: Annotated[int, typer.Option(help="Seed of the train/holdout/eval split.")] = 0,
    as_: Annotated[str, typer.Option("--as", help="Who registers it.")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Register a source table; prints its dataset id."""
    if schema is not None and infer_schema:
        raise InputError("give either --schema or --infer-schema, not both")
    ds = register_dataset(open_governance(), path=file, schema=schema, infer=infer_schema,
                          name=name, split_seed=split_seed, actor=as_)
    if ds.data_derived_schema:
        err.print("[yellow]warning:[/] the schema was inferred from the data: its bounds and "
                  "categories are NOT public, so DP candidates built on it are not private.")
    if json_:
        emit_json(DatasetPublic.from_row(ds))
    else:
        out.print(ds.id)


@app.command("list")
def datasets_list(json_: JsonOpt = False) -> None:
    """List registered datasets."""
    rows = list_datasets(open_governance(), offset=0, limit=None).data
    if json_:
        emit_json(rows)
        return
    out.print(table("datasets", ["id", "name", "rows", "source sha256", "schema"],
                    [[r.id, r.name, r.n_rows, r.source_sha256[:16],
                      "data-derived" if r.data_derived_schema else "public"] for r in rows]))
