"""Personalised news aggregator: fetch feeds safely, group duplicates, categorise, rank for a reader, explain why.

Typical use (a page does the same, with Streamlit caching around the slow calls)::

    from engines import news
    result = news.refresh(news.load_sources())              # or news.load_samples(as_of=now) offline
    classifier, data = news.load_or_train()                 # BBC News, or the bundled sample
    encoder, _ = load_encoder()                             # engines.core.embeddings (None: hashing fallback)
    index = news.build_index(result.articles, classifier=classifier, encoder=encoder)
    feed = news.rank(index, news.Profile(interests=("tech",)), now)
"""

from engines.news.categorise import (
    BBC_NEWS,
    CACHE,
    CATEGORIES,
    DEFAULT_PIPELINE,
    ENGINE,
    PIPELINES,
    CategoriserConfig,
    CategoryPrediction,
    HashingEncoder,
    NewsClassifier,
    PipelineName,
    Topic,
    assign_topics,
    cross_validate,
    embed_topics,
    is_cached,
    load_or_train,
    load_training_data,
    make_pipeline,
    read_bbc,
    read_sample,
    train,
    zero_shot,
    zero_shot_classify,
)
from engines.news.clean import Cluster, DedupeConfig, cluster, pair_agreement, plain_text
from engines.news.feeds import (
    DEFAULT_FEEDS,
    Article,
    FeedError,
    ParsedFeed,
    Source,
    SourceKind,
    extract_page,
    load_sources,
    parse_feed,
    parse_sources,
)
from engines.news.fetch import Blocked, FetchConfig, Fetcher, FetchError, TooLarge, check_url
from engines.news.gather import Refresh, SourceHealth, fetch_source, health_frame, refresh
from engines.news.index import ArticleIndex, build_index, short_summary
from engines.news.newsapi import DEFAULT_ENDPOINT as NEWSAPI_ENDPOINT
from engines.news.newsapi import parse_response as parse_newsapi
from engines.news.newsapi import request_url as newsapi_url
from engines.news.rank import Profile, RankConfig, Ranked, feed_frame, rank
from engines.news.samples import REFERENCE_TIME, SAMPLE_PROVENANCE, load_samples, sample_stories
from engines.news.shipped import (
    ShippedCategories,
    ShippedEncoder,
    TextVectors,
    request,
    sample_request,
    shipped_requests,
    vectors_request,
)

__all__ = [
    "BBC_NEWS",
    "CACHE",
    "CATEGORIES",
    "DEFAULT_FEEDS",
    "DEFAULT_PIPELINE",
    "ENGINE",
    "NEWSAPI_ENDPOINT",
    "PIPELINES",
    "REFERENCE_TIME",
    "SAMPLE_PROVENANCE",
    "Article",
    "ArticleIndex",
    "Blocked",
    "CategoriserConfig",
    "CategoryPrediction",
    "Cluster",
    "DedupeConfig",
    "FeedError",
    "FetchConfig",
    "FetchError",
    "Fetcher",
    "HashingEncoder",
    "NewsClassifier",
    "ParsedFeed",
    "PipelineName",
    "Profile",
    "RankConfig",
    "Ranked",
    "Refresh",
    "ShippedCategories",
    "ShippedEncoder",
    "Source",
    "SourceHealth",
    "SourceKind",
    "TextVectors",
    "TooLarge",
    "Topic",
    "assign_topics",
    "build_index",
    "check_url",
    "cluster",
    "cross_validate",
    "embed_topics",
    "extract_page",
    "feed_frame",
    "fetch_source",
    "health_frame",
    "is_cached",
    "load_or_train",
    "load_samples",
    "load_sources",
    "load_training_data",
    "make_pipeline",
    "newsapi_url",
    "pair_agreement",
    "parse_feed",
    "parse_newsapi",
    "parse_sources",
    "plain_text",
    "rank",
    "read_bbc",
    "read_sample",
    "refresh",
    "request",
    "sample_request",
    "sample_stories",
    "shipped_requests",
    "short_summary",
    "train",
    "vectors_request",
    "zero_shot",
    "zero_shot_classify",
]
