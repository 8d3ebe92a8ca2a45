"""A multi-worker cluster on this machine, for trying `trainer.distribution=multi_worker` without other hosts.

`toolkit run NAME --local-workers N` starts N `toolkit run` processes, each
told by its own `TF_CONFIG` that it is one of N workers on 127.0.0.1 at
free ports. Their output is streamed with a `[worker i]` prefix. If one
fails, the others are stopped; started again with the same run name, the
cluster resumes from the last finished epoch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from toolkit.errors import InputError

# How long a worker asked to stop may take before it is killed.
_STOP_SECONDS = 10
# How long the others have to notice a failed worker in their next collective operation and stop on their own,
# saying so, before they are asked to: TensorFlow can take tens of seconds to give up on a peer on a busy machine.
_PEER_LOSS_SECONDS = 60


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that nothing listens on now."""
    sockets = []
    try:
        for _ in range(count):
            held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.bind(("127.0.0.1", 0))
            sockets.append(held)
        return [held.getsockname()[1] for held in sockets]
    finally:
        for held in sockets:
            held.close()


def tf_configs(ports: Sequence[int]) -> list[str]:
    """The `TF_CONFIG` of each worker of a cluster on 127.0.0.1 at `ports`; worker 0 is the chief."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}) for index in range(len(ports))]


def run_local_workers(arguments: Sequence[str], workers: int) -> int:
    """Runs `toolkit <arguments>` as each of `workers` processes of a local cluster, and waits for them.

    Args:
        arguments: The command line of one worker, such as
            `["run", "sentiment", "--run-name", "r", "--set", "trainer.distribution=multi_worker"]`.
        workers: How many processes to start, at least 2.

    Returns:
        0 if every worker finished; else the exit status of the first that
        failed (2 for a user's mistake), after stopping the others.
    """
    if workers < 2:
        raise InputError(f"--local-workers: expected at least 2 workers, got {workers}.")
    processes: list[subprocess.Popen] = []
    streams: list[threading.Thread] = []
    # A SIGTERM to this process stops the workers too, as Ctrl-C does.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for index, tf_config in enumerate(tf_configs(free_ports(workers))):
            process = subprocess.Popen(
                [sys.executable, "-m", "toolkit_cli", *arguments],
                env={**os.environ, "TF_CONFIG": tf_config},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # Ctrl-C reaches this process alone, which stops each worker once
            )
            processes.append(process)
            print(f"toolkit: started worker {index} of {workers} (pid {process.pid})", flush=True)
            streams.append(threading.Thread(target=_stream, args=(process, f"[worker {index}] "), daemon=True))
            streams[-1].start()
        failed = _wait_for_all_or_first_failure(processes)
    except BaseException:
        _stop(processes)
        for stream in streams:  # the workers' last words
            stream.join(timeout=_STOP_SECONDS)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    if failed is not None:
        # The others lose their peer in the next collective operation and stop on their own, saying so;
        # those still running after a while (waiting on something else) are asked to.
        _stop(processes, grace=_PEER_LOSS_SECONDS)
    for stream in streams:
        stream.join()
    if failed is None:
        return 0
    index, status = failed
    if status == 2:  # a user's mistake, which the worker has named; starting again as it was would repeat it
        message = f"worker {index} stopped on the error above; the other workers were stopped."
    else:
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        message = (
            f"worker {index} {how}; the other workers were stopped. Run the same command again (with the same "
            "--run-name) to resume from the last finished epoch."
        )
    print(f"toolkit run: error: {message}", file=sys.stderr, flush=True)
    return status if status > 0 else 1


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stream(process: subprocess.Popen, prefix: str) -> None:
    for line in process.stdout:
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def _wait_for_all_or_first_failure(processes: list[subprocess.Popen]) -> tuple[int, int] | None:
    """Waits until every process has ended, or one has failed: then its index and exit status."""
    running = dict(enumerate(processes))
    while running:
        for index, process in list(running.items()):
            try:
                status = process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            if status != 0:
                return index, status
            del running[index]
    return None


def _stop(processes: list[subprocess.Popen], grace: float = 0) -> None:
    """Asks every process still running after `grace` seconds to stop (as Ctrl-C would), and kills those that do not."""
    deadline = time.monotonic() + grace
    while any(process.poll() is None for process in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
