import math

import pytest

from governance.core.errors import InputError
from governance.frontier import FrontierPoint, plot_frontier


def _pt(cid, label, risk, utility, epsilon, feasible):
    return FrontierPoint(candidate_id=cid, label=label, risk=risk, utility=utility,
                         epsilon=epsilon, feasible=feasible)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

POINTS = [
    _pt("c1", "dpsgd", 0.51, 0.62, 0.5, True),
    _pt("c2", "dpsgd", 0.53, 0.70, 1.0, True),
    _pt("c3", "dpsgd", 0.59, 0.72, 8.0, False),
    _pt("c4", "ctgan", 0.68, 0.80, math.inf, False),
    _pt("c5", "dp_marginals", None, 0.70, 2.0, False),
]


def draw(path, points=POINTS, **overrides):
    options = {"control_utility": 0.84, "max_risk": 0.6, "min_utility": 0.672,
               "title": "test frontier"}
    options.update(overrides)
    return plot_frontier(points, path=path, **options)


def test_plot_writes_a_png_and_nothing_else(tmp_path):
    # Run
    out = draw(tmp_path / "plots" / "frontier.png")

    # Assert
    assert out == tmp_path / "plots" / "frontier.png"
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in out.parent.iterdir()] == ["frontier.png"]  # no temp file left


def test_plot_is_byte_for_byte_reproducible(tmp_path):
    # Run
    first = draw(tmp_path / "a.png").read_bytes()
    second = draw(tmp_path / "b.png").read_bytes()

    # Assert
    assert first == second
    assert b"Software" not in first and b"Matplotlib" not in first


def test_plot_changes_with_its_inputs(tmp_path):
    # Run
    base = draw(tmp_path / "a.png").read_bytes()
    other = draw(tmp_path / "b.png", max_risk=0.55).read_bytes()

    # Assert
    assert base != other


@pytest.mark.parametrize(
    "overrides",
    [{"max_risk": None, "min_utility": None}, {"control_utility": None},
     {"control_utility": math.nan, "min_utility": None}],
    ids=["no-policy-region", "no-control", "nan-control"],
)
def test_plot_handles_missing_optional_lines(tmp_path, overrides):
    # Run
    out = draw(tmp_path / "f.png", **overrides)

    # Assert
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_plot_with_no_placeable_points(tmp_path):
    # Run
    out = draw(tmp_path / "f.png", points=[_pt("x", "g", None, None, 1.0, False)])

    # Assert
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_plot_replaces_an_existing_file(tmp_path):
    # Setup
    path = tmp_path / "f.png"
    path.write_bytes(b"old")

    # Run
    draw(path)

    # Assert
    assert path.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(("name", "overrides", "match"),
                         [("f.jpg", {}, "must end in .png"),
                          ("f.png", {"max_risk": math.inf}, "max_risk must be a finite"),
                          ("f.png", {"min_utility": math.nan}, "min_utility must be a finite")])
def test_plot_refuses_bad_arguments(tmp_path, name, overrides, match):
    # Run / Assert
    with pytest.raises(InputError, match=match):
        draw(tmp_path / name, **overrides)
    assert list(tmp_path.iterdir()) == []
