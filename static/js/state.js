// The experiment's state: config <-> canonical query string, and validation before anything is sent.
// Everything about the fields (order, kinds, bounds, defaults, labels) comes from the server's field
// table (core.config.FIELDS, served in /api/datasets as "fields"); this file only applies it, the way
// core/config.py does: same order, same number formatting, same bounds.

/** The /api/datasets answer (datasets, config fields), with lookups the page needs. */
export class Catalog {
  constructor(json) {
    this.datasets = json.datasets;
    // In canonical order; each: name, kind, label, help, control, advanced, optional (left out of the
    // query at its default), datasets: {name: {default, low, high}}.
    this.fields = json.fields;
    // Each 2D input feature's picture over the plane: {size, extent, pictures: {name: base64 bytes}}.
    this.features = json.features || { size: 0, extent: 1, pictures: {} };
  }

  get names() {
    return this.datasets.map((d) => d.name);
  }

  find(name) {
    return this.datasets.find((d) => d.name === name) || null;
  }

  field(name) {
    return this.fields.find((f) => f.name === name) || null;
  }

  label(name) {
    const field = this.field(name);
    return field ? field.label : name;
  }

  isTwoD(name) {
    const entry = this.find(name);
    return Boolean(entry) && entry.kind === "2d";
  }

  /** The fields that apply to a dataset, in canonical order. */
  fieldsFor(name) {
    return this.fields.filter((f) => name in f.datasets);
  }

  defaultsFor(name) {
    const config = {};
    for (const field of this.fieldsFor(name)) {
      const value = field.datasets[name].default;
      config[field.name] = Array.isArray(value) ? [...value] : value;
    }
    return config;
  }

  /** Number of output classes the network will have for this config. */
  classCount(config) {
    return "classes" in config ? Number(config.classes) : this.find(config.dataset).classes.length;
  }

  /** The network's inputs for a config: its chosen features (2D), or the dataset's pixels. */
  inputSize(config) {
    if (Array.isArray(config.features)) return config.features.length;
    return this.find(config.dataset).input_shape.reduce((a, b) => a * b, 1);
  }
}

/** Python's repr() of a number, as core.config._format writes it ("0.1", "3", "5e-05"). */
export function formatNumber(value) {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent] = value.toExponential().split("e");
    return `${mantissa}e${exponent[0]}${exponent.slice(1).padStart(2, "0")}`;
  }
  return String(value);
}

function formatValue(value) {
  if (Array.isArray(value)) return value.map(formatValue).join(",");
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

/** The canonical query string, exactly as Config.to_query() writes it. */
export function toQuery(config, catalog) {
  const parts = [];
  for (const field of catalog.fieldsFor(config.dataset)) {
    if (!(field.name in config)) continue;
    const value = config[field.name];
    if (value === null || value === "") continue; // a required field not given yet (your points, unsent)
    const isDefault = formatValue(value) === formatValue(field.datasets[config.dataset].default);
    if (field.optional && isDefault) continue;
    parts.push(`${field.name}=${formatValue(value)}`);
  }
  return parts.join("&");
}

// --- validation: each check takes the raw text and returns [value] or throws a sentence ---------------

function parseNumber(text) {
  const trimmed = String(text).trim();
  if (trimmed === "") throw new Error("Enter a number.");
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw new Error(`"${trimmed.slice(0, 20)}" is not a number.`);
  return value;
}

function integerIn(low, high) {
  return (text) => {
    const value = parseNumber(text);
    if (!Number.isInteger(value)) throw new Error("Must be a whole number.");
    if (value < low || value > high) throw new Error(`Must be between ${low} and ${high}.`);
    return value;
  };
}

function realIn(low, high) {
  return (text) => {
    const value = parseNumber(text);
    if (value < low || value > high) {
      throw new Error(`Must be between ${formatNumber(low)} and ${formatNumber(high)}.`);
    }
    return value;
  };
}

/** One field's raw text (or list of texts) -> its value; throws a sentence. */
function check(field, bounds, raw) {
  if (field.kind === "choice") {
    const values = field.choices.map((choice) => choice.value);
    if (!values.includes(raw)) throw new Error(`Must be one of: ${values.join(", ")}.`);
    return raw;
  }
  if (field.kind === "hash") return checkHash(field, raw);
  if (field.kind === "int_list") return checkList(field, bounds, raw);
  if (field.kind === "choice_list") return checkChoices(field, raw);
  return (field.kind === "int" ? integerIn : realIn)(bounds.low, bounds.high)(raw);
}

/** The hash of stored points (your data): the field's pattern. */
function checkHash(field, raw) {
  const text = String(raw ?? "").trim();
  if (!new RegExp(`^${field.pattern}$`).test(text)) throw new Error("Add points on the plane, or upload a CSV file.");
  return text;
}

/** One or more of the field's choices, each once; kept in the choices' order (as core.config does). */
function checkChoices(field, raw) {
  const texts = Array.isArray(raw) ? raw : String(raw).trim() ? String(raw).split(",") : [];
  const list = texts.map((text) => String(text).trim());
  const values = field.choices.map((choice) => choice.value);
  if (!list.length) throw new Error(`Choose at least one ${field.label.toLowerCase().replace(/s$/, "")}.`);
  for (const item of list) {
    if (!values.includes(item)) throw new Error(`Choose from: ${values.join(", ")}.`);
  }
  if (new Set(list).size !== list.length) throw new Error("Each may be chosen once.");
  return values.filter((value) => list.includes(value));
}

/** A list of whole numbers, each within the bounds (the hidden layer sizes). */
function checkList(field, bounds, raw) {
  const list = Array.isArray(raw) ? raw : String(raw).split(",");
  if (list.length < 1 || list.length > field.max_items) {
    throw new Error(`Use 1 to ${field.max_items} ${field.label.toLowerCase()}.`);
  }
  const item = integerIn(bounds.low, bounds.high);
  return list.map((text, i) => {
    try {
      return item(text);
    } catch {
      const range = `from ${bounds.low} to ${bounds.high}`;
      throw new Error(`Layer ${i + 1}: each size must be a whole number ${range}.`);
    }
  });
}

/**
 * Raw values (form texts or query-string texts) -> {config, errors}.
 * config has only the dataset's fields, in canonical order, defaults filled; errors maps field -> sentence.
 */
export function validate(raw, catalog) {
  const errors = {};
  let dataset = raw.dataset;
  if (!catalog.names.includes(dataset)) {
    errors.dataset = `Choose one of: ${catalog.names.join(", ")}.`;
    dataset = catalog.names[0];
  }
  const config = catalog.defaultsFor(dataset);
  for (const field of catalog.fieldsFor(dataset)) {
    if (field.name === "dataset" || raw[field.name] === undefined || raw[field.name] === null) continue;
    try {
      config[field.name] = check(field, field.datasets[dataset], raw[field.name]);
    } catch (error) {
      errors[field.name] = error.message;
    }
  }
  return { config, errors };
}

/** Fields whose values differ across configs (for the legend that compares runs), in the configs'
 * own order: the server writes them in canonical order. */
export function differingFields(configs) {
  if (configs.length < 2) return [];
  const names = [...new Set(configs.flatMap((c) => Object.keys(c)))];
  return names.filter((field) => {
    const texts = new Set(configs.map((c) => (field in c ? formatValue(c[field]) : "—")));
    return texts.size > 1;
  });
}

/**
 * The fields worth naming when telling runs apart: what differs, but when the dataset differs
 * everything else does too, so then just the dataset, the layers and the learning rate.
 */
export function telling(fields) {
  return fields.includes("dataset") ? ["dataset", "hidden", "lr"] : fields;
}

/** A short description of a config restricted to some fields: "lr 0.3 · hidden 16-16". */
export function describe(config, fields) {
  return fields
    .map((field) => {
      if (!(field in config)) return null;
      const list = config[field];
      let value = Array.isArray(list) && typeof list[0] === "number" ? list.join("-") : formatValue(list);
      if (field === "data") value = value.slice(0, 6); // a hash: its start tells sets apart
      const short = field === "batch_size" ? "batch" : field === "train_ratio" ? "train ratio" : field;
      return field === "dataset" ? value : `${short} ${value}`;
    })
    .filter(Boolean)
    .join(" · ");
}

/** Parameters of the dense network: sum over layers of in*out weights + out biases. */
export function parameterCount(sizes) {
  let total = 0;
  for (let i = 1; i < sizes.length; i += 1) total += sizes[i - 1] * sizes[i] + sizes[i];
  return total;
}
