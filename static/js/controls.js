// The experiment form: read its raw values, fill it from a config, show errors next to fields.
// templates/_playground.html draws a control per field of the server's field table (catalog.fields);
// this file handles each by its `control` kind: "tiles" (radios named after the field), "layers" (the
// <field>-layers list), "log_slider" (text plus <field>-scale over the field's scale), "range" (plus its
// <field>-value output), "number", "number_shuffle" (plus shuffle-<field>), "select", "toggles"
// (checkboxes named after the field, one per choice) and "data" (a hidden input holding the hash of your
// points, which data_editor.js keeps).

import { formatNumber } from "./state.js";

const $ = (id) => document.getElementById(id);

export class Controls {
  constructor(form, catalog, onChange) {
    this.form = form;
    this.catalog = catalog;
    this.onChange = onChange;
    this.fields = $("control-fields");
    this.list = catalog.fields.find((f) => f.control === "layers");
    this.layers = $(`${this.list.name}-layers`);
    this.shownDataset = this.dataset;

    form.addEventListener("input", (event) => this.changed(event));
    form.addEventListener("change", (event) => this.changed(event));
    $("add-layer").addEventListener("click", () => this.addLayer());
    $("remove-layer").addEventListener("click", () => this.removeLayer());
    for (const field of this.ofControl("number_shuffle")) {
      $(`shuffle-${field.name}`).addEventListener("click", () => {
        $(field.name).value = String(Math.floor(Math.random() * 100000));
        this.onChange(field.name);
      });
    }
    for (const field of this.ofControl("log_slider")) {
      $(`${field.name}-scale`).addEventListener("input", () => {
        $(field.name).value = formatNumber(field.scale[Number($(`${field.name}-scale`).value)]);
        this.onChange(field.name);
      });
    }
  }

  ofControl(control) {
    return this.catalog.fields.filter((f) => f.control === control);
  }

  changed(event) {
    const target = event.target;
    const field = target.classList.contains("layer-size") ? this.list : this.catalog.field(target.name);
    if (!field) return; // a log slider's scale: handled above
    if (field.control === "tiles") {
      if (event.type === "change") this.onChange(field.name);
      return;
    }
    if (field.control === "log_slider") this.syncScale(field);
    if (field.control === "range") $(`${field.name}-value`).value = target.value;
    this.onChange(field.name);
  }

  get dataset() {
    const checked = this.form.querySelector('input[name="dataset"]:checked');
    return checked ? checked.value : this.catalog.names[0];
  }

  /** The raw texts, as a query string would give them (validate() turns them into a config). */
  read() {
    const raw = {};
    for (const field of this.catalog.fieldsFor(this.dataset)) {
      if (field.control === "tiles") raw[field.name] = this.dataset;
      else if (field.control === "layers") raw[field.name] = this.layerInputs().map((input) => input.value);
      else if (field.control === "toggles") raw[field.name] = this.checked(field);
      else raw[field.name] = $(field.name).value;
    }
    return raw;
  }

  layerInputs() {
    return [...this.layers.querySelectorAll("input")];
  }

  toggles(field) {
    return [...this.form.querySelectorAll(`input[name="${field.name}"]`)];
  }

  checked(field) {
    return this.toggles(field).filter((toggle) => toggle.checked).map((toggle) => toggle.value);
  }

  /** Put a (valid) config into the controls. */
  fill(config) {
    this.showDatasetFields(config.dataset);
    for (const field of this.catalog.fields) {
      if (!(field.name in config)) continue;
      const value = config[field.name];
      if (field.control === "tiles") {
        const radios = this.form.querySelectorAll(`input[name="${field.name}"]`);
        for (const radio of radios) radio.checked = radio.value === value;
      } else if (field.control === "layers") {
        this.setLayers(value);
      } else if (field.control === "toggles") {
        for (const toggle of this.toggles(field)) toggle.checked = value.includes(toggle.value);
      } else {
        $(field.name).value = typeof value === "number" ? formatNumber(value) : String(value ?? "");
      }
    }
    for (const field of this.ofControl("range")) $(`${field.name}-value`).value = $(field.name).value;
    for (const field of this.ofControl("log_slider")) this.syncScale(field);
  }

  /** Show the fields that apply to the dataset, with its bounds (a group of hidden fields hides too). */
  showDatasetFields(dataset) {
    this.shownDataset = dataset; // the dataset the fields are drawn for (the radio may have moved since)
    for (const field of this.catalog.fields) {
      const wrapper = this.form.querySelector(`[data-field="${field.name}"]`);
      const spec = field.datasets[dataset];
      wrapper.hidden = !spec;
      if (!spec || !("low" in spec)) continue; // choices have no bounds
      const inputs = field.control === "layers" ? this.layerInputs() : [$(field.name)];
      for (const input of inputs) this.setBounds(input, field, spec);
    }
    const twoD = $("two-d-fields");
    twoD.hidden = ![...twoD.querySelectorAll("[data-field]")].some((wrapper) => !wrapper.hidden);
  }

  setBounds(input, field, spec) {
    if (input.type !== "number" && input.type !== "range") return; // text (log slider): the check says it
    input.min = String(spec.low);
    input.max = String(spec.high);
    input.step = String(field.step);
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
    this.setBounds(input, this.list, this.listBounds());
    input.value = String(size);
    input.setAttribute("aria-label", `Hidden layer ${index + 1} size`);
    input.setAttribute("aria-describedby", `${this.list.name}-error`);
    return input;
  }

  listBounds() {
    return this.list.datasets[this.dataset];
  }

  addLayer() {
    const inputs = this.layerInputs();
    if (inputs.length >= this.list.max_items) return;
    const last = inputs.length ? inputs[inputs.length - 1].value : "";
    const input = this.layerInput(last || String(this.listBounds().default.at(-1)), inputs.length);
    this.layers.append(input);
    this.updateLayerButtons();
    input.focus();
    this.onChange(this.list.name);
  }

  removeLayer() {
    const inputs = this.layerInputs();
    if (inputs.length <= 1) return;
    inputs[inputs.length - 1].remove();
    this.updateLayerButtons();
    this.onChange(this.list.name);
  }

  updateLayerButtons() {
    const count = this.layerInputs().length;
    $("add-layer").disabled = count >= this.list.max_items;
    $("remove-layer").disabled = count <= 1;
  }

  // A log slider follows its typed value (the nearest stop on a log scale).
  syncScale(field) {
    const value = Number($(field.name).value);
    if (!(value > 0)) return;
    const distance = (stop) => Math.abs(Math.log(stop / value));
    let best = 0;
    field.scale.forEach((stop, i) => {
      if (distance(stop) < distance(field.scale[best])) best = i;
    });
    const slider = $(`${field.name}-scale`);
    slider.value = String(best);
    slider.setAttribute("aria-valuetext", $(field.name).value);
  }

  /** errors: field -> sentence. Each shows under its field; the field is marked invalid. */
  showErrors(errors) {
    for (const paragraph of this.form.querySelectorAll(".error")) {
      const field = paragraph.id.replace(/-error$/, "");
      const message = errors[field];
      paragraph.hidden = !message;
      paragraph.textContent = message || "";
      for (const input of this.inputsOf(field)) {
        if (input.type === "radio") continue;
        if (message) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
  }

  /** The inputs to mark when a field is wrong (each of a toggles field's checkboxes). */
  inputsOf(name) {
    if (name === this.list.name) return this.badLayers();
    const field = this.catalog.field(name);
    if (field && field.control === "toggles") return this.toggles(field);
    return [$(name)].filter(Boolean);
  }

  /** The layer inputs to mark: those whose own value is bad, or all of them (too many layers). */
  badLayers() {
    const inputs = this.layerInputs();
    for (const input of inputs) input.removeAttribute("aria-invalid");
    const { low, high } = this.listBounds();
    const bad = inputs.filter((input) => {
      const value = Number(input.value.trim());
      return input.value.trim() === "" || !Number.isInteger(value) || value < low || value > high;
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
