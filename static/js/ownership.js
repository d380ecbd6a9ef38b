// The owner tokens of the runs this browser started: POST /api/runs answers one per run, and only
// it can stop that run (POST /api/runs/<id>/stop with Authorization: Bearer <token>). They are kept
// in localStorage by run id, the latest KEEP, so a reload or a restored tab can still stop its run;
// someone who opens a shared link has none, and sees the run without a Stop button.

const KEY = "nn-playground.owner-tokens.v1";
const KEEP = 50;
const thisPage = new Map(); // the tokens of this page's runs, also when localStorage refuses them

function load() {
  try {
    const entries = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(entries)
      ? entries.filter((e) => e && typeof e.id === "string" && typeof e.token === "string")
      : [];
  } catch {
    return [];
  }
}

/** Keep the token of a run this browser started (newest first, at most KEEP). */
export function rememberToken(id, token) {
  if (!token) return;
  thisPage.set(id, token);
  const entries = [{ id, token }, ...load().filter((e) => e.id !== id)].slice(0, KEEP);
  try {
    localStorage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // Private mode or a full quota: this page keeps the token until it is left.
  }
}

/** The owner token of a run, or null when this browser did not start it (or forgot it). */
export function tokenFor(id) {
  if (thisPage.has(id)) return thisPage.get(id);
  const entry = load().find((e) => e.id === id);
  return entry ? entry.token : null;
}
