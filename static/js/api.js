// The server's JSON API and its server-sent events, as small promise-returning functions.
// Every error answer is JSON {"error", "field"?}; it becomes an ApiError with the same fields.

export class ApiError extends Error {
  constructor(message, { status = 0, field = null, retryAfter = null, line = null } = {}) {
    super(message);
    this.status = status;
    this.field = field;
    this.retryAfter = retryAfter;
    this.line = line; // an uploaded file's line at fault
  }
}

/** body: an object (sent as JSON) or text (sent as it is, with the Content-Type in headers). */
async function request(method, url, body, headers = {}) {
  const options = { method, headers: { Accept: "application/json", ...headers } };
  if (typeof body === "string") {
    options.body = body;
  } else if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError("The server cannot be reached. Is it running?");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || `The server answered ${response.status}.`;
    throw new ApiError(message, {
      status: response.status,
      field: data && data.field,
      retryAfter: response.headers.get("Retry-After"),
      line: data && data.line,
    });
  }
  return data;
}

const runPath = (id) => `/api/runs/${encodeURIComponent(id)}`;

export const createRun = (config) => request("POST", "/api/runs", config);
export const getRun = (id) => request("GET", runPath(id));
export const getViews = (id) => request("GET", `${runPath(id)}/views`);
/** {epochs: [every recorded epoch event's data]}: what the player scrubs through. */
export const getTimeline = (id) => request("GET", `${runPath(id)}/timeline`);
/** {seconds, cap_seconds, epochs, epochs_within_cap} for a config's canonical query string. */
export const getEstimate = (query) => request("GET", `/api/estimate?${query}`);
/** Stop a run; only its owner may (token: the owner_token POST /api/runs answered). */
export const stopRun = (id, token) =>
  request("POST", `${runPath(id)}/stop`, undefined, token ? { Authorization: `Bearer ${token}` } : {});
export const predict = (id, payload) => request("POST", `${runPath(id)}/predict`, payload);
/** Your points as CSV text (x,y,label rows) -> {data: hash, points, classes}; 400 names the bad line. */
export const storeData = (csv) => request("POST", "/api/data", csv, { "Content-Type": "text/csv" });
/** {data, points, classes, rows: [[x, y, label], ...]} of stored points. */
export const getData = (hash) => request("GET", `/api/data/${encodeURIComponent(hash)}`);
/** A sweep: {config, vary: {axis: [values]}} -> {id, url, runs, query, owner_token, ...}. */
export const createSweep = (body) => request("POST", "/api/sweeps", body);
/** {seconds, cap_seconds, runs} of a config's canonical query and a sweep's text (lr:0.01,0.1;...). */
export const getSweepEstimate = (query, sweep) =>
  request("GET", `/api/sweeps/estimate?${query}&sweep=${encodeURIComponent(sweep)}`);
/** Stop a sweep's runs; only its owner may (token: the owner_token POST /api/sweeps answered). */
export const stopSweep = (id, token) =>
  request("POST", `/api/sweeps/${encodeURIComponent(id)}/stop`, undefined, token ? { Authorization: `Bearer ${token}` } : {});
export const weightsUrl = (id) => `${runPath(id)}/weights.npz`;
export const metricsUrl = (id) => `${runPath(id)}/metrics.csv`;

/**
 * Follows a run's event stream. handlers: {status(data), epoch(data), progress(data), done(data),
 * error(message)}; progress: {epoch, batch, batches, seconds} within a long epoch, about once a second.
 * EventSource reconnects by itself after a network hiccup and sends Last-Event-ID, so the server
 * replays exactly the missing epochs. Returns a function that closes the stream.
 */
export function streamRun(eventsUrl, handlers) {
  const source = new EventSource(eventsUrl);
  let finished = false;
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      return null;
    }
  };
  source.addEventListener("status", (event) => {
    const data = parse(event);
    if (data && handlers.status) handlers.status(data);
  });
  source.addEventListener("epoch", (event) => {
    const data = parse(event);
    if (data && handlers.epoch) handlers.epoch(data);
  });
  source.addEventListener("progress", (event) => {
    const data = parse(event);
    if (data && handlers.progress) handlers.progress(data);
  });
  source.addEventListener("done", (event) => {
    finished = true;
    source.close(); // the server closes the stream after "done"; do not reconnect
    if (handlers.done) handlers.done(parse(event) || {});
  });
  source.addEventListener("error", () => {
    // CONNECTING means EventSource is retrying on its own; CLOSED means it gave up (e.g. a 404).
    if (!finished && source.readyState === EventSource.CLOSED && handlers.error) {
      handlers.error("Lost the connection to this run's updates. Reload the page to try again.");
    }
  });
  return () => {
    finished = true;
    source.close();
  };
}
