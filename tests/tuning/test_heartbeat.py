"""Heartbeats: a running trial whose process has gone is marked failed with the reason; a live one is left alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from toolkit.tuning import heartbeat
from toolkit.tuning.heartbeat import FAILURE, HOST, LAST_HEARTBEAT, PID, Heartbeat, fail_stale_trials, stale_reason


def ended_process_id() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def journal_study(tmp_path) -> tuple[optuna.Study, JournalStorage]:
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "journal.log")))
    return optuna.create_study(study_name="beats", storage=storage), storage


def running_trial(study: optuna.Study, **attributes) -> optuna.Trial:
    trial = study.ask()
    for key, value in attributes.items():
        trial.set_user_attr(key, value)
    return trial


@pytest.mark.slow  # starts a process, to have the number of one that ended
def test_a_trial_whose_process_on_this_host_ended_is_marked_failed_at_once(tmp_path):
    study, storage = journal_study(tmp_path)
    pid = ended_process_id()
    dead = running_trial(study, **{HOST: socket.gethostname(), PID: pid, LAST_HEARTBEAT: time.time()})
    alive = running_trial(study, **{HOST: socket.gethostname(), PID: os.getpid(), LAST_HEARTBEAT: time.time()})
    failed = fail_stale_trials(study, storage)
    assert list(failed) == [dead.number]
    trials = {trial.number: trial for trial in study.get_trials()}
    assert trials[dead.number].state == TrialState.FAIL
    assert trials[dead.number].user_attrs[FAILURE] == (
        f"process {pid} on {socket.gethostname()} ended before the trial did (killed, or it crashed)"
    )
    assert trials[alive.number].state == TrialState.RUNNING


def test_a_trial_silent_for_longer_than_the_grace_period_is_stale_even_on_another_host(tmp_path):
    study, _ = journal_study(tmp_path)
    now = time.time()
    trial = running_trial(study, **{HOST: "elsewhere", PID: 1, LAST_HEARTBEAT: now - heartbeat.STALE_SECONDS - 5})
    (frozen,) = study.get_trials()
    assert stale_reason(frozen, now) == (
        f"no heartbeat from process 1 on elsewhere for {heartbeat.STALE_SECONDS + 5:.0f} s "
        f"(more than {heartbeat.STALE_SECONDS:.0f} s)"
    )
    trial.set_user_attr(LAST_HEARTBEAT, now - 1)
    (frozen,) = study.get_trials()
    assert stale_reason(frozen, now) is None


def test_a_trial_that_never_said_where_it_runs_is_judged_by_its_start(tmp_path):
    study, _ = journal_study(tmp_path)
    running_trial(study)
    (frozen,) = study.get_trials()
    assert stale_reason(frozen) is None
    later = frozen.datetime_start.timestamp() + heartbeat.STALE_SECONDS + 1
    assert stale_reason(frozen, later).startswith(
        f"no heartbeat from the process that started it for {heartbeat.STALE_SECONDS + 1:.0f} s"
    )


def test_the_heartbeat_records_where_the_trial_runs_and_beats_until_it_ends(tmp_path):
    study, _ = journal_study(tmp_path)
    trial = study.ask()
    with Heartbeat(trial, interval=0.05):
        first = study.get_trials()[0].user_attrs[LAST_HEARTBEAT]
        time.sleep(0.3)
        during = study.get_trials()[0].user_attrs[LAST_HEARTBEAT]
    ended = study.get_trials()[0].user_attrs[LAST_HEARTBEAT]
    time.sleep(0.2)
    attributes = study.get_trials()[0].user_attrs
    assert during > first and attributes[LAST_HEARTBEAT] == ended
    assert (attributes[HOST], attributes[PID]) == (socket.gethostname(), os.getpid())


def test_a_heartbeat_stops_quietly_once_another_process_failed_its_trial(tmp_path):
    study, storage = journal_study(tmp_path)
    trial = study.ask()
    trial_id = storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name("beats"), trial.number)
    with Heartbeat(trial, interval=0.05) as beating:
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        time.sleep(0.2)
        assert not beating._thread.is_alive()
