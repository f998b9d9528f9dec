"""A corpus of hostile inputs against the real app and the real CLI.

Every case must be refused cleanly: the API answers a 4xx JSON ``{code, message}`` (never
a 500, never a traceback) and leaves no upload file behind; the CLI (``python -m
governance`` in a fresh home) exits 2 with one line on stderr. Cases: malformed CSV and
Parquet, hostile YAML (nesting, alias bombs, Python tags), traversal and invisible names,
formula cells where numbers belong, and oversize bodies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.hostile import (
    REPO,
    assert_error_body,
    assert_one_line_exit_2,
    billion_laughs,
    csv_bytes,
    deep_yaml,
    files_under,
    parquet_bytes,
    raw_upload,
    run_cli,
    upload,
)

GOOD = mixed_table(100, seed=1)
GOOD_CSV = csv_bytes(GOOD)
GOOD_PARQUET = parquet_bytes(GOOD)
SCHEMA = MIXED_SCHEMA.to_yaml()


def _csv_with(column: str, value: str) -> bytes:
    frame = GOOD.astype({column: object})
    frame.loc[3, column] = value
    return csv_bytes(frame)


TABLES: dict[str, tuple[str, bytes]] = {
    "truncated-parquet": ("t.parquet", GOOD_PARQUET[: len(GOOD_PARQUET) // 2]),
    "parquet-magic-only": ("t.parquet", b"PAR1"),
    "garbage-parquet": ("t.parquet", bytes(range(256)) * 40),
    "garbage-csv": ("t.csv", bytes(range(256)) * 40),
    "semicolon-delimited": ("t.csv", GOOD.to_csv(index=False, sep=";").encode()),
    "utf16-with-bom": ("t.csv", GOOD.to_csv(index=False).encode("utf-16")),
    "nul-in-cell": ("t.csv", _csv_with("sex", "fe\x00male")),
    "nul-in-header": ("t.csv", GOOD_CSV.replace(b"age", b"a\x00ge", 1)),
    "extra-fields": ("t.csv", GOOD_CSV + b"1,2,3,male,hs,0,extra,fields\n"),
    "missing-fields": ("t.csv", GOOD_CSV + b"30,1000\n"),
    "duplicate-header": ("t.csv", b"age,age\n20,30\n"),
    "header-only": ("t.csv", GOOD_CSV.split(b"\n", 1)[0] + b"\n"),
    "empty": ("t.csv", b""),
    "formula-in-numeric": ("t.csv", _csv_with("age", "=1+1")),
    "formula-as-category": ("t.csv", _csv_with("edu", "@SUM(A1)")),
    "nested-parquet": ("t.parquet", parquet_bytes(pd.DataFrame({"age": [[1, 2]] * 60}))),
    "wide": ("t.csv", csv_bytes(pd.DataFrame({f"c{i}": [1, 2] for i in range(3000)}))),
    "long-line": ("t.csv", b"age,income\n" + b"9" * 300_000 + b",1\n"),
    "excel-suffix": ("t.xlsx", GOOD_CSV),
}
SCHEMAS: dict[str, str | bytes] = {
    "deep-nesting": deep_yaml(50_000),
    "alias-bomb": billion_laughs(levels=7),
    "recursive-alias": "a: &a [*a]\ncolumns: *a\n",
    "python-object": "columns: !!python/object/apply:os.system ['echo pwned']\n",
    "python-name": "columns: !!python/name:os.system\n",
    "unknown-tag": "columns: !custom {age: 1}\n",
    "huge-integer": "columns: {age: {type: integer, min: 0, max: " + "9" * 5000 + "}}\n",
    "not-utf8": b"columns:\n  age: {type: integer, min: 0, max: \xff\xfe}\n",
    "top-level-list": "- columns\n- age\n",
    "tab-indented": "columns:\n\tage: {type: integer}\n",
}
NAMES = {
    "traversal-name": "../../etc/passwd",
    "slash-name": "team/secret",
    "nul-name": "a\x00b",
    "bidi-name": "report\u202ecsv.exe",
    "zero-width-name": "pat\u200bients",
}


@dataclass(frozen=True)
class ApiCase:
    """One hostile upload and the statuses it may get."""

    filename: str = "t.csv"
    content: bytes = GOOD_CSV
    schema: str | bytes | None = SCHEMA
    fields: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, int] = field(default_factory=dict)
    statuses: tuple[int, ...] = (422,)
    raw: bool = False  # send the file name byte for byte (an HTTP client would escape it)


API_CASES: dict[str, ApiCase] = {
    **{f"table:{k}": ApiCase(filename=f, content=c, statuses=(413,) if k == "wide" else (422,),
                             settings={"max_csv_line_bytes": 100_000} if k == "long-line" else {})
       for k, (f, c) in TABLES.items()},
    **{f"schema:{k}": ApiCase(schema=s) for k, s in SCHEMAS.items()},
    **{f"name:{k}": ApiCase(fields={"name": n}) for k, n in NAMES.items()},
    "name:traversal-filename": ApiCase(filename="../../\u202ecsv.exe.csv"),
    "name:nul-filename": ApiCase(filename="a\x00b.csv", raw=True),
    "name:newline-filename": ApiCase(filename="a\nb.csv", raw=True),
    "body:oversize": ApiCase(content=GOOD_CSV * 20, settings={"max_upload_bytes": 10_000},
                             statuses=(413,)),
    "body:unknown-field": ApiCase(fields={"owner": "someone-else"}),
    "body:no-schema": ApiCase(schema=None),
    "body:bad-seed": ApiCase(fields={"split_seed": "-1"}),
    "body:bad-flag": ApiCase(fields={"infer_schema": "perhaps"}),
}


@pytest.mark.parametrize("case_id", sorted(API_CASES))
def test_the_api_refuses_hostile_uploads_cleanly(client, headers, gov, private_tmp,
                                                 monkeypatch, case_id):
    # Setup
    case = API_CASES[case_id]
    for name, value in case.settings.items():
        monkeypatch.setattr(gov.settings, name, value)
    artifacts_before = files_under(gov.settings.artifacts_dir)
    # Run
    if case.raw:
        r = raw_upload(client, headers["requester"], content=case.content,
                       filename=case.filename.encode(), schema=SCHEMA)
    else:
        r = upload(client, headers["requester"], content=case.content, filename=case.filename,
                   schema=case.schema, **case.fields)
    # Assert: a 4xx JSON body, and nothing written or left behind.
    assert_error_body(r, *case.statuses)
    assert files_under(gov.settings.home / "uploads") == []
    assert files_under(private_tmp) == []
    assert files_under(gov.settings.artifacts_dir) == artifacts_before


def test_the_api_refuses_a_non_multipart_body(client, headers):
    # Run
    r = client.post("/v1/datasets", json={"file": "age,income"}, headers=headers["requester"])
    # Assert
    assert_error_body(r, 422)


# ---- the CLI: every case runs the real entry point, in this process ----------------------

CLI_TABLES = ["truncated-parquet", "garbage-csv", "utf16-with-bom", "nul-in-cell",
              "extra-fields", "missing-fields", "nested-parquet", "long-line"]
CLI_SCHEMAS = ["deep-nesting", "alias-bomb", "recursive-alias", "python-object", "huge-integer"]
CLI_NAMES = {**{k: NAMES[k] for k in ("traversal-name", "bidi-name")},
             "markup-name": "[/bold]x/y"}
CLI_POLICIES = {"policy:deep-nesting": "version: 1\nname: p\ndescription: "
                + "[" * 50_000 + "]" * 50_000 + "\n",
                "policy:python-object": "version: 1\nname: !!python/object/apply:os.getcwd []\n",
                "policy:alias-bomb": "version: 1\nname: p\n"
                + billion_laughs(levels=7).replace("columns:", "description:")}


def _cli_cases(root: Path) -> dict[str, list[str]]:
    good, schema = root / "good.csv", root / "good.yaml"
    good.write_bytes(GOOD_CSV)
    schema.write_text(SCHEMA)
    cases: dict[str, list[str]] = {}
    for key in CLI_TABLES:
        filename, content = TABLES[key]
        path = root / f"{key}{Path(filename).suffix}"
        path.write_bytes(content)
        cases[f"table:{key}"] = ["datasets", "add", str(path), "--schema", str(schema)]
    for key in CLI_SCHEMAS:
        path = root / f"{key}.yaml"
        text = SCHEMAS[key]
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        cases[f"schema:{key}"] = ["datasets", "add", str(good), "--schema", str(path)]
    for key, name in CLI_NAMES.items():
        cases[f"name:{key}"] = ["datasets", "add", str(good), "--schema", str(schema),
                                "--name", name]
    for key, text in CLI_POLICIES.items():
        path = root / f"{key.split(':')[1]}-policy.yaml"
        path.write_text(text)
        cases[key] = ["policy", "check", str(path)]
    cases["usage:unknown-command"] = ["no-such-command"]
    cases["table:missing-file"] = ["datasets", "add", str(root / "absent.csv"), "--schema",
                                   str(schema)]
    return cases


_CACHES = {".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".import_linter_cache",
           ".pytest_cache", ".governance"}


def _repo_files() -> set[str]:
    """Files of the checkout (caches aside), to see that the CLI wrote nothing there."""
    found = set()
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _CACHES]
        found |= {os.path.join(folder, f) for f in files}
    return found


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile-cli")
    cases = _cli_cases(root)
    tmp = root / "systmp"
    tmp.mkdir()
    before = _repo_files()

    def one(item: tuple[str, list[str]]) -> tuple[str, Any]:
        case_id, args = item
        home = root / "homes" / case_id.replace(":", "-")
        return case_id, (home, run_cli(args, home, env={"TMPDIR": str(tmp),
                                                        "GOVERNANCE_MAX_CSV_LINE_BYTES":
                                                        "100000"}))

    results = dict(one(item) for item in sorted(cases.items()))
    return {"results": results, "tmp": tmp, "new_repo_files": _repo_files() - before}


CLI_CASE_IDS = sorted([
    *(f"table:{k}" for k in CLI_TABLES), *(f"schema:{k}" for k in CLI_SCHEMAS),
    *(f"name:{k}" for k in CLI_NAMES), *CLI_POLICIES, "usage:unknown-command",
    "table:missing-file"])


@pytest.mark.parametrize("case_id", CLI_CASE_IDS)
def test_the_cli_refuses_hostile_inputs_with_one_line_and_exit_2(cli_results, case_id):
    # Setup
    home, proc = cli_results["results"][case_id]
    # Assert
    assert_one_line_exit_2(proc)
    assert files_under(home / "artifacts") == []


def test_the_cli_cases_leave_nothing_outside_their_homes(cli_results):
    # Assert
    assert files_under(cli_results["tmp"]) == []
    assert cli_results["new_repo_files"] == set()
