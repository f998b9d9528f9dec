"""Distance-based membership attacks: DCR, DCR relative to a real reference, NNDR, exact match.

All distances are exact nearest-neighbour Euclidean distances on the shared encoding
(``distance.encode_for_distance``): numerics scaled to [0, 1] by their public bounds,
and one category mismatch contributing exactly 1 to the squared distance.
"""

from __future__ import annotations

import numpy as np

from governance.attacks.membership.base import MembershipAttack


class DCRAttack(MembershipAttack):
    """Distance to closest synthetic record: score = -distance.

    A generator that memorises its training rows puts synthetic rows closer to members
    than to non-members.

    Notes:
        The distance-to-closest-record test of Park et al. (2018), "Data Synthesis based
        on Generative Adversarial Networks", used as a membership score as in Chen et al.
        (2020), "GAN-Leaks: A Taxonomy of Membership Inference Attacks against
        Generative Models".
    """

    name = "dcr"

    def scores(self) -> np.ndarray:
        """Minus the distance of each query to its nearest synthetic row."""
        return -self.data.nearest("synthetic", 1)[:, 0]


class DCRDiffAttack(MembershipAttack):
    """DCR calibrated by a real reference: score = d(reference) - d(synthetic).

    A row that is close to the synthetic data only because it lies in a dense region is
    equally close to real rows the generator never saw; subtracting the distance to the
    nearest row of a real reference sample (holdout rows not used as non-members)
    removes that effect.

    Notes:
        A distance-based variant of reference-model calibration (Watson et al. 2022,
        "On the Importance of Difficulty Calibration in Membership Inference Attacks";
        van Breugel et al. 2023, DOMIAS).
    """

    name = "dcr_diff"
    needs_reference = True

    def scores(self) -> np.ndarray:
        """Distance to the nearest reference row minus distance to the nearest synthetic row."""
        d_syn = self.data.nearest("synthetic", 1)[:, 0]
        d_ref = self.data.nearest("reference", 1)[:, 0]
        return d_ref - d_syn


class NNDRAttack(MembershipAttack):
    """Nearest-neighbour distance ratio to the synthetic data: score = -d1 / d2.

    A ratio near 0 means the closest synthetic row is much closer than the second
    closest, a sign that it was copied from (or fitted to) this particular row. When
    both distances are 0 (two exact copies) the ratio is taken as 0.
    """

    name = "nndr"

    def scores(self) -> np.ndarray:
        """Minus d1 / d2 for each query (0 when d1 = 0)."""
        d = self.data.nearest("synthetic", 2)
        ratio = np.divide(d[:, 0], d[:, 1], out=np.zeros(len(d)), where=d[:, 1] > 0)
        return -ratio

    def notes(self) -> tuple[str, ...]:
        """Record how the 0/0 case is scored."""
        return ("a query with two exact synthetic copies (d1 = d2 = 0) has ratio 0",)


class ExactMatchAttack(MembershipAttack):
    """Score 1 if the query has an exact copy in the synthetic data, else 0.

    Matching compares raw values (``matching.row_keys``), never a distance threshold.
    The rates themselves are in ``exact_match_members`` / ``exact_match_nonmembers``.
    """

    name = "exact_match"

    def scores(self) -> np.ndarray:
        """1.0 for queries with an exact synthetic copy, 0.0 otherwise."""
        return self.data.exact_match("synthetic").astype(np.float64)
