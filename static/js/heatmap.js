// The decision boundary of a 2D set: the predicted class on a grid (tinted by its probability, or
// flat when "discretized") with the training points (filled), validation points (rings) and, when asked,
// test points (filled, dark outline) on top. Drawn on a canvas. Also the small pictures of the input
// features beside their toggles. While your own points are edited (data_editor.js), the plane keeps a
// fixed view (setView), maps the pointer to the plane (toData) and fades a previous run's grid.

export const CLASS_COLORS = ["#f08c2e", "#2b7bb9", "#3a9e6f", "#8e5cc2", "#d9534f", "#6c7a89"];

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
export const CLASS_RGB = CLASS_COLORS.map(rgb);

/** The bytes of a base64 string (the server packs the decision grid as uint8 arrays). */
export function bytesOf(base64) {
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

/**
 * core.views.decision_grid's packed grid -> { size, bounds, predicted, confidence }: predicted
 * classes and confidence (0..255 for probability 0..1) as Uint8Arrays of size * size cells, row
 * after row, row 0 at the lowest y.
 */
export function decodeGrid(grid) {
  return {
    size: grid.size,
    bounds: { x0: grid.x_min, x1: grid.x_max, y0: grid.y_min, y1: grid.y_max },
    predicted: bytesOf(grid.predicted),
    confidence: bytesOf(grid.confidence),
  };
}

/** Bounds around the points with a 10% margin, as core.views.grid_bounds does. */
function boundsOf(points) {
  if (!points.length) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const px = (x1 - x0) * 0.1 || 1, py = (y1 - y0) * 0.1 || 1;
  return { x0: x0 - px, x1: x1 + px, y0: y0 - py, y1: y1 + py };
}

const classColor = (label) => CLASS_COLORS[label % CLASS_COLORS.length];
// Training points filled, validation points as rings, test points filled with a dark outline.
const POINT_STYLES = {
  train: { width: 1, fill: classColor, stroke: () => "rgba(255,255,255,0.9)" },
  val: { width: 1.6, fill: () => "rgba(255,255,255,0.85)", stroke: classColor },
  test: { width: 1, fill: classColor, stroke: () => "#202124" },
};

/** Draw a small square image over a size x size canvas, upscaled smoothly (via a canvas of its size);
 * `rect` [x, y, width, height] places it elsewhere. */
function stretch(ctx, image, size, rect = [0, 0, size, size]) {
  const small = document.createElement("canvas");
  small.width = image.width;
  small.height = image.height;
  small.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(small, ...rect);
}

export class DecisionMap {
  constructor(canvas, note) {
    this.canvas = canvas;
    this.note = note; // "a preview of the data", shown until there is a run
    this.preview = note ? note.textContent : "";
    this.expired = null; // why the run's boundary cannot be drawn (its weights expired), or null
    this.hasRun = false;
    this.points = { train: [], val: [], test: [] };
    this.grid = null;
    this.classes = 2;
    this.frame = 0;
    this.options = { showTest: false, discretize: false }; // the panel's view toggles
    this.view = null; // fixed bounds while points are edited, else null: the grid's or the points'
    new ResizeObserver(() => this.schedule()).observe(canvas);
  }

  setPoints(points, classes) {
    this.points = { train: points.train || [], val: points.val || [], test: points.test || [] };
    if (classes) this.classes = classes;
    this.schedule();
  }

  /** Fixed bounds {x0, x1, y0, y1} to draw (the grid, if any, faded where it lies), or null. */
  setView(bounds) {
    this.view = bounds;
    this.schedule();
  }

  /** The bounds drawn: the fixed view, else the grid's, else the points' with a margin. */
  bounds() {
    if (this.view) return this.view;
    return this.grid ? this.grid.bounds : boundsOf([...this.points.train, ...this.points.val]);
  }

  /** The point of the plane under a point of the page (clientX, clientY): [x, y]. */
  toData(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const b = this.bounds();
    const x = b.x0 + ((clientX - rect.left) / rect.width) * (b.x1 - b.x0);
    const y = b.y1 - ((clientY - rect.top) / rect.height) * (b.y1 - b.y0);
    return [x, y];
  }

  /** options: {showTest, discretize}; either may be left out. */
  setOptions(options) {
    this.options = { ...this.options, ...options };
    this.schedule();
  }

  setGrid(grid, epoch) {
    if (typeof grid.predicted !== "string") return; // an event stored before grids were packed
    if (grid !== this.gridSource) this.grid = decodeGrid(grid); // decoded once per grid: the player
    this.gridSource = grid; // shows an epoch many times, and a frame may redraw it (resize)
    this.gridEpoch = epoch ?? null;
    this.schedule();
  }

  /** A sentence saying why the run's boundary is gone (its weights expired), or null. */
  setExpired(message) {
    this.expired = message;
    this.schedule();
  }

  /** hasRun: the points are the run's own (not the dataset preview). */
  clear(hasRun = false) {
    this.hasRun = hasRun;
    this.grid = null;
    this.gridSource = null;
    this.gridEpoch = null;
    this.schedule();
  }

  // Many epochs can arrive in one frame; draw once per frame with the latest grid.
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const size = Math.max(1, Math.round(canvas.clientWidth * ratio));
    if (canvas.width !== size) {
      canvas.width = size;
      canvas.height = size;
    }
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    const all = [...this.points.train, ...this.points.val];
    const grid = this.grid;
    const bounds = this.bounds();
    if (grid) this.drawGrid(ctx, grid, size, bounds);
    this.drawPoints(ctx, bounds, size, ratio);
    canvas.dataset.gridEpoch = grid && this.gridEpoch != null ? String(this.gridEpoch) : "";
    if (this.note) {
      this.note.textContent = this.expired || this.preview;
      this.note.hidden = !this.expired && (Boolean(grid) || this.hasRun);
    }
    canvas.dataset.points = String(all.length);
    canvas.dataset.testPoints = this.options.showTest ? String(this.points.test.length) : "0";
    canvas.dataset.discretized = String(this.options.discretize);
  }

  drawGrid(ctx, grid, size, bounds) {
    const cells = grid.size;
    const image = new ImageData(cells, cells);
    const chance = 1 / Math.max(2, this.classes);
    for (let r = 0; r < cells; r += 1) {
      const row = cells - 1 - r; // grid rows go up in y; canvas rows go down
      for (let c = 0; c < cells; c += 1) {
        const cell = r * cells + c;
        const cls = grid.predicted[cell];
        const confidence = grid.confidence[cell] / 255;
        const sure = Math.max(0, Math.min(1, (confidence - chance) / (1 - chance)));
        const strength = this.options.discretize ? 1 : sure; // discretized: each class flat
        const alpha = 0.12 + 0.5 * strength;
        const [red, green, blue] = CLASS_RGB[cls % CLASS_RGB.length];
        const i = (row * cells + c) * 4;
        image.data[i] = Math.round(255 + (red - 255) * alpha);
        image.data[i + 1] = Math.round(255 + (green - 255) * alpha);
        image.data[i + 2] = Math.round(255 + (blue - 255) * alpha);
        image.data[i + 3] = 255;
      }
    }
    if (!this.view) {
      stretch(ctx, image, size);
      return;
    }
    const g = grid.bounds; // where the grid lies in the fixed view, faded: a previous run's
    const sx = size / (bounds.x1 - bounds.x0), sy = size / (bounds.y1 - bounds.y0);
    ctx.globalAlpha = 0.4;
    stretch(ctx, image, size, [(g.x0 - bounds.x0) * sx, (bounds.y1 - g.y1) * sy, (g.x1 - g.x0) * sx, (g.y1 - g.y0) * sy]);
    ctx.globalAlpha = 1;
  }

  drawPoints(ctx, bounds, size, ratio) {
    const sx = (x) => ((x - bounds.x0) / (bounds.x1 - bounds.x0)) * size;
    const sy = (y) => size - ((y - bounds.y0) / (bounds.y1 - bounds.y0)) * size;
    const few = this.points.train.length + this.points.val.length <= 200; // a few points: larger dots
    const radius = Math.max(2.2, size / 130) * (few ? 1.5 : 1);
    const splits = this.options.showTest ? ["train", "val", "test"] : ["train", "val"];
    for (const split of splits) {
      const style = POINT_STYLES[split];
      ctx.lineWidth = style.width * ratio;
      for (const [x, y, label] of this.points[split]) {
        ctx.beginPath();
        ctx.arc(sx(x), sy(y), radius, 0, 2 * Math.PI);
        ctx.fillStyle = style.fill(label);
        ctx.fill();
        ctx.strokeStyle = style.stroke(label);
        ctx.stroke();
      }
    }
  }
}

/** A small preview of a 2D set (points only) for the dataset picker. */
export function drawPreview(canvas, points) {
  const ratio = window.devicePixelRatio || 1;
  const size = Math.round((canvas.clientWidth || 48) * ratio);
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, size, size);
  const b = boundsOf(points);
  for (const [x, y, label] of points) {
    ctx.beginPath();
    ctx.arc(((x - b.x0) / (b.x1 - b.x0)) * size, size - ((y - b.y0) / (b.y1 - b.y0)) * size,
      1.6 * ratio, 0, 2 * Math.PI);
    ctx.fillStyle = CLASS_COLORS[label % CLASS_COLORS.length];
    ctx.fill();
  }
}

/**
 * A feature's value over the plane (core.features.feature_pictures: size x size bytes, row 0 at the
 * lowest x2, 128 = zero): negative values orange, positive blue, as TensorFlow Playground colours them.
 */
export function drawFeaturePicture(canvas, base64, size) {
  const bytes = bytesOf(base64);
  const image = new ImageData(size, size);
  const [negative, positive] = [CLASS_RGB[0], CLASS_RGB[1]];
  for (let r = 0; r < size; r += 1) {
    for (let c = 0; c < size; c += 1) {
      const value = (bytes[r * size + c] - 128) / 127; // -1..1
      const [red, green, blue] = value < 0 ? negative : positive;
      const alpha = Math.min(1, Math.abs(value));
      const i = ((size - 1 - r) * size + c) * 4;
      image.data[i] = Math.round(255 + (red - 255) * alpha);
      image.data[i + 1] = Math.round(255 + (green - 255) * alpha);
      image.data[i + 2] = Math.round(255 + (blue - 255) * alpha);
      image.data[i + 3] = 255;
    }
  }
  const pixels = Math.round((canvas.clientWidth || 32) * (window.devicePixelRatio || 1));
  canvas.width = pixels;
  canvas.height = pixels;
  stretch(canvas.getContext("2d"), image, pixels);
}
