"""Contact details by rules; organisations, places and dates by rules and gazetteers, or a NER model.

Email, phone and links are patterns. The name is the first line of the header that reads like a person's
name. Organisations and places come from small gazetteers written by the project (well-known employers,
cities, states, countries) and from rules (company suffixes such as "Inc." or "Labs", "University of ...",
"City, ST"). When a token-classification model (dslim/bert-base-NER) is available offline it adds what it
finds; it is loaded on the usual offline-first ladder and never downloaded in tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engines.core.errors import SourceError
from engines.core.model_sources import ModelSpec, ResolvedModel, from_folder, load_first, quiet_transformers
from engines.core.progress import Progress, null_progress
from engines.resume.experience import RANGE, SINGLE_DATE

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_SEP = r"(?:\s?[.·•-]\s?|\s)"  # "415-497-7282", "415.497.7282", "(415) · 497 · 7282"
PHONE = re.compile(
    rf"(?<![\w/-])(?:\+\d{{1,3}}{_PHONE_SEP}?)?(?:\(\d{{2,4}}\){_PHONE_SEP}?|\d{{2,4}}{_PHONE_SEP})\d{{3,4}}{_PHONE_SEP}\d{{3,4}}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/-])"
)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 10, 15  # national numbers with area code .. E.164 maximum
URL = re.compile(
    r"(?:https?://)?(?:www\.)?(?:linkedin\.com/in/|github\.com/|gitlab\.com/|twitter\.com/|x\.com/|behance\.net/|dribbble\.com/|medium\.com/@?)[\w./-]+"
    r"|https?://[^\s,;|()<>]+",
    re.IGNORECASE,
)
# Icon fonts leave a glyph name before a bare handle ("/linkedin-in bwayne"); read it as a profile link.
ICON_HANDLE = re.compile(r"/(linkedin-in|github|gitlab|twitter)\s+([A-Za-z0-9_.-]{2,40})")
ICON_SITES = {"linkedin-in": "linkedin.com/in/", "github": "github.com/", "gitlab": "gitlab.com/", "twitter": "x.com/"}

NER_MODEL = ModelSpec(
    name="bert-base-NER",
    title="BERT-base NER (CoNLL-2003: persons, organisations, places)",
    offline="rules and gazetteers",
    hub_id="dslim/bert-base-NER",
)
NER_MAX_TOKENS = 256  # per chunk of lines; resumes' entities sit in short header lines

KNOWN_ORGANISATIONS = (
    "Google", "Alphabet", "Amazon", "Apple", "Microsoft", "Meta", "Facebook", "Netflix", "OpenAI", "Uber",
    "Lyft", "Airbnb", "Stripe", "PayPal", "Shopify", "Spotify", "Twitter", "Salesforce",
    "IBM", "Intel", "Nvidia", "NVIDIA", "Adobe", "Atlassian", "Dropbox", "Tesla", "SpaceX",
    "Samsung", "Sony", "SAP", "Cisco", "Deloitte", "Accenture", "McKinsey", "Goldman Sachs", "JPMorgan",
    "Morgan Stanley", "Bloomberg", "Infosys", "TCS", "Wipro", "Capgemini", "Siemens", "Bosch", "DeepMind",
    "Anthropic", "Databricks", "Twilio", "Pinterest", "Reddit", "eBay", "Walmart", "Booking.com", "Expedia", "Yahoo", "Baidu",
    "Alibaba", "Tencent", "ByteDance", "TikTok", "MIT", "CalTech", "Caltech", "Stanford University",
    "Harvard University", "UC San Diego", "UC Berkeley", "UCLA", "UCLA Extension", "Columbia University",
)  # fmt: skip
ORG_SUFFIX = re.compile(
    r"\b((?:[A-Z][\w&.'-]*[ \t]){1,4}(?:Inc\.?|Ltd\.?|LLC|LLP|GmbH|Corp\.?|Corporation|Co\.|Company|Group|Solutions|"
    r"Systems|Technologies|Technology|Labs|Software|Analytics|Consulting|Partners|Agency|Bank|Startup|Holdings|"
    r"Industries|Innovations|Studios|Health|Networks|Services|Media|Ventures)(?:,? Inc\.?)?)"
)
INSTITUTION = re.compile(
    r"\b((?:[A-Z][\w'.-]*[ \t]){0,3}(?:University|College|Institute|School|Academy|Polytechnic)"
    r"(?:[ \t](?:of|for|at)(?:[ \t](?:the[ \t])?[A-Z][\w'.-]*){1,4})?)"
)
US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia",
}  # fmt: skip
COUNTRIES = (
    "USA", "United States", "US", "UK", "United Kingdom", "England", "Scotland", "Ireland", "Canada", "Mexico",
    "Brazil", "Argentina", "Germany", "France", "Spain", "Portugal", "Italy", "Netherlands", "Belgium",
    "Switzerland", "Austria", "Sweden", "Norway", "Denmark", "Finland", "Poland", "India", "China", "Japan",
    "Singapore", "Australia", "New Zealand", "South Africa", "Nigeria", "Kenya", "Israel", "UAE", "Remote",
)  # fmt: skip
CITIES = (
    "San Francisco", "Mountain View", "Palo Alto", "Menlo Park", "Cupertino", "Los Gatos", "San Jose", "Oakland",
    "Berkeley", "Stanford", "Los Angeles", "San Diego", "Pasadena", "Irvine", "Seattle", "Redmond", "Portland",
    "Austin", "Dallas", "Houston", "Denver", "Chicago", "Boston", "Cambridge", "New York", "Brooklyn",
    "Philadelphia", "Washington", "Atlanta", "Miami", "Phoenix", "Minneapolis", "Pittsburgh", "Toronto",
    "Vancouver", "Montreal", "London", "Manchester", "Edinburgh", "Dublin", "Paris", "Berlin", "Munich",
    "Amsterdam", "Madrid", "Barcelona", "Lisbon", "Zurich", "Stockholm", "Copenhagen", "Warsaw", "Bangalore",
    "Bengaluru", "Hyderabad", "Mumbai", "Delhi", "New Delhi", "Pune", "Chennai", "Beijing", "Shanghai", "Tokyo",
    "Seoul", "Sydney", "Melbourne", "Tel Aviv", "Dubai", "Silicon Valley", "Gotham", "Anywhere",
)  # fmt: skip
CITY_STATE = re.compile(
    r"\b((?:[A-Z][a-z]+\.?[ \t]){0,2}[A-Z][a-z]+),[ \t]?(" + "|".join(US_STATES) + r"|" + "|".join(COUNTRIES) + r")\b"
)
NOT_NAME_WORDS = frozenset(
    [
        "resume",
        "curriculum",
        "vitae",
        "cv",
        "developer",
        "engineer",
        "manager",
        "scientist",
        "analyst",
        "designer",
        "consultant",
        "intern",
        "summary",
        "profile",
        "experience",
        "education",
        "skills",
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "contact",
        "email",
        "phone",
        "university",
        "college",
        "school",
        "institute",
        "technologies",
        "solutions",
        "services",
    ]
)


@dataclass(frozen=True)
class Contact:
    """How to reach the candidate.

    Attributes:
        name: The person's name as written ("" when none was found).
        email: First email address ("" when none).
        phone: First phone number as written ("" when none).
        links: Profile and web links (LinkedIn, GitHub, portfolio).
        location: City and region from the header ("" when none).
    """

    name: str = ""
    email: str = ""
    phone: str = ""
    links: tuple[str, ...] = ()
    location: str = ""


@dataclass(frozen=True)
class Entities:
    """Named things found in the text.

    Attributes:
        organisations: Employers, schools and other organisations, in reading order.
        places: Cities, regions and countries.
        dates: Dates and date ranges as written.
        persons: Person names (only from a NER model; the candidate's name is in Contact).
        source: "rules and gazetteers", or the NER model's title plus rules.
    """

    organisations: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    persons: tuple[str, ...] = ()
    source: str = "rules and gazetteers"


def find_phone(text: str) -> str:
    """The first phone number in ``text`` (10 to 15 digits, not a date range), as written."""
    for m in PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0).split("x")[0])
        if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS and not RANGE.search(m.group(0)):
            return m.group(0).strip()
    return ""


def find_links(text: str) -> tuple[str, ...]:
    """Web and profile links, each once, with icon-font handles read as profile links."""
    links = [m.group(0).rstrip(".") for m in URL.finditer(text) if "@" not in m.group(0)]
    links += [ICON_SITES[m.group(1)] + m.group(2) for m in ICON_HANDLE.finditer(text)]
    return tuple(dict.fromkeys(links))


def find_name(header: str) -> str:
    """The first header line that reads like a person's name (two to four capitalised words, no digits).

    The very first line may also be written in lower case ("jordan vega"), as exported profiles often are.
    """
    lines = [line.strip() for line in header.splitlines() if line.strip()]
    for number, line in enumerate(lines[:6]):
        candidate = re.split(r"\s*[|,–—]\s*|\s{2,}", line)[0].strip()
        words = candidate.split()
        if not 2 <= len(words) <= 4 or re.search(r"[\d@/:]", candidate):
            continue
        if any(w.lower().strip(".") in NOT_NAME_WORDS for w in words):
            continue
        first = r"[A-Za-z]" if number == 0 else r"[A-Z]"
        if all(re.fullmatch(rf"{first}[A-Za-z'’.-]*", w) for w in words):
            return candidate
    return ""


def find_location(header: str) -> str:
    """A "City, ST" or "City, Country" from the header, or a known city alone."""
    for m in CITY_STATE.finditer(header):
        return m.group(0)
    for city in CITIES:
        if re.search(rf"\b{re.escape(city)}\b", header):
            return city
    return ""


def find_name_anywhere(text: str) -> str:
    """A name-like line at the top of a column: the first lines of the text, or a line right above a heading.

    Sidebar templates and Word layout tables put the contact column first and the name above the main
    column's first heading.
    """
    from engines.resume.sections import heading_of

    lines = [line.strip() for line in text.splitlines() if line.strip()]
    tops = [line for i, line in enumerate(lines[:-1]) if heading_of(lines[i + 1]) and not heading_of(line)]
    for line in tops:
        if find_name(line) == line:
            return line
    return ""


def find_contact(text: str, header: str) -> Contact:
    """Name, email, phone, links and location (email/phone/links anywhere; name/location from the header)."""
    email = EMAIL.search(text)
    return Contact(
        name=find_name(header) or find_name_anywhere(text),
        email=email.group(0) if email else "",
        phone=find_phone(header) or find_phone(text),
        links=find_links(text),
        location=find_location(header or text[:300]),
    )


def find_places(text: str) -> list[str]:
    """Places from the "City, ST" rule and the city and country gazetteers, in reading order."""
    found: list[tuple[int, str]] = [(m.start(), m.group(0)) for m in CITY_STATE.finditer(text)]
    for name in (*CITIES, *(c for c in COUNTRIES if len(c) > 2)):
        found += [(m.start(), name) for m in re.finditer(rf"\b{re.escape(name)}\b", text)]
    return _ordered_unique(found)


def find_organisations(text: str) -> list[str]:
    """Organisations from the employer gazetteer and the suffix and institution rules, in reading order."""
    found: list[tuple[int, str]] = []
    for name in KNOWN_ORGANISATIONS:
        found += [(m.start(), name) for m in re.finditer(rf"(?<![\w.]){re.escape(name)}(?![\w])", text)]
    for pattern in (ORG_SUFFIX, INSTITUTION):
        found += [(m.start(1), m.group(1).strip(" ,")) for m in pattern.finditer(text)]
    return _ordered_unique(found)


def find_dates(text: str) -> list[str]:
    """Date ranges, then single dates outside them, as written."""
    ranges = list(RANGE.finditer(text))
    covered = [m.span() for m in ranges]
    found = [(m.start(), " ".join(m.group(0).split())) for m in ranges]
    for m in SINGLE_DATE.finditer(text):
        if not any(a <= m.start() < b for a, b in covered):
            found.append((m.start(), m.group(0)))
    return _ordered_unique(found, keep_contained=True)


def _ordered_unique(found: list[tuple[int, str]], keep_contained: bool = False) -> list[str]:
    """Names in reading order, each once; a name inside a longer one found at the same place is dropped."""
    found.sort(key=lambda item: (item[0], -len(item[1])))
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for start, name in found:
        end = start + len(name)
        if not keep_contained and any(a <= start and end <= b for a, b in spans):
            continue
        spans.append((start, end))
        if name not in out:
            out.append(name)
    return out


def rule_entities(text: str) -> Entities:
    """Organisations, places and dates by rules and gazetteers only."""
    return Entities(tuple(find_organisations(text)), tuple(find_places(text)), tuple(find_dates(text)))


class NerTagger:
    """A transformers token-classification model (BIO tags) that returns entity strings by type."""

    def __init__(self, model: Any, tokenizer: Any, resolved: ResolvedModel) -> None:
        self.model, self.tokenizer, self.resolved = model.eval(), tokenizer, resolved
        self.id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
        positions = getattr(model.config, "max_position_embeddings", None) or NER_MAX_TOKENS
        self.max_tokens = min(NER_MAX_TOKENS, int(positions))  # never past the model's positions

    @property
    def notice(self) -> str:
        """Which model is in use, and where it was found."""
        return self.resolved.notice

    def tag(self, text: str) -> dict[str, list[str]]:
        """Entity type ("ORG", "LOC", "PER", "MISC") -> entity strings, in reading order, each once."""
        import torch

        chunks = _chunks(text, self.max_tokens)
        out: dict[str, list[str]] = {}
        if not chunks:
            return out
        with quiet_transformers():
            batch = self.tokenizer(
                chunks,
                return_offsets_mapping=True,
                truncation=True,
                max_length=self.max_tokens,
                padding=True,
                return_tensors="pt",
            )
            offsets = batch.pop("offset_mapping").tolist()
            with torch.inference_mode():
                labels = self.model(**batch).logits.argmax(-1).tolist()
        for chunk, chunk_offsets, chunk_labels in zip(chunks, offsets, labels, strict=True):
            for kind, start, end in _spans(chunk_offsets, [self.id2label.get(i, "O") for i in chunk_labels]):
                words = " ".join(chunk[start:end].split()).strip(" ,.;:()")
                if len(words) > 1 and words not in out.setdefault(kind, []):
                    out[kind].append(words)
        return out


def _chunks(text: str, max_tokens: int) -> list[str]:
    """Lines packed into chunks that fit the model (about three characters a token; longer ones are truncated)."""
    budget = max_tokens * 3
    chunks, current = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if current and len(current) + len(line) + 1 > budget:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:budget]
    if current:
        chunks.append(current)
    return chunks


def _spans(offsets: Sequence[Sequence[int]], labels: Sequence[str]) -> list[tuple[str, int, int]]:
    """Merge BIO token labels into ``(type, start, end)`` character spans; word pieces join their word."""
    spans: list[tuple[str, int, int]] = []
    for (start, end), label in zip(offsets, labels, strict=True):
        if end <= start:
            continue  # special or padding token
        kind = label.split("-", 1)[-1] if label != "O" else ""
        if not kind:
            continue
        if spans and spans[-1][0] == kind and (label.startswith("I-") or start - spans[-1][2] <= 1):
            spans[-1] = (kind, spans[-1][1], end)
        else:
            spans.append((kind, start, end))
    return spans


def _load_ner_folder(resolved: ResolvedModel) -> NerTagger:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model, tokenizer = from_folder(resolved, "a NER model", AutoModelForTokenClassification, AutoTokenizer)
    if not getattr(tokenizer, "is_fast", False):
        raise SourceError(f"{resolved.path}: the NER model needs a fast tokenizer (character offsets).")
    return NerTagger(model, tokenizer, resolved)


def load_ner(specs: ModelSpec | Sequence[ModelSpec] = NER_MODEL, progress: Progress = null_progress) -> NerTagger:
    """The NER model, offline first; SourceError says where it looked (the analyzer then uses rules only)."""
    return load_first(specs, _load_ner_folder, "named-entity recognition model", progress)


def merge_entities(rules: Entities, tagged: dict[str, list[str]], title: str) -> Entities:
    """Rules' entities plus a model's, each once, rules first."""

    def union(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*a, *b]))

    return Entities(
        organisations=union(rules.organisations, tagged.get("ORG", [])),
        places=union(rules.places, tagged.get("LOC", [])),
        dates=rules.dates,
        persons=tuple(tagged.get("PER", [])),
        source=f"{title} + rules and gazetteers",
    )
