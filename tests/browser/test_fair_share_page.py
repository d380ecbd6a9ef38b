"""The page and the per-run cost limit (PLAYGROUND_RUN_COST, server/fair_share.py): next to Train, the
server's refusal of settings too costly for one run, before anything is sent; Train stays enabled, the
refusal names the field, and lighter settings train."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import screenshots
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
