// This browser's runs (kept in localStorage) and runs opened by link: a list with checkboxes to
// overlay their curves on the charts, one colour per run, and a legend saying how their configs differ.

import { describe, differingFields, telling } from "./state.js";

const KEY = "nn-playground.runs.v1";
const KEEP = 12;
const ACTIVE = new Set(["queued", "running"]);
// A run's warning (core/verdict.py codes) in a few words, for the list; the full sentence is its title.
const WARNING_WORDS = { chance: "at chance", loss_rose: "loss rose", loss_exploded: "loss blew up" };
// Eight distinct hues; none is the grey of muted or disabled text.
export const RUN_COLORS = ["#1a73e8", "#e8710a", "#188038", "#d01884", "#9334e6", "#12b5cb", "#b06000", "#827717"];

function load() {
  try {
    const runs = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(runs) ? runs.filter((r) => r && typeof r.id === "string" && r.config) : [];
  } catch {
    return [];
  }
}

export class RunList {
  constructor(listElement, emptyElement, onChange) {
    this.listElement = listElement;
    this.emptyElement = emptyElement;
    this.onChange = onChange;
    this.runs = load();
    this.checked = new Set();
    this.currentId = null;
  }

  save() {
    try {
      localStorage.setItem(KEY, JSON.stringify(this.runs.slice(0, KEEP)));
    } catch {
      // Private mode or a full quota: the list just does not survive a reload.
    }
  }

  get(id) {
    return this.runs.find((r) => r.id === id) || null;
  }

  /** A colour no other listed run uses (runs keep theirs for life). */
  freeColor() {
    const used = new Set(this.runs.map((r) => r.color));
    return RUN_COLORS.find((c) => !used.has(c)) || RUN_COLORS[this.runs.length % RUN_COLORS.length];
  }

  /** Add or update a run from the API's JSON ({id, config, status, test_acc, created_at, ...}). */
  remember(run) {
    const known = this.get(run.id);
    const entry = {
      id: run.id,
      config: run.config,
      status: run.status || (known && known.status) || "queued",
      test_acc: run.test_acc ?? (known && known.test_acc) ?? null,
      warning: run.warning ?? (known && known.warning) ?? null,
      created_at: run.created_at || (known && known.created_at) || new Date().toISOString(),
      color: (known && known.color) || this.freeColor(),
    };
    this.runs = [entry, ...this.runs.filter((r) => r.id !== run.id)].slice(0, KEEP);
    this.save();
    this.render();
    return entry;
  }

  update(id, fields) {
    const run = this.get(id);
    if (!run) return;
    const changed = Object.entries(fields).some(([key, value]) => JSON.stringify(run[key]) !== JSON.stringify(value));
    if (!changed) return; // re-rendering would move keyboard focus away from the list
    Object.assign(run, fields);
    this.save();
    this.render();
  }

  /**
   * Ask the server for each listed run still queued or running, other than the current one (its
   * stream keeps it up to date), and note what it says; runs gone from the server are forgotten.
   * getRun(id) -> the API's run JSON. Resolves to how many of them are still going.
   */
  async refreshActive(getRun) {
    const active = this.runs.filter((r) => ACTIVE.has(r.status) && r.id !== this.currentId);
    let going = 0;
    for (const run of active) {
      try {
        const data = await getRun(run.id);
        this.update(run.id, { status: data.status, test_acc: data.test_acc ?? null, warning: data.warning ?? null });
        if (ACTIVE.has(data.status)) going += 1;
      } catch (error) {
        if (error.status === 404) this.forget(run.id);
        else going += 1; // unknown for now: ask again later
      }
    }
    return going;
  }

  forget(id) {
    this.runs = this.runs.filter((r) => r.id !== id);
    this.checked.delete(id);
    this.save();
    this.render();
    this.onChange();
  }

  setCurrent(id) {
    this.currentId = id;
    this.checked.delete(id);
    this.render();
  }

  /** The runs ticked for overlay (never the current one). */
  overlayRuns() {
    return this.runs.filter((r) => this.checked.has(r.id) && r.id !== this.currentId);
  }

  /** Labels naming only what differs between the runs on the charts. */
  labels(current) {
    const shown = [...(current ? [current] : []), ...this.overlayRuns()];
    const fields = telling(differingFields(shown.map((r) => r.config)));
    const result = new Map();
    for (const run of shown) result.set(run.id, fields.length ? describe(run.config, fields) : "same config");
    return result;
  }

  render() {
    const list = this.listElement;
    list.replaceChildren();
    const others = this.runs;
    this.emptyElement.hidden = others.length > 0;
    const current = this.get(this.currentId);
    for (const run of others) {
      const item = document.createElement("li");
      item.className = "run-item";
      if (run.id === this.currentId) item.classList.add("is-current");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = run.color;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `overlay-${run.id}`;
      box.checked = run.id === this.currentId || this.checked.has(run.id);
      box.disabled = run.id === this.currentId;
      box.addEventListener("change", () => {
        if (box.checked) this.checked.add(run.id);
        else this.checked.delete(run.id);
        this.onChange();
      });
      const label = document.createElement("label");
      label.htmlFor = box.id;
      label.className = "run-label";
      const fields = current && current.id !== run.id ? telling(differingFields([current.config, run.config])) : [];
      const what = document.createElement("span");
      what.className = "run-what";
      what.textContent = run.id === this.currentId
        ? `${describe(run.config, ["dataset", "hidden", "lr"])} (shown)`
        : fields.length ? describe(run.config, fields) : describe(run.config, ["dataset", "hidden", "lr"]);
      const meta = document.createElement("span");
      meta.className = "run-meta";
      const accuracy = typeof run.test_acc === "number" ? ` · test ${(run.test_acc * 100).toFixed(1)}%` : "";
      meta.textContent = `${run.status}${accuracy}`;
      if (run.warning && run.status === "done") {
        meta.textContent += ` · ${WARNING_WORDS[run.warning.code] || "did not learn"}`;
        meta.classList.add("has-warning");
        meta.title = [run.warning.message, run.warning.why, run.warning.hint].filter(Boolean).join(" ");
      }
      label.append(what, meta);
      const link = document.createElement("a");
      link.href = `/runs/${encodeURIComponent(run.id)}`;
      link.className = "run-link";
      link.textContent = "Open";
      link.setAttribute("aria-label", `Open run ${run.id}`);
      item.append(box, swatch, label, link);
      list.append(item);
    }
  }
}

/** The legend under the charts: line styles, then one swatch and label per run shown. */
export function renderLegend(element, entries) {
  element.replaceChildren();
  const styles = document.createElement("li");
  styles.className = "legend-styles";
  const train = document.createElement("span");
  train.className = "line-key solid";
  const val = document.createElement("span");
  val.className = "line-key dashed";
  styles.append(train, " training  ", val, " validation");
  element.append(styles);
  for (const entry of entries) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = entry.color;
    item.append(swatch, entry.label);
    element.append(item);
  }
}
