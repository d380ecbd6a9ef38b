// The network diagram's data of one epoch (core.views.neuron_view, the `neurons` of an epoch event),
// decoded, and the small pictures of units painted from it: a hidden unit's output over the plane
// (orange below zero, blue above, deeper = larger, as TensorFlow Playground colours them), an output
// unit's class probability (white to the class's colour), an input feature's value.

import { CLASS_RGB } from "./heatmap.js";

// core.views.pack_signed: one base64 digit k per value, standing for (k - 31) / 31 of its scale.
const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const STEPS = 31;
const DIGIT_VALUE = new Int8Array(128);
for (let k = 0; k < DIGITS.length; k += 1) DIGIT_VALUE[DIGITS.charCodeAt(k)] = k;

/** pack_signed's text -> its values (Float32Array), each scaled by `scale`. */
export function unpackSigned(text, scale, from = 0, count = text.length - from) {
  const values = new Float32Array(count);
  const step = scale / STEPS;
  for (let i = 0; i < count; i += 1) values[i] = (DIGIT_VALUE[text.charCodeAt(from + i)] - STEPS) * step;
  return values;
}

/**
 * An epoch's `neurons` -> {size, layers: [{inputs, units, weights, biases, pictures, scales}]}, one
 * layer per Dense layer (input side first): `weights[i * units + j]` is the weight from input unit i
 * to unit j; `pictures[u]` (2D sets, else null) is unit u's output on size x size cells, row after
 * row, row 0 at the lowest y. Only the first units of each layer are recorded (`units` of them).
 */
export function decodeNeurons(neurons) {
  const size = neurons.size || 0;
  const cells = size * size;
  const layers = neurons.layers.map((layer) => {
    const units = layer.biases.length;
    const weights = unpackSigned(layer.weights, layer.weight_scale);
    let pictures = null;
    if (cells && typeof layer.pictures === "string") {
      pictures = layer.scales.map((scale, u) => unpackSigned(layer.pictures, scale, u * cells, cells));
    }
    return { inputs: units ? weights.length / units : 0, units, weights, biases: layer.biases, pictures, scales: layer.scales || null };
  });
  return { size, layers };
}

/** The smallest and largest of a unit's picture. */
export function rangeOf(values) {
  let low = Infinity, high = -Infinity;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return [low, high];
}

function blend(data, i, [red, green, blue], alpha) {
  data[i] = 255 + (red - 255) * alpha;
  data[i + 1] = 255 + (green - 255) * alpha;
  data[i + 2] = 255 + (blue - 255) * alpha;
  data[i + 3] = 255;
}

/**
 * Paint a picture into `image` (an ImageData `size` wide) at row `top`, flipped so that the plane's
 * lowest y is at the bottom. values: signed values scaled by `scale` (diverging colours), or, with
 * `classIndex`, probabilities in 0..1 (white to that class's colour).
 */
export function paintPicture(image, top, size, values, scale, classIndex = null) {
  const data = image.data;
  const tint = classIndex === null ? null : CLASS_RGB[classIndex % CLASS_RGB.length];
  const [negative, positive] = [CLASS_RGB[0], CLASS_RGB[1]];
  const inverse = scale > 0 ? 1 / scale : 0;
  for (let r = 0; r < size; r += 1) {
    const row = top + size - 1 - r;
    for (let c = 0; c < size; c += 1) {
      const value = values[r * size + c];
      const i = (row * image.width + c) * 4;
      if (tint) blend(data, i, tint, Math.min(1, Math.max(0, value)));
      else blend(data, i, value < 0 ? negative : positive, Math.min(1, Math.abs(value) * inverse));
    }
  }
}
