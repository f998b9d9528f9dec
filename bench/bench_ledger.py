"""Benchmark the audit log: tamper detection, false alarms, append and verify speed.

Prints figures, asserts nothing.

* tamper: ``--mutations`` random mutations (one per trial) of a clean in-memory chain of
  ``--events`` events: a bit flip in any stored field, deletion, swap, reorder of a
  window, a forged insert hashed onto its predecessor (later events keep or shift their
  seq), a re-hash of everything after an altered event, tail truncation. The auditor
  runs ``verify_chain`` plus ``check_log`` against a signed checkpoint of the clean chain
  (C2SP note, Ed25519, RFC 6962 Merkle root).
  Bit flips that leave the hashed content identical (``e``->``E`` in a float exponent
  parses to the same value) change no recorded fact and are counted apart.
* clean: ``--clean`` independently built clean chains with their checkpoints; every
  alarm on them is a false alarm.
* append: events/s of ``append_event``, one transaction per event, serially and from
  ``--threads`` writer threads, on SQLite (temporary home) and PostgreSQL (a fresh
  database on 127.0.0.1:5432, dropped afterwards; skipped when unreachable), checking
  that seq is exactly 1..N and that ``verify_log`` passes.
* verify: events/s of ``verify_chain`` in memory (best of 3), of checking a checkpoint
  (Merkle root over every event), and of ``verify_log`` reading from each database.

Usage: python bench/bench_ledger.py [--events 200] [--mutations 10000] [--clean 1000]
       [--appends 2000] [--threads 16] [--per-thread 200] [--verify-events 200000]
       [--seed 0] [--no-db]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from governance.audit.chain import (  # noqa: E402
    GENESIS_HASH,
    canonical_json,
    event_body,
    hash_event,
    verify_chain,
)
from governance.audit.checkpoint import (  # noqa: E402
    Checkpoint,
    check_log,
    event_leaves,
    open_checkpoint,
    sign_checkpoint,
)
from governance.audit.closure import LoggedEvent  # noqa: E402
from governance.audit.note import generate_signer  # noqa: E402

PG_ADMIN = os.environ.get("GOVERNANCE_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
SIGNER = generate_signer("synth-governance/bench")


def checkpoint_of(events: list[Ev]) -> Checkpoint:
    """A signed checkpoint of ``events``, opened as an auditor would."""
    note = sign_checkpoint(signer=SIGNER, leaves=event_leaves(e.hash for e in events))
    return open_checkpoint(note, SIGNER.verifier)


def check_checkpoint(cp: Checkpoint, events: list[Ev]) -> str | None:
    """None when ``events`` extend the checkpoint, else why not."""
    try:
        leaves = event_leaves(e.hash for e in events)
    except ValueError:  # a mutated hash field that is not hex
        return "malformed hash"
    return check_log(cp, leaves)


#: A stored event as ``verify_chain`` reads it (the AuditEvent columns).
Ev = LoggedEvent


_KINDS = ("run.requested", "candidate.evaluated", "decision.recorded", "access.allowed")
FIELDS = ("seq", "created_at", "kind", "actor", "subject", "payload", "prev_hash", "hash")
MUTATIONS = ("flip", "delete", "swap", "reorder", "insert", "insert_renumber", "rewrite",
             "truncate")


def _event(seq: int, prev: str, rng: random.Random, extra: dict[str, Any] | None = None) -> Ev:
    payload = json.loads(canonical_json({
        "i": seq, "epsilon": rng.choice([0.5, 1.0, 8.0, math.inf]), "delta": 1e-05,
        "auc": round(rng.random(), 6), "who": rng.choice(["ana", "bo", "zoë", "李"]),
        "ids": [rng.randrange(10**6) for _ in range(rng.randrange(4))], **(extra or {})}))
    body = event_body(seq=seq, created_at=f"2026-01-01T00:{seq // 60 % 60:02d}:{seq % 60:02d}"
                      f".{rng.randrange(10**6):06d}+00:00", kind=rng.choice(_KINDS),
                      actor=rng.choice(["runner", "carol", "dave"]),
                      subject=f"cand_{rng.getrandbits(48):012x}", payload=payload)
    return Ev(seq, body["created_at"], body["kind"], body["actor"], body["subject"],
              canonical_json(payload).decode(), prev, hash_event(prev, body))


def build_chain(n: int, *, seed: int) -> list[Ev]:
    """A clean chain of ``n`` varied events, exactly as ``append_event`` would store them."""
    rng, events, prev = random.Random(seed), [], GENESIS_HASH
    for seq in range(1, n + 1):
        events.append(_event(seq, prev, rng))
        prev = events[-1].hash
    return events


def _flip(ev: Ev, rng: random.Random) -> Ev:
    field = rng.choice(FIELDS)
    value = getattr(ev, field)
    if isinstance(value, int):
        return replace(ev, seq=value ^ (1 << rng.randrange(16)))
    pos = rng.randrange(len(value))
    ch = chr(ord(value[pos]) ^ (1 << rng.randrange(7)))
    return replace(ev, **{field: value[:pos] + ch + value[pos + 1:]})


def mutate(clean: list[Ev], rng: random.Random) -> tuple[str, list[Ev]]:
    """One random mutation of a copy of ``clean``: its kind and the mutated events."""
    kind, ev, n = rng.choice(MUTATIONS), list(clean), len(clean)
    i = rng.randrange(n)
    if kind == "flip":
        ev[i] = _flip(ev[i], rng)
    elif kind == "delete":
        del ev[i]
    elif kind == "swap":
        j = rng.choice([k for k in range(n) if k != i])
        ev[i], ev[j] = ev[j], ev[i]
    elif kind == "reorder":
        start = rng.randrange(n - 8)
        window = ev[start:start + rng.randrange(3, 9)]
        while window == ev[start:start + len(window)]:
            rng.shuffle(window)
        ev[start:start + len(window)] = window
    elif kind in ("insert", "insert_renumber"):
        prev = ev[i - 1].hash if i else GENESIS_HASH
        ev.insert(i, _event(i + 1, prev, rng, {"forged": True}))
        if kind == "insert_renumber":
            ev[i + 1:] = [replace(e, seq=e.seq + 1) for e in ev[i + 1:]]
    elif kind == "rewrite":  # alter one event and re-hash everything after it
        prev = ev[i - 1].hash if i else GENESIS_HASH
        for k in range(i, n):
            payload = json.loads(ev[k].payload) | ({"i": -1} if k == i else {})
            body = event_body(seq=ev[k].seq, created_at=ev[k].created_at, kind=ev[k].kind,
                              actor=ev[k].actor, subject=ev[k].subject, payload=payload)
            ev[k] = replace(ev[k], payload=canonical_json(payload).decode(), prev_hash=prev,
                            hash=hash_event(prev, body))
            prev = ev[k].hash
    else:  # truncate the newest events
        del ev[max(i, 1):]
    return kind, ev


def _content(e: Ev) -> tuple[Any, ...]:
    try:
        payload: Any = canonical_json(json.loads(e.payload))
    except ValueError:
        payload = ("unreadable", e.payload)
    return (e.seq, e.created_at, e.kind, e.actor, e.subject, payload, e.prev_hash, e.hash)


def content_equal(a: list[Ev], b: list[Ev]) -> bool:
    """Whether two chains record exactly the same hashed content (a null mutation)."""
    return len(a) == len(b) and all(x == y or _content(x) == _content(y)
                                    for x, y in zip(a, b, strict=True))


def tamper(n_events: int, n_mutations: int, seed: int) -> None:
    """Mutate a clean chain ``n_mutations`` times and count what the auditor catches."""
    rng = random.Random(seed)
    clean = build_chain(n_events, seed=seed)
    cp = checkpoint_of(clean)
    by_kind: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    chain_only: Counter[str] = Counter()
    null = 0
    t = time.perf_counter()
    for _ in range(n_mutations):
        kind, events = mutate(clean, rng)
        if content_equal(clean, events):
            null += 1
            continue
        by_kind[kind] += 1
        ok = verify_chain(events).ok
        chain_only[kind] += not ok
        caught[kind] += (not ok) or check_checkpoint(cp, events) is not None
    seconds = time.perf_counter() - t
    total, found = sum(by_kind.values()), sum(caught.values())
    print(f"tamper: {n_mutations} mutations of a {n_events}-event chain in {seconds:.1f} s")
    print(f"  {'kind':<16}{'n':>7}{'detected':>10}{'by chain alone':>16}")
    for kind in sorted(by_kind):
        print(f"  {kind:<16}{by_kind[kind]:>7}{caught[kind]:>10}{chain_only[kind]:>16}")
    print(f"  detected {found} of {total} content-changing mutations "
          f"({100 * found / max(total, 1):.2f} %); {null} bit flips left the hashed "
          "content identical and are not counted")


def clean_chains(n_chains: int, n_events: int, seed: int) -> None:
    """Verify many independently built clean chains; any alarm is a false alarm."""
    alarms, t = 0, time.perf_counter()
    for i in range(n_chains):
        events = build_chain(n_events, seed=seed * 100_003 + i + 1)
        cp = checkpoint_of(events)
        alarms += (not verify_chain(events).ok or check_checkpoint(cp, events) is not None)
    print(f"clean: {n_chains} clean chains of {n_events} events: {alarms} false alarms "
          f"({time.perf_counter() - t:.1f} s)")


def verify_rate(n_events: int) -> None:
    """Events per second through ``verify_chain`` (best of 3)."""
    events = build_chain(n_events, seed=1)
    best = min(_timed(lambda: verify_chain(events)) for _ in range(3))
    assert verify_chain(events).ok
    print(f"verify_chain: {n_events} events, best of 3: {best:.3f} s = "
          f"{n_events / best:,.0f} events/s")
    cp = checkpoint_of(events)
    best = min(_timed(lambda: check_checkpoint(cp, events)) for _ in range(3))
    print(f"checkpoint check (Merkle root of {n_events} event hashes), best of 3: "
          f"{best:.3f} s = {n_events / best:,.0f} events/s")


def _timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def _open(url: str | None, home: Path) -> object:
    from governance.core.config import Settings
    from governance.services.context import Governance

    return Governance.open(Settings(home=home, database_url=url, environment="test"))


def _append_many(gov: object, n: int, actor: str) -> None:
    from governance.store.auditlog import append_event

    for i in range(n):
        with gov.session() as s:  # type: ignore[attr-defined]
            append_event(session=s, kind="run.requested", actor=actor, subject=f"{actor}-{i}",
                         payload={"i": i, "epsilon": 1.0, "delta": 1e-5})


def db_figures(name: str, url: str | None, home: Path, *, serial: int, threads: int,
               per_thread: int) -> None:
    """Serial and concurrent append throughput, then verify_log rate, on one database."""
    from sqlmodel import col, select

    from governance.store.auditlog import verify_log
    from governance.store.models import AuditEvent

    gov = _open(url, home)
    secs = _timed(lambda: _append_many(gov, serial, "serial"))
    print(f"{name}: serial append, one transaction per event: {serial} in {secs:.2f} s = "
          f"{serial / secs:,.0f} events/s")
    workers = [threading.Thread(target=_append_many, args=(gov, per_thread, f"w{k}"))
               for k in range(threads)]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    secs = time.perf_counter() - t
    n = threads * per_thread
    with gov.session() as s:  # type: ignore[attr-defined]
        seqs = list(s.exec(select(AuditEvent.seq).order_by(col(AuditEvent.seq))).all())
        t = time.perf_counter()
        report = verify_log(s)
        vsecs = time.perf_counter() - t
    expected = list(range(1, serial + n + 1))
    print(f"{name}: {threads} threads x {per_thread} appends: {n} in {secs:.2f} s = "
          f"{n / secs:,.0f} events/s; seq 1..{len(seqs)} without gap or duplicate: "
          f"{seqs == expected}; chain verifies: {report.ok}")
    print(f"{name}: verify_log over {report.checked} stored events: {vsecs:.3f} s = "
          f"{report.checked / vsecs:,.0f} events/s (reading included)")
    gov.engine.dispose()  # type: ignore[attr-defined]


def postgres_url() -> tuple[str, object] | None:
    """A fresh PostgreSQL database and its admin engine, or None when unreachable."""
    try:
        import sqlalchemy

        admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"gov_bench_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL figures
        print(f"postgresql: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", admin


def main() -> int:
    """Parse options, print every figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--mutations", type=int, default=10_000)
    ap.add_argument("--clean", type=int, default=1000)
    ap.add_argument("--appends", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--per-thread", type=int, default=200)
    ap.add_argument("--verify-events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-db", action="store_true", help="skip the database figures")
    args = ap.parse_args()
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    tamper(args.events, args.mutations, args.seed)
    clean_chains(args.clean, args.events, args.seed)
    verify_rate(args.verify_events)
    if args.no_db:
        return 0
    from governance.store.db import dispose_engines

    with tempfile.TemporaryDirectory() as tmp:
        db_figures("sqlite", None, Path(tmp) / "home", serial=args.appends,
                   threads=args.threads, per_thread=args.per_thread)
        dispose_engines()
    pg = postgres_url()
    if pg is not None:
        url, admin = pg
        try:
            with tempfile.TemporaryDirectory() as tmp:
                db_figures("postgresql", url, Path(tmp) / "home", serial=args.appends,
                           threads=args.threads, per_thread=args.per_thread)
        finally:
            dispose_engines()
            with admin.connect() as conn:  # type: ignore[attr-defined]
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} "
                                     "WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
