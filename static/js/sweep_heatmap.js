// The sweep's heatmap: one cell per run, the first axis across and the second up, each cell a link to
// its run coloured by its final validation accuracy or loss (deeper blue is better; only cells that
// ended are coloured, the others say how far they are), the best one starred and outlined; hovering or
// focusing a cell shows its values, numbers and config. It is HTML, not a Plotly heatmap: Plotly's
// heatmap sets inline style attributes, which the page's strict Content-Security-Policy refuses; here
// every colour is set through the CSSOM, which the policy allows.

import { METRIC_LABELS, bestCell, formatMetric, formatValue, grid } from "./sweep_charts.js";

// Light to deep blue, as [position, [r, g, b]].
const SCALE = [[0, [241, 245, 251]], [0.5, [138, 180, 248]], [1, [23, 78, 166]]];

function colourAt(t) {
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < SCALE.length; i += 1) {
    const [p1, c1] = SCALE[i];
    const [p0, c0] = SCALE[i - 1];
    if (x <= p1) {
      const f = (x - p0) / (p1 - p0);
      return c0.map((v, k) => Math.round(v + (c1[k] - v) * f));
    }
  }
  return SCALE[SCALE.length - 1][1];
}

const css = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;
const ENDED = new Set(["done", "stopped"]);

export class SweepHeatmap {
  /** root: the heatmap's element; tip: its tooltip; axes: the axis table by name. */
  constructor(root, tip, axes) {
    this.root = root;
    this.tip = tip;
    this.axes = axes;
    this.links = [];
    this.built = false;
  }

  label(name) {
    const axis = this.axes.get(name);
    return axis ? `${axis.label} (${name})` : name;
  }

  /** The grid's elements, once: column and row labels, axis titles, a link per cell, the scale. */
  build(sweep, cells) {
    const { names, xs, ys } = grid(sweep);
    this.names = names;
    this.columns = xs.length;
    const table = document.createElement("div");
    table.className = "sweep-grid";
    table.style.gridTemplateColumns = `auto auto repeat(${xs.length}, minmax(0, 1fr))`;
    // A single row stays a row of tiles; a grid fills the panel's height.
    table.style.gridTemplateRows = `repeat(${ys.length}, ${ys.length > 1 ? "minmax(44px, 1fr)" : "72px"}) auto auto`;
    if (ys.length === 1) table.style.minHeight = "0";
    const yTitle = document.createElement("div");
    yTitle.className = "sweep-axis-title sweep-y-title";
    yTitle.textContent = names[1] ? this.label(names[1]) : "";
    yTitle.style.gridRow = `1 / ${ys.length + 1}`;
    table.append(yTitle);
    for (let row = ys.length - 1; row >= 0; row -= 1) {
      const rowLabel = document.createElement("div");
      rowLabel.className = "sweep-tick sweep-row-tick";
      rowLabel.textContent = ys[row];
      rowLabel.style.gridRow = String(ys.length - row);
      rowLabel.style.gridColumn = "2";
      table.append(rowLabel);
      for (let column = 0; column < xs.length; column += 1) {
        const index = row * xs.length + column;
        const link = document.createElement("a");
        link.className = "sweep-cell";
        link.href = `/runs/${encodeURIComponent(cells[index].run)}`;
        link.dataset.cell = String(index);
        link.style.gridRow = String(ys.length - row);
        link.style.gridColumn = String(column + 3);
        link.addEventListener("mouseenter", () => this.showTip(index));
        link.addEventListener("focus", () => this.showTip(index));
        link.addEventListener("mouseleave", () => this.hideTip());
        link.addEventListener("blur", () => this.hideTip());
        this.links[index] = link;
        table.append(link);
      }
    }
    xs.forEach((value, column) => {
      const tick = document.createElement("div");
      tick.className = "sweep-tick";
      tick.textContent = value;
      tick.style.gridRow = String(ys.length + 1);
      tick.style.gridColumn = String(column + 3);
      table.append(tick);
    });
    const xTitle = document.createElement("div");
    xTitle.className = "sweep-axis-title";
    xTitle.textContent = this.label(names[0]);
    xTitle.style.gridRow = String(ys.length + 2);
    xTitle.style.gridColumn = `3 / ${xs.length + 3}`;
    table.append(xTitle);
    this.scale = document.createElement("div");
    this.scale.className = "sweep-scale";
    this.scale.setAttribute("aria-hidden", "true");
    this.root.replaceChildren(table, this.scale);
    this.built = true;
  }

  /** Colour and label every cell for the metric; returns how many cells are coloured. */
  draw(sweep, cells, metric) {
    if (!this.built) this.build(sweep, cells);
    this.cells = cells;
    this.metric = metric;
    const values = cells.filter((c) => ENDED.has(c.status) && Number.isFinite(c[metric])).map((c) => c[metric]);
    const low = Math.min(...values);
    const high = Math.max(...values);
    // Losses spread over orders of magnitude (one diverged run would wash out the rest): a log scale.
    const scaled = metric === "val_loss" ? (v) => Math.log(Math.max(v, 1e-6)) : (v) => v;
    const best = bestCell(cells, metric);
    let filled = 0;
    cells.forEach((cell, i) => {
      const link = this.links[i];
      const value = cell[metric];
      const coloured = ENDED.has(cell.status) && Number.isFinite(value);
      let text = cell.status;
      if (cell.status === "queued") text = "queued";
      else if (cell.status === "running") text = cell.epochs ? `epoch ${cell.epochs}` : "starting";
      if (coloured) {
        filled += 1;
        let t = high > low ? (scaled(value) - scaled(low)) / (scaled(high) - scaled(low)) : 1;
        if (metric === "val_loss") t = 1 - t; // a lower loss is better: deeper
        link.style.backgroundColor = css(colourAt(t));
        link.style.color = t > 0.55 ? "#ffffff" : "#1f2328";
        text = `${i === best ? "★ " : ""}${formatMetric(metric, value)}`;
      } else {
        link.style.backgroundColor = "";
        link.style.color = "";
      }
      link.textContent = text;
      link.classList.toggle("best", i === best);
      link.classList.toggle("pending", !coloured);
      link.setAttribute("aria-label", `${this.describe(cell)}. Open its run.`);
    });
    this.drawScale(values.length ? [low, high] : null, metric);
    if (this.tipIndex !== undefined) this.showTip(this.tipIndex);
    return filled;
  }

  drawScale(range, metric) {
    this.scale.hidden = !range;
    if (!range) return;
    const [low, high] = range;
    const stops = SCALE.map(([p, colour]) => `${css(colour)} ${p * 100}%`).join(", ");
    const bar = document.createElement("span");
    bar.className = "sweep-scale-bar";
    bar.style.backgroundImage = `linear-gradient(to right, ${stops})`;
    const worse = metric === "val_loss" ? high : low;
    const better = metric === "val_loss" ? low : high;
    const left = document.createElement("span");
    left.textContent = formatMetric(metric, worse);
    const right = document.createElement("span");
    right.textContent = `${formatMetric(metric, better)} ${METRIC_LABELS[metric]}`;
    this.scale.replaceChildren(left, bar, right);
  }

  describe(cell) {
    const values = this.names.map((name) => `${name} ${formatValue(cell.values[name])}`).join(", ");
    const number = formatMetric(this.metric, cell[this.metric]);
    return `${values}: ${number} ${METRIC_LABELS[this.metric]}, ${cell.status}, ${cell.epochs} epochs`;
  }

  showTip(index) {
    const cell = this.cells && this.cells[index];
    if (!cell) return;
    this.tipIndex = index;
    const lines = this.names.map((name) => {
      const axis = this.axes.get(name);
      return `${axis ? axis.label : name}: ${formatValue(cell.values[name])}`;
    });
    lines.push(`Validation accuracy: ${formatMetric("val_acc", cell.val_acc)}`);
    lines.push(`Validation loss: ${formatMetric("val_loss", cell.val_loss)}`);
    lines.push(`${cell.status}, ${cell.epochs} epoch${cell.epochs === 1 ? "" : "s"}`);
    const rows = lines.map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    });
    if (cell.query) {
      const code = document.createElement("code");
      code.textContent = cell.query.replaceAll("&", " ");
      rows.push(code);
    }
    this.tip.replaceChildren(...rows);
    this.tip.hidden = false;
    const link = this.links[index];
    const box = link.getBoundingClientRect();
    const parent = this.tip.offsetParent ? this.tip.offsetParent.getBoundingClientRect() : { left: 0, top: 0, width: innerWidth };
    const width = this.tip.offsetWidth;
    let left = box.left - parent.left + box.width / 2 - width / 2;
    left = Math.max(4, Math.min(left, parent.width - width - 4));
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${box.bottom - parent.top + 6}px`;
  }

  hideTip() {
    this.tipIndex = undefined;
    this.tip.hidden = true;
  }
}
