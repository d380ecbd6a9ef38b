// The live "Loss" and "Accuracy" charts (Plotly). The current run's curves grow with
// Plotly.extendTraces, one point per epoch; other runs can be overlaid, one colour per run.
// Solid lines are training, dashed lines validation (the HTML legend beside the charts says so).

const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** Plotly.js is loaded by a classic async <script id="plotly-js">; wait for it without blocking the page. */
export function plotlyReady() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  return new Promise((resolve, reject) => {
    const script = document.getElementById("plotly-js");
    if (!script) {
      reject(new Error("The page has no Plotly script."));
      return;
    }
    script.addEventListener("load", () => resolve(window.Plotly));
    script.addEventListener("error", () => reject(new Error("Plotly.js could not be loaded.")));
  });
}

const METRICS = {
  loss: { train: "train_loss", val: "val_loss", yTitle: "Cross-entropy loss", format: ".3f" },
  accuracy: { train: "train_acc", val: "val_acc", yTitle: "Accuracy", format: ".1%" },
};

function layout(kind, empty, total) {
  const metric = METRICS[kind];
  const accuracy = kind === "accuracy";
  return {
    font: { family: FONT_STACK, size: 12, color: "#3c4043" },
    margin: { l: 56, r: 12, t: 8, b: 40 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    hovermode: "x unified",
    hoverlabel: { font: { family: FONT_STACK } },
    xaxis: {
      title: { text: "Epoch", standoff: 6 },
      gridcolor: "#eef0f2",
      zeroline: false,
      range: [0, Math.max(1, total)], // the curves grow left to right towards the last epoch
      tickformat: "d",
      automargin: true,
    },
    yaxis: {
      title: { text: metric.yTitle, standoff: 6 },
      gridcolor: "#eef0f2",
      zeroline: false,
      tickformat: accuracy ? ".0%" : null,
      hoverformat: metric.format,
      // Empty charts get a sensible frame; then the range follows the data, kept within 0..1 for accuracy.
      range: empty ? [0, accuracy ? 1 : 2.5] : undefined,
      autorange: empty ? false : true,
      autorangeoptions: accuracy ? { minallowed: 0, maxallowed: 1 } : { minallowed: 0 },
      automargin: true,
    },
    annotations: empty
      ? [{ text: "Press Train to watch it learn", showarrow: false, xref: "paper", yref: "paper",
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
    const empty = !current && overlays.length === 0;
    const total = Math.max(current ? current.total : 0, ...overlays.map((r) => r.total || r.epochs.length), empty ? this.emptyTotal || 10 : 1);
    return Plotly.react(this.element, data, layout(this.kind, empty, total), {
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
    this.current = null;
    this.overlays = [];
    this.queue = Promise.resolve();
  }

  // Plotly calls are chained so an extend never runs before the redraw it depends on.
  enqueue(task) {
    this.queue = this.queue
      .then(() => plotlyReady())
      .then((Plotly) => task(Plotly))
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
    this.current.epochs.push(...epochs);
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

  /** Recolour or relabel the current run without touching its data. */
  restyleCurrent(label, color) {
    if (!this.current) return this.queue;
    this.current.label = label;
    this.current.color = color;
    return this.redraw();
  }
}
