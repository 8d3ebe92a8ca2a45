"""Run directories are written atomically: a crash never leaves a half-written run that looks complete."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolkit
from toolkit import export as export_module

SMOKE = Path(__file__).resolve().parents[1] / "configs" / "sentiment_smoke.yaml"


def crash(*args, **kwargs):
    raise RuntimeError("disk full")


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    overrides = ["trainer.epochs=1", "data.max_examples=300"]
    return toolkit.run("sentiment", SMOKE, overrides, run_name="tiny", output_dir=tmp_path_factory.mktemp("runs")).task


def test_export_writes_a_complete_run(task, tmp_path):
    run_dir = task.export(tmp_path / "exported", metrics={"note": 1})
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "config.yaml", "metadata.json", "metrics.json", "model.keras", "serving"
    ]


def test_a_crash_mid_export_keeps_the_earlier_run_and_leaves_no_debris(task, tmp_path, monkeypatch):
    run_dir = task.export(tmp_path / "run", metrics={"version": 1})
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}

    monkeypatch.setattr(export_module, "export_serving", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        task.export(run_dir, metrics={"version": 2})

    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before
    assert (run_dir / "metrics.json").read_text().count('"version": 1') == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no staging folder is left behind"


def test_a_crash_before_the_first_export_leaves_nothing(task, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "export_serving", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        task.export(tmp_path / "fresh")
    assert list(tmp_path.iterdir()) == []


def test_exporting_over_a_run_replaces_it(task, tmp_path):
    run_dir = task.export(tmp_path / "run", metrics={"version": 1})
    task.export(run_dir, metrics={"version": 2})
    assert '"version": 2' in (run_dir / "metrics.json").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
