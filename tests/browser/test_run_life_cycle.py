"""The run on the page, as a user meets it (issue 10's cases): only the browser that started a run can
stop it; Train never stops a run before the new one is accepted, and a refusal stays visible with a
countdown; a run that did not learn ends amber with a hint; the address holds the run and a reload
resumes it; changing the settings after a run greys its panels while the diagram follows; long runs
say "epoch 1 of N" at once and warn about the time limit before they start."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.helpers import api, screenshots
from tests.procfile import start_procfile_server

# ~0.3 s an epoch for 1000 epochs: a run that goes on until it is stopped.
LONG_2D = "/?dataset=spiral&hidden=16,16&lr=0.03&batch_size=1&epochs=1000&points=5000"
RUN_PATH = re.compile(r"^/runs/[A-Za-z0-9_-]{12}$")
EPOCHS_SHOWN = "() => ((document.getElementById('loss-chart').data || []).at(-1)?.x.length ?? 0)"


def epochs_shown(page: Page) -> int:
    return page.evaluate(EPOCHS_SHOWN)


def wait_for_epochs(page: Page, n: int) -> None:
    page.wait_for_function(f"() => ({EPOCHS_SHOWN})() >= {n}", timeout=60_000)


def train_long_run(page: Page) -> str:
    """Press Train on a run that goes on until stopped; its id, once the address shows it."""
    page.goto(LONG_2D)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(lambda url: bool(RUN_PATH.match(urlsplit(url).path)))
    wait_for_epochs(page, 2)
    return urlsplit(page.url).path.rsplit("/", 1)[1]


def status_of(server_url: str, run_id: str) -> str:
    return api(server_url, f"/api/runs/{run_id}")["status"]


# --- 1. only the browser that started a run can stop it --------------------------------------------


def test_a_link_recipient_sees_the_run_without_stop_and_fork_leaves_the_original_running(
    page: Page, new_page, server_url: str
) -> None:
    run_id = train_long_run(page)
    expect(page.get_by_role("button", name="Stop")).to_be_enabled()

    friend = new_page(server_url)  # another browser: no owner token
    friend.goto(f"/runs/{run_id}")
    expect(friend.locator("#status")).to_have_attribute("data-status", "running")
    wait_for_epochs(friend, epochs_shown(friend) + 1)  # it streams
    expect(friend.get_by_role("button", name="Stop")).to_be_hidden()
    summary = friend.locator("#run-summary")
    expect(summary).to_contain_text("Only the browser that started this run can stop it")
    screenshots(friend, "shared-link-no-stop")

    friend.get_by_role("button", name="Fork").click()
    friend.get_by_label("Learning rate", exact=True).fill("0.01")
    friend.get_by_role("button", name="Train").click()
    friend.wait_for_url(lambda url: urlsplit(url).path not in ("/", f"/runs/{run_id}"))
    fork_id = urlsplit(friend.url).path.rsplit("/", 1)[1]
    wait_for_epochs(friend, 1)
    expect(friend.get_by_role("button", name="Stop")).to_be_enabled()  # the fork is the friend's own
    assert status_of(server_url, run_id) == "running"  # the original goes on
    friend.get_by_role("button", name="Stop").click()
    expect(friend.locator("#status")).to_have_attribute("data-status", "stopped")
    assert status_of(server_url, fork_id) == "stopped"
    assert status_of(server_url, run_id) == "running"

    page.get_by_role("button", name="Stop").click()  # the owner still can
    expect(page.locator("#status")).to_have_attribute("data-status", "stopped")


# --- 2. Train never stops a run before the new one is accepted ------------------------------------


def test_a_refused_train_keeps_the_run_going_and_counts_down_retry_after(new_page, tmp_path) -> None:
    # One process and one run per 6 s: the second Train within them is refused with 429 and Retry-After.
    server = start_procfile_server(
        tmp_path / "playground.sqlite3",
        tmp_path / "server.log",
        {"WEB_CONCURRENCY": "1", "PLAYGROUND_RATELIMIT": "1 per 6 seconds"},
    )
    try:
        page = new_page(server.url, expected_errors=("status of 429",))
        run_id = train_long_run(page)
        page.get_by_label("Learning rate", exact=True).fill("0.01")
        page.get_by_role("button", name="Train").click()
        notice = page.locator("#train-notice")
        expect(notice).to_contain_text("You have started too many runs")
        expect(notice).to_contain_text(re.compile(r"Train is available again in \d s\."))
        expect(page.get_by_role("button", name="Train")).to_be_disabled()
        first = int(re.search(r"in (\d) s", notice.inner_text()).group(1))
        screenshots(page, "refused-train-countdown")
        shown = epochs_shown(page)
        page.wait_for_timeout(1500)
        assert int(re.search(r"in (\d) s", notice.inner_text()).group(1)) < first  # it counts down
        assert epochs_shown(page) > shown  # the run on the page goes on, and the refusal stays
        assert status_of(server.url, run_id) == "running"
        assert page.locator("#status").get_attribute("data-status") == "running"
        expect(notice).to_contain_text("You can press Train again now.", timeout=10_000)
        expect(page.get_by_role("button", name="Train")).to_be_enabled()

        page.get_by_role("button", name="Train").click()  # accepted now: it replaces the first run
        page.wait_for_url(lambda url: urlsplit(url).path != f"/runs/{run_id}")
        expect(notice).to_be_hidden()
        deadline = time.monotonic() + 10
        while status_of(server.url, run_id) != "stopped":  # this page's own run, replaced: stopped
            assert time.monotonic() < deadline
            time.sleep(0.1)
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "stopped")
    finally:
        server.stop()


# --- 3. a run that did not learn ends amber, with a hint -------------------------------------------


def test_spiral_at_lr_3_ends_done_in_amber_with_what_to_try(page: Page) -> None:
    page.goto("/?dataset=spiral&lr=3&epochs=40")
    page.get_by_role("button", name="Train").click()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "done", timeout=60_000)
    expect(status).to_have_attribute("data-tone", "amber")
    expect(status).to_contain_text("Done, but it did not learn")
    expect(status).to_contain_text("about chance for 3 classes")
    expect(status).to_contain_text("Try a lower learning rate, such as 0.3")
    assert page.evaluate("getComputedStyle(document.getElementById('status')).color") == "rgb(161, 92, 0)"
    meta = page.locator("#run-list .run-item.is-current .run-meta")
    expect(meta).to_contain_text("done")
    expect(meta).to_contain_text("at chance")
    expect(meta).to_have_class(re.compile("has-warning"))
    screenshots(page, "done-without-learning")
