"""Finding 3: deeply nested YAML and alias bombs are refused with the limit named.

Before: a schema nested thousands of levels deep made PyYAML's composer recurse until
``RecursionError`` (500 from the API, "internal error" from the CLI), and nothing bounded
what a few lines of anchors and aliases expand to. Schemas and policies share one loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.utils.data import mixed_table
from tests.utils.hostile import (
    assert_error_body,
    assert_one_line_exit_2,
    billion_laughs,
    csv_bytes,
    deep_yaml,
    run_cli,
    upload,
)

DEPTH_LIMIT = "32"
POLICY_HEAD = "version: 1\nname: hostile\n"


@pytest.mark.parametrize("depth", [33, 10_000])
def test_a_deeply_nested_schema_upload_is_422_naming_the_limit(client, headers, depth):
    # Run
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(100)),
               schema=deep_yaml(depth))
    # Assert
    body = assert_error_body(r, 422)
    assert body["code"] == "invalid_schema"
    assert "nest" in body["message"] and DEPTH_LIMIT in body["message"]


def test_an_alias_bomb_schema_upload_is_422_naming_the_limit(client, headers):
    # Run
    r = upload(client, headers["requester"], content=csv_bytes(mixed_table(100)),
               schema=billion_laughs(levels=7))
    # Assert
    body = assert_error_body(r, 422)
    assert body["code"] == "invalid_schema" and "alias" in body["message"]


def test_policy_check_refuses_deep_nesting_with_exit_2(tmp_path: Path):
    # Setup
    policy = tmp_path / "deep.yaml"
    policy.write_text(POLICY_HEAD + "description: " + "[" * 10_000 + "]" * 10_000 + "\n")
    # Run
    proc = run_cli(["policy", "check", str(policy)], tmp_path / "home")
    # Assert
    line = assert_one_line_exit_2(proc)
    assert "nest" in line and DEPTH_LIMIT in line


def test_policy_check_refuses_an_alias_bomb_with_exit_2(tmp_path: Path):
    # Setup: the bomb's lines before a policy's own keys.
    policy = tmp_path / "bomb.yaml"
    bomb = billion_laughs(levels=7).replace("columns:", "description:")
    policy.write_text(POLICY_HEAD + bomb)
    # Run
    proc = run_cli(["policy", "check", str(policy)], tmp_path / "home")
    # Assert
    line = assert_one_line_exit_2(proc)
    assert "alias" in line


def test_datasets_add_refuses_a_deep_schema_with_exit_2(tmp_path: Path):
    # Setup
    data, schema = tmp_path / "t.csv", tmp_path / "deep.yaml"
    data.write_bytes(csv_bytes(mixed_table(100)))
    schema.write_text(deep_yaml(10_000))
    # Run
    proc = run_cli(["datasets", "add", str(data), "--schema", str(schema)], tmp_path / "home")
    # Assert
    line = assert_one_line_exit_2(proc)
    assert "nest" in line and DEPTH_LIMIT in line
