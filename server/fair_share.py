"""A fair share of the training CPU per client: what one client (server.clients.client_key) may start.

`admission(settings, client, costs)` is the rule, applied by the store in the transaction that inserts
the client's new runs (Store.create_run's `admit`): the client's runs are read, this module
decides, and a refusal (`Refused`, raised inside the transaction) rolls the insert back, so nothing
is counted for a refused run. The transaction holds the queue lock (SQLite: the file's write lock;
PostgreSQL: a transaction-level advisory lock), so two requests at once cannot both pass. It takes a
list of run costs so that many runs can be admitted in one call as the sum of their costs; a sweep
(`sweep_admission`) is one start and one run going however many runs it has.
Reused runs (an identical stored run answers) insert nothing and cost nothing.

The rules, each refused with a sentence and the seconds until it would pass (Retry-After):
- runs started: PLAYGROUND_RATELIMIT ("10 per minute; 100 per day"), runs created within each window;
- runs going: at most PLAYGROUND_CLIENT_RUNS queued or training at once (in both rules the runs of
  one sweep count as one run);
- an hourly budget: PLAYGROUND_CLIENT_BUDGET seconds of estimated training (core.cost) over the last
  hour. A run is charged its estimate while it waits or trains; once it has ended, the time it trained
  (at most its estimate): a run stopped before it started costs nothing.
One run may cost at most PLAYGROUND_RUN_COST estimated seconds: past it, `too_costly` is the 400's
sentence, naming the field to lower (checked before anything is stored).

The queue serves clients in turn (Store.queue_places and Store._next_turn), so a client's waiting runs
never push another client's first run back more than one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import parse_many

from core.config import Config
from core.cost import Estimate
from server.store import ACTIVE, ClientRun

HOUR = 3600.0


class Refused(Exception):
    """The client may not start these runs now: a 429 with `message` and Retry-After `retry_after`."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Share:
    """What one client may have: runs going at once, estimated seconds an hour, runs per window."""

    runs: int
    budget: float
    rates: tuple[tuple[int, float, str], ...]  # (runs, window seconds, "10 per 1 minute")

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Share:
        items = parse_many(settings["RATE_LIMIT"])
        rates = tuple((item.amount, float(item.get_expiry()), str(item)) for item in items)
        return cls(settings["CLIENT_RUNS"], settings["CLIENT_BUDGET"], rates)


class Admission:
    """Store.create_run's `admit`: `client` asks for runs of these estimated `costs` (`cost`: their
    sum), counted as `starts` runs started and going (default: one per cost); called with the client's
    runs of the last `lookback` seconds (and every one still going), inside the inserting transaction;
    raises Refused to refuse. Once it has admitted, later calls let runs through (a sweep's other runs)."""

    def __init__(self, share: Share, client: str, costs: list[float], starts: int | None = None) -> None:
        self.share = share
        self.client = client
        self.costs = costs
        self.cost = sum(costs)
        self.starts = len(costs) if starts is None else starts
        self.lookback = max([HOUR, *(window for _, window, _ in share.rates)])
        self.admitted = False

    def __call__(self, runs: list[ClientRun]) -> None:
        if self.admitted:
            return
        now = time.time()  # once the store's lock is held
        check_rates(self.share, runs, self.starts, now)
        check_going(self.share, runs, self.starts, now)
        check_budget(self.share, runs, self.cost, now)
        self.admitted = True

    def run(self, cost: float) -> RunAdmission:
        """The admission of one of these runs, stored with its own `cost`."""
        return RunAdmission(self, cost)


class RunAdmission:
    """One run of a many-run admission (a sweep's cell): its own client and cost on its row; admitted,
    or refused, by the whole admission the first time one of its runs is stored."""

    def __init__(self, whole: Admission, cost: float) -> None:
        self.whole = whole
        self.client = whole.client
        self.cost = cost
        self.lookback = whole.lookback

    def __call__(self, runs: list[ClientRun]) -> None:
        self.whole(runs)


def admission(settings: Mapping[str, Any], client: str, costs: list[float]) -> Admission:
    """The admission of a client's runs of these estimated costs under the app's settings."""
    return Admission(Share.of(settings), client, costs)


def sweep_admission(settings: Mapping[str, Any], client: str, costs: list[float]) -> Admission:
    """The admission of a sweep's runs: one start and one run going (however many runs), the sum of
    their costs against the hourly budget. Each run is stored with `.run(its cost)`: the first new run
    is admitted (or refused) for the whole sweep, the later ones are let through."""
    return Admission(Share.of(settings), client, costs, starts=1)


def charged(run: ClientRun, now: float) -> float:
    """What a run counts against the hourly budget: its estimate while going, else what it trained."""
    if run.status in ACTIVE:
        return run.cost
    if run.started_at is None:
        return 0.0
    return min(run.cost, max(0.0, (run.finished_at or now) - run.started_at))


def entries(runs: list[ClientRun]) -> list[ClientRun]:
    """The runs as the client started them: the runs of one sweep are one entry (its first run)."""
    seen: set[str] = set()
    kept = []
    for run in sorted(runs, key=lambda run: run.created_at):
        if run.sweep is None or run.sweep not in seen:
            kept.append(run)
        if run.sweep is not None:
            seen.add(run.sweep)
    return kept


def check_rates(share: Share, runs: list[ClientRun], new: int, now: float) -> None:
    for amount, window, text in share.rates:
        started = sorted(run.created_at for run in entries(runs) if run.created_at > now - window)
        over = len(started) + new - amount
        if over > 0:
            wait = seconds_until(started[min(over, len(started)) - 1] + window, now) if started else window
            raise Refused(
                f"You have started too many runs: the limit is {text} per client. Try again in {wait} s.",
                wait,
            )


def check_going(share: Share, runs: list[ClientRun], new: int, now: float) -> None:
    going = entries([run for run in runs if run.status in ACTIVE])
    if len(going) + new <= share.runs:
        return
    ends = [(run.started_at or now) + run.cost for run in going]
    wait = seconds_until(min(ends), now) if ends else 1
    runs_going = f"{len(going)} run{'s' if len(going) != 1 else ''} going"
    raise Refused(
        f"You have {runs_going} (queued or training) and a client may have {share.runs} at once: wait for"
        f" one to end or stop one. Try again in {wait} s.",
        wait,
    )


def check_budget(share: Share, runs: list[ClientRun], cost: float, now: float) -> None:
    recent = sorted((run for run in runs if run.created_at > now - HOUR), key=lambda run: run.created_at)
    spent = sum(charged(run, now) for run in recent)
    if spent + cost <= share.budget:
        return
    wait, left = math.ceil(HOUR), spent
    for run in recent:  # the hour slides: the oldest runs leave it first
        left -= charged(run, now)
        if left + cost <= share.budget:
            wait = seconds_until(run.created_at + HOUR, now)
            break
    raise Refused(
        f"You have used your training budget: {duration(spent)} of the {duration(share.budget, about='')}"
        f" of estimated training a client may use an hour, and this would add {duration(cost)}."
        f" Enough of it frees up in {wait} s ({duration(wait)}).",
        wait,
    )


def seconds_until(moment: float, now: float) -> int:
    return max(1, math.ceil(moment - now))


def duration(seconds: float, about: str = "about ") -> str:
    """'about 40 s', 'about 12 minutes', 'about 3 hours' (`about=""`: '5 minutes')."""
    if seconds < 120:
        return f"{about}{max(1, round(seconds))} s"
    if seconds < 2 * HOUR:
        return f"{about}{round(seconds / 60)} minutes"
    return f"{about}{round(seconds / HOUR)} hours"


def too_costly(config: Config, expected: Estimate, limit: float) -> tuple[str, str] | None:
    """(sentence, field) when a config's estimate is past what one run may cost, else None: which
    field to lower and how."""
    if expected.seconds <= limit:
        return None
    network = "x".join(str(size) for size in config.hidden) or "no hidden layer"
    what = (
        f"This network ({network}) at batch size {config.batch_size} for {config.epochs} epochs would take"
        f" {duration(expected.seconds)} to train; the limit is {duration(limit, about='')} a run"
    )
    fitting = expected.epochs_within(limit)
    if config.batch_size < 32:
        return f"{what}: raise the batch size or shrink the layers.", "batch_size"
    if fitting >= 1:
        return f"{what}: lower the epochs to {fitting} or fewer, or shrink the layers.", "epochs"
    return f"{what}: shrink the hidden layers.", "hidden"
