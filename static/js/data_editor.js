// Your own points: the "Your points" control (summary, CSV upload, error), the tools beside the plane
// (class picker, Erase, Clear) and the plane itself while the "Your data" set is chosen: a click adds a
// point of the chosen class, a drag adds more, Erase (or Shift) and a drag remove the points under the
// pointer. Uploaded files are checked by the server (POST /api/data: the first bad row's line, in a
// sentence); points clicked on the page go the same way, as CSV, when they are needed (Train, Copy
// link). A stored set is known by its hash: the config's `data` field, in the hidden #data input. A link
// or a forked run brings a hash, and the points are loaded by it (GET /api/data/<hash>).
//
// main.js talks to it through: setActive(armed, editing), follow(hash), check({config, errors}),
// needsStoring(config), store(), classCount(), and the onChange("data") callback after every change.

import * as api from "./api.js";
import { CLASS_COLORS, drawPreview } from "./heatmap.js";

const $ = (id) => document.getElementById(id);
const ADD_SPACING_PX = 14; // a drag adds a point every this many pixels
const ERASE_RADIUS_PX = 12;
const DECIMALS = 1000; // clicked coordinates are kept to 3 decimals

/** The view of the plane while editing: [-1.1, 1.1]^2 and every point, with a margin. */
function viewOf(points) {
  let x0 = -1.1, x1 = 1.1, y0 = -1.1, y1 = 1.1;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const px = (x1 - x0) * 0.05, py = (y1 - y0) * 0.05;
  return { x0: x0 - px, x1: x1 + px, y0: y0 - py, y1: y1 + py };
}

const pointsText = (n) => `${n} ${n === 1 ? "point" : "points"}`;
const classesText = (n) => `${n} ${n === 1 ? "class" : "classes"}`;

export class DataEditor {
  /** map: the DecisionMap of the boundary canvas; upload: GET /api/datasets' "upload" rules of the
   * custom set ({min_points, max_points, min_classes, max_classes}). */
  constructor(map, upload, onChange) {
    this.map = map;
    this.rules = upload;
    this.onChange = onChange;
    this.points = []; // [x, y, label]
    this.hash = null; // the hash of exactly these points once stored, else null
    this.problem = null; // why these points cannot be trained (a refused upload), or null
    this.loading = null; // the hash being loaded
    this.armed = false; // clicks on the plane edit
    this.editing = false; // the plane shows these points
    this.view = null;
    this.stroke = null; // the drag in progress: {erase, last: [px, py]}

    this.input = $("data");
    this.summary = $("data-summary");
    this.tools = $("data-tools");
    this.erase = $("data-erase");
    this.panel = $("boundary-panel");
    this.tile = document.querySelector('.dataset-preview[data-dataset="custom"]');
    for (const swatch of document.querySelectorAll(".class-swatch")) {
      const color = CLASS_COLORS[Number(swatch.dataset.class) % CLASS_COLORS.length];
      swatch.querySelector(".class-dot").style.backgroundColor = color;
    }
    const { max_points: most, max_classes: classes, max_coordinate: far } = upload;
    $("data-rules").textContent =
      `x,y,label per line (a header is optional): up to ${most} points, labels 0 to ${classes - 1}, ` +
      `coordinates within ±${far}.`;
    $("data-clear").addEventListener("click", () => this.replace([], null));
    $("data-file").addEventListener("change", (event) => this.uploadFile(event.target));
    const canvas = map.canvas;
    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    for (const kind of ["pointerup", "pointercancel"]) canvas.addEventListener(kind, () => { this.stroke = null; });
    this.render();
  }

  /** armed: the custom set is chosen in the playground (clicks edit); editing: the plane shows these
   * points (no run is on it, or it is the previous run). */
  setActive(armed, editing) {
    this.armed = armed;
    this.tools.hidden = !armed;
    this.map.canvas.classList.toggle("is-editable", armed);
    this.panel.classList.toggle("is-editing", editing);
    if (editing === this.editing) {
      if (editing) this.draw();
      return;
    }
    this.editing = editing;
    if (editing) {
      this.view = viewOf(this.points);
      this.draw();
    } else {
      this.map.setView(null);
    }
  }

  /** The config's `data` hash, as the controls were filled: load those points unless they are these. */
  follow(hash) {
    if (!hash || hash === this.hash) {
      this.input.value = this.hash || "";
      return;
    }
    this.load(hash);
  }

  async load(hash) {
    this.loading = hash;
    this.input.value = hash;
    this.render();
    try {
      const stored = await api.getData(hash);
      if (this.loading !== hash) return; // replaced meanwhile
      this.replace(stored.rows, hash);
    } catch (error) {
      if (this.loading !== hash) return;
      this.replace([], null, `These points could not be loaded: ${error.message}`);
    }
  }

  /** New points (and their hash when stored); the view fits them. */
  replace(points, hash, problem = null) {
    this.points = points.map(([x, y, label]) => [x, y, label]);
    this.hash = hash;
    this.loading = null;
    this.problem = problem;
    this.view = viewOf(this.points);
    this.changed();
  }

  changed() {
    this.input.value = this.hash || "";
    this.render();
    if (this.editing) this.draw();
    this.onChange("data");
  }

  classCount() {
    let top = 1;
    for (const point of this.points) top = Math.max(top, point[2]);
    return top + 1;
  }

  classesUsed() {
    return new Set(this.points.map((point) => point[2])).size;
  }

  /** The class picker's choice. */
  get chosenClass() {
    const checked = document.querySelector('input[name="data-class"]:checked');
    return checked ? Number(checked.value) : 0;
  }

  // --- validation and storing ------------------------------------------------------------------------

  /** validate()'s {config, errors} with the custom set's `data` judged by these points: a refused file
   * or too few points is an error; points not stored yet are fine (Train stores them first). */
  check(result) {
    const { config, errors } = result;
    if (config.dataset !== "custom") return result;
    delete errors.data;
    const problem = this.whyNot();
    if (problem) errors.data = problem;
    config.data = this.hash || this.loading || null;
    return result;
  }

  whyNot() {
    if (this.problem) return this.problem;
    if (this.loading) return null;
    const { min_points: least, min_classes: classes } = this.rules;
    const n = this.points.length;
    if (n < least || this.classesUsed() < classes) {
      const now = n ? ` (now ${pointsText(n)} of ${classesText(this.classesUsed())})` : "";
      return `Add at least ${least} points of ${classes} classes or more${now}: click on the plane, or upload a CSV file.`;
    }
    return null;
  }

  /** Whether Train must send these points first. */
  needsStoring(config) {
    return config.dataset === "custom" && !this.hash && !this.loading && !this.whyNot();
  }

  /** Store these points (POST /api/data, as CSV) unless they are; answers their hash. A refused set
   * (a bad row) becomes this control's error; other refusals (the rate limit) are thrown as they are. */
  async store() {
    if (this.hash) return this.hash;
    const points = this.points;
    const csv = `x,y,label\n${points.map(([x, y, label]) => `${x},${y},${label}\n`).join("")}`;
    try {
      const answer = await api.storeData(csv);
      if (points === this.points) {
        this.hash = answer.data;
        this.changed();
      }
      return answer.data;
    } catch (error) {
      if (error.status === 400) {
        this.problem = error.message;
        this.changed();
      }
      throw error;
    }
  }

  async uploadFile(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    input.value = ""; // the same file, fixed, can be chosen again
    this.summary.textContent = `Checking ${file.name}…`;
    let answer;
    try {
      answer = await api.storeData(await file.text());
    } catch (error) {
      if (error.status !== 400 && error.status !== 413) { // not the file's fault (the upload rate, say)
        this.summary.textContent = `${file.name}: ${error.message}`;
        return;
      }
      this.problem = `${file.name}: ${error.message} Fix the file and upload it again: nothing is trained until then.`;
      this.render();
      this.onChange("data");
      return;
    }
    this.loading = answer.data;
    try {
      const stored = await api.getData(answer.data);
      this.replace(stored.rows, answer.data);
    } catch (error) {
      this.replace([], null, `${file.name} was stored, but its points could not be read back: ${error.message}`);
    }
  }

  // --- the plane ------------------------------------------------------------------------------------

  pointerDown(event) {
    if (!this.armed || this.loading || event.button !== 0) return;
    event.preventDefault();
    this.map.canvas.setPointerCapture?.(event.pointerId);
    this.stroke = { erase: this.erase.checked || event.shiftKey, last: null };
    this.strokeAt(event);
  }

  pointerMove(event) {
    if (this.stroke) this.strokeAt(event);
  }

  strokeAt(event) {
    const stroke = this.stroke;
    const here = [event.clientX, event.clientY];
    if (stroke.erase) {
      const rect = this.map.canvas.getBoundingClientRect();
      const b = this.map.bounds();
      const onPage = ([x, y]) => [
        rect.left + ((x - b.x0) / (b.x1 - b.x0)) * rect.width,
        rect.top + ((b.y1 - y) / (b.y1 - b.y0)) * rect.height,
      ];
      const far = (point) => {
        const [px, py] = onPage(point);
        return Math.hypot(px - here[0], py - here[1]) > ERASE_RADIUS_PX;
      };
      const kept = this.points.filter(far);
      if (kept.length !== this.points.length) this.edit(kept);
      return;
    }
    if (stroke.last && Math.hypot(here[0] - stroke.last[0], here[1] - stroke.last[1]) < ADD_SPACING_PX) return;
    if (this.points.length >= this.rules.max_points) return;
    stroke.last = here;
    const far = this.rules.max_coordinate;
    const [x, y] = this.map.toData(...here).map((v) => Math.max(-far, Math.min(far, Math.round(v * DECIMALS) / DECIMALS)));
    this.edit([...this.points, [x, y, this.chosenClass]]);
  }

  /** An edit on the plane: the points are new (not stored), and any refused file is set aside. */
  edit(points) {
    this.points = points;
    this.hash = null;
    this.problem = null;
    this.changed();
  }

  draw() {
    this.map.setView(this.view);
    this.map.setPoints({ train: this.points, val: [], test: [] }, this.classCount());
  }

  // --- words and the tile ---------------------------------------------------------------------------

  render() {
    const n = this.points.length;
    let text;
    if (this.loading) text = "Loading the points…";
    else if (!n) text = "No points yet: click on the plane to add some, or upload a CSV file of x,y,label rows.";
    else {
      const state = this.hash ? "stored" : "not sent yet: Train sends them";
      text = `${pointsText(n)} of ${classesText(this.classesUsed())}, ${state}.`;
      if (n >= this.rules.max_points) text += ` That is the limit of ${this.rules.max_points}.`;
    }
    this.summary.textContent = text;
    if (this.tile) this.drawTile();
  }

  /** The "Your data" tile: these points, or a plus sign and three classes' dots until there are some. */
  drawTile() {
    if (this.points.length) {
      drawPreview(this.tile, this.points);
      return;
    }
    drawPreview(this.tile, []); // sizes the canvas, white
    const ctx = this.tile.getContext("2d");
    const size = this.tile.width;
    [[0.25, 0.25], [0.75, 0.3], [0.5, 0.8]].forEach(([x, y], label) => {
      ctx.beginPath();
      ctx.arc(x * size, y * size, size / 14, 0, 2 * Math.PI);
      ctx.fillStyle = CLASS_COLORS[label];
      ctx.fill();
    });
    ctx.strokeStyle = "#5f6873";
    ctx.lineWidth = Math.max(1.5, size / 28);
    ctx.beginPath();
    ctx.moveTo(size / 2, size * 0.3);
    ctx.lineTo(size / 2, size * 0.7);
    ctx.moveTo(size * 0.3, size / 2);
    ctx.lineTo(size * 0.7, size / 2);
    ctx.stroke();
  }
}
