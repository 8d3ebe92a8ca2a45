"""The page for people: what each model is and how it scored, a form that fits it, nothing from elsewhere; in Chromium.

The browser test drives Debian's chromium through chromedriver (installed by `make`): it fills each
model's form as a person would (a review typed, an image or a CSV uploaded), reads the answer off the
page, and keeps a screenshot of each in tests/artifacts/serving/.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.serving.helpers import recorded_answers, recorded_inputs, serving
from toolkit.serving import page
from toolkit.serving.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "serving"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STATIC = Path(page.__file__).parent / "static"


def get(app, path: str) -> tuple[int, dict[str, str], str]:
    """`GET path` of an ASGI app, called directly (no server): its status, headers and text."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "scheme": "http", "server": ("127.0.0.1", 80), "http_version": "1.1", "root_path": ""}
    asyncio.run(app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], {key.decode(): value.decode() for key, value in start["headers"]}, body.decode()


def forms(html: str) -> str:
    return re.search(r'<form id="try" data-kind="(\w+)">', html).group(1)


def test_the_index_lists_each_model_with_its_pipeline_and_verdict(served_models):
    html = page.index_html(served_models)
    for name in served_models:
        assert f'<a href="models/{name}">{name}</a>' in html
    assert "The network ties TF-IDF of unigrams and bigrams + logistic regression" in html


@pytest.mark.parametrize(
    ("model", "kind", "fields"),
    [
        ("sentiment", "text", ['<textarea name="text"']),
        ("text_generation", "text", ['<textarea name="prompt"', 'name="length" step="1" value="20"',
                                     'name="temperature" step="any" value="0.8"', 'name="seed" step="1" value="0"']),
        ("image_classification", "image", ['<input type="file" name="images" accept="image/*"']),
        ("captioning", "image", ['<input type="file" name="images" accept="image/*"']),
        ("stock", "csv", ["its last 11 days are read", '<input type="file" name="windows" accept=".csv,text/csv"']),
    ],
)
def test_each_models_form_fits_its_input(served_models, model, kind, fields):
    html = page.model_html(served_models[model].latest, served_models)
    assert forms(html) == kind
    for field in fields:
        assert field in html


def test_the_headline_metric_is_shown_beside_its_baseline_and_the_verdict_after(served_models):
    html = page.model_html(served_models["image_classification"].latest, served_models)
    assert "<th>HOG features + logistic regression</th>" in html
    assert "<tr><td>accuracy</td><td>0.3333</td><td>0.8053</td></tr>" in html
    assert "The network loses to HOG features + logistic regression" in html
    stock = page.model_html(served_models["stock"].latest, served_models)
    assert "<th>model</th></tr></thead><tbody><tr><td>skill_vs_persistence</td><td>1.207</td>" in stock
    assert "<th>model</th><th>linear</th><th>persistence</th>" in stock, "the comparison table of its test metrics"
    assert "<tr><td>mae</td><td>1.624</td><td>1.384</td><td>1.345</td></tr>" in stock
    captioning = page.model_html(served_models["captioning"].latest, served_models)
    assert "<tr><td>beam.bleu_1</td><td>0.06667</td></tr>" in captioning, "no headline: the test metrics"


def test_the_page_loads_nothing_from_elsewhere(served_models):
    app = create_app(served_models)
    for path in ("/", "/models/sentiment", "/static/page.js", "/static/page.css"):
        status, headers, _ = get(app, path)
        assert status == 200
        assert headers["content-security-policy"] == page.CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in page.CONTENT_SECURITY_POLICY and "http" not in page.CONTENT_SECURITY_POLICY
    html = get(app, "/models/sentiment")[2]
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == ["../static/page.css", "../", "../static/page.js"]
    assert re.findall(r"https?://[^\s\"'`]+", (STATIC / "page.js").read_text()) == ["http://www.w3.org/2000/svg"]
    css = (STATIC / "page.css").read_text()
    assert "url(" not in css and "@import" not in css
    assert get(app, "/models/nothing")[0] == 404


@pytest.fixture(scope="module")
def browser(served_models):
    from selenium import webdriver

    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: `make setup` installs Debian's chromium, chromium-driver")
    with tempfile.TemporaryDirectory(prefix="toolkit-chromium-") as profile, serving(served_models) as url:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         f"--user-data-dir={profile}", "--window-size=1000,1400"):
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
        try:
            yield driver, url
        finally:
            driver.quit()


def answer_on_the_page(driver, pipeline: str, fill) -> object:
    """Opens the model's page, fills its form with `fill(form)`, submits it, and returns the answer element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, url = driver
    driver.get(f"{url}/models/{pipeline}")
    form = driver.find_element(By.ID, "try")
    fill(form)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    answer = driver.find_element(By.ID, "answer")
    WebDriverWait(driver, 60).until(lambda _: answer.get_attribute("data-state") in ("answered", "failed"))
    assert answer.get_attribute("data-state") == "answered", driver.find_element(By.ID, "error").text
    return answer


def fill_in(form, name: str, value) -> None:
    """Types `value` into the form's field `name`: text, or a file's path for a file input."""
    from selenium.webdriver.common.by import By

    form.find_element(By.NAME, name).send_keys(str(value))


def keep_screenshot(browser, pipeline: str) -> None:
    driver, url = browser
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"{pipeline}.png"))
    loaded = driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    assert loaded and all(name.startswith(url + "/") for name in loaded), loaded


@pytest.mark.slow
def test_in_chromium_a_typed_review_is_answered_on_the_page(browser):
    from selenium.webdriver.common.by import By

    review = str(recorded_inputs("sentiment")[0])
    answer = answer_on_the_page(browser, "sentiment", lambda form: form.find_element(By.NAME, "text").send_keys(review))
    recorded = recorded_answers("sentiment")
    assert answer.find_element(By.CLASS_NAME, "label").text == recorded["label"][0]
    assert answer.find_element(By.CLASS_NAME, "probability").text == f"probability {recorded['probability'][0]:.3f}"
    keep_screenshot(browser, "sentiment")


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", ["image_classification", "captioning"])
def test_in_chromium_an_uploaded_image_is_answered_on_the_page(browser, pipeline, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    image = tmp_path / "upload.png"
    Image.fromarray(recorded_inputs(pipeline)[0]).save(image)
    answer = answer_on_the_page(browser, pipeline, lambda form: fill_in(form, "images", image))
    recorded = recorded_answers(pipeline)
    if pipeline == "image_classification":
        assert answer.find_element(By.CLASS_NAME, "label").text == recorded["label"][0]
        assert len(answer.find_elements(By.CSS_SELECTOR, ".probabilities li")) == 5
    else:
        caption = str(recorded["caption"][0])
        assert answer.find_element(By.CLASS_NAME, "caption").text == caption
        drawn = WebDriverWait(browser[0], 30)
        words = drawn.until(lambda _: answer.find_elements(By.CSS_SELECTOR, ".attention figcaption"))
        assert [word.text for word in words] == caption.split()[: len(words)] and len(words) >= 1
    keep_screenshot(browser, pipeline)


@pytest.mark.slow
def test_in_chromium_an_uploaded_price_csv_is_forecast_beside_the_recent_prices(browser, tmp_path):
    from selenium.webdriver.common.by import By

    window = recorded_inputs("stock")[0]
    rows = [f"2013-01-{day + 1:02d},{o},{h},{l},{c},{v}" for day, (o, h, l, c, v) in enumerate(window.tolist())]
    prices = tmp_path / "IBM.csv"
    prices.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(reversed(rows)) + "\n")  # newest first, as Yahoo's
    answer = answer_on_the_page(browser, "stock", lambda form: fill_in(form, "windows", prices))
    forecast = recorded_answers("stock")["prices"][0][0]
    assert answer.find_element(By.CLASS_NAME, "forecast").text.startswith(f"next close {forecast:.2f} (")
    assert len(answer.find_elements(By.CSS_SELECTOR, "svg.chart polyline")) == 2
    keep_screenshot(browser, "stock")


@pytest.mark.slow
def test_in_chromium_a_prompt_is_continued_on_the_page(browser, served_models):
    from selenium.webdriver.common.by import By

    prompt = "This movie was"
    answer = answer_on_the_page(browser, "text_generation", lambda form: fill_in(form, "prompt", prompt))
    signature = served_models["text_generation"].latest.signatures["serving_default"]
    expected = signature({"prompt": np.array([prompt.encode()], dtype=object), "length": 20, "temperature": 0.8,
                          "top_k": 0, "seed": 0})["text"][0].decode()
    assert answer.find_element(By.CLASS_NAME, "generated").text == prompt + expected
    keep_screenshot(browser, "text_generation")
