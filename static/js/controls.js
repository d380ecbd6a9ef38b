// The experiment form: read its raw values, fill it from a config, show errors next to fields.

import { LR_CHOICES, formatNumber } from "./state.js";

const $ = (id) => document.getElementById(id);
const SIMPLE_FIELDS = ["lr", "batch_size", "epochs", "seed", "init", "momentum", "noise", "train_ratio", "points", "classes"];

export class Controls {
  constructor(form, catalog, onChange) {
    this.form = form;
    this.catalog = catalog;
    this.onChange = onChange;
    this.layers = $("hidden-layers");
    this.fields = $("control-fields");

    form.addEventListener("input", (event) => this.changed(event));
    form.addEventListener("change", (event) => this.changed(event));
    $("add-layer").addEventListener("click", () => this.addLayer());
    $("remove-layer").addEventListener("click", () => this.removeLayer());
    $("shuffle-seed").addEventListener("click", () => {
      $("seed").value = String(Math.floor(Math.random() * 100000));
      this.onChange("seed");
    });
    $("lr-scale").addEventListener("input", () => {
      $("lr").value = formatNumber(LR_CHOICES[Number($("lr-scale").value)]);
      this.onChange("lr");
    });
  }

  changed(event) {
    const target = event.target;
    if (target.id === "lr-scale") return; // handled above
    if (target.name === "dataset") {
      if (event.type === "change") this.onChange("dataset");
      return;
    }
    if (target.id === "lr") this.syncScale();
    if (target.id === "noise" || target.id === "train_ratio") $(`${target.id}-value`).value = target.value;
    this.onChange(target.name || "hidden");
  }

  get dataset() {
    const checked = this.form.querySelector('input[name="dataset"]:checked');
    return checked ? checked.value : "mnist";
  }

  /** The raw texts, as a query string would give them (validate() turns them into a config). */
  read() {
    const dataset = this.dataset;
    const raw = { dataset, hidden: this.layerInputs().map((input) => input.value) };
    const applicable = new Set(this.catalog.fieldsFor(dataset));
    for (const field of SIMPLE_FIELDS) if (applicable.has(field)) raw[field] = $(field).value;
    return raw;
  }

  layerInputs() {
    return [...this.layers.querySelectorAll("input")];
  }

  /** Put a (valid) config into the controls. */
  fill(config) {
    for (const radio of this.form.querySelectorAll('input[name="dataset"]')) {
      radio.checked = radio.value === config.dataset;
    }
    this.setLayers(config.hidden);
    for (const field of SIMPLE_FIELDS) {
      if (!(field in config)) continue;
      const value = config[field];
      $(field).value = typeof value === "number" ? formatNumber(value) : String(value);
    }
    $("noise-value").value = $("noise").value;
    $("train_ratio-value").value = $("train_ratio").value;
    this.syncScale();
    this.showDatasetFields(config.dataset);
  }

  showDatasetFields(dataset) {
    const twoD = this.catalog.isTwoD(dataset);
    $("two-d-fields").hidden = !twoD;
    $("classes-field").hidden = !this.catalog.fieldsFor(dataset).includes("classes");
    $("epochs").max = String(this.catalog.maxEpochs(dataset));
  }

  setLayers(sizes) {
    this.layers.replaceChildren(...sizes.map((size, i) => this.layerInput(size, i)));
    this.updateLayerButtons();
  }

  layerInput(size, index) {
    const input = document.createElement("input");
    input.className = "layer-size";
    input.type = "number";
    input.inputMode = "numeric";
    input.min = "1";
    input.max = String(this.catalog.limits.max_units);
    input.step = "1";
    input.value = String(size);
    input.setAttribute("aria-label", `Hidden layer ${index + 1} size`);
    input.setAttribute("aria-describedby", "hidden-error");
    return input;
  }

  addLayer() {
    const inputs = this.layerInputs();
    if (inputs.length >= this.catalog.limits.max_hidden_layers) return;
    const last = inputs.length ? inputs[inputs.length - 1].value : "16";
    const input = this.layerInput(last || "16", inputs.length);
    this.layers.append(input);
    this.updateLayerButtons();
    input.focus();
    this.onChange("hidden");
  }

  removeLayer() {
    const inputs = this.layerInputs();
    if (inputs.length <= 1) return;
    inputs[inputs.length - 1].remove();
    this.updateLayerButtons();
    this.onChange("hidden");
  }

  updateLayerButtons() {
    const count = this.layerInputs().length;
    $("add-layer").disabled = count >= this.catalog.limits.max_hidden_layers;
    $("remove-layer").disabled = count <= 1;
  }

  // The log-scale slider follows the typed learning rate (nearest choice on a log scale).
  syncScale() {
    const value = Number($("lr").value);
    if (!(value > 0)) return;
    let best = 0;
    LR_CHOICES.forEach((choice, i) => {
      if (Math.abs(Math.log(choice / value)) < Math.abs(Math.log(LR_CHOICES[best] / value))) best = i;
    });
    $("lr-scale").value = String(best);
    $("lr-scale").setAttribute("aria-valuetext", $("lr").value);
  }

  /** errors: field -> sentence. Each shows under its field; the field is marked invalid. */
  showErrors(errors) {
    for (const paragraph of this.form.querySelectorAll(".error")) {
      const field = paragraph.id.replace(/-error$/, "");
      const message = errors[field];
      paragraph.hidden = !message;
      paragraph.textContent = message || "";
      const inputs = field === "hidden" ? this.badLayers() : [$(field)].filter(Boolean);
      for (const input of inputs) {
        if (input.type === "radio") continue;
        if (message) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
  }

  /** The layer inputs to mark: those whose own value is bad, or all of them (too many layers). */
  badLayers() {
    const inputs = this.layerInputs();
    for (const input of inputs) input.removeAttribute("aria-invalid");
    const max = this.catalog.limits.max_units;
    const bad = inputs.filter((input) => {
      const value = Number(input.value.trim());
      return input.value.trim() === "" || !Number.isInteger(value) || value < 1 || value > max;
    });
    return bad.length ? bad : inputs;
  }

  /** Focus the first field with an error (for keyboard users after a refused Train). */
  focusFirstError() {
    const invalid = this.form.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
  }

  setDisabled(disabled) {
    this.fields.disabled = disabled;
  }
}
