"""Downstream utility and fidelity of synthetic candidates, scored on real eval only.

``LiftEvaluator`` trains a panel of model families (linear, random forest, gradient
boosting) on real train, on the synthetic candidate, on both, and on a scarce real
subset with and without the candidate; it scores every model on the real validation
split (selection and policy gates) and the real eval split (the reported figures), and
reports lifts over the real-only control with paired bootstrap intervals and utility
measured above chance. ``evaluate_fidelity`` compares the candidate's distribution
with a real sample (SDMetrics quality report, detection AUC, manifold precision/recall,
tails and domain violations). Metric classes follow ``sdmetrics.base.BaseMetric``.
"""

from governance.evaluation.domain import domain_violations
from governance.evaluation.downstream.accuracy import Accuracy
from governance.evaluation.downstream.base import DownstreamMetric, Goal
from governance.evaluation.downstream.calibration import BrierScore, ExpectedCalibrationError
from governance.evaluation.downstream.f1 import MacroF1, MicroF1, RarestClassRecall
from governance.evaluation.downstream.metrics import (
    DEFAULT_PRIMARY,
    confusion_matrix,
    get_metric,
    metrics_for,
    per_class_precision_recall,
)
from governance.evaluation.downstream.regression import MAE, R2, RMSE, SMAPE
from governance.evaluation.downstream.roc_auc import ROCAUC
from governance.evaluation.fidelity.evaluate import FidelityEntry, FidelityResult, evaluate_fidelity
from governance.evaluation.lift.bootstrap import Interval, PairedBootstrap, percentile_interval
from governance.evaluation.lift.evaluator import SCENARIOS, LiftEvaluator
from governance.evaluation.lift.models import HYPERPARAMETERS, PANEL
from governance.evaluation.lift.results import (
    ControlScores,
    ModelScores,
    PanelSummary,
    ScenarioScore,
    SplitScores,
    UtilityResult,
)
from governance.evaluation.lift.subgroups import subgroup_scores
from governance.evaluation.task import TaskSpec

__all__ = [
    "DEFAULT_PRIMARY",
    "HYPERPARAMETERS",
    "MAE",
    "PANEL",
    "R2",
    "RMSE",
    "ROCAUC",
    "SCENARIOS",
    "SMAPE",
    "Accuracy",
    "BrierScore",
    "ControlScores",
    "DownstreamMetric",
    "ExpectedCalibrationError",
    "FidelityEntry",
    "FidelityResult",
    "Goal",
    "Interval",
    "LiftEvaluator",
    "MacroF1",
    "MicroF1",
    "ModelScores",
    "PairedBootstrap",
    "PanelSummary",
    "RarestClassRecall",
    "ScenarioScore",
    "SplitScores",
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
