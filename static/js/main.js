// The playground page: wires the controls, the API, the charts and the views together.
// Data flows one way: controls -> config -> POST /api/runs -> SSE epochs -> charts and views.

import * as api from "./api.js";
import { MetricCharts, loadPlotly } from "./charts.js";
import { Controls } from "./controls.js";
import { DigitPad, ProbabilityBars } from "./digits.js";
import { DecisionMap, drawPreview } from "./heatmap.js";
import { drawMnistPreview, renderConfusion, renderFirstLayer, renderMisclassified } from "./mnist_views.js";
import { drawNetwork } from "./network.js";
import { RunList, isFinal, renderLegend } from "./run_list.js";
import { Catalog, FIELD_LABELS, toQuery, validate } from "./state.js";
import { describeStatus, etaText } from "./status.js";

const $ = (id) => document.getElementById(id);
const page = JSON.parse(document.body.dataset.page || "{}");
const catalog = new Catalog(page.datasets);

const controls = new Controls($("controls"), catalog, onControlsChanged);
const charts = new MetricCharts($("loss-chart"), $("accuracy-chart"));
const decisionMap = new DecisionMap($("boundary"), $("boundary-note"));
const bars = new ProbabilityBars($("prob-bars"), $("prob-summary"));
const pad = new DigitPad($("digit-pad"), onDigitDrawn);
const runList = new RunList($("run-list"), $("runs-empty"), refreshOverlays);

let mode = page.run_id ? "run" : "playground";
let current = null; // {id, config, status, total, epochs, test_acc, reason, position, color, events}
let closeStream = null;
let pending = []; // epochs received but not yet drawn (drawn once per animation frame)
let frame = 0;
let viewsLoading = false;
let viewsLoadedAt = 0;
let predictSeq = 0;
let sampleIndex = 0;
const overlayCache = new Map(); // run id -> epochs of finished runs

// --- controls -> config, URL, network drawing -----------------------------------------------------

function currentConfig() {
  return validate(controls.read(), catalog);
}

function onControlsChanged(field) {
  if (field === "dataset") {
    // A new dataset starts from its own sensible defaults; the seed is kept.
    const seed = controls.read().seed;
    const defaults = catalog.defaultsFor(controls.dataset);
    if (seed !== undefined && /^\d+$/.test(String(seed).trim())) defaults.seed = Number(seed);
    controls.fill(defaults);
    setDatasetClass(defaults.dataset);
    if (!current || current.config.dataset !== defaults.dataset) showDatasetPreview();
  }
  const { config, errors } = currentConfig();
  controls.showErrors(errors);
  $("query-error").hidden = true;
  if (mode === "playground" && Object.keys(errors).length === 0) {
    history.replaceState(history.state, "", `/?${toQuery(config)}`);
  }
  if (!errors.hidden && !current) drawNetworkFor(config);
  if (!current && !errors.epochs) {
    $("epoch-counter").textContent = `Epoch 0 / ${config.epochs}`;
    charts.setPlannedEpochs(config.epochs);
  }
}

function setDatasetClass(dataset) {
  const main = $("main");
  const twoD = catalog.isTwoD(dataset);
  main.classList.toggle("is-2d", twoD);
  main.classList.toggle("is-mnist", !twoD);
}

function drawNetworkFor(config, sizes) {
  const layerSizes = sizes || [catalog.inputSize(config.dataset), ...config.hidden, catalog.classCount(config)];
  drawNetwork($("network-svg"), $("network-caption"), layerSizes);
}

// --- training ---------------------------------------------------------------------------------------

async function train(event) {
  event.preventDefault();
  if (mode !== "playground") return;
  const { config, errors } = currentConfig();
  controls.showErrors(errors);
  if (Object.keys(errors).length) {
    const names = Object.keys(errors).map((f) => FIELD_LABELS[f] || f).join(", ");
    setStatusText(`Fix ${names} first: nothing was sent.`, "bad");
    controls.focusFirstError();
    return;
  }
  if (current && current.id && !isFinal(current.status)) {
    api.stopRun(current.id).catch(() => {}); // a new run replaces the one being watched
  }
  $("train").disabled = true;
  setStatusText("Starting…", "busy");
  let created;
  try {
    created = await api.createRun(config);
  } catch (error) {
    $("train").disabled = false;
    if (error.field && $(`${error.field}-error`)) controls.showErrors({ [error.field]: error.message });
    const wait = error.status === 429 && error.retryAfter ? ` Try again in ${error.retryAfter} s.` : "";
    setStatusText(`${error.message}${wait}`, "bad");
    return;
  }
  $("train").disabled = false;
  const entry = runList.remember({ id: created.id, config: created.config, status: "queued" });
  showRun({
    id: created.id,
    config: created.config,
    status: "queued",
    epochs: [],
    total_epochs: created.config.epochs,
    events: created.events,
  }, entry.color);
}

/** Make a run the one on screen: its recorded epochs at once, then live updates if it is not over. */
function showRun(run, color) {
  if (closeStream) closeStream();
  closeStream = null;
  pending = [];
  current = {
    id: run.id,
    config: run.config,
    status: run.status,
    total: run.total_epochs || run.config.epochs,
    epochs: [...(run.epochs || [])],
    test_acc: run.test_acc ?? null,
    reason: run.reason || null,
    position: run.position ?? null,
    color: color || "#1a73e8",
    events: run.events || `/api/runs/${encodeURIComponent(run.id)}/events`,
  };
  runList.setCurrent(run.id);
  setDatasetClass(run.config.dataset);
  drawNetworkFor(run.config, run.sizes);
  charts.setCurrent({ id: run.id, label: "this run", color: current.color, total: current.total, epochs: current.epochs });
  resetViews();
  refreshOverlays();
  renderProgress();
  if (current.epochs.length || isFinal(current.status) || catalog.isTwoD(run.config.dataset)) loadViews();
  if (!isFinal(current.status)) follow(current);
}

function follow(run) {
  closeStream = api.streamRun(run.events, {
    status(data) {
      if (run !== current) return;
      run.status = data.status || run.status;
      run.position = data.position ?? null;
      if (data.reason) run.reason = data.reason;
      renderProgress();
    },
    epoch(data) {
      if (run !== current) return;
      const last = run.epochs.length + pending.length;
      if (data.epoch <= last) return; // already shown (a replay after reconnecting)
      if (run.status === "queued") run.status = "running";
      pending.push(data);
      scheduleDraw();
    },
    done(data) {
      if (run !== current) return;
      flushEpochs();
      run.status = data.status || "done";
      if (typeof data.test_acc === "number") run.test_acc = data.test_acc;
      if (data.reason) run.reason = data.reason;
      closeStream = null;
      runList.update(run.id, { status: run.status, test_acc: run.test_acc });
      renderProgress();
      loadViews(true);
    },
    error(message) {
      if (run !== current) return;
      setStatusText(message, "bad");
    },
  });
}

function scheduleDraw() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    flushEpochs();
  });
}

/** Draw the epochs that arrived since the last frame: curves, counters, heatmap, confusion. */
function flushEpochs() {
  if (!pending.length || !current) return;
  const batch = pending;
  pending = [];
  const slim = batch.map(({ grid, confusion, ...metrics }) => metrics);
  current.epochs.push(...slim);
  charts.addEpochs(slim);
  const latest = batch[batch.length - 1];
  if (latest.grid) decisionMap.setGrid(latest.grid, latest.epoch);
  if (latest.confusion) showConfusion(latest.confusion);
  if (typeof latest.test_acc === "number") current.test_acc = latest.test_acc;
  renderProgress();
  if (!catalog.isTwoD(current.config.dataset)) {
    enableDrawing(true);
    if (Date.now() - viewsLoadedAt > 4000) loadViews(); // digits and weights, now and then
  }
}

async function stop() {
  if (!current || isFinal(current.status)) return;
  $("stop").disabled = true;
  try {
    await api.stopRun(current.id);
    setStatusText("Stopping…", "warn");
    if (!closeStream) {
      const run = await api.getRun(current.id);
      current.status = run.status;
      renderProgress();
    }
  } catch (error) {
    setStatusText(error.message, "bad");
    $("stop").disabled = false;
  }
}

// --- progress, status, downloads ------------------------------------------------------------------

function setStatusText(text, tone) {
  const status = $("status");
  status.textContent = text;
  status.dataset.status = tone === "bad" ? "error" : status.dataset.status;
  status.dataset.tone = tone;
}

function renderProgress() {
  const run = current;
  const { text, tone } = describeStatus(run);
  const status = $("status");
  status.textContent = text;
  status.dataset.status = run ? run.status : "idle";
  status.dataset.tone = tone;
  const seen = run ? run.epochs.length : 0;
  const total = run ? run.total : currentConfig().config.epochs;
  $("epoch-counter").textContent = `Epoch ${seen} / ${total}`;
  $("progress").value = total ? seen / total : 0;
  $("eta").textContent = run && run.status === "running" ? etaText(run.epochs, total) : "";
  $("stop").disabled = !run || isFinal(run.status);
  const downloadable = run && seen > 0 && isFinal(run.status);
  for (const [id, url] of [["download-weights", api.weightsUrl], ["download-metrics", api.metricsUrl]]) {
    const link = $(id);
    link.hidden = !downloadable;
    if (downloadable) link.href = url(run.id);
  }
  if (run) runList.update(run.id, { status: run.status, test_acc: run.test_acc });
  if (run && !seen) {
    charts.setNote(isFinal(run.status) ? "No epoch was recorded" : run.status === "queued" ? "Queued…" : "Waiting for the first epoch…");
  }
}

// --- views: decision boundary (2D) and MNIST views ----------------------------------------------------

function resetViews() {
  decisionMap.clear(true);
  $("confusion").replaceChildren();
  $("confusion-empty").hidden = false;
  $("mistakes").replaceChildren();
  $("mistakes-empty").hidden = false;
  $("first-layer").hidden = true;
  $("weights-empty").hidden = false;
  pad.clear();
  enableDrawing(current && current.epochs.length > 0);
}

async function loadViews(final = false) {
  if (!current || viewsLoading) return;
  const run = current;
  viewsLoading = true;
  try {
    const views = await api.getViews(run.id);
    if (run !== current) return;
    viewsLoadedAt = Date.now();
    if (views.points) decisionMap.setPoints(views.points, catalog.classCount(run.config));
    if (views.grid && (final || !run.epochs.length || isFinal(run.status))) decisionMap.setGrid(views.grid, run.epochs.length);
    if (views.confusion) showConfusion(views.confusion);
    if (views.misclassified) {
      renderMisclassified($("mistakes"), views.misclassified);
      $("mistakes-empty").hidden = true;
      if (!views.misclassified.length) $("mistakes-empty").hidden = false;
    }
    if (views.first_layer && views.first_layer.length) {
      renderFirstLayer($("first-layer"), views.first_layer);
      $("first-layer").hidden = false;
      $("weights-empty").hidden = true;
    }
    if (views.sizes) drawNetworkFor(run.config, views.sizes);
  } catch (error) {
    if (error.status !== 409) console.warn("views:", error.message);
  } finally {
    viewsLoading = false;
  }
}

function showConfusion(matrix) {
  renderConfusion($("confusion"), matrix);
  $("confusion-empty").hidden = true;
}

function showDatasetPreview() {
  const entry = catalog.find(controls.dataset);
  if (entry && entry.kind === "2d" && Array.isArray(entry.preview)) {
    decisionMap.clear();
    decisionMap.setPoints({ train: entry.preview, val: [] }, catalog.classCount(catalog.defaultsFor(entry.name)));
  }
}

function drawDatasetTiles() {
  for (const canvas of document.querySelectorAll(".dataset-preview")) {
    const entry = catalog.find(canvas.dataset.dataset);
    if (!entry || !Array.isArray(entry.preview)) continue;
    if (entry.kind === "2d") drawPreview(canvas, entry.preview);
    else drawMnistPreview(canvas, entry.preview);
  }
}

// --- draw a digit ---------------------------------------------------------------------------------

function enableDrawing(enabled) {
  const canDraw = Boolean(enabled && current && !catalog.isTwoD(current.config.dataset));
  $("digit-pad").setAttribute("aria-disabled", canDraw ? "false" : "true");
  $("sample-digit").disabled = !canDraw || !mnistSamples().length;
  if (!canDraw) {
    $("prob-summary").textContent = "Train a network first, then draw a digit.";
  } else if ($("prob-bars").dataset.ready !== "true") {
    $("prob-summary").textContent = "Draw a digit to see what the network thinks it is.";
  }
}

function mnistSamples() {
  const entry = catalog.find("mnist");
  return entry && Array.isArray(entry.preview) ? entry.preview.filter((s) => Array.isArray(s.pixels)) : [];
}

async function onDigitDrawn(pixels) {
  const seq = ++predictSeq;
  if (!pixels || !current || !current.epochs.length) {
    bars.show(null);
    if (!current || !current.epochs.length) enableDrawing(false);
    return;
  }
  try {
    const answer = await api.predict(current.id, { pixels: [pixels] });
    if (seq !== predictSeq) return; // a newer drawing has been sent since
    bars.show(answer.probabilities[0]);
  } catch (error) {
    if (seq === predictSeq) $("prob-summary").textContent = error.message;
  }
}

// --- runs to compare ----------------------------------------------------------------------------------

async function refreshOverlays() {
  const overlays = runList.overlayRuns();
  const labels = runList.labels(current ? { id: current.id, config: current.config } : null);
  const drawn = [];
  for (const run of overlays) {
    let epochs = overlayCache.get(run.id);
    if (!epochs) {
      try {
        const data = await api.getRun(run.id);
        epochs = data.epochs || [];
        if (isFinal(data.status)) overlayCache.set(run.id, epochs);
        runList.update(run.id, { status: data.status, test_acc: data.test_acc ?? null });
      } catch (error) {
        if (error.status === 404) runList.forget(run.id);
        continue;
      }
    }
    drawn.push({ id: run.id, label: labels.get(run.id), color: run.color, total: run.config.epochs, epochs });
  }
  charts.setOverlays(drawn);
  const entries = [];
  if (current) {
    const label = overlays.length ? labels.get(current.id) : "this run";
    entries.push({ color: current.color, label: `${label} (shown)` });
    charts.restyleCurrent(label, current.color);
  }
  for (const run of drawn) entries.push({ color: run.color, label: run.label });
  renderLegend($("chart-legend"), entries);
}

// --- sharing: copy link, fork ---------------------------------------------------------------------

async function copyLink() {
  const link = location.href;
  const feedback = $("copy-feedback");
  try {
    await navigator.clipboard.writeText(link);
    feedback.textContent = "Link copied.";
  } catch {
    feedback.textContent = link; // no clipboard access: show the link so it can be copied by hand
  }
  setTimeout(() => {
    if (feedback.textContent) feedback.textContent = "";
  }, 4000);
}

function fork() {
  if (!current) return;
  mode = "playground";
  document.body.classList.replace("mode-run", "mode-playground");
  $("run-banner").hidden = true;
  controls.setDisabled(false);
  $("train").disabled = false;
  controls.fill(current.config);
  history.pushState(null, "", `/?${toQuery(current.config)}`);
  onControlsChanged("fork");
  setStatusText(`Forked from run ${current.id}. Change anything and press Train.`, "idle");
  $("train").focus();
}

// --- start --------------------------------------------------------------------------------------------

function start() {
  drawDatasetTiles();
  bars.build(((catalog.find("mnist") || {}).classes || [..."0123456789"]).map(String));
  const config = page.config && page.config.dataset ? page.config : catalog.defaultsFor("mnist");
  controls.fill(config);
  setDatasetClass(config.dataset);
  drawNetworkFor(config);
  charts.setPlannedEpochs(config.epochs);
  charts.setCurrent(null);
  renderLegend($("chart-legend"), []);

  $("controls").addEventListener("submit", train);
  $("stop").addEventListener("click", stop);
  $("copy-link").addEventListener("click", copyLink);
  $("fork").addEventListener("click", fork);
  // Back after a Fork returns to the run's address: show that page as it is.
  window.addEventListener("popstate", () => location.reload());
  $("clear-pad").addEventListener("click", () => pad.clear());
  $("sample-digit").addEventListener("click", () => {
    const samples = mnistSamples();
    if (!samples.length) return;
    pad.show(samples[sampleIndex % samples.length].pixels);
    sampleIndex += 1;
  });
  enableDrawing(false);

  if (page.query_error) {
    const { error, field } = page.query_error;
    const notice = $("query-error");
    notice.textContent = `This link's ${FIELD_LABELS[field] || field || "settings"} could not be used: ${error} The defaults are shown instead.`;
    notice.hidden = false;
  }

  if (mode === "run" && page.run) {
    controls.setDisabled(true);
    $("train").disabled = true;
    $("train").title = "Fork this run to change its settings and train again.";
    const entry = runList.remember(page.run);
    const created = page.run.created_at ? new Date(page.run.created_at).toLocaleString() : "";
    $("run-summary").textContent = `${created ? `Trained ${created}. ` : ""}Press Fork to change its settings and train again.`;
    showRun(page.run, entry.color);
  } else {
    runList.render();
    if (!page.query_error) history.replaceState(null, "", `/?${toQuery(currentConfig().config)}`);
    showDatasetPreview();
    renderProgress();
  }
}

start();
// Paint the controls first; then load Plotly (it takes a few hundred ms to compile).
requestAnimationFrame(() => setTimeout(loadPlotly, 0));
