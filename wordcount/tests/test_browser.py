"""A person's view: headless Chromium submits a URL and sees the results."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import PROJECT_DIR

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", PROJECT_DIR / "test-artifacts"))
# Keep Chromium off the network: this machine reaches nothing outside 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serve(app):
    """``app`` on a real port, as a browser needs it (CSRF on, as in production)."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_server(app):
    yield from serve(app)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_submit_a_url_and_see_the_top_words(app, live_server, browser, local_site):
    url = local_site.add(
        "/story",
        "<h1>Cats</h1><p>The cat met another cat. "
        "The <b>dog</b> ran.</p><p>&lt;script&gt; is a word here.</p>",
    )
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(live_server + "/")
    page.fill("input[name=url]", url)
    page.click("button[type=submit]")
    page.wait_for_url("**/results/*")

    first_table = page.locator("table.words").first
    assert first_table.locator("caption").inner_text() == "Without stop words"
    rows = first_table.locator("tbody tr").all_inner_texts()
    assert rows[0].split("\t") == ["1", "cat", "2"]
    assert page.locator("p.url").inner_text() == url
    assert page.locator("script").count() == 0

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "result-page-phone.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot: {screenshot}")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/")
    assert url in page.locator("table.results").inner_text()
    page.screenshot(path=str(ARTIFACTS / "index-desktop.png"), full_page=True)
    print(f"screenshot: {ARTIFACTS / 'index-desktop.png'}")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_error_keeps_the_input_in_the_browser(app, live_server, browser):
    page = browser.new_page()
    page.goto(live_server + "/")
    page.fill("input[name=url]", "ftp://example.com/file")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Only http:// and https:// URLs can be counted."
    assert page.input_value("input[name=url]") == "ftp://example.com/file"


@pytest.fixture
def queue_server(queue_app):
    """queue_app (REDIS_URL set), served for the browser."""
    yield from serve(queue_app)


VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    print(f"\nscreenshot: {ARTIFACTS / name}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_a_queued_count_updates_itself_when_a_worker_finishes_it(
    queue_server, browser, local_site, start_worker, viewport, javascript
):
    url = local_site.add("/story", "<p>The cat met another cat. The dog ran.</p>")
    context = browser.new_context(viewport=VIEWPORTS[viewport], java_script_enabled=javascript)
    page = context.new_page()
    page.goto(queue_server + "/")
    page.fill("input[name=url]", url)
    page.click("button[type=submit]")
    page.wait_for_url("**/results/*")
    assert "Waiting for a worker." in page.locator(".pending").inner_text()
    screenshot(page, f"count-queued-{viewport}.png")

    start_worker()
    # No reload from the test: the page follows the count by itself.
    page.wait_for_selector("figure.chart", timeout=30_000)
    bars = page.locator("ol.bars li").all_inner_texts()
    assert [bar.split() for bar in bars] == [
        ["cat", "2"],
        ["another", "1"],
        ["dog", "1"],
        ["met", "1"],
        ["ran", "1"],
    ]
    chart = page.locator("figure.chart").bounding_box()
    table = page.locator("table.words").first.bounding_box()
    if viewport == "phone":  # stacked, each as wide as the screen allows
        assert chart["width"] > 300 and table["y"] > chart["y"]
    else:  # side by side
        assert abs(table["y"] - chart["y"]) < 5 and table["x"] > chart["x"]
    screenshot(page, f"count-done-{viewport}{'' if javascript else '-noscript'}.png")
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_failed_count_shows_why_and_can_be_tried_again(
    queue_server, browser, local_site, start_worker, viewport
):
    url = local_site.add("/image", "x", content_type="image/png")
    start_worker()
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(queue_server + "/")
    page.fill("input[name=url]", url)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Could not count this page", timeout=30_000)
    assert page.locator(".error").inner_text() == (
        "The URL is not an HTML page (Content-Type: image/png)."
    )
    screenshot(page, f"count-failed-{viewport}.png")

    local_site.add("/image", "<p>now a page</p>")
    first = page.url
    page.click("text=Try again")
    page.wait_for_selector("figure.chart", timeout=30_000)
    assert page.url != first
    assert page.locator("ol.bars li").first.inner_text().split() == ["now", "1"]


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_longest_words_never_make_a_page_wider_than_the_screen(
    app, live_server, browser, local_site, viewport
):
    from wordcount.counting import MAX_WORD_LENGTH

    longest = ["w" * MAX_WORD_LENGTH, "ü" * MAX_WORD_LENGTH, "x" * 500]  # the last is no word
    url = local_site.add("/long", "<p>" + " ".join(longest * 3) + " short</p>")
    page = browser.new_page(viewport=VIEWPORTS[viewport])
    page.goto(live_server + "/")
    page.fill("input[name=url]", url)
    page.click("button[type=submit]")
    page.wait_for_url("**/results/*")
    assert "w" * MAX_WORD_LENGTH in page.locator("table.words").first.inner_text()
    for path in (page.url, live_server + "/", live_server + "/history"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], path
    page.goto(live_server + "/")
    screenshot(page, f"longest-words-{viewport}.png")
