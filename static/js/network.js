// The network drawn as its layer sizes: a column of units per layer (at most 8 drawn), the
// connections between them, the size under each column, and the parameter count.

import { parameterCount } from "./state.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_DRAWN = 8;

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** y positions of the units drawn for a layer of `size` units (a gap marks the ones left out). */
function unitPositions(size, top, bottom) {
  const drawn = Math.min(size, MAX_DRAWN);
  const step = Math.min(14, (bottom - top) / Math.max(1, drawn - 1 + (size > MAX_DRAWN ? 1 : 0)));
  const height = step * (drawn - 1 + (size > MAX_DRAWN ? 1 : 0));
  const start = (top + bottom) / 2 - height / 2;
  const positions = [];
  for (let i = 0; i < drawn; i += 1) {
    const skip = size > MAX_DRAWN && i >= drawn / 2 ? 1 : 0; // leave a gap in the middle
    positions.push(start + (i + skip) * step);
  }
  return { positions, gap: size > MAX_DRAWN ? start + (drawn / 2) * step : null };
}

export function drawNetwork(svg, caption, sizes) {
  const width = 560, height = 150, top = 18, bottom = 104;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const xs = sizes.map((_, i) => 40 + (i * (width - 80)) / Math.max(1, sizes.length - 1));
  const layers = sizes.map((size) => unitPositions(size, top, bottom));
  const edges = element("g", { class: "edges" });
  for (let l = 1; l < sizes.length; l += 1) {
    for (const y0 of layers[l - 1].positions) {
      for (const y1 of layers[l].positions) {
        edges.append(element("line", { x1: xs[l - 1], y1: y0, x2: xs[l], y2: y1 }));
      }
    }
  }
  svg.append(edges);
  sizes.forEach((size, l) => {
    const kind = l === 0 ? "input" : l === sizes.length - 1 ? "output" : "hidden";
    const group = element("g", { class: `layer ${kind}` });
    for (const y of layers[l].positions) group.append(element("circle", { cx: xs[l], cy: y, r: 5 }));
    if (layers[l].gap !== null) {
      group.append(element("text", { x: xs[l], y: layers[l].gap + 4, class: "gap" }, "⋮"));
    }
    const name = kind === "input" ? "input" : kind === "output" ? "output" : `hidden ${l}`;
    group.append(element("text", { x: xs[l], y: 126, class: "size" }, size.toLocaleString("en")));
    group.append(element("text", { x: xs[l], y: 142, class: "name" }, name));
    svg.append(group);
  });
  const count = parameterCount(sizes);
  caption.textContent = `${sizes.join(" → ")} · ${count.toLocaleString("en")} parameters`;
  svg.dataset.sizes = sizes.join(",");
  return count;
}
