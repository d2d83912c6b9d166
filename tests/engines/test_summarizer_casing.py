"""Summariser on text of any casing: lower-case, PTB-tokenised text (the form CNN/DailyMail is distributed in).

Every text here is written for this test; none comes from a dataset.
"""

from __future__ import annotations

from engines.summarizer import model as sm
from engines.summarizer.preprocess import detokenise, is_tokenised, prepare

TOKENISED = (
    "riverton -lrb- cnn -rrb- -- the city council voted on tuesday to close the old iron bridge over the river . "
    "`` it is no longer safe for cars or for people on foot , '' the mayor said after the vote . "
    "engineers found deep cracks in two of the main supports of the . bridge last month . "
    "repairs will cost $ 4 million and take at least two years , the council 's report says . "
    "drivers will have to use the river road instead , which adds ten minutes to most trips . "
    "the bridge opened in 1932 and carries about 9,000 cars a day -lrb- more at weekends -rrb- . "
    "shop owners on both sides fear they will lose customers while it is closed . "
    "the council will hold a public meeting about the plans next week ."
)
SENTENCES = 8  # the dateline is not one of them
CASED = (
    "The city council voted on Tuesday to close the old iron bridge over the river. The mayor said it is no longer "
    "safe. Engineers found deep cracks in two of the main supports last month. Repairs will take two years."
)


def test_tokenised_text_is_recognised_and_put_back_together():
    assert is_tokenised(TOKENISED)
    assert not is_tokenised(CASED)
    assert not is_tokenised(CASED.lower())  # lower-case prose with its full stops in place is not tokenised
    text = detokenise(TOKENISED)
    assert '"it is no longer safe for cars or for people on foot," the mayor said' in text
    assert "the council's report" in text and "(more at weekends)." in text
    assert " ." not in text and "-lrb-" not in text and "``" not in text


def test_lower_case_tokenised_sentences_are_found():
    document = prepare(sm.check_text(TOKENISED).text)
    assert document.removed == ("riverton (cnn) --",)  # the dateline, whatever its casing
    body = [s.text for s in document.body]
    assert len(body) == SENTENCES
    assert body[0] == "the city council voted on tuesday to close the old iron bridge over the river."
    # " . " after "the" is a line break turned into a full stop, not a sentence end
    assert body[2] == "engineers found deep cracks in two of the main supports of the bridge last month."


def test_a_three_sentence_summary_of_tokenised_text_is_three_sentences():
    for method in sm.Method:
        summary = sm.summarize(TOKENISED, sm.SummarizerConfig(method=method, sentences=3))
        assert len(summary.sentences) == 3
        assert len(summary.text.split()) < 70  # three sentences of this text, not the whole article
        assert any("came tokenised" in note for note in summary.notes)
    assert not any("tokenised" in note for note in sm.summarize(CASED).notes)
    lead = sm.summarize(TOKENISED, sm.SummarizerConfig(method="lead", sentences=1))
    assert lead.sentences == ["the city council voted on tuesday to close the old iron bridge over the river."]


def test_plain_lower_case_prose_splits_as_before():
    document = prepare(sm.check_text(CASED.lower()).text)
    assert [s.text for s in document.body] == [
        "the city council voted on tuesday to close the old iron bridge over the river.",
        "the mayor said it is no longer safe.",
        "engineers found deep cracks in two of the main supports last month.",
        "repairs will take two years.",
    ]
