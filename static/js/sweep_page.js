// The sweep page (/sweeps/<id>): page.sweep is GET /api/sweeps/<id>'s answer; the sweep's event stream
// (server/sweeps.py) brings every cell's epochs and status changes, replayed at once for a sweep that
// ended, live for one that trains. The heatmap, the small multiples, the table of runs and the status
// line are redrawn from the cells (at most once a frame). Each heatmap cell links to its run.

import * as api from "./api.js";
import { loadPlotly } from "./charts.js";
import { tokenFor } from "./ownership.js";
import { METRIC_LABELS, bestCell, cellLabel, curvesFigure, formatMetric, formatValue } from "./sweep_charts.js";
import { SweepHeatmap } from "./sweep_heatmap.js";

const $ = (id) => document.getElementById(id);
const page = JSON.parse(document.body.dataset.page || "{}");
const sweep = page.sweep;
const axes = new Map((page.axes || []).map((axis) => [axis.name, axis]));
const names = sweep.axes;
const cells = sweep.cells.map((cell) => ({ ...cell, curve: { val_acc: [], val_loss: [] } }));
const ACTIVE = new Set(["queued", "running"]);
let metric = "val_acc";
let finished = !cells.some((cell) => ACTIVE.has(cell.status));
let frame = 0;
let Plotly = null;
const heatmap = new SweepHeatmap($("sweep-heatmap"), $("sweep-tip"), axes);

function axisText(name) {
  const axis = axes.get(name);
  return `${axis ? axis.label : name} (${sweep.vary[name].map(formatValue).join(", ")})`;
}

function describe() {
  const base = sweep.config;
  $("sweep-summary").textContent =
    `${cells.length} run${cells.length === 1 ? "" : "s"} on ${base.dataset}, ${base.epochs} epochs each, varying ` +
    `${names.map(axisText).join(" and ")}.`;
  $("sweep-playground").href = sweep.address;
  const rows = names[1] ? sweep.vary[names[1]].length : 1;
  $("sweep-curves").style.height = `${Math.max(240, 70 + rows * 85)}px`; // a panel's height, whatever the rows
  $("curves-axes").textContent = names.join(" · ");
}

function renderStatus() {
  const ended = cells.filter((cell) => !ACTIVE.has(cell.status)).length;
  const best = bestCell(cells, metric);
  const bestText = best >= 0
    ? ` Best${finished ? "" : " so far"}: ${cellLabel(cells[best], names)}, ${formatMetric(metric, cells[best][metric])} ${METRIC_LABELS[metric]}.`
    : "";
  const line = $("sweep-status");
  const failed = cells.filter((cell) => cell.status === "failed" || cell.status === "interrupted").length;
  if (finished) {
    line.textContent = `All ${cells.length} runs ended${failed ? ` (${failed} did not finish)` : ""}.${bestText}`;
    line.dataset.status = "done";
    line.dataset.tone = failed ? "warn" : "good";
  } else {
    const training = cells.filter((cell) => cell.status === "running").length;
    line.textContent = `${ended} of ${cells.length} runs done, ${training} training.${bestText}`;
    line.dataset.status = "running";
    line.dataset.tone = "busy";
  }
  $("sweep-stop").hidden = finished || !tokenFor(sweep.id);
}

function renderTable() {
  const head = $("sweep-cells-head");
  if (!head.children.length) {
    for (const text of [...names.map((n) => (axes.get(n) || {}).label || n), "Status", "Epochs", "Val. accuracy", "Val. loss", "Run"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.append(th);
    }
  }
  const best = bestCell(cells, metric);
  const body = $("sweep-cells-body");
  const rows = cells.map((cell, i) => {
    const tr = document.createElement("tr");
    tr.className = i === best ? "best" : "";
    const values = names.map((name) => formatValue(cell.values[name]));
    const texts = [...values, cell.status, String(cell.epochs), formatMetric("val_acc", cell.val_acc), formatMetric("val_loss", cell.val_loss)];
    texts.forEach((text, j) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (j >= names.length + 2) td.className = "number";
      tr.append(td);
    });
    const link = document.createElement("a");
    link.href = `/runs/${encodeURIComponent(cell.run)}`;
    link.textContent = cell.run;
    link.setAttribute("aria-label", `Open the run of ${cellLabel(cell, names)}`);
    const td = document.createElement("td");
    td.append(link);
    tr.append(td);
    return tr;
  });
  body.replaceChildren(...rows);
}

function render() {
  frame = 0;
  renderStatus();
  renderTable();
  $("sweep-heatmap").dataset.filled = String(heatmap.draw(sweep, cells, metric));
  if (!Plotly) return;
  Plotly.react($("sweep-curves"), ...curvesFigure(sweep, cells, metric), { displayModeBar: false, responsive: true });
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(render);
}

function follow() {
  const source = new EventSource(sweep.events);
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };
  source.addEventListener("epochs", (event) => {
    const data = parse(event);
    if (!data) return;
    for (const [index, news] of Object.entries(data.cells)) {
      const cell = cells[Number(index)];
      if (!cell) continue;
      for (const key of ["val_acc", "val_loss"]) {
        news[key].forEach((value, k) => {
          cell.curve[key][news.from - 1 + k] = value;
        });
      }
      cell.epochs = Math.max(cell.epochs, cell.curve.val_acc.length);
      cell.val_acc = cell.curve.val_acc[cell.curve.val_acc.length - 1];
      cell.val_loss = cell.curve.val_loss[cell.curve.val_loss.length - 1];
    }
    schedule();
  });
  source.addEventListener("cell", (event) => {
    const data = parse(event);
    if (!data || !cells[data.cell]) return;
    const cell = cells[data.cell];
    Object.assign(cell, { status: data.status, epochs: data.epochs });
    if (data.val_acc !== null) cell.val_acc = data.val_acc;
    if (data.val_loss !== null) cell.val_loss = data.val_loss;
    schedule();
  });
  source.addEventListener("done", () => {
    source.close();
    finished = true;
    document.body.dataset.sweepDone = "true";
    schedule();
  });
}

function watchControls() {
  for (const input of document.querySelectorAll('input[name="sweep-metric"]')) {
    input.addEventListener("change", () => {
      metric = input.value;
      $("heatmap-title").textContent = `Final ${METRIC_LABELS[metric]}`;
      $("curves-metric").textContent = metric === "val_acc" ? "accuracy" : "loss";
      render();
    });
  }
  $("sweep-copy").addEventListener("click", async () => {
    const link = location.href;
    try {
      await navigator.clipboard.writeText(link);
      $("sweep-copied").textContent = "Link copied.";
    } catch {
      $("sweep-copied").textContent = link;
    }
  });
  $("sweep-stop").addEventListener("click", async () => {
    $("sweep-stop").disabled = true;
    try {
      await api.stopSweep(sweep.id, tokenFor(sweep.id));
      $("sweep-status").textContent = "Stopping the sweep's runs…";
    } catch (error) {
      $("sweep-status").textContent = error.message;
      $("sweep-stop").disabled = false;
    }
  });
}

async function drawCharts() {
  Plotly = await loadPlotly();
  render();
}

describe();
watchControls();
render();
follow();
requestAnimationFrame(() => setTimeout(drawCharts, 0));
