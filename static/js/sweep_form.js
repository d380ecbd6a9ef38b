// The sweep form on the playground page: up to two settings to vary, chosen from the server's axis
// table (core/sweeps.py, in page.sweep.axes), each with up to its values; everything else is the
// controls' config. It shows the sweep's total estimate (GET /api/sweeps/estimate, which also answers
// the sweep's canonical text, lr:0.01,0.1;hidden:8,16), keeps that text in the address as ?sweep= (so
// a shared link pre-fills the form) and starts the sweep (POST /api/sweeps), then opens its page.

import * as api from "./api.js";
import { rememberToken } from "./ownership.js";
import { formatNumber } from "./state.js";

// Values offered when a setting is chosen (the server checks every value against the field table).
const SUGGESTED = {
  lr: [0.01, 0.03, 0.1, 0.3, 1],
  hidden: [4, 8, 16, 32],
  layers: [1, 2, 3],
  batch_size: [8, 16, 32, 64],
  l2: [0, 0.001, 0.01],
  activation: ["relu", "tanh", "sigmoid"],
};
const MAX_AXES = 2;
const ESTIMATE_DELAY_MS = 300;

export class SweepForm {
  /**
   * form: {axes: [<select>], values: [<input>], estimate, error, queryError, run}; sweep: page.sweep
   * ({axes, cap_seconds, vary?, order?: vary's names in order, query?, error?}); currentConfig() -> {config, errors, query}
   * (query: the config's canonical query string, "" while it has errors); prepare(config) -> the
   * config, ready to send (your points stored first); onAddress(): the sweep's text changed.
   */
  constructor(form, sweep, { currentConfig, prepare, onAddress, label }) {
    this.form = form;
    this.axes = sweep.axes || [];
    this.currentConfig = currentConfig;
    this.prepare = prepare;
    this.onAddress = onAddress;
    this.label = label;
    this.query = sweep.query || ""; // the canonical text of the last sweep the server accepted
    this.timer = 0;
    this.asked = "";
    this.busy = false;
    form.axes.forEach((select, i) => {
      for (const axis of this.axes) select.append(new Option(axis.label, axis.name));
      select.addEventListener("change", () => this.onAxisChosen(i));
      form.values[i].addEventListener("input", () => this.changed());
    });
    form.run.addEventListener("click", () => this.run());
    (sweep.order || []).slice(0, MAX_AXES).forEach((name, i) => {
      form.axes[i].value = name;
      form.values[i].value = sweep.vary[name].map(format).join(", ");
    });
    if (sweep.error) {
      form.queryError.textContent = `This link's sweep could not be used: ${sweep.error.error}`;
      form.queryError.hidden = false;
    }
    this.syncPlaceholders();
  }

  /** "&sweep=<text>" for the address while a sweep is set up, else "". */
  param() {
    return this.query && this.chosen().length ? `&sweep=${this.query}` : "";
  }

  chosen() {
    return this.form.axes.map((select, i) => [select.value, this.form.values[i].value]).filter(([name]) => name);
  }

  onAxisChosen(i) {
    const name = this.form.axes[i].value;
    this.form.values[i].value = name ? SUGGESTED[name].map(format).join(", ") : "";
    this.syncPlaceholders();
    this.changed();
  }

  syncPlaceholders() {
    this.form.axes.forEach((select, i) => {
      const input = this.form.values[i];
      const axis = this.axes.find((a) => a.name === select.value);
      input.disabled = !axis;
      input.inputMode = axis && axis.kind === "choice" ? "text" : "decimal";
      input.placeholder = axis ? `e.g. ${(SUGGESTED[axis.name] || []).map(format).join(", ")}` : "Choose a setting";
    });
  }

  /** The controls or the form changed: check, then ask for the estimate (once they settle). */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ESTIMATE_DELAY_MS);
    this.show(null);
    this.form.run.disabled = true;
  }

  /** {vary, text} of the form, or {problem}: a sentence. */
  read() {
    const chosen = this.chosen();
    if (!chosen.length) return { problem: "" };
    if (chosen.length === 2 && chosen[0][0] === chosen[1][0]) return { problem: "Choose two different settings." };
    const vary = {};
    for (const [name, text] of chosen) {
      const axis = this.axes.find((a) => a.name === name);
      const items = text.split(",").map((item) => item.trim()).filter(Boolean);
      if (!items.length) return { problem: `Give the values of ${axis.label}, separated by commas.` };
      const numeric = axis.kind !== "choice";
      if (numeric && items.some((item) => !Number.isFinite(Number(item)))) {
        return { problem: `The values of ${axis.label} must be numbers, separated by commas.` };
      }
      vary[name] = numeric ? items.map(Number) : items;
    }
    const text = Object.entries(vary).map(([name, values]) => `${name}:${values.map(format).join(",")}`).join(";");
    return { vary, text };
  }

  async refresh() {
    const { vary, text, problem } = this.read();
    if (!vary) {
      this.query = "";
      this.form.estimate.textContent = problem ? "" : "Choose a setting to vary.";
      this.show(problem);
      this.onAddress();
      return;
    }
    const { errors, query } = this.currentConfig();
    if (Object.keys(errors).length) {
      const names = Object.keys(errors).map((f) => this.label(f)).join(", ");
      this.form.estimate.textContent = "";
      this.show(`Fix ${names} above first.`);
      return;
    }
    const asked = `${query}|${text}`;
    this.asked = asked;
    let answer;
    try {
      answer = await api.getSweepEstimate(query, text);
    } catch (error) {
      if (this.asked !== asked) return;
      this.form.estimate.textContent = "";
      this.show(error.message);
      return;
    }
    if (this.asked !== asked) return; // changed meanwhile
    this.query = answer.query;
    this.onAddress();
    const runs = `${answer.runs} run${answer.runs === 1 ? "" : "s"}`;
    const time = `about ${durationText(answer.seconds)} of training in all`;
    this.form.estimate.textContent = `${runs}, ${time}.`;
    if (answer.seconds > answer.cap_seconds) {
      this.show(`Too big: a sweep may train for at most ${durationText(answer.cap_seconds)}. Vary fewer values, or make each run smaller.`);
      return;
    }
    this.form.run.disabled = this.busy;
  }

  show(problem) {
    this.form.error.hidden = !problem;
    this.form.error.textContent = problem || "";
  }

  async run() {
    const { vary } = this.read();
    const { config, errors } = this.currentConfig();
    if (!vary || Object.keys(errors).length || this.busy) return;
    this.busy = true;
    this.form.run.disabled = true;
    this.form.estimate.textContent = "Starting the sweep…";
    try {
      const ready = await this.prepare(config);
      const created = await api.createSweep({ config: ready, vary });
      rememberToken(created.id, created.owner_token);
      location.assign(created.url);
    } catch (error) {
      this.busy = false;
      this.form.run.disabled = false;
      this.form.estimate.textContent = "";
      this.show(error.message);
    }
  }
}

function format(value) {
  return typeof value === "number" ? formatNumber(value) : String(value);
}

function durationText(value) {
  if (value < 1) return "1 s";
  if (value < 90) return `${Math.round(value)} s`;
  return `${Math.round(value / 60)} min`;
}
