"""Sentiment input: English tweets with links, @handles and #hashtags are read, other languages still refused.

The tweets are written for this test (invented handles, links and tags); none comes from a dataset.
"""

from __future__ import annotations

import pytest

from engines import sentiment
from engines.core.errors import InputError
from engines.core.text import detect_language
from engines.sentiment.model import check_text

ENGLISH_TWEETS = (
    # langid alone called this one Dutch (99% sure): "#JetBlueFail" and a short text.
    "@JetBlue worst flight ever, 3hr delay #JetBlueFail",
    "@JetBlue worst flight ever!! 3hr delay on tarmac, zero updates, rude crew #JetBlueFail #neveragain https://t.co/Qx81kLmz",
    "@kellyb thx!! gr8 night w/ u guys #blessed #friyay https://t.co/Xk29sLpQ",
    "Best. Burger. Ever. @ShakeShack #NYCeats #foodporn #yum https://www.instagram.com/p/CxYzAbC123/",
    "@UberSupport driver took wrong route twice, charged me double. Fix it pls #UberFail https://t.co/Lk3Jd93",
    "ugh Monday. @Starbucks fix ur app plz #coffee #mondayblues",
    "Happy bday @tomhanks!!! #legend https://t.co/7HhJ2k",
)
OTHER_TWEETS = (
    ("@marie Ce film était vraiment magnifique, je le recommande à tout le monde! https://t.co/abc #cinema", "French"),
    (
        "@hans Der Film war wirklich schrecklich und viel zu lang, ich habe mich gelangweilt #kino https://t.co/x1",
        "German",
    ),
)


@pytest.mark.parametrize("tweet", ENGLISH_TWEETS)
def test_english_tweets_are_not_refused(tweet):
    assert check_text(tweet).is_english
    assert detect_language(tweet)[0] in ("en", "unknown")


@pytest.mark.parametrize(("tweet", "language"), OTHER_TWEETS)
def test_tweets_in_another_language_are_still_refused(tweet, language):
    with pytest.raises(InputError, match=f"looks like {language}"):
        check_text(tweet)


def test_links_and_handles_are_not_read_as_language():
    """With links and handles left out, the words decide: a long English tweet is named English, sure."""
    code, confidence = detect_language(ENGLISH_TWEETS[1])
    assert code == "en" and confidence > 0.9


def test_a_batch_of_tweets_gets_labels_not_language_notes():
    model = sentiment.sample_request(sentiment.ModelName.VADER).find()[0]
    table = model.classify_batch([*ENGLISH_TWEETS, OTHER_TWEETS[0][0]])
    assert (table["note"].iloc[:-1] == "").all()
    assert table["note"].iloc[-1] == "not English (French)"
