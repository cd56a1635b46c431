"""Issue 7 acceptance, as a new user drives it: a fresh data dir, the CLI only."""

import json
from datetime import timedelta

from recruiter.core.models import utcnow

COMMUNITIES = """url,name,kind,description
https://yogawithanna.example.com/blog,Yoga with Anna,blog,Gentle yoga for beginners with back pain
https://www.reddit.com/r/yoga/,r/yoga,subreddit,The big yoga community
https://podcasts.apple.com/us/podcast/back-pain/id123456,Back Pain Pod,podcast,A podcast about living with back pain
https://www.youtube.com/@mobilitydaily,Mobility Daily,youtube,Ten-minute mobility routines
"""
FIRST, SECOND, THIRD, CONTACTED = ("https://yogawithanna.example.com/blog", "https://www.reddit.com/r/yoga/",
                                   "https://podcasts.apple.com/podcast/id123456",
                                   "https://www.youtube.com/@mobilitydaily")


def _day(days_ago: int) -> str:
    return (utcnow().date() - timedelta(days=days_ago)).isoformat()


def test_from_recruited_to_performing(cli, tmp_path) -> None:
    communities = tmp_path / "communities.csv"
    communities.write_text(COMMUNITIES)
    assert cli("import", communities).exit_code == 0
    for url in (FIRST, SECOND, THIRD):
        assert cli("prospect", "set-stage", url, "joined").exit_code == 0
    assert cli("prospect", "set-stage", CONTACTED, "contacted").exit_code == 0

    linked = cli("link", FIRST, "--destination", "https://shop.example.com", "--format", "json")
    assert linked.exit_code == 0, linked.output
    link = json.loads(linked.stdout)
    assert set(link) == {"ref_code", "tracked_url"}
    code = link["ref_code"]
    assert code.startswith("yoga-with-anna-") and code in link["tracked_url"]
    assert link["tracked_url"].startswith("https://shop.example.com/?")
    again = json.loads(cli("link", FIRST, "--destination", "https://shop.example.com", "--format", "json").stdout)
    assert again == link  # stable

    performance = tmp_path / "performance.csv"
    performance.write_text(
        "Date,Partner,Clicks,Sales,Revenue\n"
        f"{_day(1)},{code},400,20,1000\n"                 # line 2
        f"{_day(4)},{code},300,15,750\n"                  # line 3
        f"{_day(9)},{code},300,15,750\n"                  # line 4
        f"{_day(75)},https://reddit.com/r/yoga,200,0,0\n"  # line 5: by URL, any form
        f"{_day(3)},someone-we-never-met,10,1,50\n"       # line 6: unknown partner
        f"{_day(3)},{SECOND},-5,0,0\n"                    # line 7: negative clicks
    )
    imported = cli("performance", "import", performance, "--map", "partner=Partner", "--map", "conversions=Sales")
    assert imported.exit_code == 0, imported.output
    assert "line 6: unknown partner" in imported.output
    assert "line 7: negative clicks" in imported.output
    assert "4 kept" in imported.output

    report = cli("report", "partners", "--format", "json")
    assert report.exit_code == 0, report.output
    rows = {row["url"]: row for row in json.loads(report.stdout)}
    assert set(rows) == {FIRST, SECOND, THIRD}  # the contacted one is not a partner
    first = rows[FIRST]
    assert (first["clicks"], first["conversions"], first["revenue"]) == (1000, 50, 2500)
    assert first["epc"] == 2.5 and first["conversion_rate"] == 0.05
    assert first["segment"] == "top" and first["ref_code"] == code and first["stage"] == "performing"
    assert rows[SECOND]["clicks"] == 200 and rows[SECOND]["segment"] == "dormant"
    assert rows[SECOND]["stage"] == "activated"
    assert rows[THIRD]["segment"] == "never-activated" and rows[THIRD]["stage"] == "joined"
    assert set(first) >= {"url", "name", "stage", "ref_code", "clicks", "conversions", "revenue", "commission",
                          "epc", "conversion_rate", "last_activity", "segment"}

    # Re-importing the same file changes nothing.
    again = cli("performance", "import", performance, "--map", "partner=Partner", "--map", "conversions=Sales")
    assert "0 new days, 0 updated, 4 unchanged" in again.output
    assert {r["url"]: r for r in json.loads(cli("report", "partners", "--format", "json").stdout)} == rows

    # The stage moves were recorded through the pipeline, and the checklist followed the numbers.
    history = json.loads(cli("activation", "show", FIRST, "--format", "json").stdout)
    done = {s["step"] for s in history["steps"] if s["done"]}
    assert done == {"link_created", "first_promotion", "first_sale"}
    assert history["days_to_first_click"] == 0 and history["days_to_first_sale"] == 0

    csv_lines = cli("report", "partners", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == ("url,name,stage,ref_code,clicks,conversions,revenue,commission,epc,conversion_rate,"
                            "last_activity,segment")
    assert len(csv_lines) == 4
