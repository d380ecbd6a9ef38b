"""The timeline player and every neuron's picture: a run plays, pauses, steps and scrubs, and the
boundary (or confusion matrix), the network diagram and the charts' markers follow it; ?epoch= links
open at that epoch; the keyboard drives it outside form fields; a live run plays as it arrives and keeps
training while the player looks back; a spiral run's units show their pictures, which change with the
epoch, and hovering a unit or an edge shows the recorded value."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.views import unpack_signed
from tests.browser.helpers import api, finished_run, screenshots

SPIRAL = {"dataset": "spiral", "epochs": 40, "points": 300, "seed": 3}
# A checksum of a canvas's pixels.
CANVAS_SUM = """(id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) % 1000000007;
  return sum;
}"""
# The centre of an element of the page, in page coordinates.
CENTRE = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return [box.left + box.width / 2, box.top + box.height / 2];
}"""


@pytest.fixture(scope="module")
def spiral(server_url: str) -> dict:
    return finished_run(server_url, SPIRAL)


def expect_epoch(page: Page, epoch: int, state: str = "paused") -> None:
    """The player, the boundary, the diagram and both charts' markers all at `epoch`."""
    player = page.locator("#player")
    expect(player).to_have_attribute("data-epoch", str(epoch))
    expect(player).to_have_attribute("data-state", state)
    expect(page.locator("#player-position")).to_contain_text(f"Epoch {epoch} of ")
    expect(page.get_by_label("Epoch", exact=True)).to_have_value(str(epoch))
    expect(page.locator("#boundary")).to_have_attribute("data-grid-epoch", str(epoch))
    expect(page.locator("#network-svg")).to_have_attribute("data-epoch", str(epoch))
    for chart in ("loss-chart", "accuracy-chart", "layers-chart"):
        marker = page.locator(f"#{chart} ~ .epoch-marker")
        expect(marker).to_be_visible()
        expect(marker).to_have_attribute("data-epoch", str(epoch))


def test_the_player_plays_pauses_steps_and_scrubs_a_finished_run(page: Page, spiral: dict) -> None:
    run_id = spiral["id"]
    page.goto(f"/runs/{run_id}")
    expect_epoch(page, 40)  # a finished run opens at its last epoch, paused
    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))
    expect(page.get_by_label("Speed")).to_have_value("20")  # 100 epochs in 5 s
    last = page.evaluate(CANVAS_SUM, "boundary")

    page.get_by_role("button", name="Step back").click()
    expect_epoch(page, 39)
    expect(page).to_have_url(re.compile(f"/runs/{run_id}\\?epoch=39$"))
    page.get_by_role("button", name="Step forward").click()
    expect_epoch(page, 40)
    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))  # the latest epoch: the run's own address

    page.get_by_label("Epoch", exact=True).fill("3")  # scrub
    expect_epoch(page, 3)
    expect(page).to_have_url(re.compile(f"/runs/{run_id}\\?epoch=3$"))
    early = page.evaluate(CANVAS_SUM, "boundary")
    assert early != last, "the boundary at epoch 3 looks like the one at epoch 40"

    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.getElementById('player').dataset.epoch) >= 8")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#player")).to_have_attribute("data-state", "paused")
    paused = int(page.locator("#player").get_attribute("data-epoch"))
    assert 8 <= paused < 40
    page.wait_for_timeout(400)
    expect_epoch(page, paused)  # it stays where it was paused
    expect(page).to_have_url(re.compile(f"\\?epoch={paused}$"))

    page.get_by_label("Speed").select_option("240")
    page.get_by_role("button", name="Play").click()
    expect_epoch(page, 40)  # plays to the end and stops there
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert page.evaluate(CANVAS_SUM, "boundary") == last
    page.get_by_role("button", name="Play").click()  # at the end, Play starts again from the first epoch
    page.wait_for_function("() => Number(document.getElementById('player').dataset.epoch) < 40")
    expect_epoch(page, 40)


def test_a_link_opens_the_run_at_its_epoch_and_a_bad_one_says_why(page: Page, spiral: dict) -> None:
    run_id = spiral["id"]
    page.goto(f"/runs/{run_id}?epoch=12")
    expect_epoch(page, 12)
    expect(page).to_have_url(re.compile(f"/runs/{run_id}\\?epoch=12$"))
    expect(page.locator("#epoch-error")).to_be_hidden()
    twelve = page.evaluate(CANVAS_SUM, "boundary")
    page.goto(f"/runs/{run_id}?epoch=13")
    expect_epoch(page, 13)
    assert page.evaluate(CANVAS_SUM, "boundary") != twelve

    page.goto(f"/runs/{run_id}?epoch=41")
    expect(page.locator("#epoch-error")).to_have_text(
        "This link's epoch could not be used: epoch must be a whole number from 1 to 40, the epochs this run "
        "recorded. The latest epoch is shown instead."
    )
    expect_epoch(page, 40)
    expect(page).to_have_url(re.compile(f"/runs/{run_id}$"))


def test_the_keyboard_steps_and_plays_but_not_while_typing(page: Page) -> None:
    page.goto("/?dataset=circles&hidden=8&epochs=10&points=200")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    expect_epoch(page, 10)  # a run started here plays from its first epoch to its last
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect_epoch(page, 8)
    page.keyboard.press("ArrowRight")
    expect_epoch(page, 9)
    page.keyboard.press(" ")
    expect(page.locator("#player")).not_to_have_attribute("data-state", "paused")
    expect_epoch(page, 10)  # played to the end
    page.keyboard.press(" ")  # at the end: plays again from the start
    page.wait_for_function("() => Number(document.getElementById('player').dataset.epoch) < 10")
    page.keyboard.press(" ")
    expect(page.locator("#player")).to_have_attribute("data-state", "paused")
    paused = page.locator("#player").get_attribute("data-epoch")

    seed = page.get_by_label("Seed", exact=True)  # typing in a field: its keys are its own
    seed.click()
    seed.press("End")
    seed.press("ArrowLeft")
    seed.press(" ")
    expect(page.locator("#player")).to_have_attribute("data-epoch", paused)
    expect(page.locator("#player")).to_have_attribute("data-state", "paused")


def test_a_live_run_plays_as_it_arrives_and_keeps_training_while_the_player_looks_back(page: Page) -> None:
    page.goto("/?dataset=spiral&batch_size=1&epochs=30&points=3000&lr=0.03")
    page.get_by_role("button", name="Train").click()
    player = page.locator("#player")
    expect(player).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.locator("#player-live")).to_be_visible()
    received = "() => Number(document.getElementById('epoch-counter').textContent.match(/\\d+/)[0])"
    page.wait_for_function(f"() => ({received})() >= 3")
    page.get_by_role("button", name="Step back").click()
    expect(player).to_have_attribute("data-state", "paused")
    looking = int(player.get_attribute("data-epoch"))
    seen = page.evaluate(received)
    page.wait_for_function(f"() => ({received})() >= {seen + 2}")  # the run goes on meanwhile
    expect_epoch(page, looking)
    assert int(page.get_by_label("Epoch", exact=True).get_attribute("max")) >= seen + 2
    expect(page).to_have_url(re.compile(f"/runs/[\\w-]+\\?epoch={looking}$"))
    page.get_by_role("button", name="Play").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "done", timeout=60_000)
    expect_epoch(page, 30)
    expect(page).to_have_url(re.compile(r"/runs/[\w-]+$"))


def test_every_units_picture_appears_for_a_spiral_run_and_changes_with_the_epoch(
    page: Page, spiral: dict, server_url: str
) -> None:
    run_id = spiral["id"]
    page.goto(f"/runs/{run_id}?epoch=1")
    expect_epoch(page, 1)
    pictures = page.locator("#network-pictures")
    expect(pictures).to_have_attribute("data-pictures", str(2 + 8 + 8 + 3))  # inputs, 8 + 8 hidden, 3 classes
    first = page.evaluate(CANVAS_SUM, "network-pictures")
    edges = """() => [...document.querySelectorAll('#network-svg .edges line')]
      .map((line) => line.style.stroke + line.style.strokeWidth)"""
    first_edges = page.evaluate(edges)
    assert {stroke[:3] for stroke in first_edges} == {"rgb"}  # every drawn edge has a colour
    page.get_by_label("Epoch", exact=True).fill("40")
    expect_epoch(page, 40)
    assert page.evaluate(CANVAS_SUM, "network-pictures") != first
    assert page.evaluate(edges) != first_edges

    # Hovering shows the recorded values: the unit's bias, the edge's weight (at epoch 40).
    neurons = api(server_url, f"/api/runs/{run_id}/timeline")["epochs"][39]["neurons"]
    layer = neurons["layers"][0]
    page.locator("#network-svg").scroll_into_view_if_needed()
    page.mouse.move(*page.evaluate(CENTRE, "#network-svg .hidden rect"))
    tip = page.locator("#network-tip")
    expect(tip).to_contain_text("Hidden 1 unit 1 at epoch 40: output ")
    bias = float(re.search(r"bias (-?[\d.e+-]+)$", tip.text_content())[1])
    assert bias == pytest.approx(layer["biases"][0], abs=0.006, rel=0.03)
    page.mouse.move(*page.evaluate(CENTRE, "#network-svg .edges line"))  # input X₁ -> hidden 1 unit 1
    expect(tip).to_contain_text("Weight from input X₁ to hidden 1 unit 1 at epoch 40: ")
    weight = float(tip.text_content().rsplit(": ", 1)[1])
    recorded = unpack_signed(layer["weights"], layer["weight_scale"])[0]
    assert weight == pytest.approx(recorded, abs=0.006, rel=0.03)
    page.mouse.move(*page.evaluate(CENTRE, "#network-svg .output rect"))
    expect(tip).to_contain_text("Class 0 at epoch 40: probability ")

    page.get_by_role("button", name="Show more units").click()
    expect(pictures).to_have_attribute("data-pictures", str(2 + 16 + 16 + 3))
    expect(page.get_by_role("button", name="Show fewer units")).to_be_visible()
    page.mouse.move(0, 0)
    screenshots(page, "timeline-neurons")


def test_an_mnist_runs_confusion_matrix_follows_the_player(page: Page, server_url: str) -> None:
    run = finished_run(server_url, {"dataset": "mnist", "hidden": [16], "batch_size": 256, "epochs": 2})
    page.goto(f"/runs/{run['id']}?epoch=1")
    player = page.locator("#player")
    expect(player).to_have_attribute("data-epoch", "1")
    confusion = page.locator("#confusion")
    expect(confusion).to_have_attribute("data-total", "10000")
    expect(page.locator("#network-svg")).to_have_attribute("data-epoch", "1")
    at_first = confusion.inner_text()
    page.get_by_role("button", name="Step forward").click()
    expect(player).to_have_attribute("data-epoch", "2")
    expect(page.locator("#network-svg")).to_have_attribute("data-epoch", "2")
    expect(confusion).not_to_have_text(at_first)
    screenshots(page, "timeline-mnist")
