"""One scenario builder for tests that need a real, stored world.

A world is built once (per module or session) by really registering a table, really
running frontiers and really deciding on candidates, so tests read genuine stored
records instead of hand-copied shapes. ``World.clone(tmp)`` copies the built home so a
test may change it freely.

Runs default to ``tests.utils.generators.GaussianStandIn``, a deterministic generator
with a claimed epsilon: the flows built here need candidates a loose policy accepts,
and a real DP generator's fresh noise cannot promise rows above chance on so small a
table. Pass ``generators=("dp_vae",)`` for the real thing.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlmodel import col, select

from governance.core.config import Settings
from governance.services.auth import principal_named
from governance.services.context import Governance
from governance.services.datasets import register_dataset
from governance.services.releases import record_decision
from governance.services.runs import RunRequest, execute_run, submit_run
from governance.store.db import dispose_engines
from governance.store.models import Candidate, Release
from tests.utils.api import make_key
from tests.utils.data import MIXED_SCHEMA, mixed_table
from tests.utils.generators import GaussianStandIn, stand_in_registered

REPO = Path(__file__).resolve().parents[2]

#: A policy that accepts any candidate of the mixed test table (quorum of two approvers).
LOOSE_POLICY = """\
version: 1
name: {name}
risk: {{max_epsilon: 10, max_total_epsilon: 30, max_attack_auc: 1.0}}
utility: {{min_utility_ratio: 0.0}}
approvals: {{quorum: {quorum}, roles: [approver], separation_of_duties: true}}
access: {{consumers: [{consumers}], formats: [parquet, csv], expires_after_days: 30}}
"""


def loose_policy(name: str = "loose", *, quorum: int = 2, consumers: str = "dave") -> str:
    """``LOOSE_POLICY`` filled in."""
    return LOOSE_POLICY.format(name=name, quorum=quorum, consumers=consumers)


def settings_for(home: Path, database_url: str | None = None) -> Settings:
    """Settings whose whole state lives under ``home`` (audits beside it)."""
    return Settings(home=home, audits_dir=home.parent / "audits", policies_dir=REPO / "policies",
                    database_url=database_url, environment="test")


@dataclass
class World:
    """A built scenario: where it lives, its keys' headers and the ids it made."""

    root: Path
    gov: Governance
    dataset_id: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    candidates: dict[str, list[str]] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        """The service home of this world."""
        return self.gov.settings.home

    def clone(self, root: Path) -> World:
        """A copy of this world's home under ``root``, opened on its own."""
        home = root / "home"
        shutil.copytree(self.home, home)
        return replace(self, root=root, gov=Governance.open(settings_for(home)))


class ScenarioBuilder:
    """Builds a ``World`` step by step with real services.

    Args:
        root: a fresh folder; the home is ``root/home``.
        rows: rows of the mixed test table registered as ``people``.
        seed: seed of that table.
    """

    def __init__(self, root: Path, *, rows: int = 1200, seed: int = 3,
                 database_url: str | None = None) -> None:
        self.root = root
        self.gov = Governance.open(settings_for(root / "home", database_url))
        csv = root / "people.csv"
        mixed_table(rows, seed=seed).to_csv(csv, index=False)
        ds = register_dataset(self.gov, path=csv, schema=MIXED_SCHEMA, name="people",
                              actor="owner")
        self.world = World(root=root, gov=self.gov, dataset_id=ds.id)

    def keys(self, **roles: str) -> ScenarioBuilder:
        """Create API keys ``name=role``; their headers land in ``world.headers``."""
        for name, role in roles.items():
            self.world.headers[name] = make_key(self.gov, name, role)
        return self

    def run(self, requester: str, *, policy: str | None = None, generators: Sequence[str] = (
            GaussianStandIn.name,), epsilons: Sequence[float] = (8.0,), epochs: int = 3
            ) -> ScenarioBuilder:
        """Run a frontier as ``requester`` under ``policy`` (YAML text; loose by default)."""
        text = policy or loose_policy(f"loose-{requester}")
        path = self.root / f"policy-{requester}-{len(self.world.runs)}.yaml"
        path.write_text(text)
        request = RunRequest(dataset=self.world.dataset_id, target="label", policy=path,
                             generators=list(generators), epsilons=list(epsilons),
                             executor="inline", generator_options={"dp_vae": {"epochs": epochs}})
        with stand_in_registered():
            run = execute_run(self.gov, submit_run(self.gov, request, actor=requester).id)
        if run.status != "succeeded":
            raise AssertionError(f"scenario run failed: {run.error}")
        with self.gov.session() as s:
            cands = s.exec(select(Candidate).where(Candidate.run_id == run.id)
                           .order_by(col(Candidate.epsilon_target))).all()
        self.world.runs[requester] = run.id
        self.world.candidates[requester] = [c.id for c in cands]
        return self

    def approve(self, requester: str, *approvers: str, index: int = 0) -> ScenarioBuilder:
        """Approve candidate ``index`` of ``requester``'s run as each approver in turn."""
        candidate = self.world.candidates[requester][index]
        for name in approvers:
            with self.gov.session() as s:
                record_decision(session=s, candidate_id=candidate,
                                actor=principal_named(s, name), decision="approve")
        with self.gov.session() as s:
            rel = s.exec(select(Release).where(Release.candidate_id == candidate)).first()
        if rel is not None:
            self.world.releases[requester] = rel.id
        return self

    def build(self) -> World:
        """The world as built (engines closed, so it can be cloned safely)."""
        dispose_engines()
        return self.world
