"""The server's metrics in Prometheus' text format: requests, errors and latency per model, rows per call."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from toolkit.serving.metrics import ServingMetrics


def samples(metrics: ServingMetrics) -> dict[tuple, float]:
    text, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_requests_errors_and_latency_are_counted_per_model_api_and_status():
    metrics = ServingMetrics()
    metrics.observe_request("sentiment", "predict", 200, 0.0015)
    metrics.observe_request("sentiment", "predict", 200, 0.003)
    metrics.observe_request("sentiment", "predict", 400, 0.0004)
    metrics.observe_request("", "predict", 404, 0.0001)
    found = samples(metrics)
    ok = (("api", "predict"), ("code", "200"), ("model", "sentiment"))
    assert found[("toolkit_serving_requests_total", ok)] == 2
    assert found[("toolkit_serving_errors_total", (("api", "predict"), ("code", "400"), ("model", "sentiment")))] == 1
    assert found[("toolkit_serving_errors_total", (("api", "predict"), ("code", "404"), ("model", "")))] == 1
    assert ("toolkit_serving_errors_total", ok) not in found
    latency = (("api", "predict"), ("model", "sentiment"))
    assert found[("toolkit_serving_request_latency_seconds_count", latency)] == 3
    assert found[("toolkit_serving_request_latency_seconds_bucket", (*latency[:1], ("le", "0.002"), latency[1]))] == 2


def test_rows_per_call_show_how_much_batching_merged():
    metrics = ServingMetrics()
    for rows in (1, 32, 30):
        metrics.observe_call("sentiment", rows)
    found = samples(metrics)
    assert found[("toolkit_serving_call_rows_sum", (("model", "sentiment"),))] == 63
    assert found[("toolkit_serving_call_rows_bucket", (("le", "16.0"), ("model", "sentiment")))] == 1


def test_two_servers_in_one_process_count_apart():
    first, second = ServingMetrics(), ServingMetrics()
    first.observe_request("a", "status", 200, 0.001)
    assert ("toolkit_serving_requests_total", (("api", "status"), ("code", "200"), ("model", "a"))) not in samples(second)
