"""``govern datasets``: register, list and grant source tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from governance.cli.common import (
    AsRefused,
    KeyFileOpt,
    acting_key,
    open_governance,
    refuse_as,
)
from governance.cli.output import JsonOpt, emit_json, err, out, table
from governance.core.errors import InputError
from governance.schemas.datasets import DatasetPublic
from governance.services import permissions
from governance.services.datasets import grant_dataset, list_datasets, register_dataset
from governance.services.policies import load_policy

app = typer.Typer(no_args_is_help=True, help="Register and list source tables.")


@app.command("add")
def datasets_add(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    schema: Annotated[Path | None, typer.Option(help="Schema YAML with public domains.")] = None,
    infer_schema: Annotated[bool, typer.Option(
        "--infer-schema", help="Draft the schema from the data (marked NOT private).")] = False,
    name: Annotated[str | None, typer.Option(help="Dataset name (default: file stem).")] = None,
    split_seed: Annotated[int, typer.Option(help="Seed of the train/holdout/eval split.")] = 0,
    policy: Annotated[Path | None, typer.Option(
        help="Policy YAML whose risk.max_total_epsilon starts the budget (default: the "
             "default policy).")] = None,
    as_: Annotated[str, typer.Option("--as", help="Who registers it.")] = "cli",
    json_: JsonOpt = False,
) -> None:
    """Register a source table; prints its dataset id."""
    if schema is not None and infer_schema:
        raise InputError("give either --schema or --infer-schema, not both")
    ds = register_dataset(open_governance(), path=file, schema=schema, infer=infer_schema,
                          name=name, split_seed=split_seed, actor=as_,
                          policy=load_policy(policy) if policy is not None else None)
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


@app.command("grant")
def datasets_grant(
    dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
    to: Annotated[str, typer.Option("--to", help="The requester key's name.")],
    key_file: KeyFileOpt = None,
    as_: AsRefused = None,
    json_: JsonOpt = False,
) -> None:
    """Let a requester see a dataset and start runs on it (its owner or an admin)."""
    refuse_as(as_)
    gov = open_governance()
    with gov.session() as s:
        actor = acting_key(s, key_file, permissions.REGISTER_DATASETS)
    grant = grant_dataset(gov, dataset=dataset, grantee=to, actor=actor)
    if json_:
        emit_json(grant)
    else:
        out.print(f"{grant.grantee} may now see dataset {grant.dataset_id} and run on it")
