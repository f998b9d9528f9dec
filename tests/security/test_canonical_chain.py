"""Finding: a payload rewritten with a duplicate JSON key (or any other re-encoding of the
same value) passed ``audit verify``.

The verifier used to re-canonicalise a payload before hashing it, so every text that
parses to the hashed value verified, including ``{"decision":"approve","decision":
"reject"}``, which a first-key-wins reader takes for an approval. A stored payload must
now be byte for byte the canonical encoding of its parse.
"""

from __future__ import annotations

import pytest

from governance.audit.chain import verify_chain
from governance.services.context import Governance
from governance.store.auditlog import append_event, iter_events, verify_log

# (what was hashed, the rewritten text, what the verifier must say)
REWRITES = {
    "duplicate key": ({"decision": "reject", "n": 1},
                      '{"decision":"approve","decision":"reject","n":1}', "duplicate key"),
    "whitespace": ({"decision": "reject", "n": 1}, '{"decision": "reject", "n": 1}',
                   "not canonical"),
    "key order": ({"decision": "reject", "n": 1}, '{"n":1,"decision":"reject"}',
                  "not canonical"),
    "NaN literal": ({"auc": float("nan")}, '{"auc":NaN}', "non-finite"),
    "unicode escape": ({"who": "zoë"}, '{"who":"zo\\u00eb"}', "not canonical"),
    "number spelling": ({"delta": 1e-05}, '{"delta":1E-05}', "not canonical"),
    "control (intact)": ({"eps": float("inf")}, '{"eps":"inf"}', None),
}


def _stored(gov: Governance, payload: dict) -> None:
    with gov.session() as s:
        append_event(session=s, kind="run.requested", actor="a", subject="s0", payload={"i": 0})
        append_event(session=s, kind="decision.recorded", actor="bob", subject="cand_1",
                     payload=payload)
        append_event(session=s, kind="run.requested", actor="a", subject="s2", payload={"i": 2})


@pytest.mark.parametrize("case", sorted(REWRITES))
def test_a_re_encoded_payload_fails_verification(gov: Governance, case: str):
    # Setup: a stored chain whose event 2 is rewritten to another text of the same value.
    original, rewritten, needle = REWRITES[case]
    _stored(gov, original)
    with gov.session() as s:
        stored = next(e for e in iter_events(s) if e.seq == 2).payload
    if needle is not None:
        assert stored != rewritten
    with gov.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE auditevent SET payload=? WHERE seq=2", (rewritten,))

    # Run
    with gov.session() as s:
        report = verify_log(s)
        events = list(iter_events(s))

    # Assert
    if needle is None:
        assert report.ok, report.reason
        return
    assert not report.ok
    assert report.first_bad_seq == 2 and needle in report.reason
    assert verify_chain(events).reason == report.reason


def test_the_canonical_text_itself_still_verifies(gov: Governance):
    # Setup
    for original, _rewritten, _needle in REWRITES.values():
        with gov.session() as s:
            append_event(session=s, kind="run.requested", actor="a", subject="s",
                         payload=original)
    # Run
    with gov.session() as s:
        report = verify_log(s)
    # Assert
    assert report.ok and report.checked == len(REWRITES)
