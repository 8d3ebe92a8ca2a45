"""A study's plots, drawn by Optuna's matplotlib visualizations and saved as PNG: no browser, no window.

- `optimization_history.png`: each finished trial's validation metric, and the best so far;
- `parameters.png`: each searched key against the metric, one panel a key;
- `importances.png`: how much each key matters to the metric, by Optuna's default estimate (PED-ANOVA).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib
import optuna
from optuna.trial import TrialState

HISTORY = "optimization_history.png"
PARAMETERS = "parameters.png"
IMPORTANCES = "importances.png"


def plot_study(study: optuna.Study, metric: str, folder: Path) -> dict[str, str]:
    """Writes the study's plots into `folder`, each beside its place and then renamed into it.

    Returns:
        For each plot, its file name, or why it was not drawn (too few trials, say).
    """
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # files only; a process that chose a backend keeps it
    from optuna.visualization import matplotlib as optuna_plots

    target = f"validation {metric}"
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = {key for trial in complete for key in trial.params if len({str(t.params.get(key)) for t in complete}) > 1}
    drawings = {
        HISTORY: (lambda: optuna_plots.plot_optimization_history(study, target_name=target), len(complete) >= 1,
                  "no trial has completed yet"),
        PARAMETERS: (lambda: optuna_plots.plot_slice(study, target_name=target), len(complete) >= 1,
                     "no trial has completed yet"),
        IMPORTANCES: (lambda: optuna_plots.plot_param_importances(study, target_name=target), len(varied) >= 1,
                      "importances need two completed trials whose searched values differ"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (draw, possible, why_not) in drawings.items():
        if not possible:
            written[name] = f"not drawn: {why_not}"
            continue
        with warnings.catch_warnings():
            # Optuna marks its matplotlib visualizations experimental, and says so on every call.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # A key whose completed trials all took one value gets a panel of one column: nothing is wrong.
            warnings.filterwarnings("ignore", message="Attempting to set identical low and high xlims")
            axes = draw()
        written[name] = _save(_figure(axes), folder / name)
    return written


def _figure(axes) -> matplotlib.figure.Figure:
    """The figure of what Optuna returns: one `Axes`, or an array of them (one panel a key)."""
    first = axes.flat[0] if hasattr(axes, "flat") else axes
    return first.figure


def _save(figure: matplotlib.figure.Figure, path: Path) -> str:
    import matplotlib.pyplot as plt

    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        figure.savefig(partial, dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    partial.replace(path)
    return path.name
