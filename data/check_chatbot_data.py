"""Check the knowledge-base chatbot's data files against the knowledge they are meant to test.

The chatbot's default knowledge base is built from three sources, and this script builds it the same way:

1. ``README.md``, split into sections at its Markdown headings (``#`` to ``######``, outside code fences);
2. one document per demo in ``engines.registry.DEMOS``: ``"<title>: <pitch> Techniques: <techniques>"``
   followed by the intro paragraph of its page (the first string argument of ``ui.page_header(`` in
   ``app_pages/<key>.py``, read with ``ast`` so that concatenated literals come out as one string);
3. ``data/chatbot_faq.md``, one document per ``## <question>`` entry.

It then checks that:

- every ``evidence`` phrase in ``chatbot_questions.tsv`` and ``chatbot_followups.tsv`` occurs verbatim in a
  document of the knowledge base (and, for questions, in a document of the declared ``source``);
- every phrase in ``chatbot_judgements.tsv`` (passages judged, blind, to answer a question too) belongs to a
  question of ``chatbot_questions.tsv`` and occurs in a passage the chatbot indexes;
- splits (questions, unanswerable questions, follow-ups) are ``dev`` or ``test``, and questions are not repeated within or across the files;
- ``chatbot_intents.tsv`` has exactly the five intents, at least 50 distinct examples each.

Run from the repository root: ``python data/check_chatbot_data.py``. It prints a summary and exits 1 on any
failure. Evidence found in more than one document is reported as a warning, not a failure.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engines.registry import DEMOS  # noqa: E402 (needs the repository root on the path first)

DATA = ROOT / "data"
README = ROOT / "README.md"
FAQ = DATA / "chatbot_faq.md"
QUESTIONS = DATA / "chatbot_questions.tsv"
FOLLOWUPS = DATA / "chatbot_followups.tsv"
JUDGEMENTS = DATA / "chatbot_judgements.tsv"
UNANSWERABLE = DATA / "chatbot_unanswerable.tsv"
INTENTS = DATA / "chatbot_intents.tsv"

SOURCES = ("readme", "demo", "faq")
SPLITS = ("dev", "test")
INTENT_NAMES = ("greeting", "thanks", "question", "out_of_scope", "human")
MIN_PER_INTENT = 50
EVIDENCE_WORDS = (3, 10)
JUDGED_WORDS = (4, 15)  # phrases judged in other passages (data/chatbot_judgements.tsv)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Doc:
    """One document of the knowledge base.

    Attributes:
        source: ``readme``, ``demo`` or ``faq``.
        title: Heading, demo title or FAQ question.
        text: The full text a passage would be cut from (title included).
    """

    source: str
    title: str
    text: str


def markdown_sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown at its headings into ``(heading, section text)`` pairs.

    A heading line starts a new section and is kept as its first line; ``#`` lines inside fenced code
    blocks are not headings. Text before the first heading becomes a section titled ``""``.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            sections.append((match.group(2), [line]))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip()) for title, lines in sections if "\n".join(lines).strip()]


def readme_docs(path: Path = README) -> list[Doc]:
    """README.md as one document per heading-delimited section."""
    return [Doc("readme", title, body) for title, body in markdown_sections(path.read_text(encoding="utf-8"))]


def page_intro(page: Path) -> str:
    """The intro paragraph of a demo page: the first string argument of its ``ui.page_header(...)`` call.

    Raises:
        ValueError: when the page has no such call or its intro is not a string literal.
    """
    tree = ast.parse(page.read_text(encoding="utf-8"), filename=str(page))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "page_header":
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    return arg.value
            raise ValueError(f"{page}: ui.page_header() has no string-literal intro")
    raise ValueError(f"{page}: no ui.page_header() call")


def demo_docs() -> list[Doc]:
    """One document per registered demo: title, pitch and techniques, then the page's intro paragraph."""
    docs = []
    for demo in DEMOS:
        card = f"{demo.title}: {demo.pitch} Techniques: {', '.join(demo.techniques)}"
        docs.append(Doc("demo", demo.title, f"{card}\n\n{page_intro(demo.page_path)}"))
    return docs


def faq_docs(path: Path = FAQ) -> list[Doc]:
    """The FAQ as one document per ``## <question>`` entry (question line plus answer)."""
    docs = []
    for title, body in markdown_sections(path.read_text(encoding="utf-8")):
        if body.startswith("## "):
            question = title
            answer = body.split("\n", 1)[1].strip() if "\n" in body else ""
            docs.append(Doc("faq", question, f"{question}\n{answer}"))
    return docs


def knowledge_base() -> list[Doc]:
    """All documents of the default knowledge base, README first, then demos, then the FAQ."""
    return readme_docs() + demo_docs() + faq_docs()


def read_tsv(path: Path, header: tuple[str, ...], problems: list[str]) -> list[dict[str, str]]:
    """Rows of a tab-separated file with the given header; malformed lines are added to ``problems``."""
    if not path.exists():
        problems.append(f"{path.name}: missing")
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != header:
        problems.append(f"{path.name}: header must be {'<TAB>'.join(header)}")
        return []
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header) or not all(f.strip() for f in fields):
            problems.append(f"{path.name}:{number}: expected {len(header)} non-empty fields, got {fields!r}")
            continue
        if any(f != f.strip() for f in fields):
            problems.append(f"{path.name}:{number}: a field has leading or trailing spaces")
        rows.append(dict(zip(header, fields, strict=True)))
    return rows


def normalise(text: str) -> str:
    """Lower-cased, punctuation-light form of a question, for duplicate detection."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def check_evidence(
    name: str, rows: list[dict[str, str]], docs: list[Doc], problems: list[str], warnings: list[str]
) -> None:
    """Every row's evidence must occur verbatim in a document (of its ``source`` when the row has one)."""
    for row in rows:
        phrase = row["evidence"]
        words = len(phrase.split())
        if not EVIDENCE_WORDS[0] <= words <= EVIDENCE_WORDS[1]:
            problems.append(
                f"{name}: evidence {phrase!r} has {words} words (want {EVIDENCE_WORDS[0]}-{EVIDENCE_WORDS[1]})"
            )
        hits = [doc for doc in docs if phrase in doc.text]
        if not hits:
            problems.append(f"{name}: evidence not in the knowledge base: {phrase!r}")
            continue
        source = row.get("source")
        if source is not None and not any(doc.source == source for doc in hits):
            found = ", ".join(sorted({doc.source for doc in hits}))
            problems.append(f"{name}: evidence {phrase!r} is in {found}, not in its source {source!r}")
        if len(hits) > 1:
            where = "; ".join(f"{doc.source}: {doc.title}" for doc in hits)
            warnings.append(f"{name}: evidence {phrase!r} occurs in {len(hits)} documents ({where})")


def check_judgements(rows: list[dict[str, str]], questions: list[dict[str, str]], problems: list[str]) -> None:
    """Each judged phrase belongs to a known question and occurs in a passage the chatbot indexes.

    Judged phrases were copied from passages (Markdown already turned into plain text), so they are looked up
    the way the evaluation looks them up, in the engine's own passages.
    """
    from engines.chatbot.evaluation import relevant
    from engines.chatbot.knowledge import default_sources, passages

    known = {row["question"] for row in questions}
    indexed = passages(default_sources())
    seen: set[tuple[str, str]] = set()
    for row in rows:
        question, phrase = row["question"], row["evidence"]
        if question not in known:
            problems.append(f"{JUDGEMENTS.name}: unknown question {question!r}")
        if (question, phrase) in seen:
            problems.append(f"{JUDGEMENTS.name}: {phrase!r} is listed twice for {question!r}")
        seen.add((question, phrase))
        if not JUDGED_WORDS[0] <= len(phrase.split()) <= JUDGED_WORDS[1]:
            problems.append(f"{JUDGEMENTS.name}: {phrase!r} has {len(phrase.split())} words (want 4-15)")
        if not any(relevant(passage, phrase) for passage in indexed):
            problems.append(f"{JUDGEMENTS.name}: {phrase!r} is in no passage of the knowledge base")


def check_splits(name: str, rows: list[dict[str, str]], problems: list[str]) -> Counter:
    """Count rows per split; an unknown split value is a problem."""
    counts = Counter(row["split"] for row in rows)
    for split in counts:
        if split not in SPLITS:
            problems.append(f"{name}: unknown split {split!r} ({counts[split]} rows)")
    return counts


def check_duplicates(named: dict[str, list[str]], problems: list[str]) -> None:
    """No question may appear twice, within one file or across files (compared after :func:`normalise`)."""
    seen: dict[str, str] = {}
    for name, texts in named.items():
        for text in texts:
            key = normalise(text)
            if key in seen:
                problems.append(f"{name}: duplicate question {text!r} (also in {seen[key]})")
            else:
                seen[key] = name


def check_intents(rows: list[dict[str, str]], problems: list[str]) -> Counter:
    """Exactly the five intents, at least ``MIN_PER_INTENT`` examples each, no repeated example."""
    counts = Counter(row["intent"] for row in rows)
    if set(counts) != set(INTENT_NAMES):
        problems.append(f"{INTENTS.name}: intents are {sorted(counts)}, want {sorted(INTENT_NAMES)}")
    for intent in INTENT_NAMES:
        if counts[intent] < MIN_PER_INTENT:
            problems.append(f"{INTENTS.name}: {intent!r} has {counts[intent]} examples, want >= {MIN_PER_INTENT}")
    texts = Counter(normalise(row["text"]) for row in rows)
    for text, n in texts.items():
        if n > 1:
            problems.append(f"{INTENTS.name}: example {text!r} appears {n} times")
    return counts


def main() -> int:
    """Run every check, print a summary, and return the exit status (1 on any failure)."""
    problems: list[str] = []
    warnings: list[str] = []
    docs = knowledge_base()
    by_source = Counter(doc.source for doc in docs)
    if len(docs) == 0 or any(by_source[source] == 0 for source in SOURCES):
        problems.append(f"knowledge base is incomplete: {dict(by_source)}")
    if by_source["demo"] != len(DEMOS):
        problems.append(f"{by_source['demo']} demo documents for {len(DEMOS)} registered demos")

    questions = read_tsv(QUESTIONS, ("split", "question", "evidence", "source"), problems)
    followups = read_tsv(FOLLOWUPS, ("split", "first", "followup", "evidence"), problems)
    judgements = read_tsv(JUDGEMENTS, ("question", "evidence"), problems)
    unanswerable = read_tsv(UNANSWERABLE, ("split", "question"), problems)
    intents = read_tsv(INTENTS, ("intent", "text"), problems)

    for row in questions:
        if row["source"] not in SOURCES:
            problems.append(f"{QUESTIONS.name}: unknown source {row['source']!r} for {row['question']!r}")
    check_evidence(QUESTIONS.name, questions, docs, problems, warnings)
    check_evidence(FOLLOWUPS.name, followups, docs, problems, warnings)
    check_judgements(judgements, questions, problems)
    question_splits = check_splits(QUESTIONS.name, questions, problems)
    unanswerable_splits = check_splits(UNANSWERABLE.name, unanswerable, problems)
    followup_splits = check_splits(FOLLOWUPS.name, followups, problems)
    check_duplicates(
        {
            QUESTIONS.name: [row["question"] for row in questions],
            UNANSWERABLE.name: [row["question"] for row in unanswerable],
            f"{FOLLOWUPS.name} (follow-ups)": [row["followup"] for row in followups],
        },
        problems,
    )
    intent_counts = check_intents(intents, problems)

    print(
        f"knowledge base: {len(docs)} documents "
        f"({by_source['readme']} README sections, {by_source['demo']} demos, {by_source['faq']} FAQ entries)"
    )
    sources = Counter(row["source"] for row in questions)
    print(
        f"{QUESTIONS.name}: {len(questions)} questions, "
        + ", ".join(f"{s} {question_splits[s]}" for s in SPLITS)
        + "; sources "
        + ", ".join(f"{s} {sources[s]}" for s in SOURCES)
    )
    print(
        f"{FOLLOWUPS.name}: {len(followups)} follow-up pairs, " + ", ".join(f"{s} {followup_splits[s]}" for s in SPLITS)
    )
    judged = len({row["question"] for row in judgements})
    print(f"{JUDGEMENTS.name}: {len(judgements)} judged phrases for {judged} questions")
    print(
        f"{UNANSWERABLE.name}: {len(unanswerable)} questions, "
        + ", ".join(f"{s} {unanswerable_splits[s]}" for s in SPLITS)
    )
    print(f"{INTENTS.name}: {len(intents)} examples, " + ", ".join(f"{i} {intent_counts[i]}" for i in INTENT_NAMES))
    for warning in warnings:
        print(f"warning: {warning}")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
