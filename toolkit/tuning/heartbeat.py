"""Heartbeats: a running trial says every few seconds that its process is alive; one whose process is gone is failed.

Optuna's own heartbeat serves only its database storage, and a search may
keep its study in a journal file, so toolkit keeps its own for both, in the
trial's attributes: the host and process running it, and the time of its
last heartbeat. Before each trial starts, a trial still marked running is
failed when its process on this host no longer exists (at once), or when no
heartbeat has come from it for `STALE_SECONDS` (a process on another host,
or one that hangs). The reason is recorded with it, and the study goes on.
"""

from __future__ import annotations

import datetime
import os
import socket
import threading
import time

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

HEARTBEAT_SECONDS = 15.0
# Several missed heartbeats: a busy machine may delay one, never four.
STALE_SECONDS = 4 * HEARTBEAT_SECONDS
# The trial attributes toolkit records.
HOST = "host"
PID = "pid"
LAST_HEARTBEAT = "heartbeat"
FAILURE = "failure"


class Heartbeat:
    """While entered, records the trial's host and process, then a heartbeat every `interval` seconds from a thread."""

    def __init__(self, trial: optuna.Trial, interval: float = HEARTBEAT_SECONDS):
        self.trial = trial
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"toolkit-heartbeat-{trial.number}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.trial.set_user_attr(HOST, socket.gethostname())
        self.trial.set_user_attr(PID, os.getpid())
        self.trial.set_user_attr(LAST_HEARTBEAT, time.time())
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.trial.set_user_attr(LAST_HEARTBEAT, time.time())
            except UpdateFinishedTrialError:
                return  # another process judged it stale and failed it; its reason is recorded with it


def fail_stale_trials(study: optuna.Study, storage: optuna.storages.BaseStorage) -> dict[int, str]:
    """Marks failed each running trial of `study` whose process has gone, recording why; returns why, by trial number."""
    study_id = storage.get_study_id_from_name(study.study_name)
    failed = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        reason = stale_reason(trial)
        if reason is None:
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            storage.set_trial_user_attr(trial_id, FAILURE, reason)
            if storage.set_trial_state_values(trial_id, TrialState.FAIL):
                failed[trial.number] = reason
        except UpdateFinishedTrialError:
            pass  # it finished meanwhile, or another process failed it first
    return failed


def stale_reason(trial: FrozenTrial, now: float | None = None) -> str | None:
    """Why a running trial's process is gone, or `None` while it may be alive."""
    now = time.time() if now is None else now
    host, pid = trial.user_attrs.get(HOST), trial.user_attrs.get(PID)
    runner = f"process {pid} on {host}" if host is not None else "the process that started it"
    if host == socket.gethostname() and isinstance(pid, int) and not _is_running(pid):
        return f"{runner} ended before the trial did (killed, or it crashed)"
    last = trial.user_attrs.get(LAST_HEARTBEAT)
    if not isinstance(last, (int, float)):
        started = trial.datetime_start
        last = started.timestamp() if isinstance(started, datetime.datetime) else now
    silent = now - last
    if silent > STALE_SECONDS:
        return f"no heartbeat from {runner} for {silent:.0f} s (more than {STALE_SECONDS:.0f} s)"
    return None


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
