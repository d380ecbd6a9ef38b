// The timeline player under the charts: Play / Pause, Step back, Step forward, an "Epoch" slider over
// the recorded epochs and a "Speed" in epochs per second. It only chooses an epoch; whoever created it
// draws that epoch (onChange). Playing moves through the recorded epochs at the chosen speed and never
// past the last one: while the run still trains, arriving epochs are shown as they come ("live") once
// playing has caught up with them. Keyboard (outside form fields): space plays or pauses, the arrow keys
// step.

const SPEEDS = [1, 2, 5, 10, 20, 30, 60, 120, 240]; // epochs per second
const DEFAULT_SPEED = 20; // a 100-epoch 2D run plays in 5 s

// Where the keys are the focused element's own: fields take the arrow keys and space (typing, choosing,
// sliding); buttons and links take space (pressing them), not the arrows.
const FIELDS = "input, select, textarea, [contenteditable], [role=slider]";
const PRESSABLE = "button, a[href], summary";

export class Player {
  /**
   * elements: {root, play, back, forward, slider, position, live, speed}. onChange(epoch, state) is
   * called whenever the selected epoch or the state changes; state: {playing, live}.
   */
  constructor(elements, onChange) {
    this.e = elements;
    this.onChange = onChange;
    this.available = 0; // epochs recorded so far
    this.final = true; // no more epochs will come
    this.epoch = 0; // the selected epoch (0: none yet)
    this.cursor = 0; // where playing is, in fractional epochs
    this.playing = false;
    this.target = null; // an epoch asked for (by the link) that has not arrived yet
    this.frame = 0;
    this.last = 0;
    const speed = elements.speed;
    speed.replaceChildren(
      ...SPEEDS.map((value) => new Option(`${value} epoch${value === 1 ? "" : "s"}/s`, String(value), false, value === DEFAULT_SPEED)),
    );
    elements.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    elements.back.addEventListener("click", () => this.step(-1));
    elements.forward.addEventListener("click", () => this.step(1));
    elements.slider.addEventListener("input", () => {
      this.stop();
      this.select(Number(elements.slider.value));
    });
    document.addEventListener("keydown", (event) => this.key(event));
    this.render();
  }

  get speed() {
    return Number(this.e.speed.value) || DEFAULT_SPEED;
  }

  /** Playing and caught up with a run that still trains: each epoch is shown as it arrives. */
  get live() {
    return this.playing && !this.final && this.epoch >= this.available;
  }

  /**
   * A new run on the page. available: its recorded epochs; final: it has ended. epoch: where to
   * open (a link's ?epoch=), else at the latest, playing along if it still trains; fromStart: play it
   * from its first epoch (a run just started here).
   */
  reset({ available, final, epoch = null, fromStart = false }) {
    this.available = available;
    this.final = final;
    this.target = epoch !== null && epoch > available ? epoch : null;
    const start = fromStart ? 0 : epoch !== null ? Math.min(epoch, available) : available;
    this.epoch = start;
    this.cursor = start;
    this.stop();
    if (fromStart || (epoch === null && !final)) this.play(false);
    this.changed();
  }

  /** More epochs were recorded, or the run ended. */
  setAvailable(available, final) {
    const previous = this.available;
    this.available = available;
    this.final = final;
    if (this.target !== null && this.target <= available) {
      const target = this.target;
      this.stop();
      this.select(target);
      return;
    }
    if (!this.playing) {
      this.render();
      return;
    }
    if (this.cursor >= previous && available > previous) {
      this.cursor = previous + 1; // caught up ("live"): the next epoch at once, then at the speed
      this.last = performance.now();
    }
    this.tick();
  }

  /** Where the address should point: "?epoch=N" at a chosen moment; "" (the run itself) while it plays
   * and at the last epoch of a run that has ended. */
  query() {
    if (!this.epoch || this.playing || (this.final && this.epoch === this.available)) return "";
    return `?epoch=${this.epoch}`;
  }

  play(restart = true) {
    if (restart && this.final && this.epoch >= this.available) this.cursor = 0; // from the start again
    else this.cursor = this.epoch;
    this.playing = true;
    this.last = performance.now();
    if (!this.frame) this.frame = requestAnimationFrame((now) => this.advance(now));
    this.changed();
  }

  pause() {
    this.stop();
    this.changed();
  }

  stop() {
    this.playing = false;
    this.target = null;
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  step(delta) {
    this.stop();
    this.select(this.epoch + delta);
  }

  /** Select an epoch (kept within the recorded ones). */
  select(epoch) {
    const next = Math.max(this.available ? 1 : 0, Math.min(this.available, Math.round(epoch)));
    this.cursor = next;
    if (next !== this.epoch) {
      this.epoch = next;
      this.changed();
    } else {
      this.render();
    }
  }

  advance(now) {
    this.frame = 0;
    if (!this.playing) return;
    this.cursor += (Math.min(now - this.last, 250) / 1000) * this.speed; // a hidden tab's gap: no jump
    this.last = now;
    this.tick();
  }

  /** Playing: show where the cursor is. At the last recorded epoch it stops if the run has ended, or
   * waits for the next epoch (setAvailable goes on). */
  tick() {
    const atEnd = this.cursor >= this.available;
    if (atEnd) {
      this.cursor = this.available;
      if (this.final) this.stop();
    }
    const epoch = Math.max(Math.min(1, this.available), Math.floor(this.cursor));
    const changed = epoch !== this.epoch;
    this.epoch = epoch;
    if (changed || !this.playing || atEnd) this.changed();
    // The next step is asked for after the drawing this one scheduled (onChange): in the next frame the
    // drawing runs first, then the step, which schedules the drawing of its epoch for the frame after.
    // The other way round, a step would find the drawing still pending and every other epoch be lost.
    if (this.playing && !atEnd && !this.frame) this.frame = requestAnimationFrame((now) => this.advance(now));
  }

  changed() {
    this.render();
    this.onChange(this.epoch, { playing: this.playing, live: this.live });
  }

  render() {
    const { root, play, back, forward, slider, position, live } = this.e;
    const none = this.available === 0;
    root.dataset.epoch = String(this.epoch);
    root.dataset.state = this.live ? "live" : this.playing ? "playing" : "paused";
    play.textContent = this.playing ? "Pause" : "Play";
    play.disabled = none && this.final;
    back.disabled = none || this.epoch <= 1;
    forward.disabled = none || this.epoch >= this.available;
    slider.disabled = none;
    slider.max = String(Math.max(1, this.available));
    slider.value = String(Math.max(1, this.epoch));
    const text = none ? "No epoch yet" : `Epoch ${this.epoch} of ${this.available}`;
    slider.setAttribute("aria-valuetext", text);
    position.textContent = text;
    live.hidden = !this.live;
  }

  key(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (this.e.root.hidden || !this.available) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest(FIELDS)) return;
    if (event.key === " ") {
      if (target && target.closest(PRESSABLE)) return;
      if (this.playing) this.pause();
      else this.play();
    } else if (event.key === "ArrowLeft") {
      this.step(-1);
    } else if (event.key === "ArrowRight") {
      this.step(1);
    } else {
      return;
    }
    event.preventDefault();
  }
}
