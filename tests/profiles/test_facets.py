"""The profile description turned into facet queries by its grammar alone."""

from profiles.facets import profile_facets, split_description
from recruiter.core.models import Profile


def test_product_audience_and_needs_are_split_on_for_and_who() -> None:
    parts = split_description("Yoga mats and online classes for beginners who want more flexibility and less back pain.")
    assert parts.product == "Yoga mats and online classes"
    assert parts.audience == "beginners"
    assert parts.needs == "who want more flexibility and less back pain"
    assert "yoga" in parts.topic_terms
    assert "classes" not in parts.topic_terms and "online" not in parts.topic_terms  # commerce words


def test_the_last_for_names_the_buyer_and_participles_start_needs() -> None:
    parts = split_description("Open-source observability platform for site reliability engineers running Kubernetes.")
    assert parts.audience == "site reliability engineers"
    assert parts.needs == "running Kubernetes"
    assert parts.topic_terms == ("observability",)


def test_that_helps_introduces_the_audience() -> None:
    parts = split_description("Budgeting app that helps young professionals pay off debt.")
    assert parts.product == "Budgeting app"
    assert parts.audience.startswith("young professionals")


def test_description_without_for_is_all_product() -> None:
    parts = split_description("Handmade ceramic mugs.")
    assert parts.audience == "" and parts.needs == ""
    assert parts.topic_terms == ("ceramic", "mugs")


def test_facets_have_names_weights_and_templates() -> None:
    profile = Profile(name="beer", description="Craft beer and home brewing kits for beer geeks.",
                      keywords=["homebrew", " "])
    facets = {f.name: f for f in profile_facets(profile)}
    assert set(facets) == {"description", "audience", "topic", "keywords"}
    assert facets["audience"].text == "a community of beer geeks"
    assert facets["topic"].text.startswith("people interested in craft, beer")
    assert facets["keywords"].text == "homebrew"
    assert facets["description"].weight == 1.0


def test_profile_without_text_falls_back_to_its_name() -> None:
    facets = profile_facets(Profile(name="espresso lovers", description="  "))
    assert [(f.name, f.text) for f in facets] == [("name", "espresso lovers")]


def test_we_sell_x_to_y_and_with_conditions() -> None:
    parts = split_description("We sell ergonomic standing desks to remote workers with back pain.")
    assert parts.product == "ergonomic standing desks"
    assert parts.audience == "remote workers"
    assert parts.needs == "with back pain"
    assert "sell" not in parts.topic_terms


def test_a_for_after_what_the_audience_does_is_not_the_buyer() -> None:
    parts = split_description("Coding interview practice and resume reviews for junior developers hunting for "
                              "their first tech job.")
    assert parts.product == "Coding interview practice and resume reviews"
    assert parts.audience.startswith("junior developers")
    parts = split_description("Meditation apps for busy parents.")  # a single "for" is still the buyer
    assert parts.audience == "busy parents"
