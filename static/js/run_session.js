// The run on the page, from the moment it is shown until it ends: its state, its event stream and
// what it still needs from /views. Listeners (charts, views, status line, run list) draw its changes;
// nothing else changes the run.
//
// Events:   "show" (run)        a run is now the one on the page (its recorded epochs included)
//           "epochs" (epochs)   new epochs of that run, at most once per animation frame
//           "views" (views)     what it learned: {grid, epoch} or {confusion, epoch} from the stream;
//                               points, misclassified, first_layer, sizes (and, for a run that ended
//                               before it was shown, grid and confusion) from GET /views
//           "progress" (run)    its status, epoch count or test accuracy changed
//           "error" (message)   its event stream is lost
//
// Where the data comes from: the event stream is the only live source (each epoch event carries the
// decision grid or the confusion matrix). GET /views is asked only for what events do not carry:
// the 2D data points, once per run; MNIST's misclassified digits and first-layer weights when a run
// is shown, LIVE_VIEW_REFRESHES times while it trains (see viewsDue) and once when it ends.

import * as api from "./api.js";

const FINAL = new Set(["done", "stopped", "failed", "interrupted"]);
const LIVE_VIEW_REFRESHES = 5;

export function isFinal(status) {
  return FINAL.has(status);
}

/** Seconds left from the mean seconds per epoch so far (null before the first epoch or after the last). */
function secondsLeft(epochs, total) {
  const done = epochs.length;
  if (!done || done >= total) return null;
  return (epochs.reduce((sum, e) => sum + (e.seconds || 0), 0) / done) * (total - done);
}

export class RunSession {
  /** isTwoD(dataset): whether a dataset is a 2D set (its runs have data points to draw). */
  constructor(isTwoD) {
    this.isTwoD = isTwoD;
    this.listeners = new Map();
    this.current = null; // {id, config, status, total, epochs, test_acc, reason, position, color, sizes, ...}
    this.closeStream = null;
    this.frame = 0;
  }

  on(kind, listener) {
    if (!this.listeners.has(kind)) this.listeners.set(kind, []);
    this.listeners.get(kind).push(listener);
  }

  emit(kind, value) {
    for (const listener of this.listeners.get(kind) || []) listener(value);
  }

  /** The run on the page (read it, do not change it), or null before the first. */
  get run() {
    return this.current;
  }

  /** The numbers behind the status line: epochs seen of total, and the time left while training. */
  progress() {
    const run = this.current;
    if (!run) return null;
    const seen = run.epochs.length;
    return {
      status: run.status,
      seen,
      total: run.total,
      fraction: run.total ? seen / run.total : 0,
      secondsLeft: run.status === "running" ? secondsLeft(run.epochs, run.total) : null,
    };
  }

  /**
   * Make a run the one on the page: `run` is the API's run JSON (or POST /api/runs's answer with
   * status and epochs added). Its recorded epochs are shown at once; a run not over is followed.
   */
  show(run, color) {
    if (this.closeStream) this.closeStream();
    this.closeStream = null;
    const epochs = [...(run.epochs || [])];
    const state = {
      id: run.id,
      config: run.config,
      status: run.status,
      total: run.total_epochs || run.config.epochs,
      epochs,
      test_acc: run.test_acc ?? null,
      reason: run.reason || null,
      position: run.position ?? null,
      color: color || "#1a73e8",
      sizes: run.sizes || null,
      events: run.events || `/api/runs/${encodeURIComponent(run.id)}/events`,
      pending: [], // epochs received, drawn at the next animation frame
      view: null, // the latest epoch event's grid or confusion, drawn at the next frame
      followed: !isFinal(run.status),
      nextViewsAt: 1, // MNIST: the epoch from which /views is due again (see viewsDue)
      viewsLoading: false,
      viewsAgain: false,
    };
    this.current = state;
    this.emit("show", state);
    this.emit("progress", state);
    const twoD = this.isTwoD(state.config.dataset);
    if (twoD || epochs.length || !state.followed) this.loadViews(state);
    if (!twoD && epochs.length) state.nextViewsAt = epochs.length + this.viewsStep(state);
    if (state.followed) this.follow(state);
  }

  /** Ask the server to stop the run on the page. Resolves once it answered; throws an ApiError. */
  async stop() {
    const run = this.current;
    if (!run || isFinal(run.status)) return;
    const answer = await api.stopRun(run.id);
    // Followed, the stream's "done" ends the run; without a stream (lost), the answer is the news.
    if (run === this.current && !this.closeStream && answer && answer.status) {
      run.status = answer.status;
      this.emit("progress", run);
    }
  }

  /** Follow the run's event stream, from its last recorded epoch (replayed for its view) on. */
  follow(run) {
    const recorded = run.epochs.length;
    const url = recorded ? `${run.events}?last_event_id=${recorded - 1}` : run.events;
    this.closeStream = api.streamRun(url, {
      status: (data) => {
        if (run !== this.current) return;
        run.status = data.status || run.status;
        run.position = data.position ?? null;
        if (data.reason) run.reason = data.reason;
        this.emit("progress", run);
      },
      epoch: (data) => {
        if (run !== this.current) return;
        this.receive(run, data);
      },
      done: (data) => {
        if (run !== this.current) return;
        this.flush();
        run.status = data.status || "done";
        if (typeof data.test_acc === "number") run.test_acc = data.test_acc;
        if (data.reason) run.reason = data.reason;
        this.closeStream = null;
        this.emit("progress", run);
        if (!this.isTwoD(run.config.dataset) && run.epochs.length) this.loadViews(run);
      },
      error: (message) => {
        if (run === this.current) this.emit("error", message);
      },
    });
  }

  /** An epoch event: its metrics wait for the next frame; its view replaces any older one waiting. */
  receive(run, data) {
    const { grid, confusion, ...metrics } = data;
    const known = run.epochs.length + run.pending.length;
    if (data.epoch < known) return; // already shown (a replay after reconnecting)
    if (data.epoch > known) run.pending.push(metrics);
    if (grid || confusion) run.view = grid ? { grid, epoch: data.epoch } : { confusion, epoch: data.epoch };
    if (run.status === "queued") run.status = "running";
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.flush();
      });
    }
  }

  /** Hand the epochs and the view that arrived since the last frame to the listeners. */
  flush() {
    const run = this.current;
    if (!run || (!run.pending.length && !run.view)) return;
    const epochs = run.pending;
    const view = run.view;
    run.pending = [];
    run.view = null;
    if (epochs.length) {
      run.epochs.push(...epochs);
      const latest = epochs[epochs.length - 1];
      if (typeof latest.test_acc === "number") run.test_acc = latest.test_acc;
      this.emit("epochs", epochs);
    }
    if (view) this.emit("views", view);
    this.emit("progress", run);
    if (this.viewsDue(run)) this.loadViews(run);
  }

  /** MNIST epochs between two /views while a run trains: LIVE_VIEW_REFRESHES spread over the run. */
  viewsStep(run) {
    return Math.max(1, Math.ceil(run.total / LIVE_VIEW_REFRESHES));
  }

  // The misclassified digits and first-layer weights change with every epoch, but no event carries
  // them (about 100 kB gzipped for a 100-unit layer): while an MNIST run trains they are fetched at
  // its first epoch and then every viewsStep epochs, a fixed number of times however long the run
  // or fast the server, so they still visibly follow the training. The last epoch is left to the
  // refresh at the end.
  viewsDue(run) {
    const seen = run.epochs.length;
    if (this.isTwoD(run.config.dataset) || isFinal(run.status) || seen >= run.total || seen < run.nextViewsAt) {
      return false;
    }
    run.nextViewsAt = seen + this.viewsStep(run);
    return true;
  }

  /** GET /views for a run; asked again while one is on its way, it runs once more after it. */
  async loadViews(run) {
    if (run.viewsLoading) {
      run.viewsAgain = true;
      return;
    }
    run.viewsLoading = true;
    try {
      const views = await api.getViews(run.id);
      if (run !== this.current) return;
      // A followed run's grid and confusion come from its events; the answer may be older than them.
      const { grid, confusion, ...rest } = views;
      this.emit("views", run.followed ? rest : { ...rest, grid, confusion });
    } catch (error) {
      if (error.status !== 409) console.warn("views:", error.message);
    } finally {
      run.viewsLoading = false;
      if (run.viewsAgain && run === this.current) {
        run.viewsAgain = false;
        this.loadViews(run);
      }
    }
  }
}
