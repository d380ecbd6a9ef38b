// The live "Loss" and "Accuracy" charts (Plotly). The current run's curves grow with
// Plotly.extendTraces, one point per epoch; other runs can be overlaid, one colour per run.
// Solid lines are training, dashed lines validation (the HTML legend beside the charts says so).
// A marker shows the player's epoch on both.

import { EpochMarker } from "./epoch_marker.js";

const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

// Plotly.js (its basic bundle) is 1.2 MB of script: compiling it takes the main thread for a
// while, so the page paints its controls first and only then runs it (the template preloads it).
let resolvePlotly, rejectPlotly;
const plotly = new Promise((resolve, reject) => {
  resolvePlotly = resolve;
  rejectPlotly = reject;
});
let plotlyRequested = false;

/** Insert the Plotly <script> (same-origin, so a strict CSP allows it); safe to call twice. */
export function loadPlotly() {
  if (plotlyRequested) return plotly;
  plotlyRequested = true;
  if (window.Plotly) {
    resolvePlotly(window.Plotly);
    return plotly;
  }
  const preload = document.getElementById("plotly-preload");
  const script = document.createElement("script");
  script.src = preload ? preload.href : "/static/vendor/plotly-basic/plotly-basic.min.js";
  script.addEventListener("load", () => resolvePlotly(window.Plotly));
  script.addEventListener("error", () => rejectPlotly(new Error("Plotly.js could not be loaded.")));
  document.head.append(script);
  return plotly;
}

/** Resolves with window.Plotly once loadPlotly() has run and the script has loaded. */
export function plotlyReady() {
  return plotly;
}

const METRICS = {
  loss: { train: "train_loss", val: "val_loss", yTitle: "Cross-entropy", format: ".3f" },
  accuracy: { train: "train_acc", val: "val_acc", yTitle: "Accuracy", format: ".1%" },
};

// Accuracy ticks: as many decimals as the tick step needs, so a narrow range (say 10.0% to 10.6%)
// never shows the same label twice. Plotly picks the step (1, 2 or 5 x 10^k); the first stop whose
// range holds it gives the format.
const PERCENT_TICKS = [
  { dtickrange: [0.01, null], value: ".0%" },
  { dtickrange: [0.001, null], value: ".1%" },
  { dtickrange: [0.0001, null], value: ".2%" },
  { dtickrange: [null, null], value: ".3%" },
];

/** Epochs 1..total with a little room on both sides, so the end points are not cut. */
function xRange(total) {
  const last = Math.max(1, total);
  const pad = Math.max(0.15, (last - 1) * 0.03);
  return [1 - pad, last + pad];
}

function layout(kind, empty, total, note) {
  const metric = METRICS[kind];
  const accuracy = kind === "accuracy";
  return {
    font: { family: FONT_STACK, size: 12, color: "#3c4043" },
    margin: { l: 60, r: 14, t: 8, b: 44 }, // fixed: automargin keeps redrawing on narrow screens
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    hovermode: "x unified",
    // Overlay names say how the runs differ: show them whole (Plotly cuts names at 15 characters).
    hoverlabel: { font: { family: FONT_STACK }, namelength: -1 },
    xaxis: {
      title: { text: "Epoch", standoff: 6 },
      gridcolor: "#eef0f2",
      zeroline: false,
      range: xRange(total), // the curves grow left to right towards the last epoch
      tickformat: "d",
      // Few epochs: one tick per epoch (automatic ticks would repeat "1" across a short range).
      tickmode: total <= 12 ? "array" : "auto",
      tickvals: total <= 12 ? Array.from({ length: Math.max(1, total) }, (_, i) => i + 1) : undefined,
    },
    yaxis: {
      title: { text: metric.yTitle, standoff: 6 },
      gridcolor: "#eef0f2",
      zeroline: false,
      tickformat: accuracy ? ".0%" : null,
      tickformatstops: accuracy ? PERCENT_TICKS : undefined,
      hoverformat: metric.format,
      // Empty charts get a sensible frame; then the range follows the data, kept within 0..1 for accuracy.
      range: empty ? [0, accuracy ? 1 : 2.5] : undefined,
      autorange: empty ? false : true,
      autorangeoptions: accuracy ? { clipmin: 0, clipmax: 1 } : { clipmin: 0 },
    },
    annotations: empty
      ? [{ text: note, showarrow: false, xref: "paper", yref: "paper",
          x: 0.5, y: 0.5, font: { size: 13, color: "#80868b" } }]
      : [],
  };
}

function finite(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function traces(kind, run, current) {
  const metric = METRICS[kind];
  const epochs = run.epochs || [];
  const x = epochs.map((e) => e.epoch);
  const few = (run.total || epochs.length) <= 40;
  const base = {
    type: "scatter",
    mode: few ? "lines+markers" : "lines",
    marker: { size: current ? 5 : 4 },
    legendgroup: run.id || "current",
    connectgaps: false,
  };
  const width = current ? 2.4 : 1.6;
  return [
    { ...base, x, y: epochs.map((e) => finite(e[metric.train])), name: `${run.label} · train`,
      line: { color: run.color, width } },
    { ...base, x: [...x], y: epochs.map((e) => finite(e[metric.val])), name: `${run.label} · validation`,
      line: { color: run.color, width, dash: "dash" } },
  ];
}

class MetricChart {
  constructor(element, kind) {
    this.element = element;
    this.kind = kind;
  }

  /** Full redraw: overlays first (underneath), the current run's two traces last. */
  draw(Plotly, current, overlays) {
    const data = [];
    for (const run of overlays) data.push(...traces(this.kind, run, false));
    this.currentIndex = data.length;
    if (current) data.push(...traces(this.kind, current, true));
    const empty = !data.some((trace) => trace.x.length > 0);
    const note = current ? current.note || "Waiting for the first epoch…" : "Press Train to watch it learn";
    const totals = [current ? current.total : 0, ...overlays.map((run) => run.total || run.epochs.length)];
    const total = Math.max(...totals) || this.emptyTotal || 10;
    return Plotly.react(this.element, data, layout(this.kind, empty, total, note), {
      displayModeBar: false,
      responsive: true,
    });
  }

  /** Add epochs to the current run's curves without redrawing the rest. */
  extend(Plotly, epochs) {
    const metric = METRICS[this.kind];
    const x = epochs.map((e) => e.epoch);
    const update = {
      x: [x, [...x]],
      y: [epochs.map((e) => finite(e[metric.train])), epochs.map((e) => finite(e[metric.val]))],
    };
    return Plotly.extendTraces(this.element, update, [this.currentIndex, this.currentIndex + 1]);
  }
}

/** Both charts, kept in step. `current` = {id, label, color, total, epochs: [...]}. */
export class MetricCharts {
  constructor(lossElement, accuracyElement) {
    this.charts = [new MetricChart(lossElement, "loss"), new MetricChart(accuracyElement, "accuracy")];
    this.markers = [new EpochMarker(lossElement), new EpochMarker(accuracyElement)];
    this.current = null;
    this.overlays = [];
    this.queue = Promise.resolve();
  }

  // Plotly calls are chained so an extend never runs before the redraw it depends on.
  enqueue(task) {
    this.queue = this.queue
      .then(() => plotlyReady())
      .then((Plotly) => task(Plotly))
      .then(() => this.markers.forEach((marker) => marker.place()))
      .catch((error) => console.warn("chart update failed:", error));
    return this.queue;
  }

  redraw() {
    const current = this.current ? { ...this.current, epochs: [...this.current.epochs] } : null;
    const overlays = this.overlays.map((run) => ({ ...run }));
    return this.enqueue((Plotly) => Promise.all(this.charts.map((c) => c.draw(Plotly, current, overlays))));
  }

  /** Show a run as the current one (its recorded epochs drawn at once). */
  setCurrent(run) {
    this.current = run ? { ...run, epochs: [...(run.epochs || [])] } : null;
    return this.redraw();
  }

  /** New epochs of the current run; drawn with extendTraces. */
  addEpochs(epochs) {
    if (!this.current || epochs.length === 0) return this.queue;
    const first = this.current.epochs.length === 0 && this.overlays.every((run) => !run.epochs.length);
    this.current.epochs.push(...epochs);
    if (first) return this.redraw(); // the empty frame's fixed axes give way to the data's
    const batch = [...epochs];
    return this.enqueue((Plotly) => Promise.all(this.charts.map((c) => c.extend(Plotly, batch))));
  }

  /** Before any run, the x axis spans the epochs the controls ask for. */
  setPlannedEpochs(epochs) {
    if (this.charts[0].emptyTotal === epochs) return this.queue;
    for (const chart of this.charts) chart.emptyTotal = epochs;
    return this.current || this.overlays.length ? this.queue : this.redraw();
  }

  setOverlays(runs) {
    this.overlays = runs;
    return this.redraw();
  }

  /** The words shown on empty charts of the current run (e.g. when it failed before epoch 1). */
  setNote(note) {
    if (!this.current || this.current.note === note) return this.queue;
    this.current.note = note;
    return this.current.epochs.length ? this.queue : this.redraw();
  }

  /** Mark an epoch on both charts (null: no marker). */
  setMarker(epoch) {
    for (const marker of this.markers) marker.show(epoch);
  }

  /** Recolour or relabel the current run without touching its data. */
  restyleCurrent(label, color) {
    if (!this.current) return this.queue;
    this.current.label = label;
    this.current.color = color;
    return this.redraw();
  }
}
