// A vertical line over a Plotly chart at the player's epoch. It is an element of the page laid over the
// plot (not a Plotly shape), so moving it 60 times a second costs a style change, not a relayout. It
// reads where the plot area is from Plotly's laid-out axes and moves again after every redraw.

export class EpochMarker {
  /** plot: the chart's element (Plotly's graph div); its parent holds the marker. */
  constructor(plot) {
    this.plot = plot;
    this.epoch = null;
    this.line = document.createElement("div");
    this.line.className = "epoch-marker";
    this.line.hidden = true;
    this.line.setAttribute("aria-hidden", "true");
    plot.parentElement.append(this.line);
    this.hooked = false;
  }

  /** Put the marker at an epoch (null: none). */
  show(epoch) {
    this.epoch = epoch;
    this.place();
  }

  /** Re-place the marker (after Plotly drew the chart, or the page resized). */
  place() {
    const plot = this.plot;
    if (!this.hooked && typeof plot.on === "function") {
      plot.on("plotly_afterplot", () => this.place());
      this.hooked = true;
    }
    const layout = plot._fullLayout; // Plotly's laid-out figure: the axes' pixel offsets and ranges
    const axis = layout && layout.xaxis;
    const size = layout && layout._size;
    const epoch = this.epoch;
    if (!epoch || !axis || !size || !Array.isArray(axis.range) || !(axis._length > 0)) {
      this.line.hidden = true;
      return;
    }
    const [low, high] = axis.range.map(Number);
    const x = axis._offset + ((epoch - low) / (high - low)) * axis._length;
    this.line.hidden = x < axis._offset - 1 || x > axis._offset + axis._length + 1;
    this.line.style.transform = `translate(${(plot.offsetLeft + x).toFixed(1)}px, ${plot.offsetTop + size.t}px)`;
    this.line.style.height = `${size.h}px`;
    this.line.dataset.epoch = String(epoch);
  }
}
