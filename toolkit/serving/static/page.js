// toolkit serve's page: sends the form to the model's REST API (TensorFlow Serving's `:predict`) and draws the answer.
"use strict";

(() => {
  const data = document.getElementById("model-data");
  const form = document.getElementById("try");
  if (!data || !form) return;
  const model = JSON.parse(data.textContent);
  const answer = document.getElementById("answer");
  const problem = document.getElementById("error");
  const batchInput = model.inputs.find((input) => !input.scalar);
  const settings = model.inputs.filter((input) => input.scalar);
  const SVG = "http://www.w3.org/2000/svg";

  // A form field by name: the form's `elements[name]` would give its own length for a field named "length".
  const field = (name) => form.elements.namedItem(name);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function readFile(file, as) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new Error(`${file.name}: cannot be read`));
      if (as === "text") reader.readAsText(file);
      else reader.readAsDataURL(file);
    });
  }

  async function predict(body) {
    const response = await fetch(new URL(`${model.api}:predict`, window.location.href), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
    }
    if (!response.ok) throw new Error(parsed.error || `HTTP ${response.status}`);
    return parsed;
  }

  function settingValues() {
    const values = {};
    for (const setting of settings) {
      const input = field(setting.name);
      if (input && input.value !== "") values[setting.name] = Number(input.value);
    }
    return values;
  }

  // Yahoo-style daily prices: the last `days` rows, oldest first, adjusted by Adj Close as toolkit reads them.
  function priceWindow(text, days, features) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
    if (lines.length < 2) throw new Error("the CSV has no rows of prices");
    const header = lines[0].split(",").map((name) => name.trim().toLowerCase());
    const column = (name) => header.indexOf(name);
    const missing = [...features, "date"].filter((name) => column(name) < 0);
    if (missing.length) throw new Error(`the CSV lacks the column(s) ${missing.join(", ")}; found ${header.join(", ")}`);
    const adjusted = column("adj close");
    const rows = lines.slice(1).map((line, index) => {
      const cells = line.split(",");
      const values = features.map((name) => Number(cells[column(name)]));
      if (values.some((value) => !Number.isFinite(value))) throw new Error(`line ${index + 2}: a value is not a number`);
      if (adjusted >= 0) {
        const factor = Number(cells[adjusted]) / values[features.indexOf("close")];
        features.forEach((name, at) => {
          values[at] = name === "volume" ? values[at] / factor : values[at] * factor;
        });
      }
      return { date: cells[column("date")].trim(), values };
    });
    rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    if (rows.length < days) throw new Error(`the CSV has ${rows.length} days; this model reads ${days}`);
    return rows;
  }

  async function request() {
    const kind = form.dataset.kind;
    if (kind === "json") return { body: JSON.parse(field("json").value) };
    const inputs = settingValues();
    if (kind === "text") {
      inputs[batchInput.name] = [field(batchInput.name).value];
      return { body: { inputs }, prompt: inputs[batchInput.name][0] };
    }
    const file = field(batchInput.name).files[0];
    if (!file) throw new Error("choose a file first");
    if (kind === "image") {
      const url = await readFile(file, "data");
      inputs[batchInput.name] = [{ b64: url.slice(url.indexOf(",") + 1) }];
      return { body: { inputs }, image: url };
    }
    const days = model.input_shape[1];
    const features = model.task.raw_features || ["open", "high", "low", "close", "volume"];
    const rows = priceWindow(await readFile(file, "text"), days, features);
    inputs[batchInput.name] = [rows.slice(-days).map((row) => row.values)];
    const close = features.indexOf("close");
    return { body: { inputs }, closes: rows.slice(-60).map((row) => row.values[close]) };
  }

  // The outputs of row 0, by name, whether the answer has one output or several.
  function firstRow(result) {
    const outputs = model.outputs.length === 1 ? { [model.outputs[0]]: result.outputs } : result.outputs;
    const row = {};
    for (const [name, value] of Object.entries(outputs)) row[name] = Array.isArray(value) ? value[0] : value;
    return row;
  }

  function showLabel(row) {
    answer.append(element("p", "label", row.label));
    if (typeof row.probability === "number") answer.append(element("p", "probability", `probability ${row.probability.toFixed(3)}`));
    const names = model.task.class_names || [];
    if (Array.isArray(row.probabilities)) {
      const ranked = row.probabilities.map((p, i) => [names[i] || `class ${i}`, p]).sort((a, b) => b[1] - a[1]).slice(0, 5);
      const list = element("ol", "probabilities");
      for (const [name, p] of ranked) {
        const item = element("li", "", `${name} ${p.toFixed(3)}`);
        const bar = element("span", "bar");
        bar.style.width = `${Math.round(p * 100)}%`;
        item.prepend(bar);
        list.append(item);
      }
      answer.append(list);
    }
  }

  function showAttention(row, imageUrl) {
    const words = String(row.caption).split(" ").filter((word) => word);
    const maps = row.attention;
    const image = new Image();
    image.onload = () => {
      const grid = element("div", "attention");
      words.forEach((word, step) => {
        if (!Array.isArray(maps) || step >= maps.length) return;
        const weights = maps[step];
        const size = 96;
        const canvas = document.createElement("canvas");
        canvas.width = size;
        canvas.height = size;
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0, size, size);
        const top = Math.max(...weights.flat()) || 1;
        const cellHeight = size / weights.length;
        weights.forEach((line, y) => {
          const cellWidth = size / line.length;
          line.forEach((weight, x) => {
            context.fillStyle = `rgba(255, 200, 0, ${(0.75 * weight) / top})`;
            context.fillRect(x * cellWidth, y * cellHeight, cellWidth, cellHeight);
          });
        });
        const figure = element("figure");
        figure.append(canvas, element("figcaption", "", word));
        grid.append(figure);
      });
      answer.append(grid);
    };
    image.src = imageUrl;
  }

  function showForecast(row, closes) {
    const forecast = Array.isArray(row.prices) ? row.prices : [row.prices];
    const last = closes[closes.length - 1];
    const change = ((forecast[0] / last - 1) * 100).toFixed(2);
    answer.append(element("p", "forecast", `next close ${forecast.map((p) => p.toFixed(2)).join(", ")} (${change}% from ${last.toFixed(2)})`));
    const points = [...closes, ...forecast];
    const width = 480;
    const height = 160;
    const low = Math.min(...points);
    const high = Math.max(...points);
    const x = (i) => (i / (points.length - 1)) * (width - 10) + 5;
    const y = (p) => height - 5 - ((p - low) / (high - low || 1)) * (height - 10);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("class", "chart");
    const line = (values, start, className) => {
      const path = document.createElementNS(SVG, "polyline");
      path.setAttribute("points", values.map((p, i) => `${x(start + i)},${y(p)}`).join(" "));
      path.setAttribute("class", className);
      svg.append(path);
    };
    line(closes, 0, "recent");
    line([last, ...forecast], closes.length - 1, "forecast");
    answer.append(svg);
  }

  function show(result, sent) {
    answer.replaceChildren();
    if (form.dataset.kind === "json") {
      answer.append(element("pre", "", JSON.stringify(result, null, 2)));
      return;
    }
    const row = firstRow(result);
    if ("label" in row) showLabel(row);
    else if ("caption" in row) {
      answer.append(element("p", "caption", row.caption));
      if (sent.image && "attention" in row) showAttention(row, sent.image);
    } else if ("prices" in row && sent.closes) showForecast(row, sent.closes);
    else if ("text" in row && sent.prompt !== undefined) {
      const text = element("p", "generated");
      text.append(element("strong", "", sent.prompt), document.createTextNode(row.text));
      answer.append(text);
    } else answer.append(element("pre", "", JSON.stringify(result, null, 2)));
  }

  const preview = document.getElementById("preview");
  if (preview && batchInput) {
    field(batchInput.name).addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (file) preview.src = await readFile(file, "data");
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    answer.dataset.state = "waiting";
    answer.textContent = "…";
    try {
      const sent = await request();
      show(await predict(sent.body), sent);
      answer.dataset.state = "answered";
    } catch (error) {
      answer.textContent = "";
      problem.textContent = error.message;
      answer.dataset.state = "failed";
    }
  });
})();
