// The "Layers" chart: what each Dense layer of the run on the page does, epoch by epoch, from the
// epochs' `layers` (core/diagnostics.py). Top: each layer's update ratio (how far the epoch's first
// step moved its weights, relative to their size) on a log axis, with the 1e-3 rule of thumb marked.
// Bottom: the share of each hidden layer's units that are dead (ReLU) or saturated (tanh, sigmoid).
// One colour per layer; redrawn at most once per animation frame. A marker shows the player's epoch.

import { plotlyReady } from "./charts.js";
import { EpochMarker } from "./epoch_marker.js";

const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const LAYER_COLORS = ["#1a73e8", "#e8710a", "#188038", "#9334e6", "#c5221f"];
const OUTPUT_COLOR = "#5f6368";
const RULE_OF_THUMB = 1e-3;
// Which share the bottom panel shows for a hidden layer of each activation.
const SHARES = {
  relu: ["dead", "Dead units"],
  tanh: ["saturated", "Saturated units"],
  sigmoid: ["saturated", "Saturated units"],
};

function layerName(index, count) {
  return index === count - 1 ? "output" : `layer ${index + 1}`;
}

function colorOf(index, count) {
  return index === count - 1 ? OUTPUT_COLOR : LAYER_COLORS[index % LAYER_COLORS.length];
}

/** A value for a log axis: null (a gap) for what is missing, zero or not finite. */
function positive(value) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}

function share(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export class LayersChart {
  constructor(element) {
    this.element = element;
    this.epochs = [];
    this.total = 10;
    this.activation = "relu";
    this.frame = 0;
    this.marker = new EpochMarker(element);
  }

  /** Mark an epoch (null: no marker). */
  setMarker(epoch) {
    this.marker.show(epoch);
  }

  /** Show a run: {config, total, epochs} (its recorded epochs drawn at once). */
  setRun(run) {
    this.epochs = run ? run.epochs.filter((epoch) => Array.isArray(epoch.layers)) : [];
    this.total = run ? run.total : 10;
    this.activation = (run && run.config.activation) || "relu";
    this.schedule();
  }

  addEpochs(epochs) {
    this.epochs.push(...epochs.filter((epoch) => Array.isArray(epoch.layers)));
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const config = { displayModeBar: false, responsive: true };
      plotlyReady()
        .then((Plotly) => Plotly.react(this.element, this.traces(), this.layout(), config))
        .then(() => this.marker.place())
        .catch((error) => console.warn("layers chart:", error));
    });
  }

  traces() {
    const epochs = this.epochs;
    const count = epochs.length ? epochs[0].layers.length : 0;
    const x = epochs.map((epoch) => epoch.epoch);
    const few = this.total <= 40;
    const mode = few ? "lines+markers" : "lines";
    const base = { type: "scatter", mode, marker: { size: 4 }, connectgaps: false, x };
    const traces = [];
    for (let i = 0; i < count; i += 1) {
      traces.push({
        ...base,
        name: layerName(i, count),
        legendgroup: `layer${i}`,
        line: { color: colorOf(i, count), width: 2 },
        y: epochs.map((epoch) => positive(epoch.layers[i].update_ratio)),
        hovertemplate: "%{y:.2e}",
      });
    }
    const shown = SHARES[this.activation];
    // The bottom panel's axis is drawn only if a trace uses it: an empty one keeps it (before a run,
    // or for a linear network).
    traces.push({ type: "scatter", x: [], y: [], yaxis: "y2", showlegend: false, hoverinfo: "skip" });
    if (shown) {
      for (let i = 0; i < count - 1; i += 1) {
        traces.push({
          ...base,
          name: `${layerName(i, count)} ${shown[0]}`,
          legendgroup: `layer${i}`,
          showlegend: false,
          yaxis: "y2",
          line: { color: colorOf(i, count), width: 2, dash: "dot" },
          y: epochs.map((epoch) => share(epoch.layers[i][shown[0]])),
          hovertemplate: "%{y:.0%}",
        });
      }
    }
    return traces;
  }

  layout() {
    const shown = SHARES[this.activation];
    const last = Math.max(1, this.total);
    const pad = Math.max(0.15, (last - 1) * 0.03);
    return {
      font: { family: FONT_STACK, size: 12, color: "#3c4043" },
      margin: { l: 60, r: 14, t: 26, b: 44 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
      hovermode: "x unified",
      hoverlabel: { font: { family: FONT_STACK } },
      xaxis: {
        title: { text: "Epoch", standoff: 6 },
        range: [1 - pad, last + pad],
        tickformat: "d",
        // Few epochs: one tick per epoch (automatic ticks would repeat a rounded epoch).
        tickmode: last <= 12 ? "array" : "auto",
        tickvals: last <= 12 ? Array.from({ length: last }, (_, i) => i + 1) : undefined,
        gridcolor: "#eef0f2",
        zeroline: false,
        anchor: "y2",
      },
      yaxis: {
        title: { text: "Update / weight", standoff: 6 },
        type: "log",
        dtick: 1, // a tick at each power of ten
        domain: [0.4, 1],
        exponentformat: "e", // ("power" writes superscripts with inline styles, which the CSP refuses)
        gridcolor: "#eef0f2",
        autorange: this.epochs.length ? true : false,
        range: this.epochs.length ? undefined : [-5, -1],
      },
      yaxis2: {
        title: { text: shown ? shown[1] : "—", standoff: 6, font: { size: 11 } },
        domain: [0, 0.28],
        range: [0, 1],
        tickformat: ".0%",
        tickvals: [0, 0.5, 1],
        gridcolor: "#eef0f2",
        zeroline: false,
        anchor: "x",
      },
      shapes: [
        {
          type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: RULE_OF_THUMB, y1: RULE_OF_THUMB,
          line: { color: "#80868b", width: 1, dash: "dash" },
        },
      ],
      annotations: [
        {
          text: "1e-3 rule of thumb", showarrow: false, xref: "paper", x: 1, xanchor: "right",
          yref: "y", y: Math.log10(RULE_OF_THUMB), yanchor: "middle", bgcolor: "rgba(255,255,255,0.85)",
          font: { size: 10.5, color: "#5f6368" },
        },
        ...(shown ? [] : [{
          text: "(no dead or saturated units for this activation)", showarrow: false, xref: "paper", x: 0.5,
          yref: "paper", y: 0.14, font: { size: 11, color: "#80868b" },
        }]),
        ...(this.epochs.length ? [] : [{
          text: "No epochs with layer figures yet", showarrow: false,
          xref: "paper", x: 0.5, yref: "paper", y: 0.7, font: { size: 13, color: "#80868b" },
        }]),
      ],
    };
  }
}
