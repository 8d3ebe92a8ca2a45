"""`toolkit serve` as a user runs it: a process that prints its URLs, holds up under load, and stops cleanly.

The load test sends 10,000 one-row requests from 8 connections to a server that batches: none may
fail, every answer must equal the single request's, and the server's memory after 10,000 requests
must be within a margin of its memory after 1,000.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import toolkit_cli
from tests.serving.helpers import recorded_inputs
from toolkit import run_directory

ROOT = Path(__file__).resolve().parents[2]
LOAD_REQUESTS = 10_000
FIRST_REQUESTS = 1_000
CONNECTIONS = 8
# Growth allowed from 1,000 to 10,000 requests: allocator and TensorFlow caches settle, a leak of a
# kilobyte a request (9 MB) would still show beside the noise.
MEMORY_MARGIN_MB = 24
# The whole load test is bounded: a hung server fails it instead of holding the suite.
LOAD_DEADLINE_SECONDS = 300
STARTUP_SECONDS = 120
URL_LINE = re.compile(r"^(\w+): (http://127\.0\.0\.1:\d+)/v1/models/(\w+)  version 1 \((.+)\)$")


class ServeProcess:
    """`toolkit serve ARGS --port 0` in a child process; `url` once it prints its URLs."""

    def __init__(self, *arguments: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "toolkit_cli", "serve", *arguments, "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + STARTUP_SECONDS
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("The page: "):
                break
            assert time.monotonic() < deadline, "the server did not start"
        else:
            raise AssertionError(f"toolkit serve exited: {self.process.wait()}\n{self.process.stderr.read()}")
        self.url = self.lines[-1].split()[2].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def request(self, method: str, path: str, body=None) -> tuple[int, dict]:
        status, text = self.text(method, path, body)
        return status, json.loads(text)

    def text(self, method: str, path: str, body=None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, None if body is None else json.dumps(body))
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def memory_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def stop(self, sig: int) -> tuple[int, str]:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        return code, self.process.stderr.read()


@pytest.fixture(scope="module")
def server(run_copies):
    """A server of two runs that batches; the module's last test stops it."""
    process = ServeProcess(str(run_copies["sentiment"]), str(run_copies["stock"]), "--max-batch", "16",
                           "--batch-timeout-ms", "2")
    yield process
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait()


@pytest.mark.slow
def test_the_command_prints_the_url_of_each_model(server, run_copies):
    printed = {match.group(1): match.groups() for match in map(URL_LINE.match, server.lines) if match}
    assert sorted(printed) == ["sentiment", "stock"]
    for name, (_, url, model, run) in printed.items():
        assert url == server.url and model == name and run == str(run_copies[name])
    assert server.lines[-1] == f"The page: {server.url}/  Health: {server.url}/healthz  Metrics: {server.url}/metrics"
    assert server.request("GET", "/healthz")[0] == 200
    status, answer = server.request("POST", "/v1/models/sentiment:predict", {"instances": [" "]})
    assert (status, answer) == (400, {"error": "text: a text needs at least one word; empty or blank texts at rows [0]"})


@pytest.mark.slow
def test_under_load_no_request_fails_answers_are_the_single_requests_and_memory_stays(server):
    requests = [("sentiment", {"instances": [str(text)]}) for text in recorded_inputs("sentiment")]
    requests += [("stock", {"instances": [window.tolist()]}) for window in recorded_inputs("stock")]
    alone = [server.request("POST", f"/v1/models/{model}:predict", body) for model, body in requests]
    assert all(status == 200 for status, _ in alone)
    bodies = [(f"/v1/models/{model}:predict", json.dumps(body).encode()) for model, body in requests]
    started = time.monotonic()

    def client(count: int, offset: int) -> list[tuple[int, int, dict]]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        answers = []
        for sent in range(count):
            assert time.monotonic() - started < LOAD_DEADLINE_SECONDS, "the load test ran past its deadline"
            index = (offset + sent) % len(bodies)
            connection.request("POST", bodies[index][0], bodies[index][1], {"Content-Type": "application/json"})
            response = connection.getresponse()
            answers.append((index, response.status, json.loads(response.read())))
        connection.close()
        return answers

    def load(count: int) -> list[tuple[int, int, dict]]:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            parts = pool.map(client, [count // CONNECTIONS] * CONNECTIONS, range(0, CONNECTIONS * 5, 5))
        return [answer for part in parts for answer in part]

    answers = load(FIRST_REQUESTS)
    after_first = server.memory_mb()
    answers += load(LOAD_REQUESTS - FIRST_REQUESTS)
    after_all = server.memory_mb()

    assert len(answers) == LOAD_REQUESTS
    assert [status for _, status, _ in answers if status != 200] == []
    for index, _, answer in answers:
        (row,) = answer["predictions"]
        (expected,) = alone[index][1]["predictions"]
        assert row.keys() == expected.keys()
        for name, value in row.items():
            if isinstance(value, str):
                assert value == expected[name]
            else:
                np.testing.assert_allclose(value, expected[name], atol=1e-5, err_msg=name)
    grown = f"{after_first:.0f} MB after 1,000 requests, {after_all:.0f} MB after 10,000"
    assert after_all - after_first <= MEMORY_MARGIN_MB, grown
    metrics = server.text("GET", "/metrics")[1]
    counted = re.findall(r'^toolkit_serving_call_rows_count\{model="(?:sentiment|stock)"\} (\S+)$', metrics, re.MULTILINE)
    assert sum(map(float, counted)) < LOAD_REQUESTS, "concurrent requests were merged into fewer calls"


def test_a_path_that_is_not_a_run_is_refused_at_start_up(tmp_path, capsys):
    assert toolkit_cli.run(["serve", str(tmp_path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"toolkit serve: error: {tmp_path} is not a finished toolkit run: {run_directory.MANIFEST} is missing.\n"
    )


def test_a_run_whose_models_were_removed_is_refused_at_start_up(run_copies, tmp_path, capsys):
    trial = shutil.copytree(run_copies["stock"], tmp_path / "trial")
    run_directory.remove_models(trial)
    assert toolkit_cli.run(["serve", str(trial), "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith(f"toolkit serve: error: {trial}: its models were removed to save space")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "serve: no runs to serve; give one or more run directories, or --model NAME=RUN."),
        (["--model", "reviews"], "serve --model 'reviews': expected NAME=RUN or NAME=RUN1,RUN2 (versions 1, 2, ...)."),
        (["--max-batch", "0", "--model", "a=b"], "--max-batch: expected 1 or more rows, got 0."),
    ],
)
def test_command_line_mistakes_are_named(arguments, message, capsys):
    assert toolkit_cli.run(["serve", *arguments, "--port", "0"]) == 2
    assert capsys.readouterr().err == f"toolkit serve: error: {message}\n"


def test_a_port_out_of_range_is_named_before_any_run_is_read(capsys):
    assert toolkit_cli.run(["serve", "--model", "reviews=no/such/run", "--port", "70000"]) == 2
    assert capsys.readouterr().err == "toolkit serve: error: --port 70000: expected a port from 0 (any free one) to 65535.\n"


def test_a_port_in_use_is_named(run_copies, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert toolkit_cli.run(["serve", str(run_copies["stock"]), "--port", str(port)]) == 2
    assert capsys.readouterr().err == (
        f"toolkit serve: error: --host 127.0.0.1 --port {port}: cannot listen there (Address already in use).\n"
    )


@pytest.mark.slow
def test_import_toolkit_imports_no_web_stack_and_serving_imports_no_pipeline(run_python, run_copies):
    imported = run_python(
        f"""
        import json, sys
        import toolkit
        web = sorted({{name.split(".")[0] for name in sys.modules}} & {{"starlette", "uvicorn", "prometheus_client"}})
        toolkit.serving_app({[str(run_copies["stock"])]!r})
        pipelines = sorted(name for name in sys.modules if name.split(".")[0] == "pipelines")
        print(json.dumps({{"web stack on import": web, "pipelines once serving": pipelines}}))
        """,
        allow_toolkit=True,
    )
    assert imported == {"web stack on import": [], "pipelines once serving": []}


@pytest.mark.slow
def test_sigterm_answers_the_requests_in_flight_refuses_new_ones_and_exits_cleanly(server):
    """The module's last test: it stops the server, with a request in flight whose body is still coming."""
    body = json.dumps({"instances": ["A moving, beautiful film."]}).encode()
    in_flight = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    in_flight.sendall(b"POST /v1/models/sentiment:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                      + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:10])
    time.sleep(0.5)  # the server has the request, and waits for the rest of its body
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.request("POST", "/v1/models/sentiment:predict", {"instances": ["Too late."]}) == (
        503, {"error": "the server is stopping: it answers the requests it has, and takes no new ones"}
    )
    assert server.request("GET", "/healthz")[0] == 503
    in_flight.sendall(body[10:])
    response = http.client.HTTPResponse(in_flight)
    response.begin()
    assert response.status == 200
    assert json.loads(response.read())["predictions"][0]["label"] in ("negative", "positive")
    in_flight.close()
    code, stderr = server.process.wait(timeout=30), server.process.stderr.read()
    assert code == 0, stderr
    assert "toolkit serve: stopped; every request taken was answered." in stderr
    assert "[[{{" not in stderr, "TensorFlow's node lists of refused requests are not the user's business"
