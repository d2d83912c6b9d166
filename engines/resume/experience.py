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
# "06/15" (month/two-digit year) only counts inside a range ("06/15 - Now"): alone it may be a day or a fraction.
SHORT_DATE = r"(?:0?[1-9]|1[0-2])/\d{2}(?!\d)"
_RANGE_DATE = rf"(?:{DATE}|{SHORT_DATE})"
RANGE = re.compile(
    rf"(?<![\w/.-])(?P<start>{_RANGE_DATE})\s*(?:[-–—−]+|\bto\b|\buntil\b|\btill\b)\s*(?P<end>{_RANGE_DATE}|{'|'.join(NOW_WORDS)})(?![\w/])",
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
    m = re.fullmatch(r"(\d{1,2})/(\d{2})", t)  # "06/15": June 2015 (two-digit years are 20xx up to 49)
    if m and 1 <= int(m.group(1)) <= 12:
        year = int(m.group(2))
        return (2000 + year if year < 50 else 1900 + year), int(m.group(1))
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
    r"programmer|owner|founder|technician|strategist|writer|editor|teacher|professor|nurse|accountant|supervisor|"
    r"executive|trainer|trainee|tester|representative|agent|clerk|cashier|operator|lecturer|tutor|instructor|"
    r"advis[eo]r|auditor|attorney|lawyer|chef|driver|planner|buyer|recruiter|receptionist|secretary|foreman|"
    r"mechanic|pharmacist|therapist|physician|apprentice|fellow|worker|staff|member)s?\b",
    re.IGNORECASE,
)
ORG_TAILS = re.compile(r"^(?:inc\.?|ltd\.?|llc|llp|gmbh|corp\.?|co\.)$", re.IGNORECASE)
DEGREE = re.compile(
    r"\b(Bachelor(?:'s)?|Master(?:'s)?|B\.?\s?Sc\.?|M\.?\s?Sc\.?|B\.?\s?Tech|M\.?\s?Tech|B\.?A\.|B\.?S\.|M\.?S\.|"
    r"BSc|MSc|(?<!, )BA|(?<!, )BS|(?<!, )MS|MBA|PhD|Ph\.D\.?|Doctor(?:ate)?|Associate(?:'s)? (?:of|Degree)|Diploma|B\.?E\.|M\.?Eng|"
    r"B\.?E(?=\s+in\b|\s*$)|M\.?E(?=\s+in\b)|M\.?C\.?A|B\.?C\.?A|B\.?\s?Com|M\.?\s?Com|B\.?B\.?A|PGD\w*|P\.?G\.?\s?Diploma|"
    r"H\.?S\.?C|S\.?S\.?C|Intermediate|Matriculation|(?:10|12)th|Higher Secondary|Secondary School Certificate)(?!\w)"
)
# "Expected Graduation: May 2025", "(Expected May)", "Graduated: 2019": notes, not part of the degree.
GRADUATION_NOTE = re.compile(
    rf"[\s,;(–—-]*\b(?:expected|anticipated|graduat(?:ed|ion|ing))\b(?:\s+(?:graduation|date|in|on))?\s*:?\s*(?:{_MONTH_NAME})?[\s,]*(?:(?:19|20)\d{{2}})?\)?",
    re.IGNORECASE,
)
EXAM_BOARD = re.compile(r"\b(?:board|council|CBSE|ICSE)\b", re.IGNORECASE)
URL_LINE = re.compile(r"(?:https?://|www\.)\S+")  # a page's footer link between two entries
SCHOOL_WORDS = re.compile(
    r"\b(?:University|College|Institute|School|Academy|Polytechnic|Board|Vidyalaya|Vidyapeeth|Council|IIT|NIT|CBSE|ICSE)\b",
    re.IGNORECASE,
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
        start: First month "YYYY-MM" ("" for a position without dates).
        end: Last month "YYYY-MM" ("" without dates).
        months: Length in months (0 without dates).
        current: Still in this job.
        bullets: Achievement lines (bulleted lines, or the description's sentences).
        dates: The date range as written ("" without dates).
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
        degree: Degree as written ("Master of Science in Computer Science"; "" for a school listed alone).
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


# "Employer -", "Employer - City, State -" or "Employer - City, State": the organisation line of a common
# exported layout (Indeed's), between the title line above and the dates below. Without the trailing dash
# the part after the dash must read as a place ("City, Region" or a known city), so that a "Title - Employer"
# line is not one.
ORG_LINE = re.compile(r"(?P<org>[^•\s][^•]*?)\s+[-–](?:\s+(?P<place>[^\s•-][^•]*?))?(?P<dash>\s+[-–])?")
PLACE_LIKE = re.compile(r"[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)*, [A-Z][\w.'-]*(?: [A-Z][\w.'-]*)*")
MAX_ORG_WORDS = 10  # a longer "... -" line is a sentence
MAX_PLACE_WORDS = 6
MAX_TITLE_WORDS = 8  # a job title over an organisation line
MAX_DATE_LINE_EXTRA = 3  # words beside the range on a line that holds only the dates
# Campus and professional memberships are not positions ("Robotics Club", "Member, IEEE Student Chapter"), while
# "Team Member" and "Member of Technical Staff" are.
MEMBERSHIP = re.compile(
    r"\b(?:club|fraternity|sorority|student (?:chapter|society|association|council|union|government)|honou?r society)\b",
    re.IGNORECASE,
)
MEMBER_OF_BODY = re.compile(r"^(?:active |general |student )?members?\b(?!\s+of\s+(?:the\s+)?technical)", re.IGNORECASE)
BODY_WORDS = re.compile(r"\b(?:society|association|chapter|institute|committee|council|league)\b", re.IGNORECASE)


def is_membership(title: str, organisation: str) -> bool:
    """A club or society membership rather than a job."""
    both = f"{title} {organisation}"
    return bool(MEMBERSHIP.search(both)) or bool(MEMBER_OF_BODY.search(title) and BODY_WORDS.search(both))


def org_line(line: str) -> tuple[str, str] | None:
    """``(organisation, place)`` of an "Employer - City, State -" line, else None."""
    m = ORG_LINE.fullmatch(line.strip())
    if m is None or RANGE.search(line):
        return None
    org, place = m.group("org").strip(" ,"), (m.group("place") or "").strip(" ,-–")
    if not org or len(org.split()) > MAX_ORG_WORDS or len(place.split()) > MAX_PLACE_WORDS:
        return None
    if place and m.group("dash") is None and not _place_like(place):
        return None  # "Senior Engineer - Acme": a title and an employer
    return org, place


def _place_like(text: str) -> bool:
    from engines.resume.entities import CITIES, COUNTRIES, US_STATES  # the gazetteers live with the entity rules

    if PLACE_LIKE.fullmatch(text) and not TITLE_WORDS.search(text):
        return True
    return text in CITIES or text in COUNTRIES or text in US_STATES.values()


def _neighbour(lines: list[str], i: int, step: int) -> int | None:
    """Index of the nearest non-empty line before (step -1) or after (step 1) line ``i``."""
    j = i + step
    while 0 <= j < len(lines):
        if lines[j]:
            return j
        j += step
    return None


def _date_only(line: str, today: dt.date | None) -> Period | None:
    """The range of a line that holds little besides it ("June 2011 to Present (7 years)")."""
    found = find_periods(line, today)
    if not found:
        return None
    rest = DURATION_NOTE.sub("", line[: found[0].span[0]] + " " + line[found[0].span[1] :])
    return found[0] if len(rest.strip(" ,|-–—:()").split()) <= MAX_DATE_LINE_EXTRA else None


def _org_blocks(lines: list[str], today: dt.date | None) -> list[tuple[int, int, int | None, str, str, str]]:
    """Positions laid out "Title / Employer -  City, State - / dates": (first line, last line, date line, title, org, place)."""
    blocks = []
    for i, line in enumerate(lines):
        found = None if _is_bullet(line) or not line else org_line(line)
        j = _neighbour(lines, i, -1)
        if found is None or j is None:
            continue
        title = lines[j]
        if (
            not _title_like(title)
            or len(title.split()) > MAX_TITLE_WORDS
            or find_periods(title, today)
            or org_line(title)
            or (blocks and blocks[-1][1] >= j)
        ):
            continue
        k = _neighbour(lines, i, 1)
        date_line = k if k is not None and _date_only(lines[k], today) else None
        title = re.split(r"\s+at\s+", title.strip(), maxsplit=1)[0]  # "Technical Lead at Acme Ltd." over "Client -"
        blocks.append((j, date_line if date_line is not None else i, date_line, title, *found))
    return blocks


def _split_employer_first(rest: str, following: str, today: dt.date | None) -> tuple[str, str, str] | None:
    """Read "Employer, City, ST - dates" over a title line as (title, organisation, place), else None."""
    if TITLE_WORDS.search(rest) or not TITLE_WORDS.search(following) or not _title_like(following):
        return None
    if find_periods(following, today) or len(following.split()) > MAX_TITLE_WORDS:
        return None
    parts = [p.strip() for p in re.split(r"\s*,\s*|\s+[-–—|]\s+|\s*\|\s*", rest) if p.strip()]
    return following.strip(), parts[0], ", ".join(parts[1:])


def clean_title(title: str, organisation: str) -> tuple[str, str]:
    """A title without its wrapping: "Working as Sales Consultant ( )" -> "Sales Consultant".

    "Test Engineer @ Acme" and "Acme as a Test Engineer" also give the employer when none was found.
    """
    title = re.sub(r"\s*\(\s*\)|\s*\([^)]*$", "", title).strip(" -–—:,")  # empty or unclosed brackets
    title = re.sub(
        r"^(?:job profile\W*\d*\W*)?(?:have\s+(?:been\s+)?)?(?:worked|working|work)\s+as\s+(?:an?\s+)?",
        "",
        title,
        flags=re.IGNORECASE,
    )
    m = re.fullmatch(r"(?P<org>.+?)\s+as\s+(?:an?\s+)?(?P<title>.+)", title, flags=re.IGNORECASE)
    if m and TITLE_WORDS.search(m.group("title")) and not TITLE_WORDS.search(m.group("org")):
        return m.group("title"), organisation or m.group("org")
    m = re.fullmatch(r"(?P<title>.+?)\s*(?:@|\s+in\s+|\s+at\s+)\s*(?P<org>[A-Z].+)", title)
    if m and TITLE_WORDS.search(m.group("title")):
        return m.group("title").strip(" -–—,"), organisation or m.group("org")
    return title, organisation


def parse_jobs(section: str, today: dt.date | None = None) -> list[Job]:
    """The positions of an experience section.

    A position is either a "Title / Employer -  City, State - / dates" block (dates optional), or a date
    range with its heading: the rest of the date's line, else the next line or the line before (whichever
    reads like a title). "Employer, City, ST - dates" over a title line reads the title from the next line.
    Its bullets run to the next position. Memberships ("Member, Robotics Club") are left out.
    """
    text = re.sub(r"[ \t]+•[ \t]+", "\n• ", join_broken_ranges(section))  # bullets reflowed into one line
    lines = ["" if URL_LINE.fullmatch(line.strip()) else line.strip() for line in text.split("\n")]
    entries: list[tuple[int, int, Period | None, str, str, str]] = []  # (first, last, period, title, org, place)
    taken: set[int] = set()
    for first, last, date_line, title, org, place in _org_blocks(lines, today):
        period = _date_only(lines[date_line], today) if date_line is not None else None
        entries.append((first, last, period, title, org, place))
        taken.update(range(first, last + 1))
    anchors: list[tuple[int, Period, int, str]] = []  # (date line, period, heading line, heading)
    for i, line in enumerate(lines):
        found = find_periods(line, today)
        if not found or _is_bullet(line) or i in taken:
            continue
        period = found[0]
        rest = DURATION_NOTE.sub("", line[: period.span[0]] + " " + line[period.span[1] :])
        rest = rest.strip(" ,|-–—:")
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if len(rest.split()) >= 2 and i > 0 and i - 1 not in taken and _place_like(rest) and _title_like(lines[i - 1]):
            title, organisation, _ = split_header(lines[i - 1])  # "Title - Employer" over "City, ST | dates"
            entries.append((i - 1, i, period, title, organisation, rest))
            taken.update((i - 1, i))
            continue
        if len(rest.split()) >= 2:
            flipped = _split_employer_first(rest, following, today)
            if flipped is not None and i + 1 not in taken:
                entries.append((i, i + 1, period, *flipped))
                taken.update((i, i + 1))
            else:
                anchors.append((i, period, i, rest))
            continue
        previous = lines[i - 1] if i > 0 else ""
        prev_free = (
            i > 0 and i - 1 not in taken and (not anchors or (anchors[-1][0] < i - 1 and anchors[-1][2] != i - 1))
        )
        if (
            _title_like(following)
            and i + 1 not in taken
            and not find_periods(following, today)
            and (not prev_free or not _title_like(previous) or re.search(r"[,|]| - | at ", following))
        ):
            anchors.append((i, period, i + 1, following))
        elif prev_free and _title_like(previous):
            anchors.append((i, period, i - 1, previous))
        else:
            anchors.append((i, period, i, ""))
    for date_line, period, head_line, heading in anchors:
        as_org = org_line(heading) if head_line != date_line else None  # "Employer -" over the dates: no title
        parts = ("", *as_org) if as_org else split_header(heading)
        entries.append((min(date_line, head_line), max(date_line, head_line), period, *parts))
    entries.sort(key=lambda e: e[0])
    jobs = []
    for n, (_first, last, period, title, organisation, place) in enumerate(entries):
        if is_membership(title, organisation):
            continue
        title, organisation = clean_title(title, organisation)
        body_end = entries[n + 1][0] if n + 1 < len(entries) else len(lines)
        body = [line for line in lines[last + 1 : body_end] if line]
        jobs.append(
            Job(
                title,
                organisation,
                place,
                period.start if period else "",
                period.end if period else "",
                period.months if period else 0,
                period.current if period else False,
                tuple(_bullets(body)),
                period.text if period else "",
            )
        )
    return jobs


def _clean_degree(text: str) -> str:
    """A degree line without its dates, graduation notes and trailing separators."""
    text = GRADUATION_NOTE.sub(" ", RANGE.sub(" ", text))
    text = re.sub(r"\b(?:19|20)\d{2}\b", " ", text)
    return " ".join(text.split()).strip(" ,-–|:;(")


def _clean_school(text: str) -> str:
    """A school line without dates, and without the place after the last part that names a school."""
    parts = [p.strip() for p in _clean_degree(text).split(",") if p.strip()]
    named = [n for n, p in enumerate(parts) if SCHOOL_WORDS.search(p)]
    return ", ".join(parts[: named[-1] + 1] if named else parts)


def _education_blocks(lines: list[str]) -> tuple[list[tuple[int, Education]], set[int]]:
    """Degrees laid out "Degree / School - City, State / years" (the school line with a dash, or naming a school)."""
    out: list[tuple[int, Education]] = []
    taken: set[int] = set()
    for i, line in enumerate(lines):
        found = org_line(line)
        after_degree = i > 0 and DEGREE.search(lines[i - 1]) and len(line.split()) <= MAX_TITLE_WORDS
        school_like = SCHOOL_WORDS.search(line) or (after_degree and not find_periods(line) and not _is_bullet(line))
        school = found[0] if found else (line if i > 0 and school_like and not DEGREE.search(line) else "")
        if school and not found and not re.search(r"[A-Za-z]{2}", _clean_degree(school)):
            continue  # a line of dates or grades
        if not school or i == 0 or i - 1 in taken or _is_bullet(line):
            continue
        degree_line = lines[i - 1]
        if org_line(degree_line) or find_periods(degree_line) or len(degree_line.split()) > MAX_ORG_WORDS + 2:
            continue
        if not found and not DEGREE.search(degree_line):
            continue  # a school line without a dash needs a degree above it
        if SCHOOL_WORDS.search(degree_line) and not DEGREE.search(degree_line):
            continue  # two school lines
        first = i - 1
        if first > 0 and re.search(r"\b(?:in|of|and|&)$", lines[first - 1]) and first - 1 not in taken:
            first -= 1  # "Bachelor of Technology in / Information Technology"
            degree_line = f"{lines[first]} {degree_line}"
        nearby = " ".join(lines[i : i + 2])
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", f"{degree_line} {nearby}")]
        out.append((first, Education(_clean_degree(degree_line), _clean_school(school), max(years) if years else None)))
        taken.update(range(first, i + 1))
    return out, taken


def parse_education(section: str, known_institutions: Iterable[str] = ()) -> list[Education]:
    """Degrees of an education section.

    A "Degree / School - City, State / years" block gives both; otherwise a line naming a degree, with its
    school and year on it or the next line. Dates and "Expected Graduation: May" notes are not part of the degree.
    """
    from engines.resume.entities import INSTITUTION  # the institution rule lives with the other entity rules

    lines: list[str] = []
    for line in join_broken_ranges(section).split("\n"):
        line = line.strip()
        if not line or URL_LINE.fullmatch(line):
            continue
        if lines and GRADUATION_NOTE.search(line) and not _clean_degree(line):  # "Expected Graduation: May 2025"
            lines[-1] = f"{lines[-1]} {' '.join(re.findall(r'(?:19|20)[0-9]{2}', line))}".strip()
            continue
        lines.append(line)
    known = tuple(known_institutions)
    entries, taken = _education_blocks(lines)
    for i, line in enumerate(lines):
        if i in taken or not DEGREE.search(line):
            continue
        nearby = f"{line} {lines[i + 1]}" if i + 1 < len(lines) and not DEGREE.search(lines[i + 1]) else line
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", nearby)]
        school = INSTITUTION.search(nearby)
        institution = school.group(1).strip() if school else ""
        if not institution:
            institution = next((k for k in known if re.search(rf"\b{re.escape(k)}\b", nearby)), "")
        text = _clean_degree(line)
        parts = [p.strip() for p in re.split(r"\s+[-–—|]\s+|\s*,\s*", text) if p.strip()]
        degree = next((p for p in parts if DEGREE.search(p)), text)
        if institution and institution in degree:
            degree = degree.replace(institution, "").strip(" ,-–")
        entries.append((i, Education(degree, institution, max(years) if years else None)))
        taken.add(i)
    for i, line in enumerate(lines):  # a school without a degree ("Examplia High School - Fresno, CA / 2010")
        found = org_line(line)
        school = found[0] if found else line
        if i in taken or _is_bullet(line) or not SCHOOL_WORDS.search(school) or len(school.split()) > MAX_ORG_WORDS:
            continue
        if EXAM_BOARD.search(school):  # "CBSE", "State Board": an exam board, not a school
            continue
        if find_periods(line) or (i > 0 and i - 1 not in taken and DEGREE.search(lines[i - 1])):
            continue
        nearby = " ".join(lines[i : i + 2])
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", nearby)]
        entries.append((i, Education("", _clean_school(school), max(years) if years else None)))
    return [e for _, e in sorted(entries, key=lambda item: item[0])]
