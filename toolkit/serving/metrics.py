"""What a server counts, in Prometheus' text format (`GET /metrics`): requests, errors and latency per model.

Each app keeps its own registry, so that two servers in one process (or an
app mounted in a user's application) count apart. Requests for a model the
server does not serve are counted under `model=""`: a client cannot make
the server keep a series per name it makes up.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

# Seconds: from half a millisecond (a small model's call) to ten seconds (a long generation).
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServingMetrics:
    """The counters and histograms of one server.

    Attributes:
        registry: Where they are kept, and what `exposition` writes.
    """

    def __init__(self):
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "toolkit_serving_requests", "REST API requests, by model, API (predict, status, metadata) and HTTP status.",
            ["model", "api", "code"], registry=self.registry,
        )
        self._errors = Counter(
            "toolkit_serving_errors", "REST API requests answered with an error (HTTP status 400 or more).",
            ["model", "api", "code"], registry=self.registry,
        )
        self._latency = Histogram(
            "toolkit_serving_request_latency_seconds", "Time from a request's arrival to its answer, by model and API.",
            ["model", "api"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self._rows = Histogram(
            "toolkit_serving_call_rows", "Rows per call of a model's signature: more than one request's when batched.",
            ["model"], buckets=ROW_BUCKETS, registry=self.registry,
        )

    def observe_request(self, model: str, api: str, status: int, seconds: float) -> None:
        """Counts one answered request; `model` is `""` for a name the server does not serve."""
        self._requests.labels(model, api, str(status)).inc()
        if status >= 400:
            self._errors.labels(model, api, str(status)).inc()
        self._latency.labels(model, api).observe(seconds)

    def observe_call(self, model: str, rows: int) -> None:
        """Counts one call of a model's signature of `rows` rows."""
        self._rows.labels(model).observe(rows)

    def exposition(self) -> tuple[bytes, str]:
        """Every metric in Prometheus' text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
