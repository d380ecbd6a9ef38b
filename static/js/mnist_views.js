// What an MNIST network learned: the confusion matrix, the digits it gets wrong, and the
// first layer's weights drawn as 28x28 images.

import { drawDigit } from "./digits.js";

function cell(tag, text, className) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** counts[true][predicted] as a table; the shade of a cell is its share of the true class's row. */
function renderConfusion(table, counts, classes) {
  const n = counts.length;
  const names = classes || counts.map((_, i) => String(i));
  const head = cell("thead");
  const headRow = cell("tr");
  const corner = cell("th", undefined, "corner");
  corner.append(cell("span", "true digit by row, predicted digit by column", "visually-hidden"));
  headRow.append(corner);
  for (const name of names) {
    const th = cell("th", name);
    th.scope = "col";
    headRow.append(th);
  }
  head.append(headRow);
  const body = cell("tbody");
  let right = 0, total = 0;
  for (let t = 0; t < n; t += 1) {
    const row = cell("tr");
    const th = cell("th", names[t]);
    th.scope = "row";
    row.append(th);
    const rowSum = counts[t].reduce((a, b) => a + b, 0) || 1;
    for (let p = 0; p < n; p += 1) {
      const count = counts[t][p];
      total += count;
      if (t === p) right += count;
      const td = cell("td", String(count), t === p ? "hit" : "miss");
      const share = count / rowSum;
      // Shades are set through the CSSOM (element.style), which a strict CSP allows.
      if (t === p) td.style.backgroundColor = `rgba(43, 123, 185, ${(0.08 + 0.8 * share).toFixed(3)})`;
      else if (count > 0) td.style.backgroundColor = `rgba(217, 83, 79, ${Math.min(0.85, 0.1 + 3 * share).toFixed(3)})`;
      if ((t === p && share > 0.55) || (t !== p && share > 0.2)) td.classList.add("strong");
      td.title = `true ${names[t]}, predicted ${names[p]}: ${count}`;
      row.append(td);
    }
    body.append(row);
  }
  table.replaceChildren(head, body);
  table.dataset.total = String(total);
  return total ? right / total : null;
}

/** Misclassified test digits with their true and predicted labels. */
function renderMisclassified(list, items) {
  list.replaceChildren();
  for (const item of items) {
    const entry = cell("li", undefined, "digit-card");
    const canvas = cell("canvas", undefined, "digit-image");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `a ${item.true} read as ${item.predicted}`);
    drawDigit(canvas, item.pixels);
    const caption = cell("span", undefined, "digit-caption");
    caption.append(cell("b", String(item.true), "true-label"), " → ", cell("b", String(item.predicted), "pred-label"));
    const sure = cell("span", `${Math.round(item.probability * 100)}%`, "digit-sure");
    entry.append(canvas, caption, sure);
    list.append(entry);
  }
}

/** The first layer's weights into each unit as a grid of 28x28 tiles (blue < 0 < red; 128 = zero). */
function renderFirstLayer(canvas, images) {
  const count = images.length;
  const cols = Math.ceil(Math.sqrt(count)) || 1;
  const rows = Math.ceil(count / cols) || 1;
  const tile = 29; // 28 px and a 1 px gap
  canvas.width = cols * tile - 1;
  canvas.height = rows * tile - 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  images.forEach((pixels, k) => {
    const ox = (k % cols) * tile, oy = Math.floor(k / cols) * tile;
    for (let i = 0; i < 784; i += 1) {
      const w = (pixels[i] - 128) / 127; // -1..1
      const j = ((oy + Math.floor(i / 28)) * canvas.width + ox + (i % 28)) * 4;
      const a = Math.min(1, Math.abs(w));
      const [r, g, b] = w >= 0 ? [200, 60, 50] : [40, 100, 180];
      image.data[j] = Math.round(255 + (r - 255) * a);
      image.data[j + 1] = Math.round(255 + (g - 255) * a);
      image.data[j + 2] = Math.round(255 + (b - 255) * a);
    }
  });
  ctx.putImageData(image, 0, 0);
  canvas.dataset.units = String(count);
}

/**
 * The three MNIST panels of a run: each shows its placeholder until the run's views fill it.
 * elements: {confusion, confusionEmpty, mistakes, mistakesEmpty, firstLayer, weightsEmpty}.
 */
export class MnistPanels {
  constructor(elements) {
    this.elements = elements;
  }

  clear() {
    const e = this.elements;
    e.confusion.replaceChildren();
    e.confusionEmpty.hidden = false;
    e.mistakes.replaceChildren();
    e.mistakesEmpty.hidden = false;
    e.firstLayer.hidden = true;
    e.weightsEmpty.hidden = false;
  }

  /** Whichever of {confusion, misclassified, first_layer} the views hold. */
  show(views) {
    const e = this.elements;
    if (views.confusion) {
      renderConfusion(e.confusion, views.confusion);
      e.confusionEmpty.hidden = true;
    }
    if (views.misclassified) {
      renderMisclassified(e.mistakes, views.misclassified);
      e.mistakesEmpty.hidden = views.misclassified.length > 0;
    }
    if (views.first_layer && views.first_layer.length) {
      renderFirstLayer(e.firstLayer, views.first_layer);
      e.firstLayer.hidden = false;
      e.weightsEmpty.hidden = true;
    }
  }
}

/** The MNIST tile in the dataset picker: four sample digits. */
export function drawMnistPreview(canvas, samples) {
  const shown = samples.slice(0, 4);
  canvas.width = 56;
  canvas.height = 56;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, 56, 56);
  shown.forEach((sample, k) => {
    const small = document.createElement("canvas");
    drawDigit(small, sample.pixels);
    ctx.drawImage(small, (k % 2) * 28, Math.floor(k / 2) * 28);
  });
}
