// What a screen reader hears of the status line. The visible line (#status) changes every epoch, so it
// is not a live region; this repeats it in a polite live region (role=status) at milestones only:
// each new status (queued, running, done, stopped, failed, an error), each quarter of the epochs while
// training, and an error message that says something new (a countdown's seconds are not new). It
// watches the line and the progress bar, so whoever updates them needs to know nothing about it.

const QUARTERS = 4;

/** A message without its numbers: "Try again in 12 s." and "Try again in 11 s." say the same. */
const gist = (text) => text.replace(/\d+(\.\d+)?/g, "#");

/** Start repeating `line`'s milestones (its data-status, `progress`'s value) into `region`. */
export function announceMilestones(line, progress, region) {
  let status = line.dataset.status;
  let quarter = 0;
  let said = "";

  const say = (text) => {
    if (!text) return;
    said = text;
    region.textContent = text;
  };

  const check = () => {
    const now = line.dataset.status;
    const text = line.textContent.trim();
    const reached = Math.floor((Number(progress.value) || 0) * QUARTERS + 1e-9);
    if (now !== status) {
      status = now;
      quarter = reached;
      say(text);
    } else if (now === "running" && reached > quarter && reached < QUARTERS) {
      quarter = reached;
      say(text);
    } else if (line.dataset.tone === "bad" && gist(text) !== gist(said)) {
      say(text);
    }
  };

  const watcher = new MutationObserver(check);
  watcher.observe(line, { attributes: true, childList: true, characterData: true, subtree: true });
  watcher.observe(progress, { attributes: true, attributeFilter: ["value"] });
}
