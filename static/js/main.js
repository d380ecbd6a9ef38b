// The playground page: wires the controls, the run session, the charts and the views together.
// Data flows one way: controls -> config -> POST /api/runs -> the run session (its event stream)
// -> charts, views, status line and run list, which draw what the session reports.

import { announceMilestones } from "./announcer.js";
import * as api from "./api.js";
import { MetricCharts, loadPlotly } from "./charts.js";
import { Controls } from "./controls.js";
import { DigitPad, ProbabilityBars } from "./digits.js";
import { DecisionMap, drawFeaturePicture, drawPreview } from "./heatmap.js";
import { LayersChart } from "./layers_chart.js";
import { MnistPanels, drawMnistPreview } from "./mnist_views.js";
import { drawNetwork } from "./network.js";
import { RunList, renderLegend } from "./run_list.js";
import { RunSession, isFinal } from "./run_session.js";
import { Catalog, toQuery, validate } from "./state.js";
import { describeStatus, timeLeftText } from "./status.js";

const $ = (id) => document.getElementById(id);
const page = JSON.parse(document.body.dataset.page || "{}");
const catalog = new Catalog(page.datasets);

const controls = new Controls($("controls"), catalog, onControlsChanged);
const charts = new MetricCharts($("loss-chart"), $("accuracy-chart"));
const decisionMap = new DecisionMap($("boundary"), $("boundary-note"));
const layersChart = new LayersChart($("layers-chart"));
const bars = new ProbabilityBars($("prob-bars"), $("prob-summary"));
const pad = new DigitPad($("digit-pad"), onDigitDrawn);
const runList = new RunList($("run-list"), $("runs-empty"), refreshOverlays);
const mnistPanels = new MnistPanels({
  confusion: $("confusion"),
  confusionEmpty: $("confusion-empty"),
  mistakes: $("mistakes"),
  mistakesEmpty: $("mistakes-empty"),
  firstLayer: $("first-layer"),
  weightsEmpty: $("weights-empty"),
});
const session = new RunSession((dataset) => catalog.isTwoD(dataset));

let mode = page.run_id ? "run" : "playground";
let predictSeq = 0;
let sampleIndex = 0;
const overlayCache = new Map(); // run id -> epochs of finished runs

// --- controls -> config, URL, network drawing -----------------------------------------------------

function currentConfig() {
  return validate(controls.read(), catalog);
}

function onControlsChanged(field) {
  const run = session.run;
  if (field === "dataset") {
    switchDataset(controls.shownDataset, controls.dataset);
    if (!run || run.config.dataset !== controls.dataset) showDatasetPreview();
  }
  const { config, errors } = currentConfig();
  controls.showErrors(errors);
  $("query-error").hidden = true;
  if (mode === "playground" && Object.keys(errors).length === 0) {
    history.replaceState(history.state, "", `/?${toQuery(config, catalog)}`);
  }
  if (!errors.hidden && !run) drawNetworkFor(config);
  if (!run && !errors.epochs) {
    $("epoch-counter").textContent = `Epoch 0 / ${config.epochs}`;
    charts.setPlannedEpochs(config.epochs);
  }
}

/**
 * From one 2D set to another, the settings stay (as typed, even a wrong one): only the fields that did
 * not apply to the old set take the new one's defaults. To or from MNIST, the new dataset's sensible
 * defaults are loaded; the seed is kept.
 */
function switchDataset(previous, next) {
  const defaults = catalog.defaultsFor(next);
  if (catalog.isTwoD(previous) && catalog.isTwoD(next)) {
    const shared = new Set(catalog.fieldsFor(previous).map((f) => f.name));
    for (const name of Object.keys(defaults)) {
      if (shared.has(name) && name !== "dataset") delete defaults[name]; // the control keeps its value
    }
  } else {
    const seed = controls.read().seed;
    if (seed !== undefined && /^\d+$/.test(String(seed).trim())) defaults.seed = Number(seed);
  }
  controls.fill(defaults);
  setDatasetClass(next);
}

function setDatasetClass(dataset) {
  const main = $("main");
  const twoD = catalog.isTwoD(dataset);
  main.classList.toggle("is-2d", twoD);
  main.classList.toggle("is-mnist", !twoD);
}

function drawNetworkFor(config, sizes) {
  const layerSizes = sizes || [catalog.inputSize(config), ...config.hidden, catalog.classCount(config)];
  drawNetwork($("network-svg"), $("network-caption"), layerSizes);
}

// --- the run on the page: what the session reports, drawn ---------------------------------------------

session.on("show", (run) => {
  runList.setCurrent(run.id);
  setDatasetClass(run.config.dataset);
  drawNetworkFor(run.config, run.sizes);
  charts.setCurrent({ id: run.id, label: "this run", color: run.color, total: run.total, epochs: run.epochs });
  layersChart.setRun(run);
  showPenalty(run);
  decisionMap.clear(true);
  mnistPanels.clear();
  pad.clear();
  enableDrawing(run.epochs.length > 0);
  refreshOverlays();
});
session.on("epochs", (epochs) => {
  charts.addEpochs(epochs);
  layersChart.addEpochs(epochs);
  showPenalty(session.run);
  enableDrawing(true);
});

/** Under the Loss chart, for a run with L2: the curves are the cross-entropy alone; the penalty's size. */
function showPenalty(run) {
  const note = $("loss-note");
  note.hidden = !(run && run.config.l2 > 0);
  if (note.hidden) return;
  const last = run.epochs.findLast((epoch) => typeof epoch.l2_penalty === "number");
  const size = last ? ` It was ${last.l2_penalty.toPrecision(3)} after epoch ${last.epoch}.` : "";
  note.textContent =
    `The curves are the cross-entropy alone: training also adds the L2 penalty, l2/2 × the sum of the squared weights.${size}`;
}
session.on("views", (views) => {
  const run = session.run;
  if (views.points) decisionMap.setPoints(views.points, catalog.classCount(run.config));
  if (views.grid) decisionMap.setGrid(views.grid, views.epoch);
  mnistPanels.show(views);
  if (views.sizes) drawNetworkFor(run.config, views.sizes);
});
session.on("progress", renderProgress);
session.on("error", (message) => setStatusText(message, "bad"));

// --- training ---------------------------------------------------------------------------------------

async function train(event) {
  event.preventDefault();
  if (mode !== "playground") return;
  const { config, errors } = currentConfig();
  controls.showErrors(errors);
  if (Object.keys(errors).length) {
    const names = Object.keys(errors).map((f) => catalog.label(f)).join(", ");
    setStatusText(`Fix ${names} first: nothing was sent.`, "bad");
    controls.focusFirstError();
    return;
  }
  const previous = session.run && !isFinal(session.run.status) ? session.run : null;
  $("train").disabled = true;
  setStatusText("Starting…", "busy");
  let created;
  let reused = false;
  try {
    created = await api.createRun(config);
    // The same config as a stored run (done, queued or training): that run, with what it recorded.
    reused = created.reused === true;
    if (reused) created = await api.getRun(created.id);
  } catch (error) {
    $("train").disabled = false;
    if (error.field && $(`${error.field}-error`)) controls.showErrors({ [error.field]: error.message });
    const wait = error.status === 429 && error.retryAfter ? ` Try again in ${error.retryAfter} s.` : "";
    setStatusText(`${error.message}${wait}`, "bad");
    return;
  }
  $("train").disabled = false;
  if (previous && previous === session.run && previous.id !== created.id) {
    session.stop().catch(() => {}); // a new run replaces the one being watched
  }
  const entry = runList.remember({ id: created.id, config: created.config, status: created.status });
  session.show({ epochs: [], total_epochs: created.config.epochs, ...created }, entry.color);
  if (reused) {
    const { text, tone } = describeStatus(session.run);
    const news = isFinal(created.status) ? "already trained: replaying it" : "already training: following it";
    setStatusText(`Same experiment ${news}. ${text}`, tone);
  }
}

async function stop() {
  const run = session.run;
  if (!run || isFinal(run.status)) return;
  $("stop").disabled = true;
  try {
    await session.stop();
    if (run === session.run && !isFinal(run.status)) setStatusText("Stopping…", "warn");
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
  const run = session.run;
  const progress = session.progress();
  const { text, tone } = describeStatus(run);
  const status = $("status");
  status.textContent = text;
  status.dataset.status = run ? run.status : "idle";
  status.dataset.tone = tone;
  const seen = progress ? progress.seen : 0;
  const total = progress ? progress.total : currentConfig().config.epochs;
  $("epoch-counter").textContent = `Epoch ${seen} / ${total}`;
  $("progress").value = progress ? progress.fraction : 0;
  $("eta").textContent = progress ? timeLeftText(progress.secondsLeft) : "";
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

// --- dataset previews ------------------------------------------------------------------------------

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
  const { size, pictures } = catalog.features;
  for (const canvas of document.querySelectorAll(".toggle-picture")) {
    if (pictures[canvas.dataset.picture]) drawFeaturePicture(canvas, pictures[canvas.dataset.picture], size);
  }
}

// The decision boundary's view toggles (the page's own: not part of the experiment or its URL).
function watchBoundaryOptions() {
  const showTest = $("show-test");
  const discretize = $("discretize");
  const apply = () => {
    decisionMap.setOptions({ showTest: showTest.checked, discretize: discretize.checked });
    $("test-key").hidden = !showTest.checked;
  };
  showTest.addEventListener("change", apply);
  discretize.addEventListener("change", apply);
  apply();
}

// --- draw a digit ---------------------------------------------------------------------------------

function enableDrawing(enabled) {
  const run = session.run;
  const canDraw = Boolean(enabled && run && !catalog.isTwoD(run.config.dataset));
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
  const run = session.run;
  if (!pixels || !run || !run.epochs.length) {
    bars.show(null);
    if (!run || !run.epochs.length) enableDrawing(false);
    return;
  }
  try {
    const answer = await api.predict(run.id, { pixels: [pixels] });
    if (seq !== predictSeq) return; // a newer drawing has been sent since
    bars.show(answer.probabilities[0]);
  } catch (error) {
    if (seq === predictSeq) $("prob-summary").textContent = error.message;
  }
}

// --- runs to compare ----------------------------------------------------------------------------------

async function refreshOverlays() {
  const current = session.run;
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
  const current = session.run;
  if (!current) return;
  mode = "playground";
  document.body.classList.replace("mode-run", "mode-playground");
  $("run-banner").hidden = true;
  controls.setDisabled(false);
  $("train").disabled = false;
  controls.fill(current.config);
  history.pushState(null, "", `/?${toQuery(current.config, catalog)}`);
  onControlsChanged("fork");
  setStatusText(`Forked from run ${current.id}. Change anything and press Train.`, "idle");
  $("train").focus();
}

// --- start --------------------------------------------------------------------------------------------

function start() {
  announceMilestones($("status"), $("progress"), $("status-announcer"));
  drawDatasetTiles();
  bars.build(((catalog.find("mnist") || {}).classes || [..."0123456789"]).map(String));
  const config = page.config && page.config.dataset ? page.config : catalog.defaultsFor("mnist");
  controls.fill(config);
  setDatasetClass(config.dataset);
  drawNetworkFor(config);
  charts.setPlannedEpochs(config.epochs);
  charts.setCurrent(null);
  layersChart.setRun(null);
  renderLegend($("chart-legend"), []);
  watchBoundaryOptions();

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
    notice.textContent = `This link's ${field ? catalog.label(field) : "settings"} could not be used: ${error} The defaults are shown instead.`;
    notice.hidden = false;
  }

  if (mode === "run" && page.run) {
    controls.setDisabled(true);
    $("train").disabled = true;
    $("train").title = "Fork this run to change its settings and train again.";
    const entry = runList.remember(page.run);
    const created = page.run.created_at ? new Date(page.run.created_at).toLocaleString() : "";
    $("run-summary").textContent = `${created ? `Trained ${created}. ` : ""}Press Fork to change its settings and train again.`;
    session.show(page.run, entry.color);
  } else {
    runList.render();
    if (!page.query_error) history.replaceState(null, "", `/?${toQuery(currentConfig().config, catalog)}`);
    showDatasetPreview();
    renderProgress();
  }
}

start();
// Paint the controls first; then load Plotly (it takes a few hundred ms to compile).
requestAnimationFrame(() => setTimeout(loadPlotly, 0));
