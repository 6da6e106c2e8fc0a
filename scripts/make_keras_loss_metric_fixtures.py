#!/usr/bin/env python3
"""Fixtures for Keras's losses and metrics beyond the cross-entropies, MSE and MAE (make_keras_fixtures.py
writes those): Huber, LogCosh, MeanSquaredLogarithmicError, MeanAbsolutePercentageError, CosineSimilarity,
KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge as losses (value and gradient) and as
metrics, and the metrics RootMeanSquaredError, Precision, Recall, AUC (ROC), the top-5 accuracies and the cross-entropies.

Usage (run by hand, not in CI; same setup as make_keras_fixtures.py, whose helpers it uses):
    pip install keras jax jaxlib
    KERAS_BACKEND=jax python3 scripts/make_keras_loss_metric_fixtures.py [fixtures_dir]

Writes, under fixtures_dir (default Tests/RecurTests/Fixtures):
    losses_more.json   per case: the loss class, its config, y_true, y_pred, Keras's value and the
                       gradient of the value with respect to y_pred (the format of losses.json);
    metrics_more.json  per case: the metric class, y_true, y_pred, an optional sample_weight and the
                       result after one update_state (the format of metrics.json);
    metrics_configured.json  per case: a metric object as a compile config holds it (Keras's
                       serialize_keras_object: class_name, config with its options), two batches
                       (y_true, y_pred, optional sample_weight) and the result after both update_state
                       calls: F1Score/FBetaScore averages and thresholds, R2Score aggregations and
                       adjusted scores, Precision/Recall thresholds, AUC thresholds, logits, curves, multi-label and label weights
                       (ROC, PR, PR gain) and summation methods, the four confusion counts.
    losses_ctc.json    CTC cases in the format of losses_more.json: labels padded with the blank (0),
                       with repeated ids, a label too long for its steps, an empty label, one sample.
    losses_focal.json  BinaryFocalCrossentropy and CategoricalFocalCrossentropy cases in that format:
                       defaults, logits, class balancing, whole and fractional gammas.
    metrics_correlation.json  PearsonCorrelation and ConcordanceCorrelation in the format of
                       metrics_more.json, with and without sample weights.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_keras_fixtures as base  # noqa: E402  (sets KERAS_BACKEND before importing keras)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

N, C = 4, 3
RNG = np.random.default_rng(4321)


def unif(shape, lo=-1.0, hi=1.0):
    return base.r6(RNG.uniform(lo, hi, size=shape).astype(np.float32))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return base.r6(e / e.sum(axis=-1, keepdims=True))


def loss_case(out, cls, cfg, y_true, y_pred):
    """Appends Keras's value and gradient (with respect to y_pred) of loss class `cls` to `out`."""
    loss = getattr(keras.losses, cls)(**cfg)
    yt = jnp.asarray(y_true)
    value, grad = jax.value_and_grad(lambda p: loss(yt, p))(jnp.asarray(y_pred))
    out.append({"loss": cls, "config": cfg, "y_true": base.tensor(y_true), "y_pred": base.tensor(y_pred),
                "value": base.num(value), "grad_y_pred": base.tensor(grad)})


def make_losses():
    out = []

    def add(cls, cfg, y_true, y_pred):
        loss_case(out, cls, cfg, y_true, y_pred)

    add("Huber", {}, unif((N, C), -2, 2), unif((N, C), -2, 2))
    add("Huber", {"delta": 0.4}, unif((N,)), unif((N, 1), -2, 2))
    add("LogCosh", {}, unif((N, C), -3, 3), unif((N, C), -3, 3))
    add("MeanSquaredLogarithmicError", {}, unif((N, C), 0, 3), unif((N, C), -0.5, 3))
    signs = np.where(RNG.uniform(size=(N, C)) < 0.5, -1, 1).astype(np.float32)
    add("MeanAbsolutePercentageError", {}, base.r6(signs * unif((N, C), 0.5, 2)), unif((N, C), -2, 2))
    add("CosineSimilarity", {}, unif((N, C)), unif((N, C)))
    add("KLDivergence", {}, softmax(unif((N, C), -2, 2)), softmax(unif((N, C), -2, 2)))
    add("Poisson", {}, RNG.integers(0, 5, size=(N, C)).astype(np.float32), unif((N, C), 0.1, 3))
    add("Hinge", {}, RNG.integers(0, 2, size=(N, C)).astype(np.float32), unif((N, C), -2, 2))
    add("Hinge", {}, np.where(RNG.uniform(size=(N, C)) < 0.5, -1, 1).astype(np.float32), unif((N, C), -2, 2))
    add("SquaredHinge", {}, RNG.integers(0, 2, size=(N, C)).astype(np.float32), unif((N, C), -2, 2))
    add("CategoricalHinge", {}, np.eye(C, dtype=np.float32)[RNG.integers(0, C, size=N)], unif((N, C), -2, 2))
    base.dump(os.path.join(base.OUT, "losses_more.json"), out)


def make_metrics():
    out = []

    def add(cls, y_true, y_pred, sample_weight=None, cfg=None):
        metric = getattr(keras.metrics, cls)(**(cfg or {}))
        kw = {} if sample_weight is None else {"sample_weight": jnp.asarray(sample_weight)}
        metric.update_state(jnp.asarray(y_true), jnp.asarray(y_pred), **kw)
        case = {"metric": cls, "config": cfg or {}, "y_true": base.tensor(y_true), "y_pred": base.tensor(y_pred),
                "value": base.num(metric.result())}
        if sample_weight is not None:
            case["sample_weight"] = base.tensor(sample_weight)
        out.append(case)

    weights = unif((N,), 0, 2)
    add("RootMeanSquaredError", unif((N, C)), unif((N, C)))
    add("RootMeanSquaredError", unif((N, C)), unif((N, C)), weights)
    add("MeanAbsolutePercentageError", unif((N, C), 0.5, 2), unif((N, C), -2, 2))
    add("MeanSquaredLogarithmicError", unif((N, C), 0, 3), unif((N, C), 0, 3), weights)
    add("CosineSimilarity", unif((N, C)), unif((N, C)))
    add("KLDivergence", softmax(unif((N, C), -2, 2)), softmax(unif((N, C), -2, 2)))
    add("Poisson", RNG.integers(0, 5, size=(N, C)).astype(np.float32), unif((N, C), 0.1, 3))
    add("Hinge", RNG.integers(0, 2, size=(N, C)).astype(np.float32), unif((N, C), -2, 2))
    add("SquaredHinge", RNG.integers(0, 2, size=(N, C)).astype(np.float32), unif((N, C), -2, 2), weights)
    add("CategoricalHinge", np.eye(C, dtype=np.float32)[RNG.integers(0, C, size=N)], unif((N, C), -2, 2))
    add("BinaryCrossentropy", RNG.integers(0, 2, size=(N, C)).astype(np.float32), unif((N, C), 0.05, 0.95))
    add("CategoricalCrossentropy", np.eye(C, dtype=np.float32)[RNG.integers(0, C, size=N)], softmax(unif((N, C), -2, 2)))
    add("SparseCategoricalCrossentropy", RNG.integers(0, C, size=N).astype(np.float32), softmax(unif((N, C), -2, 2)), weights)
    labels = RNG.integers(0, 2, size=(8, 2)).astype(np.float32)
    scores = unif((8, 2), 0, 1)
    add("Precision", labels, scores)
    add("Precision", labels, scores, unif((8,), 0, 2))
    add("Recall", labels, scores)
    add("Recall", labels, scores, unif((8,), 0, 2))
    auc_labels = RNG.integers(0, 2, size=(40, 1)).astype(np.float32)
    auc_scores = base.r6(np.clip(0.3 * auc_labels + RNG.uniform(0, 0.7, size=(40, 1)), 0, 1).astype(np.float32))
    add("AUC", auc_labels, auc_scores)
    add("AUC", auc_labels, auc_scores, unif((40,), 0, 2))
    scores8 = unif((12, 8))
    ids8 = RNG.integers(0, 8, size=12).astype(np.float32)
    add("SparseTopKCategoricalAccuracy", ids8, scores8)
    add("SparseTopKCategoricalAccuracy", ids8.reshape(12, 1), scores8, unif((12,), 0, 2))
    add("TopKCategoricalAccuracy", np.eye(8, dtype=np.float32)[ids8.astype(int)], scores8)
    base.dump(os.path.join(base.OUT, "metrics_more.json"), out)


def make_configured_metrics():
    out = []

    def add(metric, batches):
        for y_true, y_pred, sample_weight in batches:
            kw = {} if sample_weight is None else {"sample_weight": jnp.asarray(sample_weight)}
            metric.update_state(jnp.asarray(y_true), jnp.asarray(y_pred), **kw)
        serialized = keras.saving.serialize_keras_object(metric)
        out.append({"object": serialized, "value": base.num(metric.result()),
                    "batches": [{"y_true": base.tensor(t), "y_pred": base.tensor(p),
                                 **({} if w is None else {"sample_weight": base.tensor(w)})} for t, p, w in batches]})

    def classes(n=6, c=4, weighted=False):
        labels = np.eye(c, dtype=np.float32)[RNG.integers(0, c, size=n)]
        return labels, softmax(unif((n, c), -2, 2)), (unif((n,), 0, 2) if weighted else None)

    add(keras.metrics.F1Score(average="macro"), [classes(), classes()])
    add(keras.metrics.F1Score(average="micro", threshold=0.3), [classes(weighted=True), classes()])
    add(keras.metrics.F1Score(average="weighted", name="f1"), [classes(), classes(weighted=True)])
    add(keras.metrics.FBetaScore(average="macro", beta=2.0, threshold=0.25), [classes(), classes()])
    multi = [(RNG.integers(0, 2, size=(6, 3)).astype(np.float32), unif((6, 3), 0, 1), None) for _ in range(2)]
    add(keras.metrics.F1Score(average="micro", threshold=0.5), multi)

    def regression(n=7, outputs=2, weighted=False):
        return unif((n, outputs), -2, 2), unif((n, outputs), -2, 2), (unif((n,), 0, 2) if weighted else None)

    add(keras.metrics.R2Score(), [regression(), regression()])
    add(keras.metrics.R2Score(class_aggregation="variance_weighted_average"), [regression(weighted=True), regression()])
    add(keras.metrics.R2Score(num_regressors=3, name="adjusted_r2"), [regression(outputs=1), regression(outputs=1, weighted=True)])
    labels, scores = RNG.integers(0, 2, size=(10, 2)).astype(np.float32), unif((10, 2), 0, 1)
    add(keras.metrics.Precision(thresholds=0.7), [(labels, scores, None), (labels[::-1], scores, unif((10,), 0, 2))])
    add(keras.metrics.Recall(thresholds=0.3, name="recall_at_0.3"), [(labels, scores, None), (labels[::-1], scores, None)])
    auc_labels = RNG.integers(0, 2, size=(30, 1)).astype(np.float32)
    logits = base.r6((2 * auc_labels - 1) * 0.8 + RNG.normal(0, 1.5, size=(30, 1)).astype(np.float32))
    add(keras.metrics.AUC(num_thresholds=50, from_logits=True), [(auc_labels, logits, None), (auc_labels[::-1], logits, unif((30,), 0, 2))])
    pr_scores = base.r6(np.clip(0.25 * auc_labels + RNG.uniform(0, 0.75, size=(30, 1)), 0, 1).astype(np.float32))
    for curve, summation in [("PR", "interpolation"), ("PR", "minoring"), ("ROC", "majoring"), ("PRGAIN", "interpolation")]:
        add(keras.metrics.AUC(num_thresholds=25, curve=curve, summation_method=summation),
            [(auc_labels, pr_scores, None), (auc_labels[::-1], pr_scores, unif((30,), 0, 2))])
    add(keras.metrics.BinaryAccuracy(name="bin_acc"), [(labels, scores, None), (labels, scores[::-1], None)])
    # Multi-label AUC (an area per label, averaged, or weighted by label_weights) and label weights
    # without it (they weigh each label's elements in one set of counts).
    tags = [(RNG.integers(0, 2, size=(8, 3)).astype(np.float32), unif((8, 3), 0, 1), w) for w in (None, unif((8,), 0, 2))]
    add(keras.metrics.AUC(num_thresholds=30, multi_label=True), tags)
    add(keras.metrics.AUC(num_thresholds=30, multi_label=True, label_weights=[0.5, 1.0, 2.0], curve="PR", name="pr_by_label"), tags)
    add(keras.metrics.AUC(num_thresholds=20, multi_label=True, num_labels=3, summation_method="minoring"), tags)
    add(keras.metrics.AUC(num_thresholds=20, label_weights=[1.0, 0.25, 2.0], name="weighted_labels_auc"), tags)
    # The confusion counts, weighted, with default and given thresholds.
    add(keras.metrics.TruePositives(), tags)
    add(keras.metrics.FalsePositives(thresholds=0.3), tags)
    add(keras.metrics.TrueNegatives(thresholds=0.6, name="tn"), tags)
    add(keras.metrics.FalseNegatives(), [(labels, scores, None), (labels[::-1], scores, unif((10,), 0, 2))])
    base.dump(os.path.join(base.OUT, "metrics_configured.json"), out)


def make_ctc():
    out = []

    def add(y_true, shape):
        loss_case(out, "CTC", {}, np.asarray(y_true, dtype=np.float32), unif(shape, -3, 3))

    add([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1]], (3, 8, 5))
    add([[2, 2, 2, 2], [1, 0, 0, 0]], (2, 5, 4))
    add([[0, 0], [3, 0]], (2, 4, 4))
    add([[1, 3, 1, 3, 1, 2]], (1, 12, 4))
    base.dump(os.path.join(base.OUT, "losses_ctc.json"), out)


def make_focal():
    out = []

    def add(cls, cfg, y_true, y_pred):
        loss_case(out, cls, cfg, y_true, y_pred)

    binary = RNG.integers(0, 2, size=(N, C)).astype(np.float32)
    add("BinaryFocalCrossentropy", {}, binary, unif((N, C), 0.02, 0.98))
    add("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "from_logits": True}, binary, unif((N, C), -3, 3))
    add("BinaryFocalCrossentropy", {"gamma": 3.0}, RNG.integers(0, 2, size=(N,)).astype(np.float32), unif((N, 1), 0.02, 0.98))
    onehot = np.eye(C, dtype=np.float32)[RNG.integers(0, C, size=N)]
    add("CategoricalFocalCrossentropy", {}, onehot, softmax(unif((N, C), -2, 2)))
    add("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 0.5, "from_logits": True}, onehot, unif((N, C), -3, 3))
    base.dump(os.path.join(base.OUT, "losses_focal.json"), out)


def make_correlations():
    out = []
    for cls in ["PearsonCorrelation", "ConcordanceCorrelation"]:
        for y_true, y_pred, weights in [(unif((5, 4), -2, 2), unif((5, 4), -2, 2), None),
                                        (unif((6, 3)), unif((6, 3)), unif((6,), 0, 2))]:
            metric = getattr(keras.metrics, cls)()
            kw = {} if weights is None else {"sample_weight": jnp.asarray(weights)}
            metric.update_state(jnp.asarray(y_true), jnp.asarray(y_pred), **kw)
            case = {"metric": cls, "config": {}, "y_true": base.tensor(y_true), "y_pred": base.tensor(y_pred), "value": base.num(metric.result())}
            if weights is not None:
                case["sample_weight"] = base.tensor(weights)
            out.append(case)
    base.dump(os.path.join(base.OUT, "metrics_correlation.json"), out)


if __name__ == "__main__":
    print("keras", keras.__version__)
    make_losses()
    make_metrics()
    make_configured_metrics()
    make_ctc()
    make_focal()
    make_correlations()
