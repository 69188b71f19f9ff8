import re
from datetime import UTC, datetime

import pytest

from models import db
from wordcount.models import Count

PAGE = "<p>The cat and the dog. The cat sat.</p>"


def test_index_shows_the_form_and_no_results_yet(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<form method="post" action="/"' in html
    assert 'name="url"' in html
    assert "Nothing counted yet." in html


def test_submitting_a_url_redirects_to_its_result(app, client, local_site):
    url = local_site.add("/cats", PAGE)
    response = client.post("/", data={"url": url})
    assert response.status_code == 303
    assert re.fullmatch(r"/counts/\d+", response.headers["Location"])
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert url in html
    assert '<td>cat</td><td class="num">2</td>' in html
    assert '<td>the</td><td class="num">3</td>' in html


def test_the_index_lists_the_latest_results(client, local_site):
    url = local_site.add("/cats", PAGE)
    client.post("/", data={"url": url})
    html = client.get("/").get_data(as_text=True)
    assert f">{url}</a>" in html


def test_an_error_shows_the_form_again_with_the_message_and_the_input(client, stored_rows):
    response = client.post("/", data={"url": "ftp://example.com/file"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Only http:// and https:// URLs can be fetched." in html
    assert 'value="ftp://example.com/file"' in html
    assert stored_rows() == 0


def test_an_unfetchable_page_shows_its_message_and_a_form_to_try_again(client, local_site):
    url = local_site.add("/img", "x", content_type="image/png")
    response = client.post("/", data={"url": url}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Could not count this page" in page
    assert "The URL is not an HTML page" in page
    assert f'value="{url}"' in page
    assert ">Try again</button>" in page


def test_an_empty_submission_is_400(client):
    response = client.post("/", data={"url": ""})
    assert response.status_code == 400
    assert "Enter a URL to count." in response.get_data(as_text=True)


def test_the_form_requires_a_csrf_token(app, local_site, stored_rows):
    app.config["WTF_CSRF_ENABLED"] = True
    url = local_site.add("/cats", PAGE)
    response = app.test_client().post("/", data={"url": url})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The form expired; please submit it again." in html
    assert f'value="{url}"' in html
    assert stored_rows() == 0
    assert local_site.requests == []


def test_missing_result_is_a_404_page(client):
    response = client.get("/counts/999")
    assert response.status_code == 404
    assert "No count with id 999." in response.get_data(as_text=True)


def test_words_containing_html_render_as_text(client, local_site):
    url = local_site.add("/evil", "<p>&lt;script&gt;alert(1)&lt;/script&gt; x</p>")
    location = client.post("/", data={"url": url}).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "<script>" not in html
    assert "<td>script</td>" in html


def test_a_url_containing_html_is_escaped(client, local_site):
    url = local_site.add("/x", PAGE) + '?q="><script>alert(1)</script>'
    location = client.post("/", data={"url": url}).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_history_pages_by_keyset(app, client):
    with app.app_context():
        db.session.add_all(
            Count(
                url=f"http://example.com/{i}",
                total_words=i,
                unique_words=i,
                all_words=[],
                words=[],
            )
            for i in range(1, 61)
        )
        db.session.commit()
    first = client.get("/history").get_data(as_text=True)
    assert first.count("http://example.com/") == 50
    assert "http://example.com/60<" in first and "http://example.com/11<" in first
    assert 'href="/history?before=11"' in first
    second = client.get("/history?before=11").get_data(as_text=True)
    assert second.count("http://example.com/") == 10
    assert "?before=" not in second.split("</table>")[1].replace('href="/history"', "")


@pytest.mark.parametrize("before", ["abc", "0", "99999999999999999999"])
def test_history_rejects_a_bad_before_with_a_400_page(client, before):
    response = client.get(f"/history?before={before}")
    assert response.status_code == 400
    assert "before must be a whole number from 1 to 2147483648." in response.get_data(as_text=True)


def test_pages_are_labelled_outside_production(client):
    assert 'class="env-banner env-testing"' in client.get("/").get_data(as_text=True)


def test_the_stylesheet_is_served_locally(client):
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"


def test_a_queued_count_shows_a_page_that_follows_it(queue_client, local_site):
    response = queue_client.post("/", data={"url": local_site.add("/cats", "<p>cat</p>")})
    assert response.status_code == 303
    page = queue_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for a worker." in page
    # Without JavaScript the page reloads itself; with it, follow.js asks the API.
    assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in page
    assert re.search(r'<script src="/wordcount/static/follow\.[0-9a-f]{12}\.js" defer>', page)
    assert 'data-follow="/api/counts/1?n=1"' in page


def test_the_follow_script_is_served_from_the_app(client):
    with client.get("/wordcount/static/follow.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"


def test_a_finished_count_shows_a_bar_chart_scaled_to_the_top_word(client, local_site):
    url = local_site.add("/pets", "<p>cat cat cat cat dog dog bird</p>")
    page = client.post("/", data={"url": url}, follow_redirects=True).get_data(as_text=True)
    bars = re.findall(
        r'<span class="word">(\w+)</span>\s*<svg class="bar"[^>]*><rect width="([\d.]+)"', page
    )
    assert bars == [("cat", "100.00"), ("dog", "50.00"), ("bird", "25.00")]
    assert "http-equiv" not in page and "follow.js" not in page


def test_lists_show_a_count_that_is_not_done_by_its_status(queue_client, local_site):
    queue_client.post("/", data={"url": local_site.add("/cats", "<p>cat</p>")})
    page = queue_client.get("/history").get_data(as_text=True)
    assert '<td class="num status-queued">queued</td>' in page


def test_a_count_page_writes_numbers_with_thousands_separators_and_its_time_in_utc(app, client):
    finished = datetime(2026, 12, 7, 22, 5, 59, tzinfo=UTC)
    with app.app_context():
        count = Count(
            url="http://example.com/big",
            status="done",
            created_at=finished,
            finished_at=finished,
            total_words=1234567,
            unique_words=1234,
            all_words=[["the", 12345]],
            words=[["cat", 1000]],
        )
        db.session.add(count)
        db.session.commit()
        count_id = count.id
    page = client.get(f"/counts/{count_id}").get_data(as_text=True)
    assert "<dd>1,234,567</dd>" in page and "<dd>1,234</dd>" in page
    assert '<td class="num">12,345</td>' in page and '<span class="num">1,000</span>' in page
    assert '<time datetime="2026-12-07T22:05:59+00:00">2026-12-07 22:05 UTC</time>' in page
