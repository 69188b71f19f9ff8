"""A person's view: headless Chromium submits a URL and sees the results."""

from pathlib import Path

import pytest
from flask import Flask, url_for

from plumbing import static_files
from tests.support.browser import screenshot, serve

pytestmark = pytest.mark.browser


def serve_with_csrf(app):
    """The app on a real port, CSRF on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield from serve(app)


@pytest.fixture
def live_server(app):
    yield from serve_with_csrf(app)


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
    page.wait_for_url("**/counts/*")

    first_table = page.locator("table.words").first
    assert first_table.locator("caption").inner_text() == "Without stop words"
    rows = first_table.locator("tbody tr").all_inner_texts()
    assert rows[0].split("\t") == ["1", "cat", "2"]
    assert page.locator("p.url").inner_text() == url
    assert page.locator("script").count() == 0

    screenshot(page, "result-page-phone.png")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/")
    assert url in page.locator("table.counts").inner_text()
    screenshot(page, "index-desktop.png")


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_an_error_keeps_the_input_in_the_browser(app, live_server, browser):
    page = browser.new_page()
    page.goto(live_server + "/")
    page.fill("input[name=url]", "ftp://example.com/file")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Only http:// and https:// URLs can be fetched."
    assert page.input_value("input[name=url]") == "ftp://example.com/file"


@pytest.fixture
def queue_server(queue_app):
    """queue_app (REDIS_URL set), served for the browser."""
    yield from serve_with_csrf(queue_app)


VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


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
    page.wait_for_url("**/counts/*")
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
    page.wait_for_url("**/counts/*")
    assert "w" * MAX_WORD_LENGTH in page.locator("table.words").first.inner_text()
    for path in (page.url, live_server + "/", live_server + "/history"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], path
    page.goto(live_server + "/")
    screenshot(page, f"longest-words-{viewport}.png")


# --- The app's static files, seen by a browser ----------------------------
# (plumbing/static_files.py; here because the browser tests and Playwright are the
# example's: a fork that removes it keeps tests/test_static_files.py)


class Swappable:
    """A WSGI app whose app can be replaced while it is served: the same
    origin (so the same browser cache) before and after a deploy."""

    def __init__(self, app: Flask):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def site(folder: Path, css: str) -> Flask:
    """A page with one stylesheet, served as the app serves its own."""
    folder.mkdir()
    (folder / "site.css").write_text(css)
    app = Flask(__name__, static_folder=str(folder), static_url_path="/static")
    static_files.init_app(app)
    app.add_url_rule(
        "/",
        "page",
        lambda: f'<link rel="stylesheet" href="{url_for("static", filename="site.css")}">',
    )
    return app


def static_downloads(page, url: str) -> dict[str, dict]:
    """Visit ``url``; for each static file, the bytes that crossed the
    network and the encoding (Chromium's own figures, through CDP)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, dict] = {}
    cdp.on(
        "Network.responseReceived",
        lambda event: seen.setdefault(event["requestId"], {}).update(
            url=event["response"]["url"],
            encoding=event["response"]["headers"].get("Content-Encoding"),
        ),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: seen.setdefault(event["requestId"], {}).update(
            bytes=event["encodedDataLength"]
        ),
    )
    page.goto(url, wait_until="networkidle")
    cdp.detach()
    return {
        item["url"].split("/static/", 1)[1]: item
        for item in seen.values()
        if "/static/" in item.get("url", "")
    }


def test_in_chromium_assets_are_compressed_cached_and_renamed_when_changed(browser, tmp_path):
    css = "body { color: #123456; }\n" + "".join(
        f".c{i} {{ margin: {i}px; }}\n" for i in range(300)
    )
    served = Swappable(site(tmp_path / "v1", css))
    server = serve(served)
    base = next(server)
    try:
        page = browser.new_context().new_page()
        first = static_downloads(page, base + "/")
        repeat = static_downloads(page, base + "/")
        served.app = site(tmp_path / "v2", css.replace("#123456", "#654321"))  # a deploy
        changed = static_downloads(page, base + "/")
    finally:
        next(server, None)  # stops the server
    [(first_name, first_file)] = first.items()
    assert first_file["encoding"] in ("br", "gzip")
    assert 0 < first_file["bytes"] < len(css) / 2
    assert sum(item.get("bytes", 0) for item in repeat.values()) == 0
    [(changed_name, changed_file)] = changed.items()
    assert changed_name != first_name
    assert changed_file["bytes"] > 0
    print(
        f"\nstatic bytes: first visit {first_file['bytes']} ({first_file['encoding']}), "
        f"repeat {sum(i.get('bytes', 0) for i in repeat.values())}, "
        f"after a change {changed_file['bytes']}; css {len(css)} bytes"
    )
