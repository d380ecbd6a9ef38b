// The network diagram: a column of units per layer (the first 8 of each; "Show more units" shows every
// unit the server records), the edges between them and, under each column, its size and name; the
// parameter count in the caption. Given an epoch's `neurons` (neurons.js) it shows that epoch: each
// unit's picture over the plane beside it (2D sets; the inputs show their features' pictures) and the
// edges coloured by the sign of their weight (blue > 0, orange < 0) and drawn thicker by its size.
// Hovering a unit or an edge shows its value. The pictures are painted on a canvas under the SVG.

import { bytesOf } from "./heatmap.js";
import { decodeNeurons, paintPicture, rangeOf } from "./neurons.js";
import { parameterCount } from "./state.js";

const SVG = "http://www.w3.org/2000/svg";
const SHOWN = 8; // units of a layer drawn until "Show more units"
// With pictures, the drawing's width in its own units (viewBox) follows the space it has: about 1.1 CSS
// pixels a unit, less if the drawing would be taller than MAX_HEIGHT pixels (until "Show more units"),
// and within these bounds: a phone gets a narrower drawing (larger units), a desktop a wider one.
const MIN_WIDTH = 380;
const MAX_WIDTH = 900;
const PIXELS_PER_UNIT = 1.1;
const MAX_HEIGHT = 210; // over the charts; in a column narrower than NARROW pixels (a phone), 260
const NARROW = 600;
const TOP = 6;
const FOOT = 20; // under the columns: each layer's size and name
const SHAPES = {
  pictures: { box: 20, pitch: 24 }, // 2D sets: a square per unit, its picture inside
  dots: { box: 10, pitch: 14, width: 560 }, // MNIST: a dot per unit, in a drawing of a fixed width
};
const NEGATIVE = "#f08c2e"; // heatmap.js's CLASS_COLORS[0] and [1], as the pictures use them
const POSITIVE = "#2b7bb9";
const HIT = 4; // how near (drawing units) the pointer must be to an edge to point at it

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A value as the tooltips write it: two significant digits. */
function formatValue(value) {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) < 0.005 ? "0" : String(Number(value.toPrecision(2)));
}

export class NetworkDiagram {
  /** elements: {stage, svg, canvas, caption, note, more, tip}. */
  constructor(elements) {
    this.e = elements;
    this.sizes = [];
    this.inputs = null; // [{label, values}] of a 2D run's input features
    this.shape = SHAPES.dots;
    this.expanded = false;
    this.neurons = null; // the raw `neurons` shown, and its decoded form
    this.decoded = null;
    this.epoch = null;
    this.units = []; // [{layer, index, x, y}] drawn
    this.edges = []; // [{from, to, line}] drawn (from, to: entries of this.units)
    elements.more.addEventListener("click", () => {
      this.expanded = !this.expanded;
      this.draw();
    });
    elements.stage.addEventListener("pointermove", (event) => this.hover(event));
    elements.stage.addEventListener("pointerleave", () => {
      elements.tip.hidden = true;
    });
    this.width = MIN_WIDTH;
    this.height = 1;
    new ResizeObserver(() => {
      if (this.shape === SHAPES.pictures && Math.abs(this.drawingWidth(this.height) - this.width) > 40) this.draw();
      else this.fit();
    }).observe(elements.stage);
  }

  /**
   * Draw a network: sizes are its units per layer, input first. options.features: for a 2D set, its
   * input features [{label, picture}] (picture: core.features.feature_pictures' bytes, base64, or
   * null) and featureSize, their pictures' cells a side; without them (MNIST) units are dots.
   */
  setNetwork(sizes, options = {}) {
    const features = options.features || null;
    this.inputs = features
      ? features.map(({ label, picture }) => ({
          label,
          values: picture ? Float32Array.from(bytesOf(picture), (b) => (b - 128) / 127) : null,
        }))
      : null;
    this.featureSize = options.featureSize || 0;
    this.shape = features ? SHAPES.pictures : SHAPES.dots;
    this.sizes = [...sizes];
    this.neurons = null;
    this.decoded = null;
    this.epoch = null;
    this.draw();
    return parameterCount(sizes);
  }

  /** Show an epoch: `neurons` is its event's (core.views.neuron_view), or null for none. */
  setEpoch(neurons, epoch) {
    if (neurons === this.neurons && epoch === this.epoch) return;
    const layers = neurons && neurons.layers;
    const fits = layers && layers.length === this.sizes.length - 1;
    const before = this.recordedMore();
    this.neurons = fits ? neurons : null;
    this.decoded = fits ? decodeNeurons(neurons) : null;
    this.epoch = fits ? epoch : null;
    if (this.recordedMore() !== before) this.draw(); // the "more" control appears (or goes)
    else this.update();
  }

  /** The units drawn in layer l. */
  shown(l) {
    const size = this.sizes[l];
    if (!this.expanded || !this.decoded) return Math.min(size, SHOWN);
    return Math.min(size, Math.max(SHOWN, this.recorded(l)));
  }

  /** Units of layer l whose pictures and edges the server records (0 without an epoch's data). */
  recorded(l) {
    if (!this.decoded) return 0;
    const layers = this.decoded.layers;
    return l === 0 ? layers[0].inputs : layers[l - 1].units;
  }

  /** Whether some layer has recorded pictures of units beyond the first SHOWN ("Show more units"). */
  recordedMore() {
    return this.shape === SHAPES.pictures && this.sizes.some((size, l) => Math.min(size, this.recorded(l)) > SHOWN);
  }

  /** The drawing's width for a drawing `height` units tall, in the space the stage has now. */
  drawingWidth(height) {
    const pixels = this.e.stage.clientWidth || MIN_WIDTH * PIXELS_PER_UNIT;
    const perUnit = Math.min(PIXELS_PER_UNIT, this.expanded ? Infinity : this.maxHeight() / height);
    return Math.round(Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, pixels / perUnit)));
  }

  maxHeight() {
    return this.e.stage.clientWidth < NARROW ? 260 : MAX_HEIGHT;
  }

  /** With pictures: the SVG's height in pixels for its width (the drawing scales to fit it). */
  fit() {
    const { svg, stage } = this.e;
    if (this.shape === SHAPES.pictures && stage.clientWidth) {
      const natural = (stage.clientWidth * this.height) / this.width;
      svg.style.height = `${Math.round(this.expanded ? natural : Math.min(natural, this.maxHeight()))}px`;
    } else {
      svg.style.height = "";
    }
    this.schedulePaint();
  }

  draw() {
    const { svg, caption, more } = this.e;
    const sizes = this.sizes;
    const { box, pitch } = this.shape;
    const rows = Math.max(1, ...sizes.map((_, l) => this.shown(l)));
    const hidden = sizes.some((size, l) => size > this.shown(l));
    const height = TOP + rows * pitch + (hidden ? 12 : 0) + FOOT;
    const width = (this.width = this.shape.width || this.drawingWidth(height));
    const left = this.inputs ? 58 : 34;
    const xs = sizes.map((_, l) => left + (l * (width - left - 30)) / Math.max(1, sizes.length - 1));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.height = height;
    svg.replaceChildren();
    this.units = [];
    this.edges = [];
    const columns = sizes.map((size, l) => {
      const count = this.shown(l);
      const start = TOP + ((rows - count) * pitch) / 2 + pitch / 2;
      const units = Array.from({ length: count }, (_, index) => ({ layer: l, index, x: xs[l], y: start + index * pitch }));
      this.units.push(...units);
      return { units, below: start + count * pitch - pitch / 2 + 10 };
    });
    const edges = element("g", { class: "edges" });
    for (let l = 1; l < sizes.length; l += 1) {
      for (const from of columns[l - 1].units) {
        for (const to of columns[l].units) {
          const line = element("line", { x1: from.x + box / 2, y1: from.y, x2: to.x - box / 2, y2: to.y });
          edges.append(line);
          this.edges.push({ from, to, line });
        }
      }
    }
    svg.append(edges);
    sizes.forEach((size, l) => {
      const kind = l === 0 ? "input" : l === sizes.length - 1 ? "output" : "hidden";
      const group = element("g", { class: `layer ${kind}` });
      for (const unit of columns[l].units) {
        if (this.shape === SHAPES.pictures) {
          group.append(element("rect", { x: unit.x - box / 2, y: unit.y - box / 2, width: box, height: box, rx: 2 }));
        } else {
          group.append(element("circle", { cx: unit.x, cy: unit.y, r: box / 2 }));
        }
        if (kind === "input" && this.inputs) {
          const label = this.inputs[unit.index] ? this.inputs[unit.index].label : "";
          group.append(element("text", { x: unit.x - box / 2 - 4, y: unit.y + 4, class: "feature" }, label));
        }
      }
      if (size > columns[l].units.length) {
        const rest = size - columns[l].units.length;
        group.append(element("text", { x: xs[l], y: columns[l].below, class: "gap" }, `+${rest.toLocaleString("en")}`));
      }
      const name = kind === "input" ? "input" : kind === "output" ? "output" : `hidden ${l}`;
      const label = element("text", { x: xs[l], y: height - 6 });
      label.append(element("tspan", { class: "size" }, size.toLocaleString("en")), element("tspan", { class: "name" }, ` ${name}`));
      group.append(label);
      svg.append(group);
    });
    svg.classList.toggle("has-pictures", this.shape === SHAPES.pictures);
    caption.textContent = `${sizes.join(" → ")} · ${parameterCount(sizes).toLocaleString("en")} parameters`;
    svg.dataset.sizes = sizes.join(",");
    more.hidden = !this.recordedMore();
    more.textContent = this.expanded ? "Show fewer units" : "Show more units";
    more.setAttribute("aria-expanded", String(this.expanded));
    this.e.tip.hidden = true;
    this.fit();
    this.update();
  }

  /** The epoch's weights on the edges, and its pictures (painted at the next frame). */
  update() {
    const data = this.decoded;
    for (const { from, to, line } of this.edges) {
      const weight = data ? this.weight(from, to) : null;
      const style = line.style; // (the stylesheet's grey is for edges without a weight)
      if (weight === null) {
        style.stroke = style.strokeWidth = style.opacity = "";
        continue;
      }
      const strength = Math.min(1, Math.abs(weight) / 2.5); // |weight| 2.5 and more: the thickest
      style.stroke = weight < 0 ? NEGATIVE : POSITIVE;
      style.strokeWidth = (0.4 + 3 * strength).toFixed(2);
      style.opacity = (0.3 + 0.65 * strength).toFixed(2);
    }
    const { svg, note } = this.e;
    svg.dataset.epoch = this.epoch === null ? "" : String(this.epoch);
    if (data) {
      const partly = this.expanded && this.sizes.some((size, l) => size > this.recorded(l));
      note.textContent = `Epoch ${this.epoch} · hover for values${
        partly ? ` · the first ${Math.max(...this.sizes.map((_, l) => this.recorded(l)))} units of each layer are recorded` : ""}`;
    } else {
      note.textContent = "";
    }
    this.schedulePaint();
  }

  /** The weight from unit `from` to unit `to` at the shown epoch, or null if not recorded. */
  weight(from, to) {
    const layer = this.decoded.layers[to.layer - 1];
    if (from.index >= layer.inputs || to.index >= layer.units) return null;
    return layer.weights[from.index * layer.units + to.index];
  }

  schedulePaint() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  /** Paint the pictures of the shown units (inputs: their features) on the canvas under the SVG. */
  paint() {
    const { canvas, svg } = this.e;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(svg.clientWidth * ratio);
    const height = Math.round(svg.clientHeight * ratio);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    canvas.dataset.pictures = "0";
    const ctm = svg.getScreenCTM(); // drawing units -> screen pixels, as the SVG lays the drawing out
    if (this.shape !== SHAPES.pictures || !width || !ctm) return;
    const origin = canvas.getBoundingClientRect();
    const scale = ctm.a * ratio;
    const [dx, dy] = [(ctm.e - origin.left) * ratio, (ctm.f - origin.top) * ratio];
    const box = this.shape.box * scale;
    const pictures = [];
    for (const unit of this.units) {
      const picture = this.picture(unit);
      if (picture) pictures.push({ unit, ...picture });
    }
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    for (const group of [pictures.filter((p) => p.unit.layer === 0), pictures.filter((p) => p.unit.layer > 0)]) {
      if (!group.length) continue;
      const sheet = this.sheet(group);
      const size = group[0].size;
      group.forEach((p, k) => {
        ctx.drawImage(sheet, 0, k * size, size, size, p.unit.x * scale + dx - box / 2, p.unit.y * scale + dy - box / 2, box, box);
      });
    }
    canvas.dataset.pictures = String(pictures.length);
  }

  /** The pictures of a group (all of one size) painted one under the other on a small canvas. */
  sheet(group) {
    const size = group[0].size;
    const image = new ImageData(size, size * group.length);
    group.forEach((p, k) => paintPicture(image, k * size, size, p.values, p.scale, p.classIndex));
    const sheet = document.createElement("canvas");
    sheet.width = size;
    sheet.height = size * group.length;
    sheet.getContext("2d").putImageData(image, 0, 0);
    return sheet;
  }

  /** A unit's picture {values, scale, size, classIndex}, or null when there is none to show. */
  picture(unit) {
    if (unit.layer === 0) {
      const input = this.inputs && this.inputs[unit.index];
      return input && input.values ? { values: input.values, scale: 1, size: this.featureSize, classIndex: null } : null;
    }
    const layer = this.decoded && this.decoded.layers[unit.layer - 1];
    if (!layer || !layer.pictures || unit.index >= layer.units) return null;
    const output = unit.layer === this.sizes.length - 1;
    return {
      values: layer.pictures[unit.index],
      scale: layer.scales[unit.index],
      size: this.decoded.size,
      classIndex: output ? unit.index : null,
    };
  }

  /** What a unit is called in a tooltip. */
  name(unit) {
    const last = this.sizes.length - 1;
    if (unit.layer === 0) {
      return this.inputs ? `input ${this.inputs[unit.index].label}` : `input ${unit.index + 1}`;
    }
    if (unit.layer === last) return this.inputs ? `class ${unit.index}` : `output ${unit.index}`;
    return `hidden ${unit.layer} unit ${unit.index + 1}`;
  }

  /** The tooltip's words for a unit. */
  describeUnit(unit) {
    const name = this.name(unit);
    const layer = unit.layer > 0 && this.decoded ? this.decoded.layers[unit.layer - 1] : null;
    if (!layer || unit.index >= layer.units) return name[0].toUpperCase() + name.slice(1);
    const parts = [];
    if (layer.pictures) {
      const [low, high] = rangeOf(layer.pictures[unit.index]);
      const what = unit.layer === this.sizes.length - 1 ? "probability" : "output";
      parts.push(`${what} ${formatValue(low)} to ${formatValue(high)} over the plane`);
    }
    parts.push(`bias ${formatValue(layer.biases[unit.index])}`);
    return `${name[0].toUpperCase()}${name.slice(1)} at epoch ${this.epoch}: ${parts.join("; ")}`;
  }

  /** Show what the pointer is over: a unit, else the nearest edge within reach. */
  hover(event) {
    const { svg, tip, stage } = this.e;
    const ctm = svg.getScreenCTM();
    if (!ctm) return;
    const { x, y } = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    const reach = this.shape.box / 2 + 1;
    let text = "";
    const unit = this.units.find((u) => Math.abs(u.x - x) <= reach && Math.abs(u.y - y) <= reach);
    if (unit) {
      text = this.describeUnit(unit);
    } else if (this.decoded) {
      let best = null;
      let nearest = HIT;
      for (const edge of this.edges) {
        const distance = toSegment(x, y, edge.line);
        if (distance < nearest) [best, nearest] = [edge, distance];
      }
      const weight = best ? this.weight(best.from, best.to) : null;
      if (weight !== null) {
        text = `Weight from ${this.name(best.from)} to ${this.name(best.to)} at epoch ${this.epoch}: ${formatValue(weight)}`;
      }
    }
    tip.hidden = !text;
    if (!text) return;
    tip.textContent = text;
    const box = stage.getBoundingClientRect();
    const left = Math.min(event.clientX - box.left + 12, box.width - tip.offsetWidth - 4);
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${event.clientY - box.top + 14}px`;
  }
}

/** Distance from (x, y) to a line element's segment. */
function toSegment(x, y, line) {
  const x1 = Number(line.getAttribute("x1")), y1 = Number(line.getAttribute("y1"));
  const x2 = Number(line.getAttribute("x2")), y2 = Number(line.getAttribute("y2"));
  const dx = x2 - x1, dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
}
