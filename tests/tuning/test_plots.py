"""A study's plots, as PNG files from Optuna's matplotlib visualizations; those it cannot draw yet say why."""

from __future__ import annotations

from optuna.trial import TrialState

from tests.tuning.conftest import finished_study
from toolkit.tuning.plots import HISTORY, IMPORTANCES, PARAMETERS, plot_study

PNG = b"\x89PNG\r\n\x1a\n"


def test_history_parameters_and_importances_are_written_as_png(tmp_path):
    complete = [(TrialState.COMPLETE, value) for value in (1.02, 0.99, 1.05, 0.98)]
    study = finished_study([*complete, (TrialState.PRUNED, 1.3)])
    written = plot_study(study, "headline.skill_vs_persistence", tmp_path)
    assert written == {HISTORY: HISTORY, PARAMETERS: PARAMETERS, IMPORTANCES: IMPORTANCES}
    for name in written:
        assert (tmp_path / name).read_bytes().startswith(PNG)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(written)


def test_plots_that_need_more_trials_are_not_drawn_and_say_why(tmp_path):
    written = plot_study(finished_study([(TrialState.COMPLETE, 1.0), (TrialState.PRUNED, 1.2)]), "accuracy", tmp_path)
    assert written[IMPORTANCES] == "not drawn: importances need two completed trials whose searched values differ"
    assert written[HISTORY] == HISTORY and written[PARAMETERS] == PARAMETERS
    written = plot_study(finished_study([(TrialState.PRUNED, 1.2)]), "accuracy", tmp_path / "none")
    assert written[HISTORY] == "not drawn: no trial has completed yet"
    assert not (tmp_path / "none" / HISTORY).exists()
