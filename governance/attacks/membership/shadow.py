"""Shadow-model membership inference on chosen targets, after GroundHog.

The attacker picks the most vulnerable real records (outliers), retrains the candidate's
generator many times on real reference rows with and without each target, learns from
features of those shadow outputs to tell "target was in the training data", and then
applies that classifier to the candidate's synthetic data. Targets are drawn from both
the train split (members) and the holdout (non-members), so the candidate-level AUC is
measured over real members against real non-members.

Two results come out. ``candidate``: one score per target on the candidate's output
(few targets, so wide intervals). ``shadow_runs``: the classifier trained on one half of
the shadow runs scores the other half, which audits the generator *configuration* with
many more trials (targets x held-out runs) and gives a usable epsilon estimate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Self

import numpy as np
import pandas as pd

from governance.attacks.data import conformed
from governance.attacks.matching import row_keys
from governance.attacks.neighbors import encode_for_distance, nearest_distances
from governance.attacks.results import MembershipResult, score_membership
from governance.attacks.stats.epsilon import epsilon_from_rates
from governance.attacks.stats.roc import clopper_pearson, roc_auc
from governance.core.errors import ConflictError, InputError
from governance.core.types import InfFloat, Record
from governance.datasets.encoding import PublicEncoder
from governance.datasets.schema import Schema
from governance.generators.base import Generator

CLASSIFIERS = ("random_forest", "logistic")
FEATURE_SETS = ("naive", "histogram", "correlation", "distance")
OUTLIER_SCORE = "mean distance to the {k} nearest reference rows (shared public encoding)"
_K_DIST = 5


class SyntheticFeatures:
    """Features of one synthetic table, on the public encoding, for each target.

    ``naive``: per numeric column mean, median and variance; per categorical column the
    share of categories present and the mode. ``histogram``: category frequencies and a
    ``bins``-bin histogram of each numeric column over its public range.
    ``correlation``: Pearson correlations between all encoded columns (0 when constant).
    ``distance`` (target-aware): distances of the target to its 5 nearest synthetic rows.
    """

    def __init__(self, schema: Schema, *, sets: tuple[str, ...] = FEATURE_SETS,
                 bins: int = 10) -> None:
        unknown = [f for f in sets if f not in FEATURE_SETS]
        if unknown or not sets:
            raise InputError(f"unknown feature set(s) {unknown or '(none given)'}; choose "
                             f"from {FEATURE_SETS}")
        self.sets, self.bins = tuple(dict.fromkeys(sets)), bins
        self.encoder = PublicEncoder(schema)

    def generic(self, enc: np.ndarray) -> np.ndarray:
        """The target-independent features of one encoded table."""
        parts: list[np.ndarray] = []
        for block in self.encoder.blocks:
            col = enc[:, block.start : block.start + block.width].astype(np.float64)
            if block.is_categorical:
                freq = col.mean(axis=0)
                if "naive" in self.sets:
                    parts.append(np.array([(freq > 0).mean(), freq.argmax() / block.width]))
                if "histogram" in self.sets:
                    parts.append(freq)
            else:
                v = col[:, 0]
                if "naive" in self.sets:
                    parts.append(np.array([v.mean(), np.median(v), v.var()]))
                if "histogram" in self.sets:
                    parts.append(np.histogram(v, self.bins, (0.0, 1.0))[0] / len(v))
        if "correlation" in self.sets and enc.shape[1] > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = np.atleast_2d(np.corrcoef(enc.astype(np.float64), rowvar=False))
            parts.append(np.nan_to_num(corr[np.triu_indices(enc.shape[1], 1)]))
        return np.concatenate(parts) if parts else np.zeros(0)

    def per_target(self, frame: pd.DataFrame, targets: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Features (targets x features) and each target's sorted nearest distances."""
        dist = nearest_distances(targets, encode_for_distance(frame, self.encoder),
                                 min(_K_DIST, len(frame)))
        g = self.generic(self.encoder.encode(frame))
        parts = [np.broadcast_to(g, (len(targets), g.size))]
        if "distance" in self.sets:
            parts.append(dist)
        return np.hstack(parts), dist


class ShadowTarget(Record):
    """One attacked record: where it came from and how the attack scored it."""

    role: str
    row: int
    outlier_score: float
    score: float
    in_candidate_training: bool
    validation_auc: float


class ShadowResult(Record):
    """Both readings of the shadow attack and every size they rest on."""

    candidate: MembershipResult
    shadow_runs: MembershipResult
    targets: tuple[ShadowTarget, ...]
    n_shadows: int
    shadow_rows: int
    synthetic_rows: int
    features: tuple[str, ...]
    classifier: str
    outlier_score: str
    max_resolvable_epsilon: dict[str, InfFloat]
    shadow_epsilon_spent: InfFloat | None
    subsampled: dict[str, Any] | None
    notes: tuple[str, ...]
    seconds: float


def max_resolvable_epsilon(n_pos: int, n_neg: int, *, delta: float,
                           confidence: float = 0.95) -> float:
    """The largest estimate ``half_split_epsilon`` can give even for a perfect attack.

    The bound counts on the second half of each group, so a perfect attack there has
    TPR = 1 on ``n_pos - n_pos // 2`` trials and FPR = 0 on ``n_neg - n_neg // 2``.
    """
    tp, fp_n = n_pos - n_pos // 2, n_neg - n_neg // 2
    tpr_low = float(clopper_pearson(tp, tp, confidence=confidence)[0])
    fpr_high = float(clopper_pearson(0, fp_n, confidence=confidence)[1])
    return epsilon_from_rates(tpr_low, fpr_high, delta=delta)


class ShadowAttack:
    """Shadow-model attack on the most outlying members and non-members.

    Args:
        ori: members, real rows the candidate's generator was trained on.
        syn: the candidate's synthetic rows.
        control: non-members, real rows it never saw.
        schema: the public-domain schema.
        generator_factory: ``seed -> fresh unfitted generator`` with the candidate's
            settings; called once per shadow run.
        reference: real rows disjoint from ``ori`` and ``control`` (holdout rows not used
            as non-members, never eval); shadow training sets are drawn from them.
        n_targets: targets per group (members and non-members), at least 2.
        n_shadows: shadow trainings, even and at least 4; each includes a random half
            of the targets, balanced per target within each half of the runs.
        shadow_rows: base rows per shadow training set (default: ``len(ori)``, capped by
            the reference rows available).
        synthetic_rows: rows sampled from each shadow and used from ``syn`` (default:
            ``len(syn)``; a smaller value subsamples ``syn``, recorded in ``subsampled``).
        features: feature sets from ``FEATURE_SETS``.
        classifier: ``"random_forest"`` or ``"logistic"``.
        k_outlier: neighbours of the outlier score.
        delta: delta of the epsilon estimates.
        seed: seeds target ties, shadow sets, generator seeds and the classifier.

    Raises:
        InputError: for an invalid option or too few reference rows.
        DatasetError: for frames that do not fit the schema.

    Notes:
        Stadler, Oprisanu & Troncoso (2022), "Synthetic Data - Anonymisation Groundhog
        Day" (naive, histogram and correlation features, random forest per target);
        the target-aware distance features follow Meeus et al. (2023), "Achilles' Heels:
        Vulnerable Record Identification in Synthetic Data Publishing". Membership is
        add/remove: a run trains on its base rows plus the targets included, so an
        (epsilon, delta)-DP generator bounds every reading by epsilon.
    """

    name = "shadow"

    def __init__(
        self, ori: pd.DataFrame, syn: pd.DataFrame, control: pd.DataFrame, schema: Schema,
        *, generator_factory: Callable[[int], Generator], reference: pd.DataFrame,
        n_targets: int = 5, n_shadows: int = 32, shadow_rows: int | None = None,
        synthetic_rows: int | None = None, features: tuple[str, ...] = FEATURE_SETS,
        classifier: str = "random_forest", k_outlier: int = 5, delta: float = 1e-5,
        seed: int = 0,
    ) -> None:
        self.schema = schema
        self.ori = conformed(ori, schema, "members (ori)")
        self.syn = conformed(syn, schema, "synthetic (syn)")
        self.control = conformed(control, schema, "non-members (control)")
        self.reference = conformed(reference, schema, "reference")
        if n_targets < 2 or n_targets > min(len(self.ori), len(self.control)):
            raise InputError(f"n_targets must be between 2 and the smaller of the member and "
                             f"non-member counts, got {n_targets}")
        if n_shadows < 4 or n_shadows % 2:
            raise InputError(f"n_shadows must be an even number >= 4, got {n_shadows}")
        if classifier not in CLASSIFIERS:
            raise InputError(f"unknown classifier {classifier!r}; choose from {CLASSIFIERS}")
        if not 0.0 <= delta < 1.0:
            raise InputError(f"delta must lie in [0, 1), got {delta}")
        if not 1 <= k_outlier <= 8:
            raise InputError(f"k_outlier must be between 1 and 8, got {k_outlier}")
        if synthetic_rows is not None and synthetic_rows < 8:
            raise InputError(f"synthetic_rows must be at least 8, got {synthetic_rows}")
        self.featurizer = SyntheticFeatures(schema, sets=features)
        self.factory = generator_factory
        self.n_targets, self.n_shadows, self.shadow_rows = n_targets, n_shadows, shadow_rows
        self.synthetic_rows = synthetic_rows
        self.classifier, self.k_outlier, self.delta, self.seed = classifier, k_outlier, delta, seed
        self._result: ShadowResult | None = None

    def _pick_targets(self, enc: PublicEncoder) -> tuple[pd.DataFrame, list[tuple[str, int]],
                                                          np.ndarray]:
        ref = encode_for_distance(self.reference, enc)
        k = min(self.k_outlier, len(ref))
        chosen, scores, frames = [], [], []
        for role, frame in (("member", self.ori), ("nonmember", self.control)):
            score = nearest_distances(encode_for_distance(frame, enc), ref, k).mean(axis=1)
            top = np.argsort(-score, kind="stable")[: self.n_targets]
            chosen += [(role, int(i)) for i in top]
            scores.append(score[top])
            frames.append(frame.iloc[top])
        return pd.concat(frames, ignore_index=True), chosen, np.concatenate(scores)

    def _model(self) -> Any:
        # Deferred import: scikit-learn is heavy; loaded when a model is fitted.
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.classifier == "logistic":
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return RandomForestClassifier(n_estimators=100, max_features=None, random_state=self.seed,
                                      n_jobs=1)

    def _fit_score(self, x: np.ndarray, y: np.ndarray, queries: np.ndarray) -> np.ndarray:
        model = self._model().fit(x, y.astype(int))
        return np.asarray(model.predict_proba(queries)[:, 1], dtype=np.float64)

    def evaluate(self) -> Self:
        """Train the shadow runs, fit one classifier per target, score; return ``self``."""
        started = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        enc = PublicEncoder(self.schema)
        targets, chosen, outlier = self._pick_targets(enc)
        t_keys = row_keys(targets, self.schema)
        pool = self.reference[~np.isin(row_keys(self.reference, self.schema), t_keys)]
        n_base = min(self.shadow_rows or len(self.ori), len(pool))
        if n_base < 8:
            raise InputError(f"only {len(pool)} reference rows differ from every target; pass "
                             "at least 8 reference rows (holdout rows not used as non-members)")
        notes = [f"shadow training sets: {n_base} base rows drawn from {len(pool)} reference "
                 f"rows ({len(self.reference) - len(pool)} exact copies of targets excluded) "
                 "plus the included targets (add/remove membership)"]
        if self.shadow_rows is None and n_base < len(self.ori):
            notes.append(f"shadow sets have {n_base} base rows, fewer than the {len(self.ori)} "
                         "members: too few reference rows to match the training size")
        syn, subsampled = self.syn, None
        n_syn = self.synthetic_rows or len(syn)
        if n_syn < len(syn):
            subsampled = {"synthetic": {"used": n_syn, "of": len(syn)}}
            syn = syn.iloc[np.sort(rng.choice(len(syn), n_syn, replace=False))]
        n_t, half = len(targets), self.n_shadows // 2
        labels = np.zeros((self.n_shadows, n_t), dtype=bool)
        for start in (0, half):
            for t in range(n_t):
                labels[start + rng.permutation(half)[: half // 2], t] = True
        x, dist, spent = [], [], []
        t_matrix = encode_for_distance(targets, enc)
        for s, gen_seed in enumerate(rng.integers(0, 2**31 - 1, self.n_shadows)):
            base = pool.iloc[rng.choice(len(pool), n_base, replace=False)]
            train = pd.concat([base, targets[labels[s]]], ignore_index=True)
            train = train.iloc[rng.permutation(len(train))].reset_index(drop=True)
            gen = self.factory(int(gen_seed)).fit(train, self.schema)
            out = conformed(gen.sample(n_syn), self.schema, f"shadow run {s} output")
            spent.append(float(gen.privacy().epsilon_spent))
            feats, d = self.featurizer.per_target(out, t_matrix)
            x.append(feats)
            dist.append(d)
        cand, cand_d = self.featurizer.per_target(syn, t_matrix)
        x_all = np.stack(x)  # shadows x targets x features
        val_in, val_out, scores, val_aucs = [], [], np.empty(n_t), np.empty(n_t)
        a, b = slice(0, half), slice(half, None)
        for t in range(n_t):
            held = self._fit_score(x_all[a, t], labels[a, t], x_all[b, t])
            val_in.append(held[labels[b, t]])
            val_out.append(held[~labels[b, t]])
            val_aucs[t] = roc_auc(val_in[-1], val_out[-1])
            scores[t] = self._fit_score(x_all[:, t], labels[:, t], cand[t : t + 1])[0]
        self._result = self._finish(
            chosen, outlier, scores, val_aucs, np.concatenate(val_in), np.concatenate(val_out),
            np.stack(dist)[b][:, :, 0], labels[b], cand_d[:, 0], targets, n_base, n_syn,
            spent, subsampled, notes, started)
        return self

    def _finish(self, chosen: list[tuple[str, int]], outlier: np.ndarray, scores: np.ndarray,
                val_aucs: np.ndarray, val_in: np.ndarray, val_out: np.ndarray,
                val_d1: np.ndarray, val_labels: np.ndarray, cand_d1: np.ndarray,
                targets: pd.DataFrame, n_base: int, n_syn: int, spent: list[float],
                subsampled: dict[str, Any] | None, notes: list[str],
                started: float) -> ShadowResult:
        is_member = np.array([role == "member" for role, _ in chosen])
        n_m, n_n = int(is_member.sum()), int((~is_member).sum())
        caps = {"candidate": max_resolvable_epsilon(n_m, n_n, delta=self.delta),
                "shadow_runs": max_resolvable_epsilon(val_in.size, val_out.size,
                                                      delta=self.delta)}
        sizes = (f"{n_m} member and {n_n} non-member targets, {self.n_shadows} shadow runs "
                 f"(classifier per target trained on all runs)")
        cand_notes = [f"AUC over {sizes}; even a perfect attack could show an epsilon lower "
                      f"bound of at most {caps['candidate']:.2f} with so few targets"]
        if caps["candidate"] < 1.0:
            cand_notes.append("sample size too small to resolve an epsilon estimate: read "
                              "the shadow_runs bound for the generator configuration")
        ori_keys = row_keys(self.ori, self.schema)
        candidate = score_membership(
            "shadow", scores[is_member], scores[~is_member], n_synthetic=n_syn,
            duplicate_rate=float(np.isin(row_keys(targets[~is_member], self.schema),
                                         ori_keys).mean()),
            exact_match_members=float((cand_d1[is_member] == 0).mean()),
            exact_match_nonmembers=float((cand_d1[~is_member] == 0).mean()),
            delta=self.delta, seed=self.seed, subsampled=subsampled,
            notes=tuple(cand_notes), n_reference=len(self.reference))
        runs = score_membership(
            "shadow_runs", val_in, val_out, n_synthetic=n_syn, duplicate_rate=0.0,
            exact_match_members=float((val_d1[val_labels] == 0).mean()),
            exact_match_nonmembers=float((val_d1[~val_labels] == 0).mean()),
            delta=self.delta, seed=self.seed, n_reference=len(self.reference),
            notes=(f"held-out shadow runs: {self.n_shadows // 2} runs x {len(chosen)} targets "
                   f"scored by classifiers trained on the other {self.n_shadows // 2} runs; "
                   "bounds the epsilon of the generator configuration, at most "
                   f"{caps['shadow_runs']:.2f} with these counts",))
        rows = tuple(ShadowTarget(role=role, row=row, outlier_score=float(o), score=float(s),
                                  in_candidate_training=role == "member",
                                  validation_auc=float(v))
                     for (role, row), o, s, v in zip(chosen, outlier, scores, val_aucs,
                                                     strict=True))
        finite = [e for e in spent if not math.isnan(e)]
        return ShadowResult(
            candidate=candidate, shadow_runs=runs, targets=rows, n_shadows=self.n_shadows,
            shadow_rows=n_base, synthetic_rows=n_syn, features=self.featurizer.sets,
            classifier=self.classifier, outlier_score=OUTLIER_SCORE.format(k=self.k_outlier),
            max_resolvable_epsilon=caps,
            shadow_epsilon_spent=max(finite) if finite else None, subsampled=subsampled,
            notes=tuple(notes), seconds=time.perf_counter() - started)

    def results(self) -> ShadowResult:
        """The attack's result.

        Raises:
            ConflictError: if ``evaluate()`` has not run yet.
        """
        if self._result is None:
            raise ConflictError("the shadow attack has not been evaluated yet; call evaluate() "
                                "before results()")
        return self._result
