"""Tracking platforms, referral codes and tracked links."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from recruiter.accounts.roles import Actor
from recruiter.core.models import Community
from recruiter.partners.links import (
    LinkError,
    build_tracked_url,
    check_destination,
    community_by_ref_code,
    community_slug,
    create_link,
    ref_code_for,
    set_ref_code,
    slugify,
)
from recruiter.partners.performance import FIELDS
from recruiter.partners.platforms import (
    PlatformError,
    catalog_note,
    choose_platform,
    chosen_platform,
    comparison_table,
    get_platform,
    list_platforms,
)

CATALOG = Path(__file__).resolve().parents[2] / "recruiter" / "partners" / "data" / "platforms.json"


def _community(session, url: str, name: str = "", kind: str = "blog") -> Community:
    community = Community(url=url, name=name, kind=kind)
    session.add(community)
    session.commit()
    return community


def test_catalog_has_sources_date_and_every_fact() -> None:
    data = json.loads(CATALOG.read_text())
    assert data["as_of"] and "verify current pricing with the vendor" in data["note"].lower()
    assert "remembered" not in data["note"] and "internet" not in data["note"]
    assert catalog_note().startswith(f"Facts as of {data['as_of']}:")
    keys = {p.key for p in list_platforms()}
    assert {"utm", "rewardful", "firstpromoter", "tapfiliate", "partnerstack", "impact", "dub"} <= keys
    for platform in list_platforms():
        assert platform.sources and all(s.startswith("https://") for s in platform.sources), platform.key
        assert platform.to_dict()["as_of"] == data["as_of"] and platform.to_dict()["sources"] == platform.sources
        assert platform.coupon_tracking and platform.payouts and platform.pricing_model and platform.pricing_note
        assert set(platform.csv_columns) <= set(FIELDS) and {"date", "partner"} <= set(platform.csv_columns)
        assert platform.referral_link["type"] in ("query", "utm")
    table = comparison_table()
    assert table[0]["fact"] == "Referral link" and set(table[0]) == {"fact", *keys}


def test_platform_lookup_is_forgiving_and_the_choice_is_stored(memory_session) -> None:
    assert get_platform("impact.com").key == "impact"
    assert get_platform("First Promoter").key == "firstpromoter"
    assert get_platform("UTM only").key == "utm"
    with pytest.raises(PlatformError, match="unknown platform 'nope'"):
        get_platform("nope")
    assert chosen_platform(session=memory_session).key == "utm"  # nothing chosen: UTM links
    choose_platform("Rewardful", actor=Actor.cli(), session=memory_session)
    assert chosen_platform(session=memory_session).key == "rewardful"


def test_ref_code_is_readable_stable_and_unique(memory_session) -> None:
    anna = _community(memory_session, "https://anna.example.com/blog", "Yoga with Ánna!")
    yoga = _community(memory_session, "https://www.reddit.com/r/yoga/", "r/yoga", "subreddit")
    code = ref_code_for(anna, session=memory_session)
    assert code.startswith("yoga-with-anna-") and len(code.rsplit("-", 1)[1]) == 4
    assert ref_code_for(anna, session=memory_session) == code
    anna.name = "Renamed"
    assert ref_code_for(anna, session=memory_session) == code  # links already shared keep working
    assert ref_code_for(yoga, session=memory_session).startswith("yoga-")
    # Same name, different community: the disambiguator differs.
    twin = _community(memory_session, "https://other.example.com", "Yoga with Anna")
    assert ref_code_for(twin, session=memory_session) != code
    assert community_by_ref_code(code.upper(), session=memory_session).id == anna.id


def test_slug_falls_back_to_the_url() -> None:
    assert community_slug(Community(url="https://www.youtube.com/@mobility", name="")) == "mobility"
    assert community_slug(Community(url="https://calmblog.example.org", name="")) == "calmblog-example"
    assert slugify("A very long community name that goes on and on") == "a-very-long-community"
    assert community_slug(Community(url="https://x.example", name="!!!")) == "x"


def test_tracked_url_per_platform() -> None:
    destination = "https://Shop.example.com/mats?color=blue&via=old#reviews"
    for key, param in [("rewardful", "via"), ("firstpromoter", "fpr"), ("tapfiliate", "ref"),
                       ("partnerstack", "ps_partner_key"), ("dub", "via")]:
        url = build_tracked_url(destination, "anna-k3xq", get_platform(key))
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert query[param] == ["anna-k3xq"] and query["color"] == ["blue"], key
        assert parts.fragment == "reviews" and parts.netloc == "shop.example.com"
    utm = parse_qs(urlsplit(build_tracked_url("shop.example.com", "anna-k3xq", get_platform("utm"))).query)
    assert utm == {"utm_source": ["anna-k3xq"], "utm_medium": ["affiliate"], "utm_campaign": ["partners"]}


def test_bad_destinations_are_refused() -> None:
    assert check_destination("shop.example.com") == "https://shop.example.com/"
    for bad in ("", "ftp://shop.example.com", "not a url", "javascript:alert(1)"):
        with pytest.raises(LinkError):
            check_destination(bad)


def test_create_link_stores_once_and_ticks_the_checklist(memory_session) -> None:
    from recruiter.partners.activation import steps_by_community

    anna = _community(memory_session, "https://anna.example.com/blog", "Anna")
    first = create_link(anna, "https://shop.example.com", actor=Actor.cli(), session=memory_session, platform="tapfiliate")
    second = create_link(anna, "https://shop.example.com", actor=Actor.cli(), session=memory_session, platform="tapfiliate")
    assert first.public() == second.public() and first.tracked_url.endswith(f"?ref={first.ref_code}")
    assert "link_created" in steps_by_community([anna.id], session=memory_session)[anna.id]


def test_a_code_from_the_platform_can_be_adopted(memory_session) -> None:
    anna = _community(memory_session, "https://anna.example.com/blog", "Anna")
    bob = _community(memory_session, "https://bob.example.com", "Bob")
    assert set_ref_code(anna, "ANNA10", actor=Actor.cli(), session=memory_session) == "anna10"
    assert ref_code_for(anna, session=memory_session) == "anna10"
    with pytest.raises(LinkError, match="already belongs"):
        set_ref_code(bob, "anna10", actor=Actor.cli(), session=memory_session)
    with pytest.raises(LinkError, match="lower-case letters"):
        set_ref_code(bob, "bad code!", actor=Actor.cli(), session=memory_session)
