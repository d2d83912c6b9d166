"""AppTest of the news aggregator page: the sample feed, interests, likes and hides, invented topics, filters,
live feeds from a local server (good, broken and hostile), the breakdown and the model card."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests import news_feeds as nf
from tests.app.helpers import open_page, open_tab, texts

TABS = "news_tabs"
LIVE_KEY = "news_live"
CARD_META = re.compile(r" · (?:\d+ (?:h|days) ago|date unknown) · :blue-badge\[(\w+)\]")


def card_titles(at: AppTest) -> list[str]:
    shown = texts(at.markdown)
    return [shown[i] for i in range(len(shown) - 1) if CARD_META.search(shown[i + 1])]


def card_categories(at: AppTest) -> list[str]:
    return [m.group(1) for t in texts(at.markdown) if (m := CARD_META.search(t))]


def liked_caption(at: AppTest) -> str:
    return next(t for t in texts(at.caption) if "liked" in t and "hidden" in t)


def test_news_page_sample_feed_is_ranked_grouped_and_explained():
    at = open_page("news")
    assert any("Sample articles" in t for t in texts(at.warning))
    titles = card_titles(at)
    assert len(titles) == 10 and len(set(titles)) == 10, "ten distinct stories, no copies of one story"
    assert len(set(card_categories(at))) >= 4, "the feed mixes categories"
    assert any(t.startswith("Also reported by") for t in texts(at.caption)), "grouped stories name the other outlets"
    assert any(t.startswith("- Published") for t in texts(at.markdown)), "why am I seeing this"
    assert any(t.startswith("[Read at the source ↗](https://") for t in texts(at.markdown))
    at.button(key="news_more").click().run()
    more = card_titles(at)
    assert len(more) == 20 and more[:10] == titles, "ten more stories below the first ten"


def test_interests_likes_and_hides_rerank_at_once():
    at = open_page("news")
    at.get("button_group")[0].set_value(["sport"]).run()
    assert not at.exception
    categories = card_categories(at)
    assert categories == ["sport"] * 10, "a Sport-only reader sees sport: the whole first screen"
    why = [t for t in texts(at.markdown) if t.startswith("- Matches your interest\\: sport")]
    assert len(why) == 10, "each card says it is there for the interest"
    top = card_titles(at)[0]
    # Hide the top story: it leaves the feed at once.
    at.button(key="news_hide_0").click().run()
    assert not at.exception
    assert top not in card_titles(at)
    assert liked_caption(at).startswith("0 liked · 1 hidden")
    # Like the (new) top story: counted, and its button says so.
    at.button(key="news_like_0").click().run()
    assert liked_caption(at).startswith("1 liked · 1 hidden")
    assert at.button(key="news_like_0").label == "👍 Liked"
    # Start over.
    at.button(key="news_clear").click().run()
    assert liked_caption(at).startswith("0 liked · 0 hidden")


def test_a_sport_only_reader_sees_sport_first_even_after_liking_another_story():
    at = open_page("news")
    at.slider(key="news_diversity").set_value(1.0)
    at.select_slider(key="news_half_life").set_value(6).run()
    other = next(i for i, c in enumerate(card_categories(at)) if c != "sport")
    at.button(key=f"news_like_{other}").click().run()  # likes pull similar stories up, whatever their category
    at.get("button_group")[0].set_value(["sport"]).run()
    assert not at.exception
    assert card_categories(at) == ["sport"] * 10, card_categories(at)


def test_a_story_of_none_of_the_five_categories_is_marked_unsure():
    at = open_page("news")
    at.multiselect(key="news_filter_categories").set_value(["business"]).run()
    while any(b.key == "news_more" for b in at.button):  # every business story on screen
        at.button(key="news_more").click().run()
    shown = texts(at.markdown)
    cards = [(shown[i], shown[i + 1]) for i in range(len(shown) - 1) if CARD_META.search(shown[i + 1])]
    unsure = [title for title, meta in cards if "category unsure" in meta]
    assert any("migraine" in t for t in unsure), cards
    assert all(re.search(r"treatment|therapy|hospital|migraine", t) for t in unsure), unsure
    assert len(unsure) < len(cards), "business stories are not marked"


def test_an_invented_topic_is_followed_and_a_nameless_one_refused():
    at = open_page("news")
    at.text_input(key="news_topic_name").set_value("Space exploration")
    at.text_input(key="news_topic_description").set_value("rockets, satellites, astronauts, missions to Mars")
    at.button(key="news_topic_add").click().run()
    assert not at.exception and not at.error
    pills = at.get("button_group")[0]
    assert "Space exploration" in pills.options and "Space exploration" in pills.value
    assert any("✨ Space exploration" in t for t in texts(at.markdown)), "a story is tagged with the new topic"
    at.text_input(key="news_topic_name").set_value("   ")
    at.button(key="news_topic_add").click().run()
    assert not at.exception
    assert any("A topic needs a name" in t for t in texts(at.error))


def test_filters_by_topic_and_time():
    at = open_page("news")
    at.multiselect(key="news_filter_categories").set_value(["tech"]).run()
    assert set(card_categories(at)) == {"tech"}
    at.selectbox(key="news_filter_within").set_value("6 hours").run()
    assert not at.exception
    shown = texts(at.markdown) + texts(at.info)
    assert any("No story matches" in t for t in shown) or all(
        int(m.group(1)) <= 6 for t in texts(at.markdown) if (m := re.search(r" · (\d+) h ago · ", t))
    )


def test_live_feeds_from_a_local_server_with_broken_and_hostile_sources(monkeypatch):
    monkeypatch.delenv("GALLERY_OFFLINE", raising=False)
    monkeypatch.setenv("GALLERY_NEWS_ALLOW_PRIVATE", "1")
    with nf.FeedServer() as server:
        good = server.add(
            "/good.xml", nf.rss(nf.default_items("live", 5)), headers={"Content-Type": "application/rss+xml"}
        )
        hostile = server.add("/scripts.xml", nf.with_scripts(), headers={"Content-Type": "application/rss+xml"})
        broken = server.add("/broken.xml", nf.malformed(), headers={"Content-Type": "application/rss+xml"})
        page = server.add("/page.html", nf.html_page(), headers={"Content-Type": "text/html"})
        at = open_page("news")
        at.radio(key="news_mode").set_value("Live feeds").run()
        assert any("Press **Refresh**" in t for t in texts(at.info)), "nothing is fetched before Refresh"
        lines = [f"Good | {good}", f"Hostile | {hostile}", f"Broken | {broken}", f"Page | {page}"]
        at.text_area(key="news_feeds").set_value("\n".join(lines))
        at.button(key="news_refresh").click().run(timeout=120)
        assert not at.exception, [e.value for e in at.exception]
        titles = card_titles(at)
        assert any("Kestrel Motors profits rise" in t for t in titles), titles
        everything = " ".join(texts(at.markdown))
        assert "<script" not in everything and "alert(1)" not in everything and "javascript:" not in everything
        open_tab(at, TABS, "🩺 Sources")
        health = at.dataframe[0].value
        status = dict(zip(health["source"], health["status"], strict=True))
        assert status["Good"] == "ok" and status["Hostile"] == "ok"
        assert status["Broken"] == "failed" and status["Page"] == "failed", status
        errors = dict(zip(health["source"], health["error"], strict=True))
        assert errors["Page"] and errors["Broken"]


def test_live_mode_offline_and_a_bad_feed_line(monkeypatch):
    at = open_page("news")
    at.radio(key="news_mode").set_value("Live feeds").run()
    assert any("Offline mode" in t for t in texts(at.info))
    assert at.button(key="news_refresh").disabled
    monkeypatch.delenv("GALLERY_OFFLINE", raising=False)
    at.run()
    assert not at.button(key="news_refresh").disabled
    at.text_area(key="news_feeds").set_value("Good | https://example.org/feed.xml\nOld | ftp://example.org/feed")
    at.run()
    assert not at.exception
    shown = texts(at.error)
    assert shown and "Line 2" in shown[0], shown
    at.button(key="news_refresh").click().run()  # nothing is fetched while the list is wrong
    assert not at.exception and LIVE_KEY not in at.session_state


def test_breakdown_and_model_card():
    at = open_page("news")
    open_tab(at, TABS, "📊 Breakdown")
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[0].value
    assert {"title", "category", "score", "relevance", "recency", "coverage"} <= set(table.columns) and len(table) == 10
    open_tab(at, TABS, "🩺 Sources")
    assert any("need no fetching" in t for t in texts(at.info))
    open_tab(at, TABS, "🪪 Model card")
    assert any("Model card" in t or "sample" in t.lower() for t in texts(at.markdown))
    assert len(at.get("plotly_chart")) == 1, "the confusion matrix"
