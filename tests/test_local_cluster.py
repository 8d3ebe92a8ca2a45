"""A local multi-worker cluster: free ports, each worker's TF_CONFIG, and (slow) how the workers are run and stopped."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from toolkit import local_cluster
from toolkit.errors import InputError


def test_free_ports_are_distinct_and_can_be_listened_on():
    ports = local_cluster.free_ports(4)
    assert len(set(ports)) == 4 and all(1024 <= port < 65536 for port in ports)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
            held.bind(("127.0.0.1", port))  # released again: nothing holds them
    assert local_cluster.free_ports(0) == []


def test_each_worker_is_told_the_same_cluster_and_its_own_index_with_worker_0_the_chief():
    configs = [json.loads(config) for config in local_cluster.tf_configs([5001, 5002, 5003])]
    cluster = {"worker": ["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]}
    assert configs == [{"cluster": cluster, "task": {"type": "worker", "index": index}} for index in range(3)]


def test_fewer_than_two_workers_are_refused_before_any_process_starts(monkeypatch):
    def no_process(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    for workers in (1, 0):
        with pytest.raises(InputError, match=rf"--local-workers: expected at least 2 workers, got {workers}\."):
            local_cluster.run_local_workers(["run", "stock"], workers)


# A stand-in for `python -m toolkit_cli <mode>`: what each worker does depends on the mode and its index.
FAKE_WORKER = """#!/bin/sh
index=$(printf '%s' "$TF_CONFIG" | sed 's/.*"index": *\\([0-9]*\\).*/\\1/')
echo "worker $index runs $3"
case "$3:$index" in
  ok:*) exit 0 ;;
  fail:1) exit 3 ;;
  mistake:1) echo "error: bad config"; exit 2 ;;
  killed:1) kill -9 $$ ;;
  notices:0) sleep 1; echo "lost my peer"; exit 1 ;;
  notices:1) exit 3 ;;
  *) exec sleep 60 ;;
esac
"""


@pytest.fixture
def fake_workers(tmp_path, monkeypatch):
    script = tmp_path / "fake_python"
    script.write_text(FAKE_WORKER)
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(script))
    monkeypatch.setattr(local_cluster, "_STOP_SECONDS", 1)
    monkeypatch.setattr(local_cluster, "_PEER_LOSS_SECONDS", 0.5)
    return script


@pytest.mark.slow
def test_every_worker_runs_with_its_output_prefixed_and_success_is_0(fake_workers, capsys):
    handler = signal.getsignal(signal.SIGTERM)
    assert local_cluster.run_local_workers(["ok"], 3) == 0
    output = capsys.readouterr().out
    for index in range(3):
        assert f"toolkit: started worker {index} of 3 (pid " in output
        assert f"[worker {index}] worker {index} runs ok\n" in output
    assert signal.getsignal(signal.SIGTERM) == handler, "the previous SIGTERM handler is back"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "status", "message"),
    [
        ("fail", 3, ("worker 1 exited with status 3; the other workers were stopped. Run the same command again (with "
                     "the same --run-name) to resume from the last finished epoch.")),
        ("killed", 1, "worker 1 was killed by signal 9; the other workers were stopped."),
        ("mistake", 2, "worker 1 stopped on the error above; the other workers were stopped."),
    ],
)
def test_a_failing_worker_stops_the_others_and_its_status_is_returned(fake_workers, capsys, mode, status, message):
    # Worker 0 would sleep for a minute; it is stopped after the grace period instead.
    started = time.monotonic()
    assert local_cluster.run_local_workers([mode], 2) == status
    assert time.monotonic() - started < 20
    captured = capsys.readouterr()
    assert f"toolkit run: error: {message}" in captured.err
    assert "[worker 0] worker 0 runs" in captured.out
    if mode == "mistake":
        assert "[worker 1] error: bad config" in captured.out, "the worker's own words are shown"


@pytest.mark.slow
def test_the_others_are_given_time_to_stop_on_their_own_before_they_are_asked(fake_workers, capsys, monkeypatch):
    monkeypatch.setattr(local_cluster, "_PEER_LOSS_SECONDS", 30)
    started = time.monotonic()
    assert local_cluster.run_local_workers(["notices"], 2) == 3
    assert time.monotonic() - started < 20, "the launcher did not wait out the grace period once all had ended"
    assert "[worker 0] lost my peer" in capsys.readouterr().out, "worker 0 stopped on its own, saying so"
