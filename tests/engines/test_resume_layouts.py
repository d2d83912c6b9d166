"""Resume analyzer on common public layouts (issue 28): positions, degrees, skills' false friends, contact.

Every text here is fictional; the layout samples are written by data/make_resume_samples.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engines.resume import ResumeConfig, analyze_resume, analyze_text
from engines.resume.entities import find_name, find_phone
from engines.resume.experience import clean_title, find_periods, parse_education, parse_jobs
from engines.resume.skills import default_matcher, listed_skills

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ROOT / "assets" / "resumes" / "layouts"
TODAY = dt.date(2024, 6, 1)
LOOSE = ResumeConfig(check_language=False, min_words=20)


def jobs_of(section: str) -> list[tuple[str, str, str, str]]:
    return [(j.title, j.organisation, j.place, j.dates) for j in parse_jobs(section, TODAY)]


def test_title_over_employer_dash_over_dates():
    section = (
        "Warehouse Lead\n"
        "Pinecone Logistics - Fresno, CA -\n"
        "March 2019 to Present\n"
        "• Ran the night shift of 14 people\n"
        "Inventory Clerk\n"
        "Pinecone Logistics -\n"
        "May 2016 to February 2019\n"
        "• Counted stock\n"
        "Volunteer Tutor\n"
        "Fresno Reading Circle - Fresno, CA\n"
    )
    assert jobs_of(section) == [
        ("Warehouse Lead", "Pinecone Logistics", "Fresno, CA", "March 2019 to Present"),
        ("Inventory Clerk", "Pinecone Logistics", "", "May 2016 to February 2019"),
        ("Volunteer Tutor", "Fresno Reading Circle", "Fresno, CA", ""),  # no dates: still a position
    ]
    first = parse_jobs(section, TODAY)[0]
    assert first.current and first.bullets == ("Ran the night shift of 14 people",)


def test_title_dash_employer_is_not_an_organisation_line():
    assert jobs_of("Senior Engineer - Acme Labs\nJan 2020 - Present\n• Built things")[0][:2] == (
        "Senior Engineer",
        "Acme Labs",
    )


def test_employer_city_dates_over_title():
    section = "Brightline Grocers, Oakland, CA - 06/15 - Now\nFront End Supervisor\n• Led 12 cashiers\n"
    assert jobs_of(section) == [("Front End Supervisor", "Brightline Grocers", "Oakland, CA", "06/15 - Now")]


def test_title_employer_over_place_and_dates():
    section = "Data Analyst - Harbor Analytics\nSan Jose, CA | January 2012 to May 2015\n• Built dashboards"
    assert jobs_of(section) == [("Data Analyst", "Harbor Analytics", "San Jose, CA", "January 2012 to May 2015")]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (("Working as Sales Consultant ( )", ""), ("Sales Consultant", "")),
        (("Test Engineer @ Orbitware", ""), ("Test Engineer", "Orbitware")),
        (("Harbor Foods as a Shift Supervisor", ""), ("Shift Supervisor", "Harbor Foods")),
        (("Process Associate in Orbitware", "Harbor Foods"), ("Process Associate", "Harbor Foods")),
        (("Software Engineer (Front-End)", "Acme"), ("Software Engineer (Front-End)", "Acme")),
    ],
)
def test_titles_lose_their_wrapping(raw, expected):
    assert clean_title(*raw) == expected


def test_short_month_year_ranges_and_now():
    (period,) = find_periods("06/15 - Now", TODAY)
    assert (period.start, period.end, period.current) == ("2015-06", "2024-06", True)
    (period,) = find_periods("01/12 - 05/15", TODAY)
    assert (period.start, period.end, period.months) == ("2012-01", "2015-05", 41)
    assert find_periods("Scored 3/12 on the quiz", TODAY) == []


def test_memberships_are_not_jobs_but_team_members_are():
    section = (
        "Member, Examplia Robotics Club, 2009 - 2011\n"
        "Treasurer, Chess Club | 2010 - 2011\n"
        "Member, IEEE Student Chapter - 2010 - 2011\n"
        "Team Member\nHarbor Foods -\nJune 2012 to May 2013\n"
        "Member of Technical Staff\nOrbitware -\nJune 2013 to Present\n"
    )
    assert [j[0] for j in jobs_of(section)] == ["Team Member", "Member of Technical Staff"]


def test_degree_without_expected_graduation_note():
    (entry,) = parse_education("Bachelor of Science in Statistics, Expected Graduation: May\nExamplia State University")
    assert (entry.degree, entry.institution) == ("Bachelor of Science in Statistics", "Examplia State University")
    (entry,) = parse_education("B.A. in History (Expected May 2026)\nLakeside College")
    assert (entry.degree, entry.institution, entry.year) == ("B.A. in History", "Lakeside College", 2026)


def test_degree_over_school_dash_place_over_years():
    section = (
        "MCA in Computer Applications\nRiverbend Institute of Technology - Pune, Maharashtra\n2012 to 2015\n"
        "HSC\nExamplia State Board\nMarch 2009\n"
    )
    entries = [(e.degree, e.institution, e.year) for e in parse_education(section)]
    assert entries == [
        ("MCA in Computer Applications", "Riverbend Institute of Technology", 2015),
        ("HSC", "Examplia State Board", 2009),
    ]


def test_school_listed_without_a_degree_but_not_an_exam_board():
    section = (
        "Examplia High School - Fresno, CA\n2010\nCBSE\nState Board\n2008\nB.Sc in Physics\nLakeside College\n2014"
    )
    entries = [(e.degree, e.institution, e.year) for e in parse_education(section)]
    assert entries == [("", "Examplia High School", 2010), ("B.Sc in Physics", "Lakeside College", 2014)]


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("Dean's list, Spring 2017 and Fall 2018", "Spring"),
        ("Front End Supervisor at a grocery store", "Front-end development"),
        ("Won a regional case competition", "Market research"),
        ("Portfolio: http://example.com and https://example.org", "Networking"),
        ("Native speaker of Spanish", "Public speaking"),
    ],
)
def test_everyday_words_are_not_skills(text, wrong):
    assert wrong not in default_matcher().names(text)


def test_the_skills_behind_those_words_are_still_found():
    names = default_matcher().names("Java, Spring, Hibernate. Built the front end in React. Competitive analysis.")
    assert {"Spring", "Front-end development", "Market research", "React"} <= names
    assert "Networking" in default_matcher().names("Networking: TCP/IP, DNS")


def test_phone_with_middle_dots():
    assert find_phone("Oakland, CA | (415) · 555 · 0187 | me@example.com") == "(415) · 555 · 0187"
    assert find_phone("Worked 2017 - 2020 2021 on it") == ""


def test_lower_case_name_on_the_first_line_only():
    assert find_name("jordan vega\nData Analyst") == "jordan vega"
    assert find_name("Oakland, CA\njordan vega") == ""


def test_listed_skills_as_written():
    section = (
        "Azure (8 years), Web API (6 years), C# (9 years), Automation Testing (5 years), Technical\n"
        "Architect (5 years)\n"
        "• Languages: C, C++, Java\n"
        "• Good understanding of many data structures and algorithms in practice\n"
    )
    assert listed_skills(section) == [
        "Azure",
        "Web API",
        "C#",
        "Automation Testing",
        "Technical Architect",
        "C",
        "C++",
        "Java",
    ]


def test_profile_exposes_listed_skills():
    text = "Kai Example\nkai@example.com\nSKILLS\nForklift operation, Inventory control, Excel\n" + "word " * 30
    assert analyze_text(text, config=LOOSE, today=TODAY).listed_skills[:2] == (
        "Forklift operation",
        "Inventory control",
    )


EXPECTED_JOBS = [
    ("Front End Supervisor", "Brightline Grocers", "2015-06", True),
    ("Data Analyst", "Harbor Analytics", "2012-01", False),
]


@pytest.mark.parametrize("name", sorted(p.name for p in LAYOUTS.iterdir()) if LAYOUTS.is_dir() else [])
def test_layout_samples(name):
    profile = analyze_resume((LAYOUTS / name).read_bytes(), name, config=LOOSE, today=TODAY)
    assert profile.contact.name == "Nora Lindqvist"
    assert profile.contact.phone == "(415) · 555 · 0187"
    assert [(j.title, j.organisation, j.start, j.current) for j in profile.jobs] == EXPECTED_JOBS
    (entry,) = profile.education
    assert (entry.degree, entry.institution, entry.year) == (
        "Bachelor of Science in Statistics",
        "Examplia State University",
        2011,
    )
    names = {s.name for s in profile.skills}
    assert {"SQL", "Python", "Excel"} <= names
    assert not names & {"Spring", "Front-end development", "Market research", "Public speaking", "Networking"}


def test_every_layout_is_there():
    assert {p.name for p in LAYOUTS.iterdir()} == {
        "one_column_indeed.pdf",
        "plain_indeed.txt",
        "employer_city_dates.pdf",
        "title_dash_employer.docx",
        "two_column.pdf",
        "table_layout.docx",
    }
