// What the sweep page shows of its cells: their labels and numbers, the best one, and the small
// multiples (Plotly): every cell's validation curve, laid out as the heatmap (first axis across, second
// up), on shared axes. Cells are
// {values, run, status, epochs, val_acc, val_loss, query, curve: {val_acc: [], val_loss: []}}.

import { formatNumber } from "./state.js";

const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const ACCENT = "#1a73e8";
const BEST = "#c5221f";

export const METRIC_LABELS = { val_acc: "validation accuracy", val_loss: "validation loss" };

export function formatValue(value) {
  return typeof value === "number" ? formatNumber(value) : String(value);
}

export function formatMetric(metric, value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return metric === "val_acc" ? `${(value * 100).toFixed(1)}%` : value.toFixed(3);
}

/** "lr 0.1 · hidden 8" (names: the sweep's axes in order) */
export function cellLabel(cell, names) {
  return names.map((name) => `${name} ${formatValue(cell.values[name])}`).join(" · ");
}

/** "0.1 · 8": a small multiple's title (the caption names the axes). */
function panelTitle(cell, names) {
  return names.map((name) => formatValue(cell.values[name])).join(" · ");
}

/** Index of the best finished cell for the metric, or -1. */
export function bestCell(cells, metric) {
  let best = -1;
  cells.forEach((cell, i) => {
    const value = cell[metric];
    if (cell.status !== "done" || typeof value !== "number" || !Number.isFinite(value)) return;
    if (best < 0 || (metric === "val_acc" ? value > cells[best][metric] : value < cells[best][metric])) best = i;
  });
  return best;
}

/** The grid: the axes' names, the first axis's values and the second's (or [""]) as labels. */
export function grid(sweep) {
  const names = sweep.axes;
  const vary = sweep.vary;
  const xs = vary[names[0]].map(formatValue);
  const ys = names[1] ? vary[names[1]].map(formatValue) : [""];
  return { names, xs, ys };
}

function baseLayout() {
  return {
    font: { family: FONT_STACK, size: 12, color: "#3c4043" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hoverlabel: { font: { family: FONT_STACK }, align: "left" },
  };
}

/** [data, layout] of the small multiples: one subplot per cell, laid out as the heatmap. */
export function curvesFigure(sweep, cells, metric) {
  const { names, xs, ys } = grid(sweep);
  const best = bestCell(cells, metric);
  const total = Math.max(1, sweep.config.epochs || 1, ...cells.map((c) => c.curve[metric].length));
  const layout = {
    ...baseLayout(),
    showlegend: false,
    margin: { l: 44, r: 8, t: 18, b: 30 },
    grid: { rows: ys.length, columns: xs.length, pattern: "independent", roworder: "bottom to top", xgap: 0.12, ygap: 0.3 },
    annotations: [],
  };
  const accuracy = metric === "val_acc";
  const data = cells.map((cell, i) => {
    const k = i === 0 ? "" : String(i + 1);
    const row = Math.floor(i / xs.length);
    const column = i % xs.length;
    layout[`xaxis${k}`] = {
      matches: i ? "x" : undefined, range: [1, total], showticklabels: row === 0, tickfont: { size: 10 },
      gridcolor: "#eef0f2", zeroline: false, nticks: 4, fixedrange: true,
    };
    layout[`yaxis${k}`] = {
      matches: i ? "y" : undefined, showticklabels: column === 0, tickfont: { size: 10 },
      gridcolor: "#eef0f2", zeroline: false, nticks: 4, fixedrange: true,
      tickformat: accuracy ? ".0%" : ".2f",
      ...(accuracy ? { range: [0, 1] } : { autorange: true, rangemode: "tozero" }),
    };
    layout.annotations.push({
      text: panelTitle(cell, names), showarrow: false, xref: `x${k} domain`, yref: `y${k} domain`, x: 0.5, y: 1,
      yanchor: "bottom", font: { size: 10, color: i === best ? BEST : "#5f6873" },
    });
    const values = cell.curve[metric];
    return {
      type: "scatter",
      mode: values.length <= 30 ? "lines+markers" : "lines",
      x: values.map((_, e) => e + 1),
      y: values,
      xaxis: `x${k}`,
      yaxis: `y${k}`,
      line: { color: i === best ? BEST : ACCENT, width: i === best ? 2.2 : 1.5 },
      marker: { size: 3 },
      name: cellLabel(cell, names),
      hovertemplate: `${cellLabel(cell, names)}<br>epoch %{x}: %{y:${accuracy ? ".1%" : ".3f"}}<extra></extra>`,
    };
  });
  return [data, layout];
}
