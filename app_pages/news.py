"""Personalized news aggregator page: feeds (or the bundled sample) -> engines.news -> a ranked, explained feed."""

import os
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import lifecycle, minilm, ui
from engines import news
from engines.core import jobs, settings, stacks
from engines.core.errors import InputError, SourceError
from engines.encoder_identity import NO_ENCODER
from engines.registry import get_demo

DEMO = get_demo("news")
PROFILE = "news_profile"
TOPICS = "news_topics"
LIVE = "news_live"  # the last live refresh and its index, for this session only
SAMPLE, FEEDS = "Sample articles (offline)", "Live feeds"
SHOWN = 10  # stories on screen at first; "Show more" adds as many again
WITHIN = {"any time": None, "6 hours": 6, "24 hours": 24, "3 days": 72, "a week": 168}
AUTO_MINUTES = (5, 15, 30, 60)
UNSURE = news.CategoriserConfig().min_confidence  # below it the classifier has no clear category

ui.page_header(
    DEMO,
    "A personal front page: the aggregator gathers articles from RSS and Atom feeds (and NewsAPI when you give it "
    "a key), groups the same story told by several outlets into one, sorts every article into business, "
    "entertainment, politics, sport or tech with a classifier trained on BBC News, and ranks the feed for you: "
    "what you follow, what you liked or hid, how fresh a story is and how many outlets carry it, with a penalty "
    "for stories too close to one above so the feed never shows ten copies of one event. Invent your own topics "
    '("space", "climate") and MiniLM finds them without training. Every card says why it is there. Offline, '
    "it reads a bundled set of sample articles written by the project.",
)


# ------------------------------------------------------------------ resources
@st.cache_resource(max_entries=2, show_spinner=False)
def category_data(settings_key: tuple):
    """BBC News when the data directory has it, else the bundled sample articles (resolved and read once)."""
    return news.load_training_data()


def classifier():
    """The category classifier and the dataset it learnt from: shipped for the sample, else trained in the background
    (the classifier shipped for the sample answers meanwhile, and the sidebar shows the training's progress)."""
    resolved, frame = category_data(ui.settings_key())
    served = lifecycle.serve(
        news.request(news.CategoriserConfig(), (resolved, frame)),
        fallback=None if resolved.is_sample else news.sample_request(),
        what="the category classifier",
    )
    return served.model, (sample_data() if served.is_fallback else resolved)


@st.cache_resource(max_entries=1, show_spinner=False)
def sample_data():
    """The bundled sample as a resolved dataset (what the shipped classifier learnt from)."""
    from engines.core.data_sources import bundled_sample

    return bundled_sample(news.BBC_NEWS)


@st.cache_resource(max_entries=2)
def fetcher(allow_private: bool) -> news.Fetcher:
    """One fetcher for the server: robots.txt is read once per site and the per-site rate limit is shared.

    Private and loopback addresses are refused unless GALLERY_NEWS_ALLOW_PRIVATE=1 (an intranet deployment, or
    the browser tests' local feed server).
    """
    return news.Fetcher(news.FetchConfig(allow_private=allow_private))


def encoder_in_use():
    """The shared MiniLM, waited for (scoring invented topics and indexing live feeds need it); None without one."""
    with st.spinner("Loading the MiniLM sentence encoder (once per server)…"):
        encoder, _where = minilm.encoder(wait=True)
    return encoder


@st.cache_resource(max_entries=2, show_spinner=False)
def encoder_identity(settings_key: tuple):
    """The encoder's identity (its weights' sha256) and the folder it loads from, without loading it."""
    from engines.core.embeddings import MINILM
    from engines.core.model_sources import resolve_model
    from engines.encoder_identity import encoder_identity

    return encoder_identity(), resolve_model(MINILM).path


def sample_encoder():
    """What embeds the sample articles now, what was computed ahead for them, and the job computing that.

    MiniLM's vectors of the sample shipped with the gallery (the same numbers as the encoder's, without loading
    it), else the loaded MiniLM, else word hashing while the vectors are computed in the background. Returns
    ``(encoder or None, computed-ahead vectors and categories or None, the job or None)``.
    """
    identity, path = encoder_identity(ui.settings_key())
    if identity == NO_ENCODER:
        return None, None, None
    wanted = news.vectors_request(identity)
    found, job = lifecycle.cached_model(wanted), jobs.queue().get(wanted.job_key)
    if found is None and (job is None or job.state != jobs.FAILED):  # a failed one is not retried on every rerun
        job = lifecycle.start_training(wanted)
        if lifecycle.wait_for_training():
            job.done.wait(lifecycle.WAIT_LIMIT_S)
            found = lifecycle.cached_model(wanted)
    if found is not None:
        return news.ShippedEncoder(found[0], path), found[0], None
    loaded = minilm.encoder()
    if loaded is not None and loaded[0] is not None:
        return loaded[0], None, None
    return None, None, job if job is not None and job.state != jobs.FAILED else None


def sample_classifier():
    """The shipped classifier of the sample, loaded in the background from the page's arrival (scikit-learn takes
    seconds to import on a cold server, and the first feed needs only the categories computed ahead)."""
    return minilm.in_background("news-classifier", lambda: lifecycle.cached_model(news.sample_request()))


@st.cache_resource(max_entries=2, show_spinner="Grouping and categorising the sample articles…")
def sample_index(hour: datetime, settings_key: tuple, model_key: str, encoder_kind: str, _model, _encoder, _ahead):
    """The bundled sample, dated as if gathered this hour, grouped, categorised, embedded and summarised.

    ``_ahead``: what the gallery computed ahead for the sample (its grouping into stories), or None.
    """
    articles = news.load_samples(as_of=hour)
    clusters = _ahead.clusters(articles) if _ahead is not None else None
    return news.build_index(articles, classifier=_model, encoder=_encoder, clusters=clusters)


def newsapi_key() -> str:
    """The NewsAPI key from the secrets (``[newsapi] key = ...``), or "" when none is configured."""
    try:
        section = st.secrets.get("newsapi", {}) if st.secrets else {}
        return str(section.get("key", "") or "")
    except Exception:  # noqa: BLE001 (no secrets file, or one that does not parse: Streamlit raises its own kinds)
        return ""


def default_feed_text() -> str:
    return "\n".join(f"{s.name} | {s.url}" for s in news.load_sources())


# ------------------------------------------------------------------ sidebar
now = datetime.now(UTC)
hour = now.replace(minute=0, second=0, microsecond=0)
with st.sidebar:
    st.subheader("Sources")
    mode = st.radio("Articles from", [SAMPLE, FEEDS], key="news_mode", bind="query-params")
    if mode == FEEDS:
        st.text_area("Feeds, one per line (name | url)", value=default_feed_text(), height=180, key="news_feeds")
        key = newsapi_key()
        st.caption("NewsAPI: " + ("key found in the secrets, top headlines added" if key else
                                  "add `[newsapi] key = \"...\"` to the secrets to include it"))  # fmt: skip
        online = settings.downloads_allowed()
        if not online:
            st.info("Offline mode (`GALLERY_OFFLINE=1`): feeds are not fetched.", icon="ℹ️")
        refresh_now = st.button("Refresh", type="primary", key="news_refresh", width="stretch", disabled=not online)
        auto = st.toggle("Auto-refresh", key="news_auto")
        minutes = st.selectbox("Every", AUTO_MINUTES, index=1, format_func=lambda m: f"{m} minutes",
                               key="news_auto_minutes", disabled=not auto)  # fmt: skip
    st.subheader("Ranking")
    diversity = st.slider("Diversity", 0.0, 1.0, 0.3, 0.05, key="news_diversity", bind="query-params",
                          help="How much a story loses for resembling one ranked above it.")  # fmt: skip
    half_life = st.select_slider("Freshness half-life", [6, 12, 24, 48, 96], value=24, key="news_half_life", bind="query-params",
                                 format_func=lambda h: f"{h} h")  # fmt: skip

st.session_state.setdefault(PROFILE, news.Profile())
st.session_state.setdefault(TOPICS, ())


def live_refresh(sources: list[news.Source]) -> None:
    """Fetch the feeds and index them for this session; every failure lands in the health table."""
    key = newsapi_key()
    if key:
        sources.append(news.Source("NewsAPI top headlines", news.newsapi_url("top-headlines", country="us"), "newsapi"))
    with ui.progress_status(f"Fetching {len(sources)} sources") as progress:
        allow_private = os.environ.get("GALLERY_NEWS_ALLOW_PRIVATE", "").strip() == "1"
        result = news.refresh(sources, newsapi_key=key or None, fetcher=fetcher(allow_private), progress=progress)
    index = None
    if result.articles:
        model, _data = classifier()
        with ui.progress_status(f"Grouping and ranking {len(result.articles)} articles") as progress:
            index = news.build_index(result.articles, classifier=model, encoder=encoder_in_use(), progress=progress)
    st.session_state[LIVE] = (result, index)


if mode == FEEDS:
    last = st.session_state.get(LIVE)
    due = auto and last is not None and now - last[0].fetched_at > timedelta(minutes=minutes)
    try:  # checked as typed, so a wrong line is shown before anything is fetched
        listed = news.parse_sources(st.session_state["news_feeds"])
    except InputError as exc:
        st.error(f"Feed list: {exc}")
        listed = None
    if (refresh_now or due) and listed is not None:
        live_refresh(listed)
    if auto:

        @st.fragment(run_every=60)
        def auto_refresh_clock() -> None:
            fetched = st.session_state.get(LIVE)
            if fetched is not None and datetime.now(UTC) - fetched[0].fetched_at > timedelta(minutes=minutes):
                st.rerun()  # the whole page: it refreshes the feeds because they are due
            if fetched is not None:
                st.caption(f"Last refresh {fetched[0].fetched_at:%H:%M} UTC; next in at most {minutes} minutes.")

        auto_refresh_clock()

training_data = category_data(ui.settings_key())[0]
vectors_job, model = None, None
model_title = news.PIPELINES[news.CategoriserConfig().pipeline]["title"]
try:
    if mode == SAMPLE:
        embedder, ahead, vectors_job = sample_encoder()
        categories = news.ShippedCategories(ahead) if ahead is not None and training_data.is_sample else None
        if categories is not None and categories.covers(news.load_samples(as_of=hour)):
            labeller, labels = categories, "computed ahead"
        else:
            model, training_data = classifier()
            labeller, labels = model, f"{model.card_.model}|{id(model)}"
        kind = type(embedder).__name__ if embedder is not None else "hashing"
        base = sample_index(hour, ui.settings_key(), labels, kind, labeller, embedder, ahead)
        refreshed = None
    else:
        refreshed, base = st.session_state.get(LIVE, (None, None))
except (InputError, SourceError) as exc:
    st.error(str(exc))
    st.stop()

if mode == SAMPLE:
    st.warning("**Sample articles.** 107 short fictional articles written by this project "
               "(`data/make_news_sample.py`), dated as if gathered in the last days. Switch to *Live feeds* in the "
               "sidebar when the server has internet.", icon="🧪")  # fmt: skip
loaded = minilm.loaded_encoder()
if loaded is not None:
    encoder, where = loaded
    no_minilm = "MiniLM not found" if stacks.has(stacks.ML) else stacks.unavailable(stacks.ML)
    encoder_name = getattr(where, "notice", "") if encoder is not None else f"word hashing ({no_minilm})"
elif vectors_job is not None:
    encoder_name = "word hashing for now (MiniLM is loading; the page switches when it is ready)"
    minilm.switch_when_ready(
        "Similarities use word hashing until MiniLM has embedded the sample articles.", vectors_job
    )
else:
    encoder_name = (
        "all-MiniLM-L6-v2 (the sample articles' embeddings ship with the gallery; the encoder itself loads in the "
        "background, for invented topics)"
    )
trained_on = (
    "the bundled sample articles (BBC News is not in the data directory)"
    if training_data.is_sample
    else f"{training_data.spec.title} ({training_data.provenance})"
)
ui.source_caption(
    "Bundled sample articles" if mode == SAMPLE else "Your feeds", "",
    "written by the project" if mode == SAMPLE else "fetched now", "fictional" if mode == SAMPLE else "the publishers'",
    f"categories: {model_title} trained on {trained_on} · similarity and topics: {encoder_name}",
)  # fmt: skip
if base is None:
    if refreshed is None:
        st.info("Press **Refresh** in the sidebar to gather the feeds listed there (or edit the list first).",
                icon="ℹ️")  # fmt: skip
    else:
        st.error("No articles could be read from these feeds: see the source health table below, fix the "
                 "addresses, or switch to the sample articles.")  # fmt: skip
        st.dataframe(refreshed.health_frame(), hide_index=True, width="stretch")
    st.stop()
for note in base.notes:
    st.caption(f"ℹ️ {note}")

topics = st.session_state[TOPICS]
try:
    index = base.with_topics(topics, encoder_in_use()) if topics else base
except InputError as exc:
    st.error(str(exc))
    index = base


# ------------------------------------------------------------------ profile
def set_profile(profile: news.Profile) -> None:
    st.session_state[PROFILE] = profile


def like(article_id: str) -> None:
    set_profile(st.session_state[PROFILE].like(article_id))


def hide(article_id: str) -> None:
    set_profile(st.session_state[PROFILE].hide(article_id))


def forget(article_id: str) -> None:
    set_profile(st.session_state[PROFILE].forget(article_id))


def interests_changed() -> None:
    chosen = tuple(st.session_state.get("news_interests") or ())
    profile = st.session_state[PROFILE]
    set_profile(news.Profile(chosen, profile.liked, profile.hidden, tuple(st.session_state[TOPICS]),
                             profile.muted_sources))  # fmt: skip


def add_topic() -> None:
    name = st.session_state.get("news_topic_name", "")
    try:
        topic = news.Topic(name, st.session_state.get("news_topic_description", ""),
                           tuple(k.strip() for k in st.session_state.get("news_topic_keywords", "").split(",")))  # fmt: skip
        if any(t.name.lower() == topic.name.lower() for t in st.session_state[TOPICS]):
            raise InputError(f"You already follow a topic called {topic.name!r}.")
        st.session_state[TOPICS] = (*st.session_state[TOPICS], topic)
        profile = st.session_state[PROFILE]
        set_profile(news.Profile((*profile.interests, topic.name), profile.liked, profile.hidden,
                                 st.session_state[TOPICS], profile.muted_sources))  # fmt: skip
        st.session_state["news_interests"] = list(st.session_state[PROFILE].interests)
        st.session_state["news_topic_error"] = ""
        for field in ("news_topic_name", "news_topic_description", "news_topic_keywords"):
            st.session_state[field] = ""
    except InputError as exc:
        st.session_state["news_topic_error"] = str(exc)


def clear_profile() -> None:
    st.session_state[PROFILE] = news.Profile()
    st.session_state[TOPICS] = ()
    st.session_state["news_interests"] = []


profile = st.session_state[PROFILE]
options = [*news.CATEGORIES, *(t.name for t in topics)]
left, right = st.columns([3, 2])
with left:
    st.pills("Your interests", options, selection_mode="multi", key="news_interests", bind="query-params", on_change=interests_changed,
             format_func=lambda o: o.capitalize() if o in news.CATEGORIES else f"✨ {o}")  # fmt: skip
    st.caption(f"{len(profile.liked)} liked · {len(profile.hidden)} hidden · the feed re-ranks at once")
with right:
    with st.popover("✨ Invent a topic", width="stretch"):
        st.text_input("Name", key="news_topic_name", placeholder="Space exploration")
        st.text_input("What counts (optional)", key="news_topic_description",
                      placeholder="rockets, satellites, astronauts, Mars missions")  # fmt: skip
        st.text_input("Keywords, comma-separated (optional)", key="news_topic_keywords")
        st.button("Follow this topic", on_click=add_topic, key="news_topic_add")
    st.button("Start over (forget interests, likes and topics)", on_click=clear_profile, key="news_clear")
if st.session_state.get("news_topic_error"):
    st.error(st.session_state["news_topic_error"])

chosen = [i for i in (st.session_state.get("news_interests") or []) if i in options]  # also from a shared link
profile = news.Profile(tuple(chosen), profile.liked, profile.hidden, tuple(topics), profile.muted_sources)
config = news.RankConfig(diversity=diversity, half_life_hours=float(half_life), limit=None)
try:
    feed = news.rank(index, profile, now if mode == FEEDS else hour, config)
except InputError as exc:
    st.error(str(exc))
    st.stop()


# ------------------------------------------------------------------ 📰 feed
def safe_link(url: str) -> str:
    """An http(s) address with the characters that would end a Markdown link escaped."""
    return quote(url, safe=":/?&=#%+,;@~.-_") if url.startswith(("http://", "https://")) else ""


def render_card(item: news.Ranked, position: int) -> None:
    article = item.article
    with st.container(border=True, key=f"news_card_{position}"):
        st.markdown(f"**{ui.escape_markdown(article.title)}**")
        age = "date unknown" if item.age_hours is None else (
            f"{item.age_hours:.0f} h ago" if item.age_hours < 48 else f"{item.age_hours / 24:.0f} days ago")  # fmt: skip
        parts = [ui.escape_markdown(article.source), age, f":blue-badge[{ui.escape_markdown(article.category)}]"]
        if article.category_score is not None and article.category_score < UNSURE:
            parts.append(":gray-badge[category unsure]")  # e.g. health or science: none of the five fits
        parts += [f":violet-badge[✨ {ui.escape_markdown(t)}]" for t in item.topics]
        st.markdown(" · ".join(parts))
        st.markdown(ui.escape_markdown(item.summary))
        if item.other_sources:
            st.caption("Also reported by " + ", ".join(item.other_sources))
        a, b, c, d = st.columns([1, 1, 2, 3])
        liked = article.id in profile.liked
        a.button("👍 Liked" if liked else "👍 Like", key=f"news_like_{position}", on_click=forget if liked else like,
                 args=(article.id,), type="primary" if liked else "secondary")  # fmt: skip
        b.button("🙈 Hide", key=f"news_hide_{position}", on_click=hide, args=(article.id,))
        link = safe_link(article.link)
        if link:
            c.markdown(f"[Read at the source ↗]({link})")
        with d.popover("Why am I seeing this?", width="stretch"):
            for reason in item.why:
                st.markdown(f"- {ui.escape_markdown(reason)}")
            weighted = {
                f"relevance × {config.relevance_weight:.2f}": item.relevance * config.relevance_weight,
                f"recency × {config.recency_weight:.2f}": item.recency * config.recency_weight,
                f"coverage × {config.coverage_weight:.2f}": item.coverage * config.coverage_weight,
                "diversity penalty": -item.diversity_penalty,
            }
            # graph_objects, not plotly express: ten of these are drawn with every feed, and express takes ~0.15 s each
            figure = go.Figure(go.Bar(x=list(weighted.values()), y=list(weighted), orientation="h"))
            figure.update_layout(title=f"score {item.score:.2f} = the sum of these", height=220,
                                 margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="points", yaxis_title=None)  # fmt: skip
            st.plotly_chart(figure, width="stretch", key=f"news_why_{position}")


def filtered(items: list[news.Ranked]) -> list[news.Ranked]:
    categories = st.session_state.get("news_filter_categories") or []
    sources = st.session_state.get("news_filter_sources") or []
    within = WITHIN[st.session_state.get("news_filter_within", "any time")]
    return [
        r for r in items
        if (not categories or r.article.category in categories)
        and (not sources or r.article.source in sources or set(r.other_sources) & set(sources))
        and (within is None or (r.age_hours is not None and r.age_hours <= within))
    ]  # fmt: skip


def render_feed() -> None:
    a, b, c = st.columns(3)
    a.multiselect("Topic", list(index.categories), key="news_filter_categories", placeholder="All topics")
    b.multiselect("Source", sorted({r.article.source for r in feed}), key="news_filter_sources",
                  placeholder="All sources")  # fmt: skip
    c.selectbox("Published within", list(WITHIN), key="news_filter_within", bind="query-params")
    shown = filtered(feed)
    count = st.session_state.setdefault("news_shown", SHOWN)
    hidden = len(index.articles) - len(feed)
    st.caption(f"{sum(c.size for c in index.clusters)} articles grouped into {len(index.articles)} stories"
               + (f", {hidden} hidden" if hidden else "") + f" · {len(shown)} match the filters · "
               f"showing the top {min(count, len(shown))}")  # fmt: skip
    if not shown:
        st.info("No story matches these filters: widen them.", icon="ℹ️")
    for position, item in enumerate(shown[:count]):
        render_card(item, position)
    if len(shown) > count:
        st.button(
            f"Show {SHOWN} more", key="news_more", on_click=lambda: st.session_state.update(news_shown=count + SHOWN)
        )


# ------------------------------------------------------------------ 📊 breakdown
def render_breakdown() -> None:
    top = feed[: st.session_state.get("news_shown", SHOWN)]
    counts = (
        pd.concat(
            [
                pd.DataFrame({"category": [a.category for a in index.articles], "where": "all stories"}),
                pd.DataFrame({"category": [r.article.category for r in top], "where": f"your top {len(top)}"}),
            ]
        )
        .value_counts()
        .rename("stories")
        .reset_index()
    )
    figure = px.bar(counts, x="category", y="stories", color="where", barmode="group",
                    title="Categories: everything gathered and your feed")  # fmt: skip
    figure.update_layout(height=330, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(figure, width="stretch", key="news_breakdown_chart")
    sources = pd.Series([a.source for a in index.articles]).value_counts().rename_axis("source").rename("stories")
    figure = px.bar(sources.reset_index(), x="stories", y="source", orientation="h", title="Stories per source")
    figure.update_layout(height=120 + 22 * len(sources), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(figure, width="stretch", key="news_source_chart")
    st.dataframe(news.feed_frame(top).drop(columns=["id"]), hide_index=True, width="stretch")


# ------------------------------------------------------------------ 🩺 sources
def render_sources() -> None:
    if refreshed is None:
        st.info("The sample articles need no fetching. Switch to **Live feeds** in the sidebar to gather the "
                "feeds listed there, each with its own status here.", icon="ℹ️")  # fmt: skip
        st.dataframe(pd.DataFrame([{"name": s.name, "url": s.url} for s in news.load_sources()]),
                     hide_index=True, width="stretch")  # fmt: skip
        return
    health = refreshed.health_frame()
    ok = int((health["status"] == "ok").sum())
    st.markdown(f"Refreshed {refreshed.fetched_at:%Y-%m-%d %H:%M} UTC in {refreshed.seconds:.1f} s: "
                f"{ok} of {len(health)} sources OK, {len(refreshed.articles)} articles.")  # fmt: skip
    st.dataframe(health, hide_index=True, width="stretch")


# ------------------------------------------------------------------ 🪪 model card
def render_card_tab() -> None:
    if mode == SAMPLE and training_data.is_sample:
        with st.spinner("Loading the category classifier…"):
            loaded = sample_classifier().wait()
        model = loaded[0] if loaded is not None else classifier()[0]
    else:
        model = classifier()[0]
    ui.model_card(model.card_, "news_classifier_card.md")
    confusion = pd.DataFrame(model.confusion_, index=model.classes_, columns=model.classes_)
    figure = px.imshow(confusion, text_auto=True, color_continuous_scale="Blues",
                       labels={"x": "predicted", "y": "true", "color": "articles"},
                       title="Confusion matrix on the held-out split")  # fmt: skip
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(figure, width="stretch", key="news_confusion")
    st.markdown("**Words that most push an article into each category**")
    terms = model.top_terms(8)
    st.dataframe(pd.DataFrame({k: pd.Series(v) for k, v in terms.items()}), hide_index=True, width="stretch")


ui.stateful_tabs(
    {
        "📰 Your feed": render_feed,
        "📊 Breakdown": render_breakdown,
        "🩺 Sources": render_sources,
        "🪪 Model card": render_card_tab,
    },
    key="news_tabs",
)

# Background loads start once the feed is drawn (an import in another thread holds the GIL and would slow it):
# the classifier itself (the model card, live feeds) and MiniLM (invented topics).
if training_data.is_sample:
    sample_classifier()
if encoder_identity(ui.settings_key())[0] != NO_ENCODER:
    minilm.encoder()
