"""The two pages (the `page` data they embed), static files, the vendored Plotly.js and compression."""

from __future__ import annotations

import gzip
import html
import importlib.util
import json
import re
from pathlib import Path

import pytest

from core.config import defaults_for
from server.assets import PLOTLY_BUNDLE, STATIC_FOLDER
from tests.server.helpers import FAST_2D, start, wait_for

# Pages and files: on SQLite only (the run page's data comes through the same store calls as the API's).
pytestmark = pytest.mark.stores("sqlite")

ROOT = Path(__file__).resolve().parents[2]


def page_data(response) -> dict:
    """The JSON the template wrote into <body data-page="...">."""
    match = re.search(r'data-page="([^"]*)"', response.get_data(as_text=True))
    assert match, "no data-page attribute"
    return json.loads(html.unescape(match.group(1)))


def test_the_playground_page_embeds_defaults_and_datasets(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = page_data(response)
    assert page["config"] == defaults_for("mnist").to_dict()
    assert page["query_error"] is None and page["run_id"] is None and page["run"] is None
    assert [d["name"] for d in page["datasets"]["datasets"]][:2] == ["mnist", "spiral"]
    assert "<script>" not in response.get_data(as_text=True)  # no inline script


def test_a_config_url_fills_the_page(client):
    page = page_data(client.get("/?dataset=moons&hidden=8,4&lr=0.05&epochs=40&seed=7"))
    expected = {**defaults_for("moons").to_dict(), "hidden": [8, 4], "lr": 0.05, "epochs": 40, "seed": 7}
    assert page["config"] == expected and page["query_error"] is None


def test_a_bad_config_url_shows_the_error_with_the_defaults(client):
    response = client.get("/?dataset=spiral&lr=fast")
    assert response.status_code == 200
    page = page_data(response)
    assert page["query_error"]["field"] == "lr"
    assert page["config"] == defaults_for("spiral").to_dict()
    weird = page_data(client.get("/?dataset=%3Cscript%3E"))
    assert weird["query_error"]["field"] == "dataset" and weird["config"]["dataset"] == "mnist"


def test_the_run_page_embeds_the_run(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.get(f"/runs/{run_id}")
    assert response.status_code == 200
    page = page_data(response)
    assert page["run_id"] == run_id and page["run"]["status"] == "done"
    assert len(page["run"]["epochs"]) == 5 and page["config"] == page["run"]["config"]


def test_unknown_run_pages_are_404_html(client):
    for path in ("/runs/AAAAAAAAAAAA", "/runs/nope", "/nowhere"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "Traceback" not in response.get_data(as_text=True)


def test_static_files_are_gzipped_and_validated(client):
    raw = (ROOT / "static/js/main.js").read_bytes()
    plain = client.get("/static/js/main.js")
    assert plain.status_code == 200 and plain.data == raw
    assert plain.mimetype == "text/javascript"
    assert plain.headers["Cache-Control"] == "no-cache"
    assert plain.headers["ETag"] and plain.headers["Last-Modified"]
    zipped = client.get("/static/js/main.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == raw and len(zipped.data) < len(raw)
    again = client.get(
        "/static/js/main.js", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_fingerprinted_urls_are_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'"(/static/js/main\.js\?v=[0-9a-f]{12})"', page).group(1)
    response = client.get(url)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert re.search(r'"/static/vendor/plotly-basic/plotly-basic\.min\.js\?v=[0-9a-f]{12}"', page)
    stale = client.get("/static/js/main.js?v=000000000000")  # an old fingerprint: revalidate
    assert stale.headers["Cache-Control"] == "no-cache"


def test_static_paths_cannot_escape_the_folder(client):
    for path in ("/static/../server/api.py", "/static/%2e%2e/server/api.py", "/static/nope.js", "/static/"):
        assert client.get(path).status_code == 404


def plotly_js_version(path: Path) -> str:
    """The plotly.js version in a bundle's header comment, e.g. "4.1.1" from
    "plotly.js (basic - minified) v4.1.1"."""
    header = path.read_bytes()[:400].decode("utf-8", "replace")
    match = re.search(r"\* plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)", header)
    assert match, f"no plotly.js version in the header of {path}"
    return match.group(1)


def test_the_vendored_plotly_bundle_is_the_plotly_packages_version_of_plotly_js():
    spec = importlib.util.find_spec("plotly")
    assert spec and spec.submodule_search_locations, "pip install -r requirements-dev.txt"
    packaged = Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"
    bundle = STATIC_FOLDER / PLOTLY_BUNDLE
    version = plotly_js_version(packaged)
    assert plotly_js_version(bundle) == version, "upgrade static/vendor/plotly-basic/ (see its README)"
    assert f"| version | {version}," in (bundle.parent / "README.md").read_text()
    assert (bundle.parent / "LICENSE").read_text().startswith("MIT License")


def test_the_plotly_bundle_is_served_gzipped_with_a_fingerprint(client):
    raw = (STATIC_FOLDER / PLOTLY_BUNDLE).read_bytes()
    page = client.get("/").get_data(as_text=True)
    url = re.search(r'href="(/static/vendor/[^"]+\.min\.js\?v=[0-9a-f]{12})" as="script"', page).group(1)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(response.data) < 520_000
    assert gzip.decompress(response.data) == raw


def test_large_json_answers_are_gzipped_when_accepted(client):
    plain = client.get("/api/datasets")
    zipped = client.get("/api/datasets", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()


def test_every_element_id_on_the_pages_is_unique(client):
    # The scripts find their elements by id: two elements with one id leave one of them dead.
    run = start(client, FAST_2D)
    wait_for(client, run["id"])
    sweep = client.post("/api/sweeps", json={"config": FAST_2D, "vary": {"lr": [0.1, 1]}}).get_json()
    for path in ("/", "/?dataset=mnist", f"/runs/{run['id']}", f"/sweeps/{sweep['id']}"):
        ids = re.findall(r'\sid="([^"]+)"', client.get(path).get_data(as_text=True))
        assert ids, path
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], path
