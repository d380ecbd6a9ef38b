"""Every field of the served field table (GET /api/datasets "fields", core.config.FIELDS) has a control
on the page for each dataset it applies to: visible, labelled, with its help, its bounds, and an error
that states the table's bound when the value typed is past it. Fields that do not apply are hidden."""

from __future__ import annotations

from playwright.sync_api import Page, expect

OPEN_DETAILS = "document.querySelectorAll('details').forEach((d) => { d.open = true; })"


def shown(number: float) -> str:
    """A bound as the page writes it (Python's repr, without a trailing .0)."""
    return str(int(number)) if number == int(number) else repr(number)


def control(page: Page, field: dict):
    """The element a person uses to set the field, found by its label as they would find it."""
    if field["control"] == "tiles":
        return page.get_by_role("radiogroup", name=field["label"], exact=True)
    if field["control"] in ("layers", "toggles", "data"):
        return page.get_by_role("group", name=field["label"], exact=True)
    return page.get_by_label(field["label"], exact=True)


def test_every_field_that_applies_has_a_labelled_control_with_the_tables_bounds(page: Page) -> None:
    fields = page.request.get("/api/datasets").json()["fields"]
    tiles = next(field for field in fields if field["control"] == "tiles")
    page.goto("/")
    page.evaluate(OPEN_DETAILS)  # More options
    for choice in tiles["choices"]:  # the page as drawn for MNIST, then as each dataset's tile shows it
        page.get_by_role("radio", name=choice["label"], exact=True).check()
        expect_controls(page, fields, choice["value"])


def expect_controls(page: Page, fields: list[dict], dataset: str) -> None:
    for field in fields:
        wrapper = page.locator(f'[data-field="{field["name"]}"]')
        spec = field["datasets"].get(dataset)
        if spec is None:
            expect(wrapper).to_be_hidden()
            continue
        expect(wrapper).to_have_attribute("title", field["help"])
        element = control(page, field)
        expect(element).to_be_visible()
        if field["kind"] == "choice_list":
            expect_toggles(page, element, field, spec)
            continue
        if field["kind"] == "hash":  # your points: clicked or uploaded (tests/browser/test_custom_data.py)
            expect(element.get_by_text("Upload CSV")).to_be_visible()
            continue
        if field["kind"] == "choice":
            values = [c["value"] for c in field["choices"]]
            if field["control"] == "tiles":
                radios = element.get_by_role("radio")
                assert [radios.nth(i).get_attribute("value") for i in range(radios.count())] == values
                expect(element.get_by_role("radio", name=field["choices"][0]["label"])).to_be_attached()
            else:
                options = element.locator("option")
                assert [options.nth(i).get_attribute("value") for i in range(options.count())] == values
            continue

        low, high = spec["low"], spec["high"]
        if field["control"] == "layers":
            element = element.get_by_role("spinbutton").first
        if field["control"] in ("number", "number_shuffle", "range", "layers"):
            assert float(element.get_attribute("min")) == low and float(element.get_attribute("max")) == high
        if field["control"] == "range":
            continue  # a slider cannot be set past its ends
        default = element.input_value()
        beyond = high + 1 if field["kind"] in ("int", "int_list") else high + 0.5
        element.fill(shown(beyond))
        error = page.locator(f"#{field['name']}-error")
        expect(error).to_be_visible()
        bound = (
            f"from {shown(low)} to {shown(high)}"
            if field["kind"] == "int_list"
            else f"{shown(low)} and {shown(high)}"
        )
        expect(error).to_contain_text(bound)
        expect(element).to_have_attribute("aria-invalid", "true")
        element.fill(default)
        expect(error).to_be_hidden()


def expect_toggles(page: Page, group, field: dict, spec: dict) -> None:
    """A checkbox per choice, named by its label, the default's checked; none checked is an error."""
    boxes = group.get_by_role("checkbox")
    assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())] == [
        c["value"] for c in field["choices"]
    ]
    checked = [c for c in field["choices"] if c["value"] in spec["default"]]
    for choice in field["choices"]:
        box = group.get_by_role("checkbox", name=choice["label"], exact=True)
        (expect(box).to_be_checked if choice in checked else expect(box).not_to_be_checked)()
    for choice in checked:
        group.get_by_role("checkbox", name=choice["label"], exact=True).uncheck()
    error = page.locator(f"#{field['name']}-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Choose at least one")
    expect(boxes.first).to_have_attribute("aria-invalid", "true")
    for choice in checked:
        group.get_by_role("checkbox", name=choice["label"], exact=True).check()
    expect(error).to_be_hidden()
