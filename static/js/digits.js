// "Draw a digit": a canvas you draw on, turned into a 28x28 MNIST-like image (the ink's bounding
// box scaled to fit 20x20, then its centre of mass moved to the centre of the 28x28 field, as MNIST
// was made), and a bar chart of the network's probabilities for it.

const PAD = 280; // internal canvas size; 10x the MNIST field
const STROKE = 18; // about 2 px once the digit is scaled to 20 px, like MNIST's pens

/** Ink (alpha 0..255, row-major width x height) -> 784 values in 0..1, or null when blank. */
export function toMnistPixels(alpha, width, height) {
  let minX = width, minY = height, maxX = -1, maxY = -1;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      if (alpha[y * width + x] > 0) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return null;
  const boxW = maxX - minX + 1, boxH = maxY - minY + 1;
  const scale = 20 / Math.max(boxW, boxH);
  const w = Math.max(1, Math.round(boxW * scale)), h = Math.max(1, Math.round(boxH * scale));

  // Area-average the bounding box down to w x h (each small pixel = mean of the ink it covers).
  const sum = new Float32Array(w * h), count = new Float32Array(w * h);
  for (let y = minY; y <= maxY; y += 1) {
    const ty = Math.min(h - 1, Math.floor((y - minY) * scale));
    for (let x = minX; x <= maxX; x += 1) {
      const tx = Math.min(w - 1, Math.floor((x - minX) * scale));
      sum[ty * w + tx] += alpha[y * width + x] / 255;
      count[ty * w + tx] += 1;
    }
  }
  let mass = 0, cx = 0, cy = 0;
  const box = new Float32Array(w * h);
  for (let i = 0; i < w * h; i += 1) {
    box[i] = count[i] ? Math.min(1, sum[i] / count[i]) : 0;
    mass += box[i];
    cx += box[i] * (i % w);
    cy += box[i] * Math.floor(i / w);
  }
  if (mass === 0) return null;
  // Put the centre of mass (pixel centres are at +0.5) at the field's centre, 14.
  const left = Math.round(14 - (cx / mass + 0.5));
  const top = Math.round(14 - (cy / mass + 0.5));
  const pixels = new Array(784).fill(0);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const px = left + x, py = top + y;
      if (px >= 0 && px < 28 && py >= 0 && py < 28) pixels[py * 28 + px] = Math.round(box[y * w + x] * 1000) / 1000;
    }
  }
  return pixels;
}

/** Draw a 28x28 digit (values 0..255, ink high) as dark ink on white onto a canvas. */
export function drawDigit(canvas, pixels) {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i += 1) {
    const shade = 255 - pixels[i];
    image.data[i * 4] = shade;
    image.data[i * 4 + 1] = shade;
    image.data[i * 4 + 2] = Math.min(255, shade + 8);
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** The drawing pad. onChange(pixels | null) is called while drawing (throttled) and after. */
export class DigitPad {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    canvas.width = PAD;
    canvas.height = PAD;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.drawing = false;
    this.last = null;
    this.timer = 0;
    canvas.addEventListener("pointerdown", (e) => this.start(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.end());
    canvas.addEventListener("pointercancel", () => this.end());
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) / rect.width) * PAD, ((event.clientY - rect.top) / rect.height) * PAD];
  }

  start(event) {
    if (this.canvas.getAttribute("aria-disabled") === "true") return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.drawing = true;
    this.last = this.point(event);
    this.line(this.last, this.last);
  }

  move(event) {
    if (!this.drawing) return;
    const next = this.point(event);
    this.line(this.last, next);
    this.last = next;
    this.changedSoon();
  }

  end() {
    if (!this.drawing) return;
    this.drawing = false;
    clearTimeout(this.timer);
    this.timer = 0;
    this.onChange(this.pixels());
  }

  line(from, to) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#1f2328";
    ctx.lineWidth = STROKE;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    this.canvas.classList.add("has-ink");
  }

  // Answer as you draw, but at most every 120 ms.
  changedSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.onChange(this.pixels());
    }, 120);
  }

  pixels() {
    const data = this.ctx.getImageData(0, 0, PAD, PAD).data;
    const alpha = new Uint8ClampedArray(PAD * PAD);
    for (let i = 0; i < alpha.length; i += 1) alpha[i] = data[i * 4 + 3];
    return toMnistPixels(alpha, PAD, PAD);
  }

  clear() {
    this.ctx.clearRect(0, 0, PAD, PAD);
    this.canvas.classList.remove("has-ink");
    this.onChange(null);
  }

  /** Put a 28x28 digit (0..255) on the pad, scaled up, as if drawn. */
  show(pixels) {
    const small = document.createElement("canvas");
    small.width = 28;
    small.height = 28;
    const sctx = small.getContext("2d");
    const image = sctx.createImageData(28, 28);
    for (let i = 0; i < 784; i += 1) {
      image.data[i * 4 + 3] = pixels[i];
      image.data[i * 4] = image.data[i * 4 + 1] = 31;
      image.data[i * 4 + 2] = 40;
    }
    sctx.putImageData(image, 0, 0);
    this.ctx.clearRect(0, 0, PAD, PAD);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(small, 0, 0, PAD, PAD);
    this.canvas.classList.add("has-ink");
    this.onChange(this.pixels());
  }
}

/** The probability bar chart: one column per class, the most likely one highlighted. */
export class ProbabilityBars {
  constructor(list, summary) {
    this.list = list;
    this.summary = summary;
    this.items = [];
  }

  build(classes) {
    this.list.replaceChildren();
    this.items = classes.map((name) => {
      const item = document.createElement("li");
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      track.append(fill);
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = name;
      const value = document.createElement("span");
      value.className = "bar-value";
      item.append(value, track, label);
      this.list.append(item);
      return { item, fill, value, name };
    });
    this.show(null);
  }

  show(probabilities) {
    let best = -1;
    if (probabilities) best = probabilities.indexOf(Math.max(...probabilities));
    this.items.forEach((entry, i) => {
      const p = probabilities ? probabilities[i] : 0;
      entry.fill.style.height = `${(p * 100).toFixed(1)}%`; // CSSOM, allowed by a strict CSP
      entry.value.textContent = probabilities ? `${Math.round(p * 100)}%` : "";
      entry.item.dataset.probability = probabilities ? String(p) : "";
      entry.item.classList.toggle("top", i === best);
      entry.item.setAttribute("aria-label", `${entry.name}: ${probabilities ? (p * 100).toFixed(1) : 0}%`);
    });
    this.list.dataset.ready = probabilities ? "true" : "false";
    if (this.summary) {
      this.summary.textContent = probabilities
        ? `Looks like a ${this.items[best].name} (${(probabilities[best] * 100).toFixed(0)}% sure).`
        : "Draw a digit to see what the network thinks it is.";
    }
  }
}
