"""The page from a wide desktop down to a phone: from 900 px up the decision boundary (2D sets) or the
digit pad (MNIST) sits beside the curves, so both can be watched together; on a phone, Train (in a
bar sticky at the bottom) stays on screen while the controls are filled; the tab order goes from the
controls to Train, not through the runs list. Screenshots go to tests/artifacts/layout-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import ARTIFACTS, DESKTOP, PHONE

VIEW_PANEL = {"spiral": "#boundary-panel", "mnist": "#draw-panel"}
FOCUSED = "() => document.activeElement.closest('.runs') ? 'runs' : document.activeElement.id"
FINISHED = "() => ['done', 'stopped', 'failed'].includes(document.getElementById('status').dataset.status)"


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def assert_beside(page: Page, view: str, chart: str) -> None:
    """The view is right of the chart and they share some height: both on screen together."""
    left, right = box(page, chart), box(page, view)
    assert right["x"] >= left["x"] + left["width"], f"{view} is not right of {chart}: {left}, {right}"
    top = max(left["y"], right["y"])
    bottom = min(left["y"] + left["height"], right["y"] + right["height"])
    assert bottom - top > 100, f"{view} and {chart} do not overlap vertically: {left}, {right}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # Plotly re-lays out the charts on resize
    page.screenshot(path=ARTIFACTS / f"layout-{name}.png")


@pytest.mark.parametrize("width", [1400, 1280, 1180, 1100, 1024, 900])
def test_from_900_px_up_the_boundary_and_the_digit_pad_sit_beside_the_curves(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    for dataset, view in VIEW_PANEL.items():
        page.goto(f"/?dataset={dataset}")
        page.wait_for_function("() => (document.getElementById('loss-chart').data || null) !== null")
        assert_beside(page, view, "#loss-chart")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        if width in (1280, 1024, 900):
            shot(page, f"{width}-{dataset}")


def test_at_1024_px_a_run_is_watched_with_its_boundary_beside_both_curves(page: Page) -> None:
    page.set_viewport_size({"width": 1024, "height": 800})
    page.goto("/?dataset=spiral&epochs=30")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(FINISHED)
    expect(page.locator("#status")).to_have_attribute("data-status", "done")
    assert_beside(page, "#boundary-panel", "#loss-chart")
    boundary, accuracy = box(page, "#boundary"), box(page, "#accuracy-chart")
    assert boundary["y"] + boundary["height"] <= 800, "the boundary should fit the first screen"
    assert accuracy["y"] < 800, "the accuracy chart should start on the first screen"
    shot(page, "1024-spiral-trained")


@pytest.mark.parametrize("width", [768, 390])
def test_below_900_px_the_views_follow_the_curves_without_sideways_scrolling(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1024 if width > PHONE["width"] else PHONE["height"]})
    for dataset, view in VIEW_PANEL.items():
        page.goto(f"/?dataset={dataset}")
        page.wait_for_function("() => (document.getElementById('loss-chart').data || null) !== null")
        assert box(page, view)["y"] > box(page, "#accuracy-chart")["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 768:
            shot(page, f"768-{dataset}")


def in_view(page: Page, selector: str) -> bool:
    found = box(page, selector)
    return found["y"] >= 0 and found["y"] + found["height"] <= PHONE["height"]


def test_on_a_phone_train_stays_on_screen_while_the_controls_are_filled(browser, server_url: str) -> None:
    context = browser.new_context(
        viewport=PHONE, base_url=server_url, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto("/?dataset=spiral")
        assert in_view(page, "#train"), "Train should be on the first screen"
        fields = ["Learning rate", "Batch size", "Epochs", "Seed", "Points", "Classes"]
        values = ["0.1", "16", "12", "7", "300", "3"]
        for label, value in zip(fields, values, strict=True):
            page.get_by_label(label, exact=True).fill(value)  # scrolls the field into view
            assert in_view(page, "#train"), f"Train left the screen while filling {label}"
            field = box(page, f"#{page.get_by_label(label, exact=True).get_attribute('id')}")
            train_bar = box(page, ".runbar-main")
            assert field["y"] + field["height"] <= train_bar["y"], f"the bar covers {label}"
        shot(page, "390-filled")
        train = box(page, "#train")
        page.touchscreen.tap(train["x"] + train["width"] / 2, train["y"] + train["height"] / 2)
        page.wait_for_function(FINISHED)
        expect(page.locator("#status")).to_have_attribute("data-status", "done")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.locator("#loss-chart").scroll_into_view_if_needed()
        shot(page, "390-trained")
    finally:
        context.close()


def test_the_tab_key_goes_from_the_last_control_to_train_before_the_runs_list(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/?dataset=spiral&epochs=3")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(FINISHED)
    expect(page.locator("#run-list input").first).to_be_attached()  # the runs list has a checkbox now
    page.locator("details.more summary").focus()
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        order.append(page.evaluate(FOCUSED))
        if order[-1] == "runs":
            break
    assert order[0] == "train", order
    assert order[-1] == "runs", order
    assert "copy-link" in order and "download-metrics" in order, order
