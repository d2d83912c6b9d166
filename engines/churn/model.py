"""Churn engine: pipelines, training with cross-validated held-out predictions, and everything read from them.

Training scores every customer with a model that did not see them (stratified k-fold
out-of-fold predictions); metrics, the profit curve, the gains chart and the bias check
all come from those held-out probabilities. The model used for the what-if form is then
refitted on every row.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from engines.churn.data import TELCO, ChurnData, add_features, engineered_kinds, read_telco
from engines.core.artifacts import ArtifactStore, EngineCache, library_versions, trainer_for
from engines.core.card import ModelCard
from engines.core.data_sources import ResolvedDataset, bundled_sample
from engines.core.errors import InputError
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress, null_progress, scaled

ENGINE = "churn"
ENGINE_VERSION = 1  # bump when ChurnModel's layout changes, so old artifacts retrain
LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas")
GROUP_COLUMNS = ("gender", "SeniorCitizen")  # the bias check's groups
IMPORTANCE_ROWS = 1500  # held-out rows used for permutation importance (cost: features x repeats predictions)
IMPORTANCE_REPEATS = 3
PDP_ROWS = 400  # rows averaged for each partial-dependence point
PDP_POINTS = 25
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)  # the profit curve's grid


def _one_openmp_thread(func: Callable) -> Callable:
    """Run ``func`` with one OpenMP thread.

    Gradient boosting's OpenMP threads spin while they wait; on a small shared machine
    (2 cores, a Streamlit server, other sessions) that made a 0.3 s fit take 30 s. The
    data here is small, so one thread loses little when the machine is idle.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1, user_api="openmp"):
            return func(*args, **kwargs)

    return wrapper


class ModelName(StrEnum):
    """The classifiers the engine can train."""

    LOGREG = "logreg"
    SEED_RF = "seed_rf"
    HGB = "hgb"
    ENSEMBLE = "ensemble"


class Imbalance(StrEnum):
    """How the 26/74 class imbalance is handled in training."""

    NONE = "none"
    CLASS_WEIGHT = "class_weight"
    OVERSAMPLE = "oversample"


MODELS: dict[ModelName, dict[str, str]] = {
    ModelName.LOGREG: {
        "title": "Logistic regression (engineered features)",
        "why": "Well-calibrated probabilities, readable coefficients, and on this data as accurate as tree ensembles.",
    },
    ModelName.SEED_RF: {
        "title": "Seed: random forest (scikit-learn defaults)",
        "why": "The seed project's model: RandomForestClassifier with its default settings, as a baseline.",
    },
    ModelName.HGB: {
        "title": "Histogram gradient boosting (shallow, slow learning rate)",
        "why": "Tree boosting captures interactions (fiber optic x month-to-month) without feature crafting.",
    },
    ModelName.ENSEMBLE: {
        "title": "Logistic regression + gradient boosting (soft vote)",
        "why": (
            "Averaging the probabilities of a linear model and shallow boosted trees gave the best mean ROC-AUC "
            "in our 5-fold benchmark on Telco; each corrects the other's blind spots."
        ),
    },
}
DEFAULT_MODEL = ModelName.ENSEMBLE
IMBALANCE_TITLES = {
    Imbalance.NONE: "none (threshold 0.5)",
    Imbalance.CLASS_WEIGHT: "class weights (balanced)",
    Imbalance.OVERSAMPLE: "random oversampling",
    "threshold": "threshold moving (cut at the churn rate)",
}


@dataclass(frozen=True)
class ChurnConfig:
    """How to train the churn model.

    Attributes:
        model: Which classifier.
        imbalance: Class weights, random oversampling of churners, or neither.
        engineered: Add the engineered Telco features.
        n_splits: Folds of the stratified cross-validation that yields held-out predictions.
        seed: Folds and model seed.
    """

    model: ModelName = DEFAULT_MODEL  # best mean ROC-AUC in benchmarks/churn
    imbalance: Imbalance = Imbalance.NONE  # keeps probabilities honest; the business threshold does the rest
    engineered: bool = True  # tenure bands, charges per month, number of services
    n_splits: int = 5  # the benchmark's protocol
    seed: int = 0  # fixed: same config + data give the same model

    def __post_init__(self) -> None:
        for name, enum in (("model", ModelName), ("imbalance", Imbalance)):
            try:
                object.__setattr__(self, name, enum(getattr(self, name)))
            except ValueError:
                valid = ", ".join(e.value for e in enum)
                raise InputError(f"Unknown {name} {getattr(self, name)!r}. Choose one of: {valid}.") from None
        if not 2 <= self.n_splits <= 10:
            raise InputError(f"n_splits must be between 2 and 10, got {self.n_splits}.")


# ---------------------------------------------------------------- pipelines


def make_pipeline(
    model: ModelName,
    kinds: dict[str, str],
    *,
    engineered: bool = True,
    imbalance: Imbalance = Imbalance.NONE,
    seed: int = 0,
) -> Pipeline:
    """An unfitted pipeline: engineered features -> one ColumnTransformer -> classifier.

    Args:
        model: The classifier.
        kinds: Raw feature -> "numeric" / "categorical".
        engineered: Add the Telco engineered features (only those whose inputs exist).
        imbalance: CLASS_WEIGHT sets balanced class weights; OVERSAMPLE is applied to the rows by the caller.
        seed: Random state.
    """
    model = ModelName(model)
    kinds = dict(kinds)
    steps: list[tuple[str, Any]] = []
    if engineered:
        probe = pd.DataFrame({c: [np.nan, np.nan] for c in kinds})
        kinds |= engineered_kinds(probe)
        steps.append(("features", FunctionTransformer(add_features)))
    numeric = [c for c, k in kinds.items() if k == "numeric"]
    categorical = [c for c, k in kinds.items() if k == "categorical"]
    scale = model is ModelName.LOGREG
    numeric_steps = [("impute", SimpleImputer(strategy="median"))] + ([("scale", StandardScaler())] if scale else [])
    prep = ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), numeric),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, sparse_output=False),
                        ),
                    ]
                ),
                categorical,
            ),
        ],
        verbose_feature_names_out=False,
    )
    weight = "balanced" if Imbalance(imbalance) is Imbalance.CLASS_WEIGHT else None
    if model is not ModelName.ENSEMBLE:
        steps.append(("prep", prep))
    if model is ModelName.ENSEMBLE:
        members = [
            ("logreg", make_pipeline(ModelName.LOGREG, kinds, engineered=False, imbalance=imbalance, seed=seed)),
            ("hgb", make_pipeline(ModelName.HGB, kinds, engineered=False, imbalance=imbalance, seed=seed)),
        ]
        # Each member has its own preprocessing (scaling for the linear model only); features are added once.
        return Pipeline([*steps, ("model", VotingClassifier(members, voting="soft"))])
    if model is ModelName.LOGREG:
        clf = LogisticRegression(C=0.3, max_iter=2000, class_weight=weight)
    elif model is ModelName.SEED_RF:
        clf = RandomForestClassifier(random_state=seed, class_weight=weight)  # the seed's defaults
    else:
        # Depth-2 trees and a slow rate: chosen on 5-fold CV over three seeds (benchmarks/churn.py).
        clf = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=200,
            max_depth=2,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            class_weight=weight,
            random_state=seed,
        )
    return Pipeline([*steps, ("model", clf)])


def oversample(x: pd.DataFrame, y: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Random oversampling: repeat random churners until both classes have as many rows."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    minority, majority = (pos, neg) if len(pos) < len(neg) else (neg, pos)
    extra = rng.choice(minority, size=len(majority) - len(minority), replace=True)
    index = np.concatenate([np.arange(len(y)), extra])
    return x.iloc[index].reset_index(drop=True), y[index]


@_one_openmp_thread
def fit_pipeline(config: ChurnConfig, data_kinds: dict[str, str], x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """Fit ``config``'s pipeline on rows ``x``, ``y`` (oversampling them first when asked)."""
    pipeline = make_pipeline(
        config.model, data_kinds, engineered=config.engineered, imbalance=config.imbalance, seed=config.seed
    )
    if config.imbalance is Imbalance.OVERSAMPLE:
        x, y = oversample(x, y, config.seed)
    return pipeline.fit(x, y)


def folds(y: np.ndarray, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds (train index, test index), the same for every model compared."""
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


# ---------------------------------------------------------------- metrics and business


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Held-out metrics of churn probabilities ``p`` (rates as fractions)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "accuracy": float((pred == y).mean()),
        "brier": float(np.mean((p - y) ** 2)),
    }


@dataclass(frozen=True)
class Business:
    """The economics of a retention campaign.

    Attributes:
        offer_cost: What one retention offer costs (given to everyone targeted).
        customer_value: What keeping a customer who would have left is worth.
        acceptance: Share of would-be churners the offer keeps.
    """

    offer_cost: float = 50.0  # e.g. a month's discount
    customer_value: float = 500.0  # about a year of margin
    acceptance: float = 0.3  # assumed: a third of targeted churners stay

    def __post_init__(self) -> None:
        for name in ("offer_cost", "customer_value", "acceptance"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value):
                raise InputError(f"{name.replace('_', ' ')} must be a number, got {value!r}.")
        if not 0 <= self.offer_cost <= 1e6:
            raise InputError(f"The offer cost must be between 0 and 1,000,000; got {self.offer_cost:g}.")
        if not 0 <= self.customer_value <= 1e7:
            raise InputError(
                f"The value of a kept customer must be between 0 and 10,000,000; got {self.customer_value:g}."
            )
        if not 0 < self.acceptance <= 1:
            raise InputError(f"The acceptance rate must be above 0 and at most 1; got {self.acceptance:g}.")


def profit_curve(y: np.ndarray, p: np.ndarray, business: Business, thresholds: np.ndarray = THRESHOLDS) -> pd.DataFrame:
    """Expected campaign profit when everyone with P(churn) >= threshold gets the offer.

    A targeted churner is worth ``acceptance * customer_value - offer_cost``; a targeted
    stayer costs ``offer_cost``; customers not targeted add nothing.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    gain = business.acceptance * business.customer_value
    rows = []
    for t in thresholds:
        targeted = p >= t
        churners = int((targeted & (y == 1)).sum())
        n = int(targeted.sum())
        rows.append(
            {
                "threshold": float(t),
                "targeted": n,
                "churners_reached": churners,
                "profit": churners * gain - n * business.offer_cost,
            }
        )
    return pd.DataFrame(rows)


def best_threshold(curve: pd.DataFrame) -> pd.Series:
    """The row of ``curve`` with the highest profit (the lowest such threshold on ties)."""
    return curve.iloc[int(np.argmax(curve["profit"].to_numpy()))]


def gains_table(y: np.ndarray, p: np.ndarray, points: int = 50) -> pd.DataFrame:
    """Cumulative gains and lift: contact the riskiest x% -> share of all churners reached."""
    y = np.asarray(y, dtype=int)
    order = np.argsort(-np.asarray(p, dtype=float), kind="stable")
    caught = np.cumsum(y[order])
    n = len(y)
    shares = np.linspace(1 / points, 1.0, points)
    counts = np.maximum(np.round(shares * n).astype(int), 1)
    reached = caught[counts - 1] / max(y.sum(), 1)
    return pd.DataFrame({"contacted": counts / n, "churners_reached": reached, "lift": reached / (counts / n)})


def bias_table(groups: pd.DataFrame, y: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Selection rate, recall and false-positive rate per group of each column of ``groups``."""
    y = np.asarray(y, dtype=int)
    pred = np.asarray(pred, dtype=int)
    rows = []
    for column in groups.columns:
        values = groups[column].astype(object).to_numpy()
        for value in sorted({v for v in values if isinstance(v, str) or not pd.isna(v)}, key=str):
            mask = values == value
            pos, neg = mask & (y == 1), mask & (y == 0)
            rows.append(
                {
                    "attribute": column,
                    "group": str(value),
                    "customers": int(mask.sum()),
                    "churn_rate": float(y[mask].mean()),
                    "selection_rate": float(pred[mask].mean()),
                    "recall": float(pred[pos].mean()) if pos.any() else float("nan"),
                    "false_positive_rate": float(pred[neg].mean()) if neg.any() else float("nan"),
                }
            )
    return pd.DataFrame(rows)


GROUP_WORDS = {
    ("SeniorCitizen", "Yes"): "senior citizens",
    ("SeniorCitizen", "No"): "non-seniors",
    ("gender", "Female"): "women",
    ("gender", "Male"): "men",
}
METRIC_WORDS = {
    "selection_rate": "Flagged as likely to leave: {hi} of {a} vs {lo} of {b}",
    "recall": "Among customers who left, caught: {hi} of {a} vs {lo} of {b}",
    "false_positive_rate": "Among customers who stayed, wrongly flagged: {hi} of {a} vs {lo} of {b}",
}


def bias_sentences(table: pd.DataFrame, tolerance: float = 0.05) -> list[str]:
    """The largest gap of each metric within each attribute, in plain words."""
    sentences = []
    for attribute, part in table.groupby("attribute", sort=False):
        if len(part) < 2:
            continue
        for metric, words in METRIC_WORDS.items():
            valid = part.dropna(subset=[metric])
            if len(valid) < 2:
                continue
            hi, lo = valid.loc[valid[metric].idxmax()], valid.loc[valid[metric].idxmin()]
            gap = float(hi[metric] - lo[metric])
            name_hi = GROUP_WORDS.get((attribute, hi["group"]), f"{attribute} = {hi['group']}")
            name_lo = GROUP_WORDS.get((attribute, lo["group"]), f"{attribute} = {lo['group']}")
            verdict = "a notable gap" if gap > tolerance else f"within a {tolerance * 100:.0f}-point tolerance"
            text = words.format(hi=f"{hi[metric]:.1%}", a=name_hi, lo=f"{lo[metric]:.1%}", b=name_lo)
            sentences.append(f"**{attribute}:** {text}, a gap of {gap * 100:.1f} points ({verdict}).")
    return sentences


# ---------------------------------------------------------------- the model


@dataclass
class Contribution:
    """How one feature moved a customer's churn probability."""

    feature: str
    value: Any
    typical: Any
    effect: float


@dataclass
class ChurnModel:
    """A trained churn model with its held-out predictions, interpretation and card."""

    config: ChurnConfig
    pipeline_: Pipeline
    kinds_: dict[str, str]
    target_: str
    positive_: str
    negative_: str
    oof_: pd.DataFrame  # y, p, fold, and the bias-check group columns when present
    metrics_: dict[str, float]
    typical_: dict[str, Any]
    bounds_: dict[str, tuple[float, float]]
    data_range_: dict[str, tuple[float, float]]
    vocab_: dict[str, list[str]]
    importance_: pd.DataFrame
    pdp_: dict[str, pd.DataFrame]
    card_: ModelCard
    telco_: bool = True
    engine_version: int = field(default=ENGINE_VERSION)

    # ---- inference: preprocess -> forward -> postprocess

    @property
    def features(self) -> list[str]:
        """Raw input columns, in training order."""
        return list(self.kinds_)

    @_one_openmp_thread
    def churn_probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """P(churn) for already-validated rows."""
        column = list(self.pipeline_.classes_).index(1)
        return self.pipeline_.predict_proba(frame[self.features])[:, column]

    def check_customer(self, customer: dict[str, Any]) -> pd.DataFrame:
        """Validate one customer's values -> a one-row frame.

        Missing features take the population's typical value.

        Raises:
            InputError: for text in a numeric field, a value outside the plausible range, or an unknown category.
        """
        if not isinstance(customer, dict):
            raise InputError(f"A customer must be a mapping of feature -> value, got {type(customer).__name__}.")
        unknown = sorted(set(customer) - set(self.features))
        if unknown:
            raise InputError(
                f"Unknown field(s): {', '.join(map(str, unknown[:5]))}. Known: {', '.join(self.features)}."
            )
        row: dict[str, Any] = {}
        for name, kind in self.kinds_.items():
            value = customer.get(name, self.typical_[name])
            if kind == "numeric":
                if isinstance(value, str):
                    try:
                        value = float(value.strip().replace(",", ""))
                    except ValueError:
                        raise InputError(f"{name} must be a number, got {value!r}.") from None
                if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                    raise InputError(f"{name} must be a number, got {value!r}.")
                value = float(value)
                if not np.isfinite(value):
                    raise InputError(f"{name} must be a finite number, got {value}.")
                lo, hi = self.bounds_[name]
                seen_lo, seen_hi = self.data_range_[name]
                if not lo <= value <= hi:
                    raise InputError(
                        f"{name} = {value:,.6g} is outside the plausible range {lo:,.6g} to {hi:,.6g} "
                        f"(the training data spans {seen_lo:,.6g} to {seen_hi:,.6g})."
                    )
            else:
                value = str(value).strip()
                allowed = self.vocab_[name]
                if value not in allowed:
                    raise InputError(f"{name} must be one of {', '.join(map(repr, allowed[:12]))}; got {value!r}.")
            row[name] = value
        frame = pd.DataFrame([row])
        for name, kind in self.kinds_.items():
            frame[name] = frame[name].astype(float) if kind == "numeric" else frame[name].to_numpy(dtype=object)
        return frame

    def predict_one(self, customer: dict[str, Any]) -> float:
        """P(churn) for one customer (validated)."""
        return float(self.churn_probabilities(self.check_customer(customer))[0])

    def explain(self, customer: dict[str, Any]) -> list[Contribution]:
        """Per-feature effects on one customer's churn probability, largest first.

        Each feature in turn is replaced by the population's typical value (median or most
        common category) with everything else kept; the effect is how much higher this
        customer's probability is than with the typical value. Model-agnostic.
        """
        row = self.check_customer(customer)
        variants = [row]
        for name in self.features:
            other = row.copy()
            other[name] = self.typical_[name]
            if self.kinds_[name] == "numeric":
                other[name] = other[name].astype(float)
            else:
                other[name] = other[name].to_numpy(dtype=object)
            variants.append(other)
        probs = self.churn_probabilities(pd.concat(variants, ignore_index=True))
        out = [
            Contribution(name, row[name].iloc[0], self.typical_[name], float(probs[0] - probs[i + 1]))
            for i, name in enumerate(self.features)
        ]
        return sorted(out, key=lambda c: abs(c.effect), reverse=True)

    # ---- read from the held-out predictions

    def profit(self, business: Business) -> tuple[pd.DataFrame, pd.Series]:
        """The profit curve on held-out predictions and its best row."""
        curve = profit_curve(self.oof_["y"].to_numpy(), self.oof_["p"].to_numpy(), business)
        return curve, best_threshold(curve)

    def gains(self) -> pd.DataFrame:
        """Cumulative gains / lift on held-out predictions."""
        return gains_table(self.oof_["y"].to_numpy(), self.oof_["p"].to_numpy())

    def performance(self, threshold: float) -> dict[str, Any]:
        """Metrics, confusion matrix, ROC, PR and calibration curves at ``threshold``."""
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"The threshold must be between 0 and 1, got {threshold}.")
        y, p = self.oof_["y"].to_numpy(), self.oof_["p"].to_numpy()
        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
        return {
            "metrics": evaluate(y, p, threshold),
            "confusion": confusion_matrix(y, (p >= threshold).astype(int), labels=[0, 1]).tolist(),
            "roc": pd.DataFrame({"false_positive_rate": fpr, "true_positive_rate": tpr}),
            "pr": pd.DataFrame({"recall": recall, "precision": precision}),
            "calibration": pd.DataFrame({"predicted": predicted, "observed": observed}),
        }

    def fairness(self, threshold: float) -> tuple[pd.DataFrame, list[str]]:
        """The bias table at ``threshold`` for the group columns present, and its gaps in words."""
        columns = [c for c in GROUP_COLUMNS if c in self.oof_.columns]
        if not columns:
            return pd.DataFrame(), []
        pred = (self.oof_["p"].to_numpy() >= threshold).astype(int)
        table = bias_table(self.oof_[columns], self.oof_["y"].to_numpy(), pred)
        return table, bias_sentences(table)


# ---------------------------------------------------------------- training


def _summaries(data: ChurnData) -> tuple[dict, dict, dict, dict]:
    typical, bounds, seen, vocab = {}, {}, {}, {}
    for name, kind in data.kinds.items():
        column = data.features[name]
        if kind == "numeric":
            values = column.dropna().astype(float)
            lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
            span = max(hi - lo, abs(hi), 1.0)
            typical[name] = float(values.median()) if len(values) else 0.0
            seen[name] = (lo, hi)
            # Plausible: the data's range widened by its span, never below 0 for a non-negative column.
            bounds[name] = (0.0 if lo >= 0 else lo - span, hi + span)
        else:
            counts = column.dropna().astype(str).value_counts()
            vocab[name] = sorted(counts.index.tolist())
            typical[name] = str(counts.idxmax()) if len(counts) else "(missing)"
            if not vocab[name]:
                vocab[name] = ["(missing)"]
    return typical, bounds, seen, vocab


def _importance(pipeline: Pipeline, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Permutation importance of each raw feature: drop in held-out ROC-AUC when it is shuffled."""
    rng = np.random.default_rng(seed)
    if len(x) > IMPORTANCE_ROWS:
        keep = rng.choice(len(x), IMPORTANCE_ROWS, replace=False)
        x, y = x.iloc[keep].reset_index(drop=True), y[keep]
    column = list(pipeline.classes_).index(1)
    base = roc_auc_score(y, pipeline.predict_proba(x)[:, column])
    rows = []
    for name in x.columns:
        drops = []
        for _ in range(IMPORTANCE_REPEATS):
            shuffled = x.copy()
            shuffled[name] = x[name].to_numpy()[rng.permutation(len(x))]
            drops.append(base - roc_auc_score(y, pipeline.predict_proba(shuffled)[:, column]))
        rows.append({"feature": name, "importance": float(np.mean(drops)), "std": float(np.std(drops))})
    return pd.DataFrame(rows).sort_values("importance", ascending=False, ignore_index=True)


def _partial_dependence(pipeline: Pipeline, x: pd.DataFrame, feature: str, seed: int) -> pd.DataFrame:
    """Average P(churn) when every customer's ``feature`` is set to each grid value."""
    rng = np.random.default_rng(seed)
    base = x.iloc[rng.choice(len(x), min(PDP_ROWS, len(x)), replace=False)].reset_index(drop=True)
    values = x[feature].dropna().astype(float)
    grid = np.unique(np.quantile(values, np.linspace(0.01, 0.99, PDP_POINTS)))
    column = list(pipeline.classes_).index(1)
    stacked = pd.concat([base.assign(**{feature: float(v)}) for v in grid], ignore_index=True)
    probs = pipeline.predict_proba(stacked)[:, column].reshape(len(grid), len(base))
    return pd.DataFrame({feature: grid, "churn_probability": probs.mean(axis=1)})


@_one_openmp_thread
def train(
    config: ChurnConfig,
    data: ChurnData,
    *,
    data_title: str = TELCO.title,
    provenance: str = "user data",
    citation: str = "",
    interpret: bool = True,
    progress: Progress = null_progress,
) -> ChurnModel:
    """Cross-validate ``config`` on ``data`` (held-out predictions for every row), then refit on all rows.

    Args:
        config: What to train.
        data: Cleaned data (see ``clean_telco`` / ``prepare_user_table``).
        data_title: Dataset name for the card.
        provenance: Where the data came from, for the card.
        citation: Dataset citation for the card.
        interpret: Compute permutation importance and partial dependence.
        progress: Reports each stage; ends at 1.0.

    Returns:
        The trained model.
    """
    x, y = data.features.reset_index(drop=True), np.asarray(data.y, dtype=int)
    splits = folds(y, config.n_splits, config.seed)
    oof = np.zeros(len(y))
    fold_of = np.zeros(len(y), dtype=int)
    fit_seconds = []
    title = MODELS[config.model]["title"]
    importance = pd.DataFrame(columns=["feature", "importance", "std"])
    span = 0.75 if interpret else 0.9
    for i, (train_idx, test_idx) in enumerate(splits):
        progress(span * i / (config.n_splits + 1), f"Fold {i + 1} of {config.n_splits}: training {title}")
        started = time.perf_counter()
        pipeline = fit_pipeline(config, data.kinds, x.iloc[train_idx], y[train_idx])
        fit_seconds.append(time.perf_counter() - started)
        column = list(pipeline.classes_).index(1)
        oof[test_idx] = pipeline.predict_proba(x.iloc[test_idx])[:, column]
        fold_of[test_idx] = i
        if i == 0 and interpret:
            progress(span * (i + 0.5) / (config.n_splits + 1), "Permutation importance on the held-out fold")
            importance = _importance(pipeline, x.iloc[test_idx].reset_index(drop=True), y[test_idx], config.seed)
    progress(span * config.n_splits / (config.n_splits + 1), f"Refitting {title} on all {len(y):,} customers")
    started = time.perf_counter()
    final = fit_pipeline(config, data.kinds, x, y)
    seconds = time.perf_counter() - started
    pdp: dict[str, pd.DataFrame] = {}
    if interpret:
        progress(0.85, "Partial dependence")
        numeric = [c for c in importance["feature"] if data.kinds.get(c) == "numeric"][:2]
        pdp = {name: _partial_dependence(final, x, name, config.seed) for name in numeric}
    metrics = evaluate(y, oof, 0.5)
    typical, bounds, seen, vocab = _summaries(data)
    oof_frame = pd.DataFrame({"y": y, "p": oof, "fold": fold_of})
    for column in GROUP_COLUMNS:
        if column in x.columns:
            oof_frame[column] = x[column].astype(object).to_numpy()
    limitations = [
        "Held-out numbers come from cross-validation on one snapshot of customers; a new price plan or market shifts them.",
        "Churn is a label of the last month only; the model ranks risk, it does not say when a customer will leave.",
        "Per-customer effects replace one feature at a time by its typical value; features that act together "
        "(tenure and total charges) are credited separately.",
        "The profit curve assumes a fixed offer cost, value and acceptance rate for everyone.",
    ]
    if provenance == "bundled sample":
        limitations.insert(0, "Trained on a synthetic sample written by this project, not on real customers.")
    card = ModelCard(
        model=title + (f" + {IMBALANCE_TITLES[config.imbalance]}" if config.imbalance is not Imbalance.NONE else ""),
        why=MODELS[config.model]["why"],
        data=data_title,
        provenance=provenance,
        split=(
            f"Stratified {config.n_splits}-fold cross-validation, seed {config.seed}: every customer is scored by a "
            f"model that did not see them; the page's model is then refitted on all {len(y):,} customers. "
            f"Churn rate {data.churn_rate:.1%}. Threshold-dependent metrics at 0.5."
        ),
        metrics=metrics,
        train_seconds=seconds,
        n_train=len(y),
        n_test=len(y),
        limitations=tuple(limitations),
        versions=library_versions(LIBRARIES),
        citation=citation,
    )
    progress(1.0, "Trained")
    return ChurnModel(
        config=config,
        pipeline_=final,
        kinds_=dict(data.kinds),
        target_=data.target,
        positive_=data.positive,
        negative_=data.negative,
        oof_=oof_frame,
        metrics_=metrics,
        typical_=typical,
        bounds_=bounds,
        data_range_=seen,
        vocab_=vocab,
        importance_=importance,
        pdp_=pdp,
        card_=card,
        telco_=data.telco,
    )


CACHE = EngineCache(ENGINE, ENGINE_VERSION, ChurnModel, LIBRARIES)


def model_key(config: ChurnConfig, data_sha256: str) -> str:
    """The artifact key of a config trained on data with that checksum."""
    return CACHE.key(config, data_sha256)


def is_cached(config: ChurnConfig, resolved: ResolvedDataset, store: ArtifactStore | None = None) -> bool:
    """Whether a trained model for this config and data is on disk (cheap check)."""
    return CACHE.is_cached(config, resolved.sha256, store)


def load_or_train(
    config: ChurnConfig,
    resolved: ResolvedDataset,
    data: ChurnData,
    *,
    store: ArtifactStore | None = None,
    progress: Progress = null_progress,
) -> ChurnModel:
    """The cached model for this config and data, training it on a miss."""
    return CACHE.load_or_train_on(config, resolved, train, data, store=store, progress=progress)


def request(config: ChurnConfig, data: tuple[ResolvedDataset, ChurnData]) -> ModelRequest[ChurnModel]:
    """The model a page wants for ``config`` on ``data`` (what ``load_dataset`` returned); no work done."""
    resolved, churn_data = data
    return ModelRequest(
        CACHE,
        config,
        resolved.sha256,
        trainer_for(train, config, churn_data, resolved),
        title=f"Training {MODELS[config.model]['title']} on {len(churn_data.y):,} customers",
        label=f"churn / {config.model.value}",
    )


def sample_request(model: ModelName | str = DEFAULT_MODEL) -> ModelRequest[ChurnModel]:
    """The model shipped for ``model``: trained on the bundled Telco-like sample with the default settings."""
    resolved = bundled_sample(TELCO)
    return request(ChurnConfig(model=model), (resolved, read_telco(resolved.paths["sample"])))


def shipped_requests() -> list[ModelRequest[Any]]:
    """What the repository ships: every classifier on the bundled sample (the default first), then the comparison."""
    sample = [sample_request(name) for name in sorted(ModelName, key=lambda n: n is not DEFAULT_MODEL)]
    resolved = bundled_sample(TELCO)
    return [*sample, compare_request((resolved, read_telco(resolved.paths["sample"])))]


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class CompareConfig:
    """The page's comparison: every classifier x every imbalance strategy on the same stratified folds.

    Attributes:
        n_splits: Folds (``python -m benchmarks churn`` runs 5 on the real data).
        seed: Folds and models seed.
        kind: Keeps the comparison's artifact key apart from the models' keys.
    """

    n_splits: int = 3  # 36 fits: about 30 s with one thread on the 2,000-row sample
    seed: int = 0  # fixed: same data give the same table
    kind: str = "comparison"


@dataclass
class Comparison:
    """The comparison table as an artifact: shipped for the sample, else computed once in the queue and cached."""

    config: CompareConfig
    table_: pd.DataFrame  # one row per model x imbalance handling (see :func:`compare_approaches`)
    metrics_: dict[str, float]  # the best mean ROC-AUC, for the manifest
    engine_version: int = field(default=ENGINE_VERSION)


COMPARE_CACHE = EngineCache(ENGINE, ENGINE_VERSION, Comparison, LIBRARIES)


def compare_request(
    data: tuple[ResolvedDataset, ChurnData], config: CompareConfig = CompareConfig()
) -> ModelRequest[Comparison]:
    """The comparison of every approach on ``data`` (what ``load_dataset`` returned), described, not run."""
    resolved, churn_data = data

    def run(progress: Progress) -> Comparison:
        table = compare_approaches(churn_data, n_splits=config.n_splits, seed=config.seed, progress=progress)
        return Comparison(config, table, {"best_roc_auc": float(table["roc_auc"].max())})

    runs = len(ModelName) * len(Imbalance) * config.n_splits
    return ModelRequest(
        COMPARE_CACHE,
        config,
        resolved.sha256,
        run,
        title=f"Comparing every approach ({runs} fits) on {len(churn_data.y):,} customers",
        label="churn / comparison",
    )


@_one_openmp_thread
def compare_approaches(
    data: ChurnData,
    *,
    models: tuple[ModelName, ...] = tuple(ModelName),
    strategies: tuple[Imbalance, ...] = tuple(Imbalance),
    n_splits: int = 5,
    seed: int = 0,
    progress: Progress = null_progress,
) -> pd.DataFrame:
    """Every model x imbalance strategy on the same stratified folds; means over folds.

    "threshold moving" reuses the unweighted fit and cuts at the training churn rate
    instead of 0.5, so it costs no extra training.
    """
    x, y = data.features.reset_index(drop=True), np.asarray(data.y, dtype=int)
    splits = folds(y, n_splits, seed)
    jobs = [(m, s) for m in models for s in strategies]
    rows = []
    for j, (model, strategy) in enumerate(jobs):
        step = scaled(progress, j / len(jobs), (j + 1) / len(jobs))
        config = ChurnConfig(model=model, imbalance=strategy, n_splits=n_splits, seed=seed)
        per_fold: dict[str, list[dict[str, float]]] = {"main": [], "threshold": []}
        seconds = []
        for i, (train_idx, test_idx) in enumerate(splits):
            step(i / n_splits, f"{MODELS[model]['title']}, {IMBALANCE_TITLES[strategy]}: fold {i + 1}/{n_splits}")
            started = time.perf_counter()
            pipeline = fit_pipeline(config, data.kinds, x.iloc[train_idx], y[train_idx])
            seconds.append(time.perf_counter() - started)
            p = pipeline.predict_proba(x.iloc[test_idx])[:, list(pipeline.classes_).index(1)]
            per_fold["main"].append(evaluate(y[test_idx], p, 0.5))
            if strategy is Imbalance.NONE:
                per_fold["threshold"].append(evaluate(y[test_idx], p, float(y[train_idx].mean())))
        for variant, results in per_fold.items():
            if not results:
                continue
            label = IMBALANCE_TITLES["threshold" if variant == "threshold" else strategy]
            row = {"model": MODELS[model]["title"], "key": model.value, "imbalance": label}
            row |= {
                m: float(np.mean([r[m] for r in results])) for m in ("roc_auc", "pr_auc", "f1", "recall", "precision")
            }
            row["train_s"] = float(np.mean(seconds))
            row["default"] = model is DEFAULT_MODEL and variant == "main" and strategy is Imbalance.NONE
            rows.append(row)
        step(1.0, f"Done: {MODELS[model]['title']}, {IMBALANCE_TITLES[strategy]}")
    progress(1.0, "Compared")
    return pd.DataFrame(rows)
