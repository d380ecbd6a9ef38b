// The experiment's state: config <-> canonical query string, and validation before anything is sent.
// Mirrors core/config.py: same field order, same number formatting, same bounds (from /api/datasets).

// Fixed field order of Config.to_query(); which fields apply depends on the dataset.
export const FIELD_ORDER = [
  "dataset", "hidden", "lr", "batch_size", "epochs", "seed", "init", "momentum",
  "noise", "train_ratio", "points", "classes",
];
const TWO_D_FIELDS = ["noise", "train_ratio", "points", "classes"];
const OPTIMIZER_DEFAULTS = { init: "xavier", momentum: 0 };
export const INITS = ["xavier", "he"];
export const LR_CHOICES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3];

export const FIELD_LABELS = {
  dataset: "Dataset", hidden: "Hidden layers", lr: "Learning rate", batch_size: "Batch size",
  epochs: "Epochs", seed: "Seed", init: "Initialisation", momentum: "Momentum", noise: "Noise",
  train_ratio: "Training ratio", points: "Points", classes: "Classes",
};

const FALLBACK_LIMITS = {
  max_hidden_layers: 4, max_units: 512, max_epochs: 100, max_epochs_2d: 1000,
  max_batch_size: 1024, max_points: 5000, max_classes: 6,
};

/** The /api/datasets answer, with lookups the page needs. */
export class Catalog {
  constructor(json) {
    this.datasets = (json && json.datasets) || [];
    this.limits = { ...FALLBACK_LIMITS, ...((json && json.limits) || {}) };
  }

  get names() {
    return this.datasets.map((d) => d.name);
  }

  find(name) {
    return this.datasets.find((d) => d.name === name) || null;
  }

  isTwoD(name) {
    const entry = this.find(name);
    return entry ? entry.kind === "2d" : name !== "mnist";
  }

  /** The fields that apply to a dataset, in canonical order (defaults list exactly those). */
  fieldsFor(name) {
    const defaults = this.defaultsFor(name);
    return FIELD_ORDER.filter((field) => field in defaults || field === "dataset");
  }

  defaultsFor(name) {
    const entry = this.find(name);
    if (entry && entry.defaults) return { ...entry.defaults };
    const base = { dataset: name, hidden: [100, 200], lr: 0.1, batch_size: 32, epochs: 25, seed: 42,
      init: "xavier", momentum: 0 };
    if (name === "mnist") return base;
    const twoD = { ...base, hidden: [16, 16], lr: 0.3, batch_size: 16, epochs: 100, noise: 0.1,
      train_ratio: 0.7, points: 600 };
    if (name === "spiral" || name === "blobs") twoD.classes = 3;
    return twoD;
  }

  maxEpochs(name) {
    const entry = this.find(name);
    if (entry && entry.max_epochs) return entry.max_epochs;
    return this.isTwoD(name) ? this.limits.max_epochs_2d : this.limits.max_epochs;
  }

  /** Number of output classes the network will have for this config. */
  classCount(config) {
    if (!this.isTwoD(config.dataset)) {
      const entry = this.find(config.dataset);
      return entry && Array.isArray(entry.classes) ? entry.classes.length : 10;
    }
    return "classes" in config ? Number(config.classes) : 2;
  }

  inputSize(name) {
    const entry = this.find(name);
    if (entry && Array.isArray(entry.input_shape)) return entry.input_shape.reduce((a, b) => a * b, 1);
    return this.isTwoD(name) ? 2 : 784;
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
  if (Array.isArray(value)) return value.map(formatNumber).join(",");
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

/** The canonical query string, exactly as Config.to_query() writes it. */
export function toQuery(config) {
  const parts = [];
  for (const field of FIELD_ORDER) {
    if (!(field in config)) continue;
    const value = config[field];
    if (field in OPTIMIZER_DEFAULTS && value === OPTIMIZER_DEFAULTS[field]) continue;
    parts.push(`${field}=${formatValue(value)}`);
  }
  return parts.join("&");
}

/** Query string -> raw field texts (not validated; pass them to validate()). */
export function fromQuery(query) {
  const raw = {};
  for (const [name, value] of new URLSearchParams(query.replace(/^\?/, ""))) raw[name] = value;
  return raw;
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

function checks(limits, maxEpochs) {
  return {
    lr: realIn(0.0001, 3),
    batch_size: integerIn(1, limits.max_batch_size),
    epochs: integerIn(1, maxEpochs),
    seed: integerIn(0, 2 ** 32 - 1),
    init: (text) => {
      if (!INITS.includes(text)) throw new Error(`Must be one of: ${INITS.join(", ")}.`);
      return text;
    },
    momentum: realIn(0, 0.99),
    noise: realIn(0, 1),
    train_ratio: realIn(0.1, 0.9),
    points: integerIn(50, limits.max_points),
    classes: integerIn(2, limits.max_classes),
  };
}

/** Checks each hidden size; returns {value} or {error, index} (index of the first bad layer). */
export function validateHidden(sizes, limits) {
  const list = Array.isArray(sizes) ? sizes : String(sizes).split(",");
  if (list.length < 1 || list.length > limits.max_hidden_layers) {
    return { error: `Use 1 to ${limits.max_hidden_layers} hidden layers.` };
  }
  const check = integerIn(1, limits.max_units);
  const value = [];
  for (let i = 0; i < list.length; i += 1) {
    try {
      value.push(check(list[i]));
    } catch {
      return { error: `Layer ${i + 1}: each size must be a whole number from 1 to ${limits.max_units}.`, index: i };
    }
  }
  return { value };
}

/**
 * Raw values (form texts or query-string texts) -> {config, errors}.
 * config has only the dataset's fields, defaults filled; errors maps field -> sentence.
 */
export function validate(raw, catalog) {
  const errors = {};
  let dataset = raw.dataset || "mnist";
  if (!catalog.names.includes(dataset) && catalog.names.length) {
    errors.dataset = `Choose one of: ${catalog.names.join(", ")}.`;
    dataset = "mnist";
  }
  const config = catalog.defaultsFor(dataset);
  config.dataset = dataset;
  const fieldChecks = checks(catalog.limits, catalog.maxEpochs(dataset));
  for (const field of catalog.fieldsFor(dataset)) {
    if (field === "dataset" || raw[field] === undefined || raw[field] === null) continue;
    if (field === "hidden") {
      const result = validateHidden(raw.hidden, catalog.limits);
      if (result.error) errors.hidden = result.error;
      else config.hidden = result.value;
      continue;
    }
    try {
      config[field] = fieldChecks[field](raw[field]);
    } catch (error) {
      errors[field] = error.message;
    }
  }
  // Keep only the fields that apply (the server rejects the others).
  const clean = {};
  for (const field of catalog.fieldsFor(dataset)) clean[field] = config[field];
  return { config: clean, errors };
}

/** Fields whose values differ across configs (for the legend that compares runs). */
export function differingFields(configs) {
  if (configs.length < 2) return [];
  return FIELD_ORDER.filter((field) => {
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
      const value = Array.isArray(config[field]) ? config[field].join("-") : formatValue(config[field]);
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
