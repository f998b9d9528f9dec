"""The audit log under random tampering and concurrent writers (small bench_ledger.py)."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import replace

import pytest
from sqlmodel import col, select

from bench.bench_ledger import MUTATIONS, build_chain, content_equal, mutate
from governance.audit.chain import canonical_json, event_body, hash_event, verify_chain
from governance.audit.checkpoint import (
    Checkpoint,
    check_log,
    event_leaves,
    open_checkpoint,
    sign_checkpoint,
)
from governance.audit.note import generate_signer
from governance.core.config import Settings
from governance.services.context import Governance
from governance.store.auditlog import append_event, iter_events, verify_log
from governance.store.models import AuditEvent, AuditHead

SIGNER = generate_signer("synth-governance/test")


def checkpoint_of(events) -> Checkpoint:
    """A signed checkpoint of ``events``, opened with the signer's public key."""
    note = sign_checkpoint(signer=SIGNER, leaves=event_leaves(e.hash for e in events))
    return open_checkpoint(note, SIGNER.verifier)


def check_checkpoint(cp: Checkpoint, events) -> str | None:
    """Whether ``events`` extend the checkpoint (None) or why not."""
    try:
        leaves = event_leaves(e.hash for e in events)
    except ValueError:  # a mutated hash field that is not hex
        return "malformed hash"
    return check_log(cp, leaves)


def _audit(events, cp) -> bool:
    """The auditor's check: True when tampering is detected."""
    return not verify_chain(events).ok or check_checkpoint(cp, events) is not None


def test_a_thousand_random_mutations_are_all_detected():
    # Setup
    rng = random.Random(2026)
    clean = build_chain(120, seed=7)
    cp = checkpoint_of(clean)
    seen: Counter[str] = Counter()
    missed: list[str] = []

    # Run
    for _ in range(1000):
        kind, events = mutate(clean, rng)
        if content_equal(clean, events):
            continue
        seen[kind] += 1
        if not _audit(events, cp):
            missed.append(kind)

    # Assert
    assert missed == []
    assert set(seen) == set(MUTATIONS) and sum(seen.values()) >= 990


@pytest.mark.parametrize("kind", ["truncate", "rewrite"])
def test_tail_truncation_and_rewrites_need_the_checkpoint(kind):
    # Setup: these two leave a chain that is valid on its own.
    rng = random.Random(1)
    clean = build_chain(60, seed=3)
    cp = checkpoint_of(clean)
    got = None
    while got != kind:
        got, events = mutate(clean, rng)

    # Run / Assert
    assert verify_chain(events).ok
    assert check_checkpoint(cp, events) is not None


def test_clean_chains_raise_no_false_alarm():
    # Setup / Run
    alarms = 0
    for seed in range(200):
        events = build_chain(50 + seed % 7, seed=seed)
        cp = checkpoint_of(events)
        alarms += _audit(events, cp)

    # Assert
    assert alarms == 0


@pytest.mark.parametrize("field, value, ok", [
    # Same content, non-canonical text: refused (one hashed event has one stored form).
    ("payload", lambda e: json.dumps(json.loads(e.payload), indent=1), False),
    ("payload", lambda e: e.payload.replace("}", ",\"x\":1}", 1), False),
    ("hash", lambda e: "é" * 64, False),  # non-ASCII: reported, not a TypeError
    ("prev_hash", lambda e: e.prev_hash[:-1] + "1", False),
    ("seq", lambda e: True if e.seq == 1 else float(e.seq), False),
])
def test_fast_path_gives_the_same_verdict_as_full_recomputation(field, value, ok):
    # Setup
    events = build_chain(5, seed=11)
    events[0] = replace(events[0], **{field: value(events[0])})

    # Run
    report = verify_chain(events)

    # Assert
    assert report.ok is ok
    assert ok or (report.first_bad_seq == 1 and report.reason)


def _append(gov: Governance, n: int, actor: str) -> None:
    for i in range(n):
        with gov.session() as s:
            append_event(session=s, kind="run.requested", actor=actor, subject=f"{actor}-{i}",
                         payload={"i": i, "delta": 1e-5})


def _forge_insert(conn, seq: int, prev_hash: str) -> None:
    body = event_body(seq=seq, created_at="2026-01-01T00:00:00+00:00", kind="release.created",
                      actor="mallory", subject="rel_forged", payload={"forged": True})
    conn.exec_driver_sql(
        "INSERT INTO auditevent (seq, created_at, kind, actor, subject, payload, prev_hash, hash)"
        " VALUES (%(s)s, %(c)s, 'release.created', 'mallory', 'rel_forged', %(p)s, %(ph)s, %(h)s)"
        if conn.dialect.name == "postgresql" else
        "INSERT INTO auditevent (seq, created_at, kind, actor, subject, payload, prev_hash, hash)"
        " VALUES (:s, :c, 'release.created', 'mallory', 'rel_forged', :p, :ph, :h)",
        {"s": seq, "c": body["created_at"], "p": canonical_json({"forged": True}).decode(),
         "ph": prev_hash, "h": hash_event(prev_hash, body)})


MUTATION_SQL = {
    "flip_payload": ["UPDATE auditevent SET payload='{\"delta\":1e-05,\"i\":9}' WHERE seq=4"],
    "flip_hash": ["UPDATE auditevent SET hash=replace(hash, substr(hash, 1, 1), 'x') WHERE seq=6"],
    "swap": ["UPDATE auditevent SET seq=-1 WHERE seq=3", "UPDATE auditevent SET seq=3 WHERE seq=4",
             "UPDATE auditevent SET seq=4 WHERE seq=-1"],
    "delete_middle": ["DELETE FROM auditevent WHERE seq=5"],
    "truncate_and_fix_head": ["DELETE FROM auditevent WHERE seq>7",
                              "UPDATE audithead SET seq=7, hash=(SELECT hash FROM auditevent "
                              "WHERE seq=7) WHERE id=1"],
    "forged_insert": ["DELETE FROM auditevent WHERE seq=10"],
}


@pytest.mark.parametrize("mutation", sorted(MUTATION_SQL))
def test_sql_level_tampering_is_detected(any_gov, mutation):
    # Setup
    _append(any_gov, 10, "t")
    with any_gov.session() as s:
        events = list(iter_events(s))
    cp = checkpoint_of(events)

    # Run
    with any_gov.engine.begin() as conn:
        for sql in MUTATION_SQL[mutation]:
            conn.exec_driver_sql(sql)
        if mutation == "forged_insert":  # replace the newest event by a forged one
            _forge_insert(conn, 10, events[8].hash)
    with any_gov.session() as s:
        stored = list(iter_events(s))
        report = verify_log(s)

    # Assert
    assert not report.ok or check_checkpoint(cp, stored) is not None
    if mutation == "truncate_and_fix_head":
        assert report.ok and "deleted" in check_checkpoint(cp, stored)


def _concurrent_appends(gov: Governance, writers: int, per_writer: int) -> None:
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            _append(gov, per_writer, f"w{k}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _assert_gapless(gov: Governance, n: int, writers: int) -> None:
    with gov.session() as s:
        seqs = list(s.exec(select(AuditEvent.seq).order_by(col(AuditEvent.seq))).all())
        subjects = Counter(s.exec(select(AuditEvent.subject)).all())
        head = s.get(AuditHead, 1)
        report = verify_log(s)
    assert seqs == list(range(1, n + 1))
    assert len(subjects) == n and set(subjects.values()) == {1}
    assert {sub.split("-")[0] for sub in subjects} == {f"w{k}" for k in range(writers)}
    assert report.ok and report.checked == n and head is not None and head.seq == n


def test_concurrent_appends_on_sqlite(tmp_path):
    # Setup
    gov = Governance.open(Settings(home=tmp_path / "home", environment="test"))

    # Run
    _concurrent_appends(gov, writers=8, per_writer=50)

    # Assert
    _assert_gapless(gov, 400, 8)


@pytest.mark.postgres
def test_concurrent_appends_on_postgres(pg_url, tmp_path):
    # Setup
    gov = Governance.open(Settings(home=tmp_path / "home", database_url=pg_url,
                                   environment="test"))

    # Run
    _concurrent_appends(gov, writers=16, per_writer=50)

    # Assert
    _assert_gapless(gov, 800, 16)
