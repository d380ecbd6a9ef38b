"""The page and the fair share (server/fair_share.py): next to Train, the server's refusal of settings
too costly for one run (PLAYGROUND_RUN_COST), before anything is sent; Train stays enabled, the refusal
names the field, and lighter settings train. With two runs going (PLAYGROUND_CLIENT_RUNS), Train is
refused with a countdown, and stopping the page's own run lifts it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import api, screenshots
from tests.loopback import request
from tests.procfile import start_procfile_server

HEAVIEST = "/?dataset=mnist&hidden=512,512,512,512&lr=0.001&batch_size=1&epochs=100"
REFUSAL = "raise the batch size or shrink the layers."


def test_settings_too_costly_for_one_run_are_refused_next_to_train_and_lighter_ones_train(new_page, tmp_path):
    server = start_procfile_server(tmp_path / "playground.sqlite3", tmp_path / "server.log")  # the defaults
    try:
        page = new_page(server.url, expected_errors=("status of 400",))
        page.goto(HEAVIEST)
        note = page.locator("#cap-note")
        expect(note).to_contain_text("would take about 47 minutes to train; the limit is 5 minutes a run")
        expect(note).to_contain_text(REFUSAL)
        train = page.get_by_role("button", name="Train")
        expect(train).to_be_enabled()
        screenshots(page, "too-costly-before-training")

        train.click()  # the server refuses it with the same sentence, naming the batch size
        expect(page.locator("#train-notice")).to_contain_text(REFUSAL)
        expect(page.locator("#batch_size-error")).to_contain_text(REFUSAL)
        expect(train).to_be_enabled()

        page.get_by_label("Batch size", exact=True).fill("256")
        page.get_by_label("Epochs", exact=True).fill("2")
        expect(note).to_be_hidden()
        train.click()
        expect(page.locator("#status")).to_have_attribute("data-status", "running", timeout=30_000)
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#status")).to_have_attribute("data-status", "stopped")
    finally:
        server.stop()


LONG_2D = "/?dataset=spiral&hidden=16,16&lr=0.03&batch_size=1&epochs=1000&points=5000"


def test_with_two_runs_going_train_is_refused_until_the_page_stops_its_own_run(new_page, tmp_path):
    server = start_procfile_server(tmp_path / "playground.sqlite3", tmp_path / "server.log")  # 2 runs going
    try:
        elsewhere = api(
            server.url, "/api/runs", {"dataset": "spiral", "points": 5000, "batch_size": 1, "epochs": 1000}
        )
        page = new_page(server.url, expected_errors=("status of 429",))
        page.goto(LONG_2D)
        train = page.get_by_role("button", name="Train")
        train.click()
        status = page.locator("#status")
        expect(status).to_have_attribute("data-status", "running", timeout=30_000)
        page.get_by_label("Learning rate", exact=True).fill("0.01")
        train.click()
        notice = page.locator("#train-notice")
        expect(notice).to_contain_text("You have 2 runs going (queued or training)")
        expect(notice).to_contain_text("Train is available again in")
        expect(train).to_be_disabled()
        screenshots(page, "refused-runs-going")

        page.get_by_role("button", name="Stop").click()  # one of this client's places is free again
        expect(status).to_have_attribute("data-status", "stopped")
        expect(train).to_be_enabled()
        expect(notice).to_be_hidden()
        train.click()
        expect(status).to_have_attribute("data-status", "running", timeout=30_000)
        page.get_by_role("button", name="Stop").click()
        expect(status).to_have_attribute("data-status", "stopped")
        headers = {"Authorization": f"Bearer {elsewhere['owner_token']}"}
        request(server.url, "POST", f"/api/runs/{elsewhere['id']}/stop", None, "127.0.0.1", headers)
    finally:
        server.stop()
