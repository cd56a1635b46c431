"""scrape_urls: order, isolation of failures, no data lost to a bad URL."""

from __future__ import annotations

import httpx
from scrape_helpers import FakeWeb

from scrapers import scrape as scrape_module
from scrapers.records import RECORD_FIELDS, finalize, new_record, to_import_record
from scrapers.scrape import scrape_urls


async def test_records_come_back_in_input_order_with_every_field(settings, web: FakeWeb):
    web.add("https://a.test/", "<html><head><title>Alpha site homepage here</title></head></html>")
    web.add("https://b.test/", "<html><head><title>Beta site homepage here</title></head></html>")
    urls = ["https://b.test/", "not a url", "https://a.test/", "https://a.test/missing"]
    records = await scrape_urls(urls, settings=settings, transport=web.transport)
    assert [r["url"] for r in records] == urls
    assert [r["ok"] for r in records] == [True, False, True, False]
    assert all(tuple(r) == RECORD_FIELDS for r in records)
    assert "not a URL" in records[1]["error"] and "404" in records[3]["error"]


async def test_bad_inputs_each_get_a_clear_error(settings, web: FakeWeb):
    web.add("https://x.test/robots.txt", "User-agent: *\nDisallow: /private", content_type="text/plain")
    web.add("https://x.test/json", '{"a": 1}', content_type="application/json")
    web.add("https://x.test/xml", "<?xml version='1.0'?><catalog/>", content_type="application/xml")
    web.add("https://x.test/bin", b"\x00\x01\x02" * 100, content_type="application/octet-stream")
    web.add("https://x.test/broken", "<html><head><title>Broken but fine page</title><body><div><p>unclosed")
    web.pages["https://x.test/reset"] = lambda request: (_ for _ in ()).throw(httpx.ReadError("reset by peer"))
    urls = ["https://x.test/private/a", "https://x.test/json", "https://x.test/xml", "https://x.test/bin",
            "ftp://x.test/", "https://x.test/broken", "https://x.test/reset"]
    records = await scrape_urls(urls, settings=settings, transport=web.transport)
    errors = [r["error"] for r in records]
    assert "robots.txt" in errors[0]
    assert "unsupported content" in errors[1]
    assert "neither a feed nor OPML" in errors[2]
    assert "octet-stream" in errors[3]
    assert "ftp" in errors[4]
    assert records[5]["ok"] and records[5]["title"] == "Broken but fine page"
    assert "connection broken" in errors[6]


async def test_an_adapter_bug_is_contained(settings, web: FakeWeb, monkeypatch):
    web.add("https://a.test/", "<html><title>fine</title></html>")
    web.add("https://b.test/", "<html><title>fine</title></html>")

    async def explode(ctx, url, response=None):
        if "b.test" in url:
            raise RuntimeError("kaboom")
        return {"ok": True, "kind": "blog", "name": "A"}

    monkeypatch.setattr(scrape_module.website, "scrape", explode)
    records = await scrape_urls(["https://a.test/", "https://b.test/"], settings=settings, transport=web.transport)
    assert records[0]["ok"] and not records[1]["ok"]
    assert "internal error" in records[1]["error"] and "kaboom" in records[1]["error"]


def test_finalize_and_import_conversion():
    record = new_record("https://a.test/")
    record.update(ok=True, kind="weird", title="  Spaced \n title ", audience_size=-5, emails=["a@b.test", "a@b.test"],
                  items=[{"title": "Post", "url": "https://a.test/p", "published": None}, {"title": None}])
    out = finalize(record)
    assert out["kind"] == "other" and out["title"] == "Spaced title" and out["name"] == "Spaced title"
    assert out["audience_size"] is None and out["emails"] == ["a@b.test"]
    converted = to_import_record(out)
    assert converted["recent_posts"] == ["Post"] and "items" not in converted and "ok" not in converted


async def test_a_url_given_twice_is_fetched_once(settings, web: FakeWeb):
    web.add("https://a.test/", "<html><head><title>Alpha site homepage here</title></head></html>")
    records = await scrape_urls(["https://a.test/", "https://a.test/"], settings=settings, transport=web.transport)
    assert [r["ok"] for r in records] == [True, True]
    assert web.urls().count("https://a.test/") == 1
