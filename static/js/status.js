// The words of the status line: what the run is doing, and what to try when it went wrong.

import { formatNumber } from "./state.js";

const percent = (value) => `${(value * 100).toFixed(1)}%`;

/** A hint for a failure reason, e.g. a lower learning rate when the loss blew up. */
export function hintFor(reason, config) {
  const text = String(reason || "").toLowerCase();
  if (/diverg|nan|inf|overflow|blew up|exploded/.test(text)) {
    const lower = config && config.lr ? formatNumber(Math.max(0.0001, +(config.lr / 10).toPrecision(2))) : "0.01";
    return /lower/.test(text) ? `For example ${lower}.` : `Try a lower learning rate, for example ${lower}.`;
  }
  if (/memory|time|limit|cap/.test(text)) return "Try fewer epochs or a smaller network.";
  return "Check the settings and train again.";
}

/** {text, tone} for a run: tone is one of idle, busy, good, warn, amber, bad (CSS colours the line).
 * A run that ended done without learning (run.warning, from core/verdict.py) is amber, with what
 * happened and what to try. */
export function describeStatus(run) {
  if (!run) return { text: "Ready. Choose a network and press Train.", tone: "idle" };
  const seen = run.epochs.length;
  const total = run.total;
  switch (run.status) {
    case "queued":
      return {
        text: run.position ? `Queued: position ${run.position} in line.` : "Queued: starting soon.",
        tone: "busy",
      };
    case "running":
      // (the epoch in progress: the first as soon as training starts)
      return { text: `Training: epoch ${Math.min(seen + 1, total)} of ${total}.`, tone: "busy" };
    case "done":
      if (run.warning) {
        const why = run.warning.why ? ` ${run.warning.why}` : "";
        return { text: `Done, but it did not learn: ${run.warning.message}${why} ${run.warning.hint}`, tone: "amber" };
      }
      return {
        text: typeof run.test_acc === "number"
          ? `Done: test accuracy ${percent(run.test_acc)} after ${seen} epochs.`
          : `Done after ${seen} epochs.`,
        tone: "good",
      };
    case "stopped":
      return { text: `Stopped after epoch ${seen}.`, tone: "warn" };
    case "interrupted":
      return {
        text: `Interrupted after epoch ${seen}: the server restarted during this run. Its epochs are kept; train again to finish.`,
        tone: "warn",
      };
    case "failed":
      return { text: `Failed: ${run.reason || "the run stopped with an error."} ${hintFor(run.reason, run.config)}`, tone: "bad" };
    default:
      return { text: run.status || "", tone: "idle" };
  }
}

/** "12 s", "5 min", "2 h 10 min" for a duration in seconds. */
export function durationText(seconds) {
  if (seconds < 1) return "under 1 s";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "about 40 s to train" for a run's estimated duration in seconds. */
export function trainTimeText(seconds) {
  return seconds < 1 ? "under 1 s to train" : `about ${durationText(seconds)} to train`;
}

/** "about 12 s left" for an estimate in seconds; "" without one. */
export function timeLeftText(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return "under 1 s left";
  return `about ${durationText(seconds)} left`;
}

/** "15-minute" for a cap of 900 s. */
function limitWords(capSeconds) {
  return capSeconds % 60 === 0 ? `${capSeconds / 60}-minute` : `${capSeconds}-second`;
}

/** The sentence for a run the wall-clock cap will stop after `epoch` of `total` epochs (`planned`:
 * not started yet). */
export function capText(epoch, total, capSeconds, planned = false) {
  const where = epoch > 0 ? `after about epoch ${epoch} of ${total}` : "before its first epoch ends";
  const who = planned ? "A run of these settings would" : "This run will";
  return `${who} stop at the ${limitWords(capSeconds)} limit, ${where}.`;
}

/**
 * The epoch a training run will have finished when the cap stops it, from its measured speed
 * (a RunSession progress()), or null when it will finish in time (or nothing is measured yet).
 */
export function epochAtCap(progress, capSeconds) {
  const { elapsed, secondsLeft, currentLeft, perEpoch, seen, total } = progress;
  if (!capSeconds || elapsed === null || secondsLeft === null || !perEpoch) return null;
  if (elapsed + secondsLeft <= capSeconds) return null;
  const afterThisEpoch = capSeconds - elapsed - currentLeft;
  if (afterThisEpoch < 0) return seen;
  return Math.min(total - 1, seen + 1 + Math.floor(afterThisEpoch / perEpoch));
}
