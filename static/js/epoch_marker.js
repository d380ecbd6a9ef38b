// A vertical line over a Plotly chart at the player's epoch. It is an element of the page laid over the
// plot (not a Plotly shape) on a layer of its own, so moving it 60 times a second costs a transform, not
// a relayout or a repaint of the chart. Where the plot area is comes from Plotly's laid-out axes, read
// after every redraw (place), never while moving (show).

export class EpochMarker {
  /** plot: the chart's element (Plotly's graph div); its parent holds the marker. */
  constructor(plot) {
    this.plot = plot;
    this.epoch = null;
    this.area = null; // {left, top, width, height, low, high}: the plot area in the parent's pixels
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
    if (!this.area) this.place();
    else this.move();
  }

  /** Read where the plot area is now (after Plotly drew the chart, or the page resized), then move. */
  place() {
    const plot = this.plot;
    if (!this.hooked && typeof plot.on === "function") {
      plot.on("plotly_afterplot", () => this.place());
      this.hooked = true;
    }
    const layout = plot._fullLayout; // Plotly's laid-out figure: the axes' pixel offsets and ranges
    const axis = layout && layout.xaxis;
    const size = layout && layout._size;
    if (!axis || !size || !Array.isArray(axis.range) || !(axis._length > 0)) {
      this.area = null;
    } else {
      const [low, high] = axis.range.map(Number);
      this.area = {
        left: plot.offsetLeft + axis._offset,
        top: plot.offsetTop + size.t,
        width: axis._length,
        height: size.h,
        low,
        high,
      };
      this.line.style.height = `${size.h}px`;
    }
    this.move();
  }

  move() {
    const { area, epoch, line } = this;
    const x = area && epoch ? ((epoch - area.low) / (area.high - area.low)) * area.width : NaN;
    line.hidden = !(x >= -1 && x <= area.width + 1);
    if (line.hidden) return;
    line.style.transform = `translate(${(area.left + x).toFixed(1)}px, ${area.top}px)`;
    line.dataset.epoch = String(epoch);
  }
}
