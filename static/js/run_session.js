// The run on the page, from the moment it is shown until it ends: its state, its event stream and
// what it still needs from /views. Listeners (charts, views, status line, run list) draw what it
// reports; nothing else changes the run.
//
// Events:   "show" (run)        a run is now the one on the page (its recorded epochs included)
//           "epochs" (epochs)   new epochs of that run, at most once per animation frame
//           "timeline" ()       the views of its recorded epochs arrived (GET /timeline): viewAt has them
//           "views" (views)     what it learned beyond each epoch's view, from GET /views: points,
//                               misclassified, first_layer, sizes
//           "progress" (run)    its status, epoch count, progress within an epoch or test accuracy changed
//           "error" (message)   its event stream is lost
//
// Every epoch's view is kept (viewAt), so the player scrubs without a request: each epoch event carries
// the decision grid (2D) or the confusion matrix (MNIST) and the network diagram's units and edges
// (`neurons`). A run shown with recorded epochs gets theirs from GET /timeline, once (gzipped), and
// follows the event stream from after them while it trains. GET /views is asked only for what events do
// not carry: a 2D run's data points, once; an MNIST run's misclassified digits and first-layer weights
// when it is shown, at a few epochs while it trains (see viewsDue) and once when it ends.

import * as api from "./api.js";
import { tokenFor } from "./ownership.js";

const FINAL = new Set(["done", "stopped", "failed", "interrupted"]);
const LIVE_VIEW_REFRESHES = 5; // at most, per MNIST run while it trains (see viewsDue)

export function isFinal(status) {
  return FINAL.has(status);
}

/**
 * Where a training run is in time, from what was measured: the epochs' own seconds and, within a long
 * epoch, the trainer's latest progress report ({epoch, batch, batches, seconds, at}). Answers
 * {perEpoch, currentLeft, secondsLeft}, each null while nothing is measured yet.
 */
function timing(epochs, total, batch) {
  const seen = epochs.length;
  const meanEpoch = seen ? epochs.reduce((sum, e) => sum + (e.seconds || 0), 0) / seen : null;
  if (batch) {
    const perBatch = batch.seconds / batch.batch;
    const sinceReport = (performance.now() - batch.at) / 1000;
    const currentLeft = Math.max(0, (batch.batches - batch.batch) * perBatch - sinceReport);
    const perEpoch = meanEpoch ?? perBatch * batch.batches;
    return { perEpoch, currentLeft, secondsLeft: currentLeft + (total - seen - 1) * perEpoch };
  }
  if (meanEpoch === null || seen >= total) return { perEpoch: meanEpoch, currentLeft: null, secondsLeft: null };
  return { perEpoch: meanEpoch, currentLeft: meanEpoch, secondsLeft: meanEpoch * (total - seen) };
}

export class RunSession {
  /** isTwoD(dataset): whether a dataset is a 2D set (its runs have data points to draw). */
  constructor(isTwoD) {
    this.isTwoD = isTwoD;
    this.listeners = new Map();
    // The run on the page and its bookkeeping: {run, followed, closeStream, pending, view,
    // nextViewsAt, viewsAsked}. Replaced as a whole by show(); callbacks of an older
    // run see that it is no longer this one and do nothing.
    this.live = null;
    this.frame = 0;
  }

  on(kind, listener) {
    if (!this.listeners.has(kind)) this.listeners.set(kind, []);
    this.listeners.get(kind).push(listener);
  }

  emit(kind, value) {
    for (const listener of this.listeners.get(kind) || []) listener(value);
  }

  /**
   * The run on the page, or null before the first: {id, config, status, total, epochs, test_acc,
   * reason, warning, position, color, sizes, events, own}. `warning`: {code, message, hint} when it
   * ended done without learning (core/verdict.py). `own`: this browser started it (holds its owner
   * token), so it may stop it. Read it; only the session changes it.
   */
  get run() {
    return this.live ? this.live.run : null;
  }

  /** The view of an epoch of the run on the page: {grid or confusion, neurons}, or null if not here
   * (yet). */
  viewAt(epoch) {
    return (this.live && this.live.views.get(epoch)) || null;
  }

  /**
   * The numbers behind the status line: epochs seen of total, the share done (within the epoch in
   * progress too) and, while it trains, the seconds since it started (`elapsed`), per epoch, left in
   * the current epoch and left in all (null until measured).
   */
  progress() {
    const run = this.run;
    if (!run) return null;
    const seen = run.epochs.length;
    const batch = this.live.batch && this.live.batch.epoch === seen + 1 ? this.live.batch : null;
    const running = run.status === "running";
    const times = running ? timing(run.epochs, run.total, batch) : { perEpoch: null, currentLeft: null, secondsLeft: null };
    const within = batch ? batch.batch / batch.batches : 0;
    return {
      status: run.status,
      seen,
      total: run.total,
      fraction: run.total ? Math.min(1, (seen + within) / run.total) : 0,
      elapsed: running && run.startedAt ? (Date.now() - run.startedAt) / 1000 : null,
      ...times,
    };
  }

  /**
   * Make a run the one on the page: `run` is the API's run JSON (or POST /api/runs's answer with
   * status and epochs added). Its recorded epochs are shown at once; a run not over is followed.
   */
  show(run, color) {
    if (this.live && this.live.closeStream) this.live.closeStream();
    const epochs = [...(run.epochs || [])];
    const live = {
      run: {
        id: run.id,
        config: run.config,
        status: run.status,
        total: run.total_epochs || run.config.epochs,
        epochs,
        test_acc: run.test_acc ?? null,
        reason: run.reason || null,
        warning: run.warning || null,
        expired: run.expired_message || null, // its weights and views expired (the store budget): why
        position: run.position ?? null,
        color: color || "#1a73e8",
        sizes: run.sizes || null,
        events: run.events || `/api/runs/${encodeURIComponent(run.id)}/events`,
        own: Boolean(tokenFor(run.id)),
        startedAt: run.started_at ? Date.parse(run.started_at) : null, // ms, Date.now()'s clock
      },
      batch: null, // the latest progress within an epoch: {epoch, batch, batches, seconds, at}
      followed: !isFinal(run.status),
      closeStream: null,
      pending: [], // epochs received, handed on at the next animation frame
      views: new Map(), // epoch -> its view: {grid or confusion, neurons}
      nextViewsAt: 1, // MNIST: the epoch from which /views is due again
      viewsAsked: 0, // GET /views asked so far
    };
    this.live = live;
    this.emit("show", live.run);
    this.emit("progress", live.run);
    const twoD = this.isTwoD(run.config.dataset);
    if (epochs.length) this.loadTimeline(live);
    if (!live.run.expired && (twoD || epochs.length || !live.followed)) this.loadViews(live);
    if (!twoD && epochs.length) live.nextViewsAt = epochs.length + this.viewsStep(live.run);
    if (live.followed) this.follow(live);
  }

  /** Ask the server to stop the run on the page (as its owner). Resolves once it answered; throws an
   * ApiError (a 403 if this browser does not hold the run's owner token). */
  async stop() {
    const live = this.live;
    if (!live || isFinal(live.run.status)) return;
    const answer = await api.stopRun(live.run.id, tokenFor(live.run.id));
    // Followed, the stream's "done" ends the run; without a stream (lost), the answer is the news.
    if (live === this.live && !live.closeStream && answer && answer.status) {
      live.run.status = answer.status;
      this.emit("progress", live.run);
    }
  }

  /** Follow the run's event stream from after its recorded epochs (their views come from /timeline). */
  follow(live) {
    const run = live.run;
    const recorded = run.epochs.length;
    const url = recorded ? `${run.events}?last_event_id=${recorded}` : run.events;
    live.closeStream = api.streamRun(url, {
      status: (data) => {
        if (live !== this.live) return;
        this.flush(); // the epochs that came before it are shown before a status that ends the run
        run.status = data.status || run.status;
        if (run.status === "running" && !run.startedAt) run.startedAt = Date.now();
        run.position = data.position ?? null;
        if (data.reason) run.reason = data.reason;
        this.emit("progress", run);
      },
      epoch: (data) => {
        if (live === this.live) this.receive(live, data);
      },
      progress: (data) => {
        if (live !== this.live || data.epoch <= run.epochs.length + live.pending.length) return;
        live.batch = { ...data, at: performance.now() };
        if (run.status === "queued") run.status = "running";
        if (!run.startedAt) run.startedAt = Date.now() - data.seconds * 1000;
        this.emit("progress", run);
      },
      done: (data) => {
        if (live !== this.live) return;
        live.closeStream = null;
        run.status = data.status || "done";
        this.flush(); // the epochs still waiting for a frame (the run is over: no refresh is due)
        if (typeof data.test_acc === "number") run.test_acc = data.test_acc;
        if (data.reason) run.reason = data.reason;
        run.warning = data.warning || null;
        this.emit("progress", run);
        if (!this.isTwoD(run.config.dataset) && run.epochs.length) this.loadViews(live);
      },
      error: (message) => {
        if (live === this.live) this.emit("error", message);
      },
    });
  }

  /** An epoch event (from the stream or /timeline): its view is kept; its metrics, if new, wait for the
   * next frame. */
  receive(live, data) {
    const { grid, confusion, neurons, ...metrics } = data;
    if (grid || confusion) live.views.set(data.epoch, grid ? { grid, neurons } : { confusion, neurons }); // none: expired
    const known = live.run.epochs.length + live.pending.length;
    if (data.epoch <= known) return; // already shown (a replay after reconnecting, or /timeline)
    live.pending.push(metrics);
    if (live.run.status === "queued") live.run.status = "running";
    if (!live.run.startedAt) live.run.startedAt = Date.now() - (metrics.seconds || 0) * 1000;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.flush();
      });
    }
  }

  /** Hand the epochs that arrived since the last frame to the listeners. */
  flush() {
    const live = this.live;
    if (!live || !live.pending.length) return;
    const { run, pending: epochs } = live;
    live.pending = [];
    run.epochs.push(...epochs);
    const latest = epochs[epochs.length - 1];
    if (typeof latest.test_acc === "number") run.test_acc = latest.test_acc;
    this.emit("epochs", epochs);
    this.emit("progress", run);
    if (this.viewsDue(live)) this.loadViews(live);
  }

  /** MNIST epochs between two /views while a run trains: LIVE_VIEW_REFRESHES spread over the run. */
  viewsStep(run) {
    return Math.max(1, Math.ceil(run.total / LIVE_VIEW_REFRESHES));
  }

  // The misclassified digits and first-layer weights change with every epoch, but no event carries
  // them (they are about 100 kB gzipped for a 100-unit layer): while an MNIST run trains they are
  // fetched at its first epoch and then every viewsStep epochs, so they visibly follow the training
  // with a fixed number of requests however long the run or fast the server. The last epoch is
  // left to the refresh at the end.
  viewsDue(live) {
    const { run } = live;
    const seen = run.epochs.length;
    if (this.isTwoD(run.config.dataset) || isFinal(run.status) || seen >= run.total || seen < live.nextViewsAt) {
      return false;
    }
    live.nextViewsAt = seen + this.viewsStep(run);
    return true;
  }

  /** GET /views for a run; of answers that cross, only the last one asked for is drawn. */
  async loadViews(live) {
    const asked = ++live.viewsAsked;
    try {
      const views = await api.getViews(live.run.id);
      if (live !== this.live || asked !== live.viewsAsked) return;
      const { grid, confusion, ...rest } = views; // each epoch's grid and confusion: viewAt
      this.emit("views", rest);
    } catch (error) {
      if (error.status !== 409) console.warn("views:", error.message);
    }
  }

  /** GET /timeline: the recorded epochs' events, each kept as receive() keeps a streamed one. */
  async loadTimeline(live) {
    try {
      const { epochs } = await api.getTimeline(live.run.id);
      if (live !== this.live) return;
      for (const data of epochs) this.receive(live, data);
      this.emit("timeline");
    } catch (error) {
      if (live === this.live) console.warn("timeline:", error.message);
    }
  }
}
