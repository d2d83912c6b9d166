"""Date ranges in a resume ("Jan 2019 – Present", "2017 – 2020", "03/2018 - 11/2021") -> periods and total years.

Months are counted inclusively when both ends name a month (Jan-Mar is three months, as LinkedIn counts);
a range of bare years counts whole years (2017-2020 is three). "Present" is ``today``, which callers can
pass for reproducible results. Overlapping periods (two jobs at once) are merged before summing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
NOW_WORDS = ("present", "current", "currently", "now", "today", "ongoing", "date")
EARLIEST_YEAR = 1950  # older "years" are more likely numbers than dates
_MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|spring|summer|fall|autumn|winter)\.?"
DATE = rf"(?:{_MONTH_NAME},?\s+(?:19|20)\d{{2}}|(?:0?[1-9]|1[0-2])\s*[/.-]\s*(?:19|20)\d{{2}}|(?:19|20)\d{{2}}\s*[/-]\s*(?:0[1-9]|1[0-2])(?!\d)|(?:19|20)\d{{2}})"
RANGE = re.compile(
    rf"(?<![\w/.-])(?P<start>{DATE})\s*(?:[-–—−]+|\bto\b|\buntil\b|\btill\b)\s*(?P<end>{DATE}|{'|'.join(NOW_WORDS)})(?![\w/])",
    re.IGNORECASE,
)
SINGLE_DATE = re.compile(rf"(?<![\w/.-]){DATE}(?![\w/])", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A date range found in the text.

    Attributes:
        text: The range as written ("Jan 2019 – Present").
        start: First month, "YYYY-MM".
        end: Last month, "YYYY-MM" (today's month for "Present").
        months: Length in months (inclusive when both ends name a month).
        current: The range ends "Present".
        span: Character offsets of the range in the text it was found in.
    """

    text: str
    start: str
    end: str
    months: int
    current: bool
    span: tuple[int, int]

    @property
    def start_index(self) -> int:
        """Months since year 0 of the first month."""
        year, month = map(int, self.start.split("-"))
        return year * 12 + month - 1

    @property
    def end_index(self) -> int:
        """One past the last month, in months since year 0."""
        return self.start_index + self.months


def parse_date(text: str) -> tuple[int, int | None] | None:
    """``(year, month)`` of a date as written ("Jan 2019", "03/2018", "2018-03", "2017"); month None for a bare year."""
    t = text.strip().lower().rstrip(".")
    m = re.fullmatch(r"([a-z]+)\.?,?\s+(\d{4})", t)
    if m:
        name = m.group(1)
        month = MONTHS.get(name) or SEASONS.get(name)
        return (int(m.group(2)), month) if month else None
    m = re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{4})", t)
    if m and 1 <= int(m.group(1)) <= 12:
        return int(m.group(2)), int(m.group(1))
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    m = re.fullmatch(r"(\d{4})", t)
    if m:
        return int(m.group(1)), None
    return None


def find_periods(text: str, today: dt.date | None = None) -> list[Period]:
    """Every date range in ``text``, in reading order; ranges that end before they start or in the future are skipped.

    Args:
        text: Any text (line breaks inside a range are fine).
        today: What "Present" means; default: the current date.
    """
    today = today or dt.date.today()
    periods = []
    for m in RANGE.finditer(text):
        start = parse_date(re.sub(r"\s+", " ", m.group("start")))
        end_text = m.group("end")
        current = end_text.lower() in NOW_WORDS
        end = (today.year, today.month) if current else parse_date(re.sub(r"\s+", " ", end_text))
        if start is None or end is None or not EARLIEST_YEAR <= start[0] <= today.year:
            continue
        first = start[0] * 12 + (start[1] or 1) - 1
        if current:
            stop = today.year * 12 + today.month  # through this month
        elif end[1] is None:
            stop = end[0] * 12 + (start[1] or 1) - 1  # to a bare year: whole years
        else:
            stop = end[0] * 12 + end[1]  # through the end month
        if start[1] is None and end[1] is None and stop == first:
            stop += 12  # "2019 - 2019": one year
        months = stop - first
        if months <= 0 or end[0] > today.year + 1:
            continue
        last = stop - 1
        periods.append(
            Period(
                " ".join(m.group(0).split()),
                f"{first // 12:04d}-{first % 12 + 1:02d}",
                f"{last // 12:04d}-{last % 12 + 1:02d}",
                months,
                current,
                m.span(),
            )
        )
    return periods


def merge_months(periods: Iterable[Period]) -> int:
    """Months covered by ``periods`` with overlaps counted once."""
    spans = sorted((p.start_index, p.end_index) for p in periods)
    total, current_start, current_end = 0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def total_years(periods: Iterable[Period]) -> float:
    """Years of experience covered by ``periods`` (overlaps merged), to one decimal."""
    return round(merge_months(periods) / 12, 1)


TITLE_WORDS = re.compile(
    r"\b(engineer|developer|manager|scientist|analyst|designer|consultant|intern|lead|director|architect|"
    r"specialist|administrator|officer|head|vp|president|associate|assistant|coordinator|researcher|"
    r"programmer|owner|founder|technician|strategist|writer|editor|teacher|professor|nurse|accountant)s?\b",
    re.IGNORECASE,
)
ORG_TAILS = re.compile(r"^(?:inc\.?|ltd\.?|llc|llp|gmbh|corp\.?|co\.)$", re.IGNORECASE)
DEGREE = re.compile(
    r"\b(Bachelor(?:'s)?|Master(?:'s)?|B\.?\s?Sc\.?|M\.?\s?Sc\.?|B\.?\s?Tech|M\.?\s?Tech|B\.?A\.|B\.?S\.|M\.?S\.|"
    r"BSc|MSc|(?<!, )BA|(?<!, )BS|(?<!, )MS|MBA|PhD|Ph\.D\.?|Doctor(?:ate)?|Associate(?:'s)? (?:of|Degree)|Diploma|B\.?E\.|M\.?Eng)\b"
)
DURATION_NOTE = re.compile(r"\(\s*[\d.]+\+?\s*(?:years?|yrs?|months?|mos?)\s*\)", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[-–—|]\s+|\s+at\s+|\s*,\s*|\s*\|\s*")


@dataclass(frozen=True)
class Job:
    """One position in the experience section.

    Attributes:
        title: Job title ("" when not found).
        organisation: Employer ("" when not found).
        place: Where ("" when not found).
        start: First month "YYYY-MM".
        end: Last month "YYYY-MM".
        months: Length in months.
        current: Still in this job.
        bullets: Achievement lines (bulleted lines, or the description's sentences).
        dates: The date range as written.
    """

    title: str
    organisation: str
    place: str
    start: str
    end: str
    months: int
    current: bool
    bullets: tuple[str, ...]
    dates: str


@dataclass(frozen=True)
class Education:
    """One degree.

    Attributes:
        degree: Degree as written ("Master of Science in Computer Science").
        institution: School ("" when not found).
        year: Graduation year (None when not found).
    """

    degree: str
    institution: str
    year: int | None


def join_broken_ranges(text: str) -> str:
    r"""Join a date range broken over two lines ("2017 –\nPresent") and put a glued word back apart ("PresentProduct")."""
    text = re.sub(rf"({DATE})\s*([-–—])\s*\n\s*", r"\1 \2 ", text, flags=re.IGNORECASE)
    return re.sub(r"\b(Present|Current)(?=[A-Z][a-z])", r"\1 ", text)


def _is_bullet(line: str) -> bool:
    return line.startswith("•")


def _title_like(line: str) -> bool:
    words = line.split()
    ends_sentence = line.rstrip().endswith(".") and not re.search(r"\b(?:Inc|Ltd|Co|Corp|Jr|Sr|LLC)\.$", line.rstrip())
    return bool(line) and not _is_bullet(line) and 1 <= len(words) <= 14 and not ends_sentence


def split_header(header: str) -> tuple[str, str, str]:
    """``(title, organisation, place)`` from a job's heading line ("Senior Engineer - Acme Inc., Austin, TX")."""
    parts = [p.strip() for p in _SEPARATORS.split(header) if p and p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and ORG_TAILS.match(part):
            merged[-1] = f"{merged[-1]}, {part}"  # "ABC Company, Inc."
        else:
            merged.append(part)
    if not merged:
        return "", "", ""
    if len(merged) >= 2 and not TITLE_WORDS.search(merged[0]) and TITLE_WORDS.search(merged[1]):
        merged[0], merged[1] = merged[1], merged[0]  # "Acme Inc. - Senior Engineer"
    title = merged[0]
    organisation = merged[1] if len(merged) > 1 else ""
    place = ", ".join(merged[2:])
    return title, organisation, place


def _sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text) if len(s.split()) >= 3]


def _bullets(lines: list[str]) -> list[str]:
    if not any(_is_bullet(line) for line in lines):
        return _sentences(" ".join(lines))
    items: list[str] = []
    for line in lines:
        if _is_bullet(line):
            items.append(line.lstrip("• ").strip())
        elif items:
            items[-1] = f"{items[-1]} {line}".strip()
        else:
            items.extend(_sentences(line))
    return [i for i in items if i]


def parse_jobs(section: str, today: dt.date | None = None) -> list[Job]:
    """The positions of an experience section: each date range anchors one job.

    The job's heading is the rest of the date's line, else the next line or the line before (whichever reads
    like a title), and its bullets run to the next job's heading.
    """
    text = re.sub(r"[ \t]+•[ \t]+", "\n• ", join_broken_ranges(section))  # bullets reflowed into one line
    lines = [line.strip() for line in text.split("\n")]
    anchors: list[tuple[int, Period, int, str]] = []  # (date line, period, heading line, heading)
    for i, line in enumerate(lines):
        found = find_periods(line, today)
        if not found or _is_bullet(line):
            continue
        period = found[0]
        rest = DURATION_NOTE.sub("", line[: period.span[0]] + " " + line[period.span[1] :])
        rest = rest.strip(" ,|-–—:")
        if len(rest.split()) >= 2:
            anchors.append((i, period, i, rest))
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        previous = lines[i - 1] if i > 0 else ""
        prev_free = i > 0 and (not anchors or (anchors[-1][0] < i - 1 and anchors[-1][2] != i - 1))
        if (
            _title_like(following)
            and not find_periods(following, today)
            and (not prev_free or not _title_like(previous) or re.search(r"[,|]| - | at ", following))
        ):
            anchors.append((i, period, i + 1, following))
        elif prev_free and _title_like(previous):
            anchors.append((i, period, i - 1, previous))
        else:
            anchors.append((i, period, i, ""))
    jobs = []
    for n, (date_line, period, head_line, heading) in enumerate(anchors):
        body_start = max(date_line, head_line) + 1
        body_end = min(anchors[n + 1][0], anchors[n + 1][2]) if n + 1 < len(anchors) else len(lines)
        body = [line for line in lines[body_start:body_end] if line]
        title, organisation, place = split_header(heading)
        jobs.append(
            Job(
                title,
                organisation,
                place,
                period.start,
                period.end,
                period.months,
                period.current,
                tuple(_bullets(body)),
                period.text,
            )
        )
    return jobs


def parse_education(section: str, known_institutions: Iterable[str] = ()) -> list[Education]:
    """Degrees of an education section: a line naming a degree, its school and year on it or the next line."""
    from engines.resume.entities import INSTITUTION  # the institution rule lives with the other entity rules

    lines = [line.strip() for line in join_broken_ranges(section).split("\n") if line.strip()]
    known = tuple(known_institutions)
    entries = []
    for i, line in enumerate(lines):
        if not DEGREE.search(line):
            continue
        nearby = f"{line} {lines[i + 1]}" if i + 1 < len(lines) and not DEGREE.search(lines[i + 1]) else line
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", nearby)]
        school = INSTITUTION.search(nearby)
        institution = school.group(1).strip() if school else ""
        if not institution:
            institution = next((k for k in known if re.search(rf"\b{re.escape(k)}\b", nearby)), "")
        text = RANGE.sub("", line)
        text = re.sub(r"\b(?:19|20)\d{2}\b", "", text).strip(" ,-–|")
        parts = [p.strip() for p in re.split(r"\s+[-–—|]\s+|\s*,\s*", text) if p.strip()]
        degree = next((p for p in parts if DEGREE.search(p)), text)
        if institution and institution in degree:
            degree = degree.replace(institution, "").strip(" ,-–")
        entries.append(Education(degree, institution, max(years) if years else None))
    return entries
