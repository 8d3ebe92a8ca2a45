"""The page for people: `GET /` lists the models; `GET /models/NAME` shows one, read from its run, with a form to try it.

A model's page shows its pipeline, its headline metric beside its
baseline's (from the run's `metrics.json`) and its plots, and a form that
fits its signature's input: a text box for texts (and a field for each
setting, such as text generation's length), an image upload for images,
a CSV upload for price windows, JSON for anything else. The form calls
the REST API (`page.js`), and the answer is drawn on the page: a label and
its probabilities, a caption with the attention map of each word, the
generated text, or the forecast beside the recent prices.

Nothing comes from elsewhere: the script and style are this package's own
files, sent from memory, and the Content-Security-Policy header forbids
loading anything from another origin. Links are relative, so the page
works where a user mounts the app.
"""

from __future__ import annotations

import html
import importlib.resources
import json
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from toolkit.serving.models import DEFAULT_SIGNATURE, ModelVersion, ServedModels

_STATIC = {
    name: (importlib.resources.files("toolkit.serving").joinpath("static", name).read_bytes(), media_type)
    for name, media_type in (("page.js", "text/javascript"), ("page.css", "text/css"))
}
_PLOT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
# Nothing from another origin: scripts, styles, images, fonts and requests only from this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"}
# The most scalar metrics shown for a run whose metrics have no headline.
_SHOWN_METRICS = 8


def routes(models: ServedModels) -> list[Route]:
    """The page's routes over the loaded `models`."""

    async def index(request: Request) -> Response:
        return HTMLResponse(index_html(models), headers=_HEADERS)

    async def model_page(request: Request) -> Response:
        model = models.get(request.path_params["name"])
        number = request.query_params.get("version", "")
        if model is None or (number and (not number.isdigit() or int(number) not in model.versions)):
            return HTMLResponse(_document("Not served", "<p>This server serves no such model or version. "
                                          '<a href="../">The models served</a></p>', "../"), 404, headers=_HEADERS)
        return HTMLResponse(model_html(model.versions[int(number)] if number else model.latest, models), headers=_HEADERS)

    async def plot(request: Request) -> Response:
        model = models.get(request.path_params["name"])
        version = model.versions.get(request.path_params["version"]) if model else None
        name = request.path_params["plot"]
        if version is None or name not in version.plots:
            return Response("no such plot", 404, media_type="text/plain")
        suffix = name[name.rfind("."):].lower()
        return Response(version.plots[name], media_type=_PLOT_TYPES[suffix], headers=_HEADERS)

    async def static(request: Request) -> Response:
        found = _STATIC.get(request.path_params["file"])
        if found is None:
            return Response("no such file", 404, media_type="text/plain")
        return Response(found[0], media_type=found[1], headers=_HEADERS)

    return [
        Route("/", index),
        Route("/models/{name}", model_page),
        Route("/models/{name}/versions/{version:int}/plots/{plot:path}", plot),
        Route("/static/{file}", static),
    ]


def index_html(models: ServedModels) -> str:
    """The list of models: each with its pipeline, versions and headline."""
    items = []
    for name, model in models.items():
        latest = model.latest
        versions = ", ".join(map(str, sorted(model.versions)))
        verdict = _headline(latest.metrics).get("verdict")
        pipeline = latest.pipeline or "unknown pipeline"
        items.append(
            f'<li><a href="models/{_e(name)}">{_e(name)}</a> <span class="pipeline">{_e(pipeline)}</span> '
            f"<span class=\"versions\">version{'s' if len(model.versions) > 1 else ''} {versions}</span>"
            + (f'<p class="verdict">{_e(verdict)}</p>' if isinstance(verdict, str) else "")
            + "</li>"
        )
    body = (
        '<ul class="models">' + "".join(items) + "</ul>"
        "<p>Each model answers TensorFlow Serving's REST API: <code>POST v1/models/NAME:predict</code> with "
        '<code>{"instances": [...]}</code>; <code>GET v1/models/NAME/metadata</code> gives its inputs and outputs.</p>'
    )
    return _document("Models served", body, "")


def model_html(version: ModelVersion, models: ServedModels) -> str:
    """One model's page: what it is, how it scored, a form to try it, and its plots."""
    name = version.model
    model = models[name]
    signature = version.signatures[DEFAULT_SIGNATURE]
    others = "".join(
        f' <a href="{_e(name)}?version={number}">version {number}</a>'
        for number in sorted(model.versions)
        if number != version.version
    )
    task, manifest = version.task, version.manifest
    facts = [
        ("Pipeline", version.pipeline or "unknown"),
        ("Task", str(task.get("task", "unknown"))),
        ("Run", version.run_dir.resolve().name),
        ("Written", f"by toolkit {manifest.get('toolkit_version', '?')} on {manifest.get('written_at', '?')}"),
    ]
    about = "<dl>" + "".join(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>" for key, value in facts) + "</dl>"
    plots = "".join(
        f'<figure><img src="{_e(name)}/versions/{version.version}/plots/{_e(plot)}" alt="{_e(plot)}">'
        f"<figcaption>{_e(plot)}</figcaption></figure>"
        for plot in sorted(version.plots)
    )
    data = {
        "name": name,
        "version": version.version,
        "api": f"../v1/models/{name}/versions/{version.version}",
        "inputs": [
            {"name": spec.name, "dtype": spec.dtype, "scalar": spec.is_scalar, "default": spec.default,
             "image_shape": spec.image_shape}
            for spec in signature.inputs.values()
        ],
        "outputs": signature.output_names,
        "task": task,
        "input_shape": _recorded_shape(version),
    }
    body = (
        f'<p class="versions">version {version.version}{others} · <a href="../">all models</a></p>'
        f'<section class="about"><h2>What it is</h2>{about}{_scores(version.metrics)}</section>'
        f'<section class="try"><h2>Try it</h2>{_form(version)}'
        '<div id="answer" aria-live="polite"></div><p id="error" role="alert"></p></section>'
        + (f'<section class="plots"><h2>Plots</h2>{plots}</section>' if plots else "")
        + '<script type="application/json" id="model-data">'
        + json.dumps(data).replace("<", "\\u003c")
        + "</script>"
    )
    return _document(name, body, "../")


def _form(version: ModelVersion) -> str:
    """The form that fits the signature's batched input; one field per setting (a scalar input), at its default."""
    specs = list(version.signatures[DEFAULT_SIGNATURE].inputs.values())
    batch = next((spec for spec in specs if not spec.is_scalar), None)
    fields = []
    if batch is None:
        kind = "json"
    elif batch.dtype == "string":
        kind = "text"
        fields.append(f'<label>{_e(batch.name)} <textarea name="{_e(batch.name)}" rows="4" required></textarea></label>')
    elif batch.image_shape is not None:
        kind = "image"
        fields.append(
            f'<label>An image file <input type="file" name="{_e(batch.name)}" accept="image/*" required></label>'
            '<img id="preview" alt="">'
        )
    elif batch.dtype.startswith("float") and len(_recorded_shape(version)) == 3:
        kind = "csv"
        window = _recorded_shape(version)[1]
        fields.append(
            f'<label>A CSV of daily prices (Date, Open, High, Low, Close, Adj Close, Volume); its last {window} days '
            f'are read <input type="file" name="{_e(batch.name)}" accept=".csv,text/csv" required></label>'
        )
    else:
        kind = "json"
    if kind == "json":
        request = '<textarea name="json" rows="6" required>{"instances": []}</textarea>'
        fields = [f"<label>A request, as TensorFlow Serving takes it {request}</label>"]
    for spec in specs:
        if spec.is_scalar and kind != "json":
            step = "1" if spec.dtype.startswith(("int", "uint")) else "any"
            fields.append(f'<label>{_e(spec.name)} <input type="number" name="{_e(spec.name)}" step="{step}" '
                          f'value="{_e(spec.default)}"></label>')
    return f'<form id="try" data-kind="{kind}">' + "".join(fields) + '<button type="submit">Predict</button></form>'


def _scores(metrics: dict | None) -> str:
    """The run's headline on its test split: each metric beside its baseline's, the verdict, and any comparison table.

    A comparison table is a test metric that maps `model` and each baseline
    to their metrics (the stock pipeline's `overall`, say). A run without a
    headline shows its scalar test metrics.
    """
    if metrics is None:
        return "<p>The run's metrics cannot be read.</p>"
    headline = _headline(metrics)
    test = metrics.get("test") if isinstance(metrics.get("test"), dict) else {}
    baseline = test.get("baseline") if isinstance(test.get("baseline"), dict) else {}
    if headline:
        rows = [
            (key, [value, headline.get(f"baseline_{key}")])
            for key, value in headline.items()
            if _is_number(value) and not key.startswith("baseline_")
        ]
        name = baseline.get("name") if isinstance(baseline.get("name"), str) else "baseline"
        tables = [_table(["model", name], rows)]
    else:
        tables = [_table(["model"], [(key, [value]) for key, value in _scalars(test or metrics)][:_SHOWN_METRICS])]
    for key, compared in test.items():
        if isinstance(compared, dict) and isinstance(compared.get("model"), dict) and len(compared) > 1:
            columns = [column for column, values in compared.items() if isinstance(values, dict)]
            rows = [(metric, [compared[column].get(metric) for column in columns])
                    for metric, value in compared["model"].items() if _is_number(value)]
            tables.append(f"<h3>{_e(key)}</h3>" + _table(columns, rows))
    sentences = "".join(f'<p class="verdict">{_e(value)}</p>' for value in headline.values() if isinstance(value, str))
    return "<h2>How it scored</h2>" + "".join(tables) + sentences


def _table(columns: list[str], rows: list[tuple[str, list]]) -> str:
    """A table of metrics: a row per metric, a column per model; a column with no number is left out."""
    kept = [index for index in range(len(columns)) if any(_is_number(values[index]) for _, values in rows)]
    if not rows:
        return ""
    head = "".join(f"<th>{_e(columns[index])}</th>" for index in kept)
    body = "".join(
        f"<tr><td>{_e(key)}</td>" + "".join(f"<td>{_number(values[index])}</td>" for index in kept) + "</tr>"
        for key, values in rows
    )
    return f'<table class="headline"><thead><tr><th>metric (test)</th>{head}</tr></thead><tbody>{body}</tbody></table>'


def _headline(metrics: dict | None) -> dict:
    test = (metrics or {}).get("test")
    headline = test.get("headline") if isinstance(test, dict) else None
    return headline if isinstance(headline, dict) else {}


def _scalars(values: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    """The numbers of `values` and of the mappings in it, one level down, by dotted key."""
    for key, value in values.items():
        if _is_number(value):
            yield f"{prefix}{key}", value
        elif isinstance(value, dict) and not prefix:
            yield from _scalars(value, f"{key}.")


def _recorded_shape(version: ModelVersion) -> list:
    recorded = version.task.get("input")
    shape = recorded.get("shape") if isinstance(recorded, dict) else None
    return shape if isinstance(shape, list) else []


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value) -> str:
    if not _is_number(value):
        return ""
    return _e(f"{value:.4g}" if isinstance(value, float) else str(value))


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _document(title: str, body: str, root: str) -> str:
    """A whole page; `root` leads from its URL back to the app's root (the app may be mounted under a prefix)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · toolkit serve</title>"
        f'<link rel="stylesheet" href="{root}static/page.css"></head>'
        f"<body><header><h1>{_e(title)}</h1></header><main>{body}</main>"
        f'<script src="{root}static/page.js"></script></body></html>'
    )
