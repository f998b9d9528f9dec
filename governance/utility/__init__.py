"""Downstream utility and fidelity of synthetic candidates, scored on real eval only.

``LiftEvaluator`` trains one fixed model family on real train, on the synthetic
candidate, on both, and on a scarce real subset with and without the candidate, scores
every model on the real eval split, and reports lifts over the real-only control with
paired bootstrap intervals. ``evaluate_fidelity`` compares the candidate's distribution
with a real sample (SDMetrics quality report, detection AUC, manifold precision/recall,
tails and domain violations). Metric classes follow ``sdmetrics.base.BaseMetric``.
"""

from governance.utility.accuracy import Accuracy
from governance.utility.base import DownstreamMetric, Goal
from governance.utility.bootstrap import Interval, PairedBootstrap, percentile_interval
from governance.utility.calibration import BrierScore, ExpectedCalibrationError
from governance.utility.domain import domain_violations
from governance.utility.f1 import MacroF1, MicroF1, RarestClassRecall
from governance.utility.fidelity import FidelityEntry, FidelityResult, evaluate_fidelity
from governance.utility.lift import SCENARIOS, LiftEvaluator
from governance.utility.metrics import (
    DEFAULT_PRIMARY,
    confusion_matrix,
    get_metric,
    metrics_for,
    per_class_precision_recall,
)
from governance.utility.models import HYPERPARAMETERS
from governance.utility.regression import MAE, R2, RMSE, SMAPE
from governance.utility.results import ScenarioScore, UtilityResult
from governance.utility.roc_auc import ROCAUC
from governance.utility.subgroups import subgroup_scores
from governance.utility.task import TaskSpec

__all__ = [
    "DEFAULT_PRIMARY",
    "HYPERPARAMETERS",
    "MAE",
    "R2",
    "RMSE",
    "ROCAUC",
    "SCENARIOS",
    "SMAPE",
    "Accuracy",
    "BrierScore",
    "DownstreamMetric",
    "ExpectedCalibrationError",
    "FidelityEntry",
    "FidelityResult",
    "Goal",
    "Interval",
    "LiftEvaluator",
    "MacroF1",
    "MicroF1",
    "PairedBootstrap",
    "RarestClassRecall",
    "ScenarioScore",
    "TaskSpec",
    "UtilityResult",
    "confusion_matrix",
    "domain_violations",
    "evaluate_fidelity",
    "get_metric",
    "metrics_for",
    "per_class_precision_recall",
    "percentile_interval",
    "subgroup_scores",
]
