"""Serving trained runs over TensorFlow Serving's REST API, with batching, health, metrics and a page for people.

`toolkit serve RUN ...` and `toolkit.serve(runs)` serve runs until stopped;
`toolkit.serving_app(runs)` returns the ASGI app, to run with any ASGI
server or mount in an application. Each run's SavedModel is loaded with
`tf.saved_model.load`: no pipeline is needed to serve it.

Modules, one idea each: `models` (the loaded runs and their versions),
`tensor_json` (a request's and an answer's layout in TensorFlow Serving's
JSON), `json_values` (one input's JSON value as an array, and outputs back),
`graph_errors` (a graph check's own message), `batching`, `metrics`,
`page`, `app` (the routes) and `server` (uvicorn, stopping cleanly).
"""

from __future__ import annotations

from toolkit.serving.app import ServingOptions, create_app, serving_app
from toolkit.serving.models import ServedModels, load_models
from toolkit.serving.server import serve

__all__ = ["ServedModels", "ServingOptions", "create_app", "load_models", "serve", "serving_app"]
