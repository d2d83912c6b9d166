"""Grounded answers: the best supporting sentences stitched and cited, or "I don't know".

The bot answers only from retrieved passages. Offline it quotes: it ranks the sentences of the top passages
by how much of the question they cover (and by their embedding similarity when an encoder is loaded),
keeps the best two or three from passages that clear the confidence bar, and cites each. When retrieval is
weak (``confidence`` below ``DONT_KNOW_BELOW``, chosen on the project's dev questions) it says it does not
know and suggests questions it can answer. Text inside documents is never obeyed: sentences that read like
instructions to the bot ("ignore previous instructions...") are never quoted, and the answer says so. A
generator (a language model), when one is configured, writes the answer from the same passages instead, and
every sentence it writes must be supported by a retrieved passage, or the quoted answer is given.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from engines.chatbot.dialogue import Intent, IntentClassifier, names_a_demo, rewrite
from engines.chatbot.knowledge import sentences
from engines.chatbot.retrieval import Hit, Mode, Retriever, confidence, terms
from engines.core.errors import InputError

MAX_MESSAGE_CHARS = 2_000  # a longer message is refused with a message (it would not be a question)
DONT_KNOW_BELOW = 0.41  # below this confidence of the best passage the bot does not know (evaluation.calibrate on dev)
TOP_K = 5  # passages retrieved per question
FOLLOW_UP_MARGIN = 0.1  # a follow-up keeps its topic unless the bare question is this much surer (dev)
MAX_SENTENCES = 3  # sentences quoted in an answer
SUPPORT_OVERLAP = 0.6  # share of an answer sentence's informative words a passage must contain to support it
INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompts?)\b"
    r"|\b(ignore|disregard|forget)\b.{0,20}\b(previous|prior|above)\b.{0,20}\b(messages?|text|context)\b"
    r"|\byou are now (an?|the|my) (ai|assistant|chatbot|bot|model|new)\b|\byou are now (dan|in developer mode)\b"
    r"|\bsystem prompt\b|\bnew instructions\b|\bdo not follow (the|your|any) (rules|instructions)\b"
    r"|\bact as (an?|the) (ai|assistant|chatbot|bot|model|unrestricted|different)\b",
    re.I,
)
DEFAULT_MARK = re.compile(r"\bdefault\b", re.I)  # the README marks the model each page uses as its default
DEFAULT_BONUS = 0.1
CITATION = re.compile(r"\s?\[(\d{1,2})\]")
DONT_KNOW_REPLY = re.compile(r"\s*i\s+don[’']?t\s+know\.?\s*", re.I)
SMALL_TALK = {
    Intent.GREETING: "Hello! Ask me anything about this gallery: how a demo works, which data and models it uses, "
    "how accurate or fast it is, or how to run and deploy it.",
    Intent.THANKS: "You're welcome! Anything else about the demos?",
    Intent.HUMAN: "There is no live support behind this demo. To reach the people who build it, open an issue on "
    "the project's repository; meanwhile I can answer questions about the gallery from its documentation.",
    Intent.OUT_OF_SCOPE: "I can only answer questions about this gallery and its demos (from its documentation "
    "and FAQ).",
}
SUGGESTIONS = (
    "How does the movie recommender work?",
    "What accuracy does the spam detector get?",
    "How do I deploy the gallery to Streamlit Community Cloud?",
    "Which data does the churn predictor use?",
)


@dataclass(frozen=True)
class Support:
    """One sentence of an answer and the passage behind it."""

    sentence: str
    citation: int  # 1-based index into Answer.sources
    overlap: float  # share of the sentence's informative words found in that passage


@dataclass(frozen=True)
class Answer:
    """A reply, with everything needed to show and check it."""

    text: str
    kind: str  # answer, dont_know, small_talk
    intent: Intent
    intent_probability: float
    question: str  # as asked
    rewritten: str  # as searched (with the topic of the previous question for a follow-up)
    confidence: float
    sources: tuple[Hit, ...] = ()  # the passages cited, in citation order
    hits: tuple[Hit, ...] = ()  # everything retrieved (for the debug view)
    support: tuple[Support, ...] = ()
    notes: tuple[str, ...] = ()
    generated_by: str = "quoted from the knowledge base"
    seconds: float = 0.0

    @property
    def grounded(self) -> bool:
        """Whether every sentence of the answer is supported by a retrieved passage."""
        return self.kind != "answer" or (bool(self.support) and all(s.overlap >= SUPPORT_OVERLAP for s in self.support))


def check_message(message: object) -> str:
    """The message as a stripped string, or an InputError saying what is wrong with it."""
    if not isinstance(message, str) or not message.strip():
        raise InputError("The message is empty: type a question about the gallery.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise InputError(
            f"The message is {len(message):,} characters long; keep it under {MAX_MESSAGE_CHARS:,}. To ask about a "
            "long document, upload it to the knowledge base and ask a short question."
        )
    return message.strip()


def overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's informative words that the passage contains."""
    words = set(terms(sentence))
    if not words:
        return 1.0
    return len(words & set(terms(passage))) / len(words)


def is_instruction(sentence: str) -> bool:
    """Whether a sentence reads like an instruction to the bot (text the bot must not obey or repeat)."""
    return bool(INJECTION.search(sentence))


Generator = Callable[[str, list[Hit]], str]


@dataclass
class Chatbot:
    """Intents, follow-up rewriting, retrieval and grounded answers."""

    retriever: Retriever
    intents: IntentClassifier | None = None
    threshold: float = DONT_KNOW_BELOW
    generator: Generator | None = None
    generator_name: str = ""
    mode: Mode = Mode.HYBRID
    history: list[str] = field(default_factory=list)

    def respond(self, message: str) -> Answer:
        """Answer one message (and remember it for the next follow-up)."""
        started = time.perf_counter()
        message = check_message(message)
        intent, probability = (Intent.QUESTION, 1.0) if self.intents is None else self.intents.predict(message)
        if intent in SMALL_TALK and probability >= 0.5 and not self._looks_answerable(message):
            return Answer(SMALL_TALK[intent], "small_talk", intent, probability, message, message, 0.0,
                          seconds=time.perf_counter() - started)  # fmt: skip
        question, hits = self.search(message)
        self.history.append(question)
        sure = self._confidence(hits[0]) if hits else 0.0
        if sure < self.threshold:
            return self._dont_know(message, question, intent, probability, sure, hits, started)
        answer = self._quote(message, question, intent, probability, sure, hits, started)
        if self.generator is not None and answer.kind == "answer":
            return self._generate(answer, started)
        return answer

    def _confidence(self, hit: Hit) -> float:
        return confidence(hit, self.retriever.has_dense)

    def search(self, message: str) -> tuple[str, list[Hit]]:
        """Retrieval for the message as asked and, for a follow-up, with the previous topic added.

        A follow-up is searched with the topic unless the question as asked finds a passage clearly more
        confidently (by more than ``FOLLOW_UP_MARGIN``): "and how accurate is it?" alone matches any
        passage about accuracy a little better than "spam detector: and how accurate is it?" matches
        the spam detector's.
        """
        hits = self.retriever.search(message, TOP_K, self.mode)
        rewritten = rewrite(message, self.history)
        if rewritten != message:
            other = self.retriever.search(rewritten, TOP_K, self.mode)
            if other and (not hits or self._confidence(other[0]) + FOLLOW_UP_MARGIN > self._confidence(hits[0])):
                return rewritten, other
        return message, hits

    def _looks_answerable(self, message: str) -> bool:
        """A greeting or thanks with a real question in it ("hi, how does X work?") is treated as a question.

        So is a message that names a demo ("tell me about the text summarizer"), however short.
        """
        if len(terms(message)) < 3 and not names_a_demo(message):
            return False
        hits = self.retriever.search(message, 1, self.mode)
        return bool(hits) and self._confidence(hits[0]) >= self.threshold

    def _dont_know(self, message, question, intent, probability, sure, hits, started) -> Answer:
        near = [h.passage.title for h in hits[:3] if self._confidence(h) >= self.threshold * 0.6]
        hint = f" The closest topics I have are: {'; '.join(dict.fromkeys(near))}." if near else ""
        text = (
            "I don't know: the gallery's documentation does not answer that."
            + hint
            + " You could ask, for example: "
            + " / ".join(f"“{s}”" for s in SUGGESTIONS[:3])
        )
        return Answer(text, "dont_know", intent, probability, message, question, sure, hits=tuple(hits),
                      seconds=time.perf_counter() - started)  # fmt: skip

    def _quote(self, message, question, intent, probability, sure, hits, started) -> Answer:
        wanted = set(terms(question))
        candidates: list[tuple[float, str, Hit]] = []
        notes: list[str] = []
        vector = None
        vector = self.retriever.embed(question) if self.retriever.has_dense else None
        seen: set[str] = set()
        for hit in hits:
            if self._confidence(hit) < self.threshold * 0.8:
                continue
            if vector is not None:
                every, rows = self.retriever.sentence_vectors(hit.passage.index)
                similar = rows @ vector
            else:
                every = sentences(hit.passage.text)
                similar = np.zeros(len(every))
            for sentence, similarity in zip(every, similar, strict=True):
                if is_instruction(sentence):
                    notes.append(
                        f"“{hit.passage.title}” contains text that gives instructions to the bot; it was ignored."
                    )
                    continue
                words = set(terms(sentence))
                if len(words) < 2 or sentence in seen:
                    continue
                seen.add(sentence)
                lexical = len(words & wanted) / max(1, len(wanted))
                default = DEFAULT_BONUS if DEFAULT_MARK.search(sentence) else 0.0  # the model the demo uses
                candidates.append((lexical + float(similarity) + 0.15 * (1 / hit.rank) + default, sentence, hit))
        chosen = sorted(candidates, key=lambda c: -c[0])[:MAX_SENTENCES]
        if not chosen:
            return self._dont_know(message, question, intent, probability, sure, hits, started)
        order = {id(c): i for i, c in enumerate(candidates)}
        chosen.sort(key=lambda c: (c[2].rank, order[id(c)]))  # in reading order within each passage
        sources: list[Hit] = []
        support: list[Support] = []
        parts: list[str] = []
        for _, sentence, hit in chosen:
            if hit not in sources:
                sources.append(hit)
            number = sources.index(hit) + 1
            support.append(Support(sentence, number, overlap(sentence, hit.passage.text)))
            parts.append(f"{sentence.rstrip()} [{number}]")
        return Answer(" ".join(parts), "answer", intent, probability, message, question, sure, tuple(sources),
                      tuple(hits), tuple(support), tuple(dict.fromkeys(notes)),
                      seconds=time.perf_counter() - started)  # fmt: skip

    def _generate(self, quoted: Answer, started: float) -> Answer:
        """The generator's answer when every sentence of it is supported by a retrieved passage, else the quote."""
        try:
            text = (self.generator(quoted.rewritten, list(quoted.hits)) or "").strip()
        except Exception as exc:  # noqa: BLE001 (a model or endpoint failure falls back to the quoted answer)
            return _with_note(quoted, f"The language model failed ({type(exc).__name__}); the answer is quoted.")
        if DONT_KNOW_REPLY.fullmatch(text):
            return self._dont_know(quoted.question, quoted.rewritten, quoted.intent, quoted.intent_probability,
                                   quoted.confidence, list(quoted.hits), started)  # fmt: skip
        support: list[Support] = []
        for sentence in sentences(text):
            if is_instruction(sentence):
                return _with_note(quoted, "The language model repeated instructions found in a document; quoted.")
            cited = [int(n) for n in CITATION.findall(sentence) if 0 < int(n) <= len(quoted.hits)]
            plain_sentence = CITATION.sub("", sentence)
            candidates = [n - 1 for n in cited] or range(len(quoted.hits))
            best = max(candidates, key=lambda i: overlap(plain_sentence, quoted.hits[i].passage.text))
            support.append(Support(sentence, best + 1, overlap(plain_sentence, quoted.hits[best].passage.text)))
        if not support or any(s.overlap < SUPPORT_OVERLAP for s in support):
            return _with_note(quoted, "The language model's answer was not supported by the sources; it is quoted.")
        used = sorted({s.citation for s in support})
        sources = tuple(quoted.hits[n - 1] for n in used)
        support = [Support(s.sentence, used.index(s.citation) + 1, s.overlap) for s in support]
        text = CITATION.sub(lambda m: f"[{used.index(int(m.group(1))) + 1}]" if int(m.group(1)) in used else "", text)
        return Answer(text, "answer", quoted.intent, quoted.intent_probability, quoted.question, quoted.rewritten,
                      quoted.confidence, sources, quoted.hits, tuple(support), quoted.notes,
                      generated_by=self.generator_name or "a language model",
                      seconds=time.perf_counter() - started)  # fmt: skip

    def reset(self) -> None:
        """Forget the conversation (follow-ups start afresh)."""
        self.history.clear()


def _with_note(answer: Answer, note: str) -> Answer:
    from dataclasses import replace

    return replace(answer, notes=(*answer.notes, note))


def stream_words(text: str, delay: float = 0.0, total_s: float | None = None) -> Iterator[str]:
    """The answer word by word (for ``st.write_stream``), ``delay`` seconds apart, all of it within ``total_s``.

    The typing effect must not cost a long answer seconds: a 150-word answer at 10 ms a word took 1.5 s of the
    1.8-2.1 s the chatbot's first question took in the cold benchmark.
    """
    words = text.split(" ")
    if total_s is not None and words:
        delay = min(delay, total_s / len(words))
    for i, word in enumerate(words):
        if delay:
            time.sleep(delay)
        yield word if i == 0 else " " + word
