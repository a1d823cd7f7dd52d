"""Figures for a training result: the confusion matrix and the loss/accuracy curves (matplotlib, Agg)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # the object API: no pyplot global state, safe across threads

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def confusion_figure(confusion: np.ndarray, labels: Sequence[str]) -> Any:
    """A k×k confusion matrix (rows: true class, columns: predicted), counts written in the cells.

    Args:
        confusion: k×k counts.
        labels: the k class names.

    Returns:
        A matplotlib `Figure`.
    """
    k = len(labels)
    fig = _figure(2.0 + 0.45 * k, 1.6 + 0.45 * k)
    ax = fig.add_subplot()
    counts = np.asarray(confusion)
    rows = counts.sum(axis=1, keepdims=True)
    ax.imshow(counts / np.maximum(rows, 1), cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > 0.5 * max(rows[i, 0], 1) else "black")
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Validation confusion matrix")
    return fig


def curves_figure(history: dict[str, list[float]]) -> Any:
    """Loss and accuracy per epoch, training and (when measured) validation.

    Args:
        history: Keras-style history: "loss", "accuracy" and optionally "val_loss", "val_accuracy".

    Returns:
        A matplotlib `Figure`.
    """
    fig = _figure(7.0, 2.8)
    for ax, metric in zip(fig.subplots(1, 2), ("loss", "accuracy")):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if history.get(key):
                ax.plot(range(1, len(history[key]) + 1), history[key], style, label=key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
        if metric == "accuracy":
            ax.set_ylim(-0.02, 1.02)
    return fig
