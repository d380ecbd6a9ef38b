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

from core.config import parse_query
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
    # One process and one run per 15 s: the second Train within them is refused with 429 and Retry-After.
    server = start_procfile_server(
        tmp_path / "playground.sqlite3",
        tmp_path / "server.log",
        {"WEB_CONCURRENCY": "1", "PLAYGROUND_RATELIMIT": "1 per 15 seconds"},
    )
    try:
        page = new_page(server.url, expected_errors=("status of 429",))
        run_id = train_long_run(page)
        page.get_by_label("Learning rate", exact=True).fill("0.01")
        page.get_by_role("button", name="Train").click()
        notice = page.locator("#train-notice")
        expect(notice).to_contain_text("You have started too many runs")
        expect(notice).to_contain_text(re.compile(r"Train is available again in \d+ s\."))
        expect(page.get_by_role("button", name="Train")).to_be_disabled()
        first = int(re.search(r"in (\d+) s", notice.inner_text()).group(1))
        screenshots(page, "refused-train-countdown")
        shown = epochs_shown(page)
        page.wait_for_timeout(1500)
        assert int(re.search(r"in (\d+) s", notice.inner_text()).group(1)) < first  # it counts down
        wait_for_epochs(page, shown + 1)  # the run on the page goes on, and the refusal stays
        expect(notice).to_contain_text("You have started too many runs")
        assert status_of(server.url, run_id) == "running"
        assert page.locator("#status").get_attribute("data-status") == "running"
        expect(notice).to_contain_text("You can press Train again now.", timeout=20_000)
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
    expect(status).to_contain_text("ReLUs are dead")  # why, from the layers' diagnostics
    expect(status).to_contain_text("Try a lower learning rate, such as 0.3")
    assert page.evaluate("getComputedStyle(document.getElementById('status')).color") == "rgb(161, 92, 0)"
    meta = page.locator("#run-list .run-item.is-current .run-meta")
    expect(meta).to_contain_text("done")
    expect(meta).to_contain_text("at chance")
    expect(meta).to_have_class(re.compile("has-warning"))
    screenshots(page, "done-without-learning")


# --- 4. the address holds the run; a reload resumes it --------------------------------------------


def test_the_address_holds_the_run_a_reload_resumes_it_and_back_returns_to_the_settings(page: Page) -> None:
    run_id = train_long_run(page)
    seen = epochs_shown(page)
    page.reload()
    status = page.locator("#status")
    expect(status).to_have_attribute("data-status", "running")
    expect(status).to_contain_text("Training: epoch")
    expect(page.get_by_role("button", name="Stop")).to_be_enabled()  # this browser still owns it
    wait_for_epochs(page, seen + 2)  # the stream resumed
    xs = page.evaluate("() => Array.from(document.getElementById('loss-chart').data.at(-1).x)")
    assert xs == list(range(1, len(xs) + 1))  # every epoch once, none lost over the reload
    screenshots(page, "reloaded-run")

    # Back and Forward reload the page at the entry's address (main.js's popstate); history.back() and
    # forward() rather than page.go_back()/go_forward(), whose wait for the history navigation itself
    # reports that reload as an aborted navigation when it wins the race.
    page.evaluate("window.beforeBack = true; history.back()")  # the settings the run was started from
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    page.wait_for_function("() => !window.beforeBack")  # the page at that address, loaded anew
    assert parse_query(urlsplit(page.url).query) == parse_query(urlsplit(LONG_2D).query)
    expect(page.locator("#run-list .run-item")).to_contain_text("running")
    page.evaluate("window.beforeForward = true; history.forward()")
    page.wait_for_url(f"**/runs/{run_id}")
    page.wait_for_function("() => !window.beforeForward")
    page.get_by_role("button", name="Stop").click()
    expect(status).to_have_attribute("data-status", "stopped")


def test_the_runs_list_learns_that_a_run_it_listed_as_running_has_ended(page: Page) -> None:
    page.goto("/?dataset=spiral&batch_size=1&epochs=100&points=2000")  # a few seconds
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(lambda url: bool(RUN_PATH.match(urlsplit(url).path)))
    page.goto("/")  # leave while it trains
    item = page.locator("#run-list .run-item .run-meta")
    expect(item).to_have_text(re.compile("^(queued|running)$"))
    expect(item).to_contain_text("done", timeout=45_000)  # asked again, without a reload


# --- 5. one experiment on the page: settings changed after a run grey its panels ----------------------


def test_changing_the_settings_after_a_run_greys_it_and_the_diagram_follows_the_controls(page: Page) -> None:
    page.goto("/?dataset=spiral&epochs=30")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    run_path = urlsplit(page.url).path
    assert RUN_PATH.match(run_path)
    main = page.locator("#main")
    expect(main).not_to_have_class(re.compile("is-previous-run"))

    page.get_by_role("radio", name="MNIST").check()
    expect(main).to_have_class(re.compile("is-previous-run"))
    expect(page.locator("#status")).to_contain_text("Previous run")
    expect(page.locator("#chart-legend")).to_contain_text("previous run")
    diagram = page.locator("#network-svg")
    expect(diagram).to_have_attribute("data-sizes", "784,100,200,10")
    expect(page.locator("#network-caption")).to_contain_text("784 → 100 → 200 → 10")
    assert urlsplit(page.url).path == "/" and "dataset=mnist" in urlsplit(page.url).query
    page.get_by_role("button", name="Add layer").click()
    expect(diagram).to_have_attribute("data-sizes", "784,100,200,200,10")
    screenshots(page, "previous-run-greyed")

    page.go_back()  # Back returns to the run
    page.wait_for_url(f"**{run_path}")
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    expect(main).not_to_have_class(re.compile("is-previous-run"))
    expect(diagram).to_have_attribute("data-sizes", "2,16,16,3")

    page.get_by_role("button", name="Fork").click()
    page.get_by_label("Epochs", exact=True).fill("5")
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(lambda url: RUN_PATH.match(urlsplit(url).path) and urlsplit(url).path != run_path)
    expect(main).not_to_have_class(re.compile("is-previous-run"))  # Train: the new run is the page's
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)


# --- 6. long runs: the cap before they start, "epoch 1 of N" at once, time left from batches ------------


def test_a_long_mnist_config_warns_of_the_time_limit_before_training_and_counts_epoch_1_at_once(
    page: Page,
) -> None:
    page.goto("/?dataset=mnist&hidden=512,512,512,512&lr=0.001&batch_size=1&epochs=100")  # (lr 0.1 diverges)
    note = page.locator("#cap-note")
    expect(note).to_contain_text(
        re.compile(r"would stop at the 15-minute limit, after about epoch \d+ of 100\.")
    )
    expect(page.locator("#eta")).to_contain_text(re.compile(r"about (\d+ h )?\d+ min to train"))
    screenshots(page, "cap-warning-before-training")

    page.get_by_role("button", name="Train").click()
    status = page.locator("#status")
    expect(status).to_have_text("Training: epoch 1 of 100.")  # not "preparing the data" while it trains
    expect(page.locator("#epoch-counter")).to_have_text("Epoch 0 / 100")
    expect(note).to_contain_text("stop at the 15-minute limit")
    # Within the first epoch the trainer reports its batches: the time left and the bar come from them.
    expect(page.locator("#eta")).to_contain_text(" left", timeout=30_000)
    expect(note).to_contain_text(
        re.compile(r"This run will stop at the 15-minute limit, after about epoch \d+ of 100\.")
    )
    page.wait_for_function("() => document.getElementById('progress').value > 0")
    assert epochs_shown(page) == 0
    screenshots(page, "cap-warning-while-training")
    page.get_by_role("button", name="Stop").click()
    expect(status).to_have_attribute("data-status", "stopped")
