"""The CLI's candidate table shows the selection figure beside the reported ones."""

from __future__ import annotations

from governance.cli.output import out, print_run
from governance.evaluation.lift.results import UtilityResult
from tests.unit.report.real_run import GOOD


def test_candidate_table_names_the_split_of_each_utility_figure(run, candidates):
    # Setup
    good = next(c for c in candidates if c.id == GOOD)
    assert isinstance(good.utility, UtilityResult)
    selection = good.utility.selection.ratio_above_chance.value
    reported = good.utility.reported.ratio_above_chance.value

    # Run
    with out.capture() as captured:
        print_run(run)
    text = captured.get()

    # Assert
    assert "utility (validation)" in text and "utility (eval)" in text
    assert "raw ratio (eval)" in text
    row = next(line for line in text.splitlines() if GOOD in line)
    assert f"{selection:.3f}" in row and f"{reported:.3f}" in row
    assert "the model panel's min; validation selects and gates, eval is reported" in text
