// The playground page: wires the controls, the run session, the charts and the views together.
// Data flows one way: controls -> config -> POST /api/runs -> the run session (its event stream)
// -> charts, views, status line and run list, which draw what the session reports.
//
// One run at a time is on the page, and its address is in the address bar: /runs/<id> from the
// moment the server accepts it (pushState: Back returns to the settings), so a reload or a restored
// tab shows it again and resumes its stream. Once the settings differ from the run's (or the run was
// forked), its charts and views are greyed as the "previous run" until Train, and the address holds
// the settings; the network diagram always follows the controls. The player under the charts chooses
// the epoch the boundary (or confusion matrix), the diagram and the charts' markers show; the address
// holds it too (/runs/<id>?epoch=37) unless it is the run's latest.

import { announceMilestones } from "./announcer.js";
import * as api from "./api.js";
import { MetricCharts, loadPlotly } from "./charts.js";
import { Controls } from "./controls.js";
import { DataEditor } from "./data_editor.js";
import { DigitPad, ProbabilityBars } from "./digits.js";
import { DecisionMap, drawFeaturePicture, drawPreview } from "./heatmap.js";
import { LayersChart } from "./layers_chart.js";
import { MnistPanels, drawMnistPreview } from "./mnist_views.js";
import { NetworkDiagram } from "./network.js";
import { rememberToken, tokenFor } from "./ownership.js";
import { Player } from "./player.js";
import { RunList, renderLegend } from "./run_list.js";
import { RunSession, isFinal } from "./run_session.js";
import { Catalog, toQuery, validate } from "./state.js";
import { capText, describeStatus, epochAtCap, timeLeftText, trainTimeText } from "./status.js";
import { SweepForm } from "./sweep_form.js";

const $ = (id) => document.getElementById(id);
const page = JSON.parse(document.body.dataset.page || "{}");
const catalog = new Catalog(page.datasets);

const controls = new Controls($("controls"), catalog, onControlsChanged);
const charts = new MetricCharts($("loss-chart"), $("accuracy-chart"));
const decisionMap = new DecisionMap($("boundary"), $("boundary-note"));
const dataEditor = new DataEditor(decisionMap, (catalog.find("custom") || {}).upload, onControlsChanged);
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
const diagram = new NetworkDiagram({
  stage: $("network-stage"),
  svg: $("network-svg"),
  canvas: $("network-pictures"),
  caption: $("network-caption"),
  note: $("network-note"),
  more: $("network-more"),
  tip: $("network-tip"),
});
const sweepForm = new SweepForm(
  {
    axes: [$("sweep-axis-0"), $("sweep-axis-1")],
    values: [$("sweep-values-0"), $("sweep-values-1")],
    estimate: $("sweep-estimate"),
    error: $("sweep-error"),
    queryError: $("sweep-query-error"),
    run: $("run-sweep"),
  },
  page.sweep || {},
  {
    currentConfig: () => {
      const { config, errors } = currentConfig();
      return { config, errors, query: Object.keys(errors).length ? "" : toQuery(config, catalog) };
    },
    prepare: async (config) => {
      if (dataEditor.needsStoring(config)) config.data = await dataEditor.store();
      return config;
    },
    onAddress: () => showPrevious(),
    label: (field) => catalog.label(field),
  },
);
const player = new Player(
  {
    root: $("player"),
    play: $("player-play"),
    back: $("player-back"),
    forward: $("player-forward"),
    slider: $("player-epoch"),
    position: $("player-position"),
    live: $("player-live"),
    speed: $("player-speed"),
  },
  onPlayerChange,
);

let mode = page.run_id ? "run" : "playground";
let forked = false; // the run on the page was forked: the page now sets up a new experiment
let starting = false; // a POST /api/runs is on its way
let trainBlockedUntil = 0; // Date.now() until which a refusal's Retry-After holds Train back
let countdownTimer = 0;
const startedHere = new Set(); // ids of the runs this page started (not the ones it opened or forked)
let estimate = null; // GET /api/estimate's answer for the controls' config: {seconds, cap_seconds, ...}
let estimateQuery = ""; // the config it was asked for
let estimateTimer = 0;
let predictSeq = 0;
let sampleIndex = 0;
let linkEpoch = page.epoch ?? null; // the epoch the page's link points at (?epoch=), for its run only
let addressTimer = 0;
const overlayCache = new Map(); // run id -> epochs of finished runs

// --- controls -> config, URL, network drawing -----------------------------------------------------

function currentConfig() {
  return dataEditor.check(validate(controls.read(), catalog));
}

/** Put a config into the controls; your points follow its `data` hash. */
function fill(config) {
  controls.fill(config);
  dataEditor.follow(config.data);
}

/** Your points on the plane: editable while the custom set is chosen in the playground, drawn instead
 * of a run's points while no run is on the page or it is the previous one. */
function syncDataEditor() {
  const custom = mode === "playground" && controls.dataset === "custom";
  dataEditor.setActive(custom, custom && (!session.run || isPrevious()));
}

function onControlsChanged(field) {
  const run = session.run;
  if (field === "dataset") {
    switchDataset(controls.shownDataset, controls.dataset);
    if (!run) {
      // (with a run on the page, its panels stay: greyed as the previous run until Train)
      setDatasetClass(controls.dataset);
      showDatasetPreview();
    }
  }
  const { config, errors } = currentConfig();
  const valid = Object.keys(errors).length === 0;
  controls.showErrors(errors);
  $("query-error").hidden = true;
  if (!errors.hidden) drawNetworkFor(config);
  if (!run && !errors.epochs) {
    $("epoch-counter").textContent = `Epoch 0 / ${config.epochs}`;
    charts.setPlannedEpochs(config.epochs);
  }
  if (valid && !starting && Date.now() >= trainBlockedUntil) showTrainNotice(null);
  showPrevious();
  syncDataEditor();
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(loadEstimate, ESTIMATE_DELAY_MS);
  sweepForm.changed();
}

// --- how long a config will train, before it starts (core/cost.py through GET /api/estimate) ----------

const ESTIMATE_DELAY_MS = 300; // controls settle (typing, sliding) before the server is asked

async function loadEstimate() {
  const { config, errors } = currentConfig();
  const unsent = config.dataset === "custom" && !config.data; // your points: no estimate before they are sent
  const query = Object.keys(errors).length || unsent ? "" : toQuery(config, catalog);
  estimateQuery = query;
  if (!query) {
    estimate = null;
    renderProgress();
    return;
  }
  try {
    const answer = await api.getEstimate(query);
    if (query !== estimateQuery) return; // the controls changed meanwhile
    estimate = answer;
  } catch {
    if (query === estimateQuery) estimate = null;
  }
  renderProgress();
}

/** Whether the run on the page is the previous one: forked, or its settings differ from the controls. */
function isPrevious() {
  const run = session.run;
  if (!run || mode !== "playground") return false;
  if (forked) return true;
  const { config, errors } = currentConfig();
  return Object.keys(errors).length > 0 || toQuery(config, catalog) !== toQuery(run.config, catalog);
}

/** Grey the run's panels while it is the previous run, and keep the address on what the page shows:
 * the run (/runs/<id>) or, once the settings moved on, the settings (/?<query>). */
function showPrevious() {
  const previous = isPrevious();
  const main = $("main");
  if (main.classList.contains("is-previous-run") !== previous) {
    main.classList.toggle("is-previous-run", previous);
    renderProgress();
    refreshOverlays();
  }
  if (mode !== "playground") return;
  const run = session.run;
  const { config, errors } = currentConfig();
  let address = null;
  if (run && !previous) address = runAddress(run);
  else if (Object.keys(errors).length === 0) address = `/?${toQuery(config, catalog)}${sweepForm.param()}`;
  if (!address || address === location.pathname + location.search) return;
  if (location.pathname.startsWith("/runs/") && address.startsWith("/?")) {
    history.pushState(null, "", address); // Back returns to the run
  } else {
    history.replaceState(null, "", address);
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
  fill(defaults);
}

function setDatasetClass(dataset) {
  const main = $("main");
  const twoD = catalog.isTwoD(dataset);
  main.classList.toggle("is-2d", twoD);
  main.classList.toggle("is-mnist", !twoD);
}

function drawNetworkFor(config, sizes) {
  const classes = config.dataset === "custom" ? dataEditor.classCount() : catalog.classCount(config);
  const layerSizes = sizes || [catalog.inputSize(config), ...config.hidden, classes];
  diagram.setNetwork(layerSizes, { features: featuresOf(config), featureSize: catalog.features.size });
  if (session.run && !isPrevious()) showEpoch(player.epoch); // the run's own network: its epoch
}

/** A 2D config's input features as the diagram draws them: [{label, picture}]; null for MNIST. */
function featuresOf(config) {
  if (!catalog.isTwoD(config.dataset) || !Array.isArray(config.features)) return null;
  const choices = (catalog.field("features") || {}).choices || [];
  return config.features.map((name) => ({
    label: (choices.find((choice) => choice.value === name) || { label: name }).label,
    picture: catalog.features.pictures[name] || null,
  }));
}

// --- the player's epoch: boundary or confusion matrix, diagram, the charts' markers, the address ---------

/** Draw the run's epoch (0: none yet) from the views the session keeps. */
function showEpoch(epoch) {
  const view = epoch ? session.viewAt(epoch) : null;
  if (view && view.grid) decisionMap.setGrid(view.grid, epoch);
  if (view && view.confusion) mnistPanels.show({ confusion: view.confusion });
  if (!isPrevious()) diagram.setEpoch(view ? view.neurons || null : null, epoch);
  charts.setMarker(epoch || null);
  layersChart.setMarker(epoch || null);
}

function onPlayerChange(epoch, { playing }) {
  showEpoch(epoch);
  // The address changes when the player stops at an epoch (while it plays it is the run's own: see
  // Player.query), looked at no more than twice a second while playing.
  if (!addressTimer) addressTimer = setTimeout(keepAddress, playing ? 500 : 0);
}

function runAddress(run) {
  return `/runs/${encodeURIComponent(run.id)}${player.query()}`;
}

function keepAddress() {
  addressTimer = 0;
  const run = session.run;
  if (mode === "playground") showPrevious();
  else if (run && runAddress(run) !== location.pathname + location.search) history.replaceState(null, "", runAddress(run));
}

// --- the run on the page: what the session reports, drawn ---------------------------------------------

session.on("show", (run) => {
  forked = false;
  $("main").classList.remove("is-previous-run");
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
  syncDataEditor();
  $("player").hidden = false;
  const epoch = linkEpoch;
  linkEpoch = null;
  player.reset({ available: run.epochs.length, final: isFinal(run.status), epoch, fromStart: !run.epochs.length });
});
session.on("progress", (run) => player.setAvailable(run.epochs.length, isFinal(run.status)));
session.on("timeline", () => showEpoch(player.epoch));
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
  if (views.points && !dataEditor.editing) decisionMap.setPoints(views.points, views.sizes.at(-1));
  mnistPanels.show(views);
  if (views.sizes && !isPrevious()) drawNetworkFor(run.config, views.sizes);
});
session.on("progress", renderProgress);
session.on("error", (message) => setStatusText(message, "bad"));

// --- training ---------------------------------------------------------------------------------------

// Train sends the config first and changes nothing on the page until the server accepted it: a
// refusal (a bad field, a full queue, the rate limit, a busy store) leaves the run on the page going
// and says why, next to the status line, with a countdown while Retry-After holds Train back.
// Once the new run is accepted it replaces the one on the page; that one is stopped if this page
// started it and it still trains: the page shows one run at a time, and a run left training out of
// sight would hold one of the server's few training slots (the new run could wait behind it). Its
// epochs are kept, and the Runs list still has it to compare. A run opened by link or forked is never
// stopped: it is someone else's, or it was left going on purpose.
async function train(event) {
  event.preventDefault();
  if (mode !== "playground" || starting || Date.now() < trainBlockedUntil) return;
  const { config, errors } = currentConfig();
  controls.showErrors(errors);
  if (Object.keys(errors).length) {
    const names = Object.keys(errors).map((f) => catalog.label(f)).join(", ");
    showTrainNotice(`Fix ${names} first: nothing was sent.`);
    controls.focusFirstError();
    return;
  }
  starting = true;
  $("train").disabled = true;
  let created;
  let reused = false;
  try {
    if (dataEditor.needsStoring(config)) {
      showTrainNotice("Sending your points…");
      config.data = await dataEditor.store();
    }
    showTrainNotice("Starting a new run…");
    created = await api.createRun(config);
    // The same config as a stored run (done, queued or training): that run, with what it recorded.
    reused = created.reused === true;
    if (reused) created = await api.getRun(created.id);
  } catch (error) {
    starting = false;
    refused(error);
    return;
  }
  starting = false;
  $("train").disabled = false;
  showTrainNotice(null);
  if (!reused) {
    // A reused run was started by someone else (or another tab): no token comes with it.
    rememberToken(created.id, created.owner_token);
    startedHere.add(created.id);
  }
  const previous = session.run;
  if (previous && previous.id !== created.id && startedHere.has(previous.id) && !isFinal(previous.status)) {
    api.stopRun(previous.id, tokenFor(previous.id))
      .then((answer) => runList.update(previous.id, { status: answer.status }))
      .catch(() => {}); // it ends on its own; the Runs list refreshes its status later
  }
  const status = reused ? created.status : "queued";
  const entry = runList.remember({ id: created.id, config: created.config, status });
  session.show({ epochs: [], total_epochs: created.config.epochs, ...created, status }, entry.color);
  history.pushState(null, "", created.url); // Back returns to the settings
  if (reused) {
    const { text, tone } = describeStatus(session.run);
    const news = isFinal(created.status) ? "already trained: replaying it" : "already training: following it";
    setStatusText(`Same experiment ${news}. ${text}`, tone);
  }
}

/** A refused POST /api/runs: the reason stays visible; with Retry-After, a live countdown and Train
 * disabled until it ends. */
function refused(error) {
  if (error.field && $(`${error.field}-error`)) controls.showErrors({ [error.field]: error.message });
  // The countdown says when; a "Try again in N seconds." in the server's sentence would go stale.
  const reason = error.message.replace(/\s*Try again in \d+ (s|seconds?)\.?$/, "");
  const seconds = Number.parseInt(error.retryAfter, 10);
  if (!(seconds > 0)) {
    $("train").disabled = false;
    showTrainNotice(reason);
    return;
  }
  // Retry-After is whole seconds, rounded down by the rate limiter: wait one more to be sure.
  trainBlockedUntil = Date.now() + (seconds + 1) * 1000;
  clearInterval(countdownTimer);
  const tick = () => {
    const left = Math.ceil((trainBlockedUntil - Date.now()) / 1000);
    if (left > 0) {
      $("train-countdown").textContent = ` Train is available again in ${left} s.`;
      return;
    }
    clearInterval(countdownTimer);
    $("train").disabled = mode !== "playground";
    showTrainNotice(`${reason} You can press Train again now.`);
  };
  $("train").disabled = true;
  showTrainNotice(reason, true);
  tick();
  countdownTimer = setInterval(tick, 250);
}

/** A run stopped here frees one of this client's places ("You have 2 runs going"): a refusal's
 * countdown no longer holds Train back, and the server decides again at the next press. */
function releaseTrain() {
  if (Date.now() >= trainBlockedUntil) return;
  clearInterval(countdownTimer);
  trainBlockedUntil = 0;
  $("train").disabled = mode !== "playground";
  showTrainNotice(null);
}

/** The line under the status about the last press of Train (null hides it). With `countdown`, a
 * #train-countdown span follows the text: it changes every second, so screen readers skip it. */
function showTrainNotice(text, countdown = false) {
  const notice = $("train-notice");
  notice.hidden = !text;
  notice.textContent = text || "";
  if (countdown) {
    const span = document.createElement("span");
    span.id = "train-countdown";
    span.setAttribute("aria-hidden", "true");
    notice.append(span);
  }
}

async function stop() {
  const run = session.run;
  if (!run || isFinal(run.status)) return;
  $("stop").disabled = true;
  try {
    await session.stop();
    if (run === session.run && !isFinal(run.status)) setStatusText("Stopping…", "warn");
    releaseTrain();
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
  if (isPrevious()) {
    const next = forked ? `Forked from run ${run.id}: change anything and press Train.` : "The settings changed: press Train to run them.";
    status.textContent = `Previous run · ${text} ${next}`;
  }
  status.dataset.status = run ? run.status : "idle";
  status.dataset.tone = tone;
  const seen = progress ? progress.seen : 0;
  const total = progress ? progress.total : currentConfig().config.epochs;
  $("epoch-counter").textContent = `Epoch ${seen} / ${total}`;
  $("progress").value = progress ? progress.fraction : 0;
  renderTimes(run, progress);
  $("stop").disabled = !run || isFinal(run.status) || !run.own;
  $("stop").hidden = Boolean(run) && !run.own; // a shared link's viewer cannot stop the run
  const downloadable = run && seen > 0 && isFinal(run.status);
  const expired = (run && run.expired) || null; // the weights expired under the store budget: say so
  for (const [id, url, needsWeights] of [["download-weights", api.weightsUrl, true], ["download-metrics", api.metricsUrl, false]]) {
    const link = $(id);
    link.hidden = !downloadable || (needsWeights && Boolean(expired));
    if (!link.hidden) link.href = url(run.id);
  }
  $("expired-note").hidden = !expired;
  $("expired-note").textContent = expired || "";
  decisionMap.setExpired(expired && "The decision boundary expired with the weights: train again to see it.");
  if (run) runList.update(run.id, { status: run.status, test_acc: run.test_acc, warning: run.warning });
  if (run && !seen) {
    charts.setNote(isFinal(run.status) ? "No epoch was recorded" : run.status === "queued" ? "Queued…" : "Waiting for the first epoch…");
  }
}

/**
 * The time line: while the run on the page trains, the time left and, when its measured speed takes it
 * past the wall-clock cap, the epoch it will stop after; otherwise the estimate for the controls'
 * config ("about 40 s to train") and whether the cap would stop it, or the server refuse it as too
 * costly for one run, before anything is sent.
 */
function renderTimes(run, progress) {
  const note = $("cap-note");
  let eta = "";
  let cap = "";
  if (run && !isFinal(run.status) && !isPrevious()) {
    eta = timeLeftText(progress.secondsLeft);
    const capSeconds = estimate ? estimate.cap_seconds : null;
    const atCap = epochAtCap(progress, capSeconds);
    if (atCap !== null) cap = capText(atCap, run.total, capSeconds);
    else if (progress.secondsLeft === null && estimate && estimateQuery === toQuery(run.config, catalog)) {
      cap = estimateCapText(false); // nothing measured yet: the estimate's word stands
    }
  } else if (mode === "playground" && estimate && (!run || isFinal(run.status) || isPrevious())) {
    eta = trainTimeText(estimate.seconds);
    // Past what one run may cost, Train would be refused: the server's own sentence says what to lower.
    // Train stays enabled (the server decides, and the refusal then shows under the status line).
    cap = estimate.refusal ? estimate.refusal.error : estimateCapText(true);
  }
  $("eta").textContent = eta;
  note.textContent = cap;
  note.hidden = !cap;
}

function estimateCapText(planned) {
  if (!estimate || estimate.epochs_within_cap >= estimate.epochs) return "";
  return capText(estimate.epochs_within_cap, estimate.epochs, estimate.cap_seconds, planned);
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
  if (run && run.expired) {
    $("prob-summary").textContent = run.expired; // no weights to predict with: say why
    return;
  }
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
        runList.update(run.id, { status: data.status, test_acc: data.test_acc ?? null, warning: data.warning ?? null });
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
    const previous = isPrevious();
    const label = previous ? "previous run" : overlays.length ? labels.get(current.id) : "this run";
    entries.push({ color: current.color, label: previous ? label : `${label} (shown)` });
    charts.restyleCurrent(label, current.color);
  }
  for (const run of drawn) entries.push({ color: run.color, label: run.label });
  renderLegend($("chart-legend"), entries);
}

// --- sharing: copy link, fork ---------------------------------------------------------------------

async function copyLink() {
  const feedback = $("copy-feedback");
  if (mode === "playground" && dataEditor.needsStoring(currentConfig().config)) {
    try {
      await dataEditor.store(); // the link names your points by their hash: send them first
    } catch (error) {
      feedback.textContent = error.message;
      return;
    }
  }
  const link = location.href;
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

/** Load the run's settings into the controls to train a new run from them. The run goes on as it
 * was (it is shown as the previous run until Train; Train never stops it). */
function fork() {
  const current = session.run;
  if (!current) return;
  mode = "playground";
  forked = true;
  document.body.classList.replace("mode-run", "mode-playground");
  $("run-banner").hidden = true;
  controls.setDisabled(false);
  $("train").disabled = Date.now() < trainBlockedUntil;
  $("train").title = "";
  fill(current.config);
  history.pushState(null, "", `/?${toQuery(current.config, catalog)}`);
  onControlsChanged("fork");
  $("train").focus();
}

// --- start --------------------------------------------------------------------------------------------

function start() {
  announceMilestones($("status"), $("progress"), $("status-announcer"));
  drawDatasetTiles();
  bars.build(((catalog.find("mnist") || {}).classes || [..."0123456789"]).map(String));
  const config = page.config && page.config.dataset ? page.config : catalog.defaultsFor("mnist");
  fill(config);
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

  if (page.epoch_error) {
    const notice = $("epoch-error");
    notice.textContent = `This link's epoch could not be used: ${page.epoch_error.error} The latest epoch is shown instead.`;
    notice.hidden = false;
  }
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
    const notYours = !isFinal(page.run.status) && !tokenFor(page.run.id)
      ? "Only the browser that started this run can stop it. "
      : "";
    $("run-summary").textContent = `${created ? `Trained ${created}. ` : ""}${notYours}Press Fork to change its settings and train again.`;
    if (page.run.sweep) {
      $("run-of-sweep-link").href = `/sweeps/${page.run.sweep}`;
      $("run-of-sweep-link").textContent = `sweep ${page.run.sweep}`;
      $("run-of-sweep").hidden = false;
    }
    session.show(page.run, entry.color);
  } else {
    runList.render();
    if (!page.query_error) history.replaceState(null, "", `/?${toQuery(currentConfig().config, catalog)}${sweepForm.param()}`);
    sweepForm.changed();
    showDatasetPreview();
    renderProgress();
    syncDataEditor();
  }
}

// --- the Runs list: statuses of runs that were still going ---------------------------------------------

// Runs listed as queued or running (other than the one on the page, which its stream keeps current)
// may have ended since: ask for each, when the page opens, then after 2, 4, 8... (at most 10) seconds
// while some are still going, and when the tab is shown again.
let refreshTimer = 0;
async function refreshRunList(delay = 2000) {
  clearTimeout(refreshTimer);
  const going = await runList.refreshActive(api.getRun);
  if (going) refreshTimer = setTimeout(() => refreshRunList(Math.min(delay * 2, 10000)), delay);
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshRunList();
});

start();
refreshRunList();
loadEstimate();
// Paint the controls first; then load Plotly (it takes a few hundred ms to compile).
requestAnimationFrame(() => setTimeout(loadPlotly, 0));
