"""Write the resume analyzer's sample files to ``assets/resumes/``: fictional resumes and job descriptions.

Every person, employer, address and number here is invented for the demo (``example.com`` addresses,
555 phone numbers). Four resumes as PDF (a data scientist on two pages, a front-end developer, a product
manager, a junior backend developer whose bullets are deliberately weak), the product manager again as
DOCX, and four job descriptions as text, each with "Requirements" and "Nice to have" sections.

The output is deterministic: no randomness, a fixed PDF creation date and fixed zip timestamps in the DOCX,
so a rerun rewrites identical bytes. Needs ``fpdf2`` and ``python-docx`` (development only: the generated
files are committed and the app never imports fpdf2).

Run: ``python data/make_resume_samples.py``
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "assets" / "resumes"
CREATED = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC)  # fixed, so reruns give identical bytes
ZIP_TIME = (2024, 1, 15, 12, 0, 0)

# Each resume: name, headline, contact line, then (heading, items). An item is a paragraph (str), or a
# position (title line, date line, bullets).
RESUMES: dict[str, dict] = {
    "priya_raman_data_scientist": {
        "name": "Priya Raman",
        "headline": "Senior Data Scientist",
        "contact": "priya.raman@example.com | +1 (555) 201-3344 | Chicago, IL | linkedin.com/in/priya-raman-example",
        "sections": [
            (
                "PROFESSIONAL SUMMARY",
                [
                    "Data scientist with 7 years of experience building machine learning models for retail and "
                    "logistics. Strong in Python, SQL, statistics and experimentation; deploys models to production "
                    "with Docker and AWS and explains them to business stakeholders."
                ],
            ),
            (
                "SKILLS",
                [
                    "Languages: Python, SQL, R",
                    "Machine learning: scikit-learn, XGBoost, PyTorch, time series forecasting, NLP, feature engineering",
                    "Data: Pandas, NumPy, Apache Spark, Airflow, dbt, Snowflake, PostgreSQL",
                    "Deployment: Docker, AWS SageMaker, MLflow, FastAPI, Git, CI/CD",
                    "Methods: A/B testing, causal inference, statistics, data visualization with Tableau",
                ],
            ),
            (
                "WORK EXPERIENCE",
                [
                    (
                        "Senior Data Scientist, Northwind Analytics, Chicago, IL",
                        "Mar 2021 – Present",
                        [
                            "Built a demand forecasting model with XGBoost and Spark for 1,200 stores, cutting stock-outs by 18%",
                            "Designed and analysed 40+ A/B tests of pricing and promotions, adding $3.2M in yearly revenue",
                            "Deployed 6 models to production with Docker, FastAPI and AWS SageMaker, with MLflow tracking",
                            "Mentored 3 junior data scientists and ran a weekly reading group on causal inference",
                            "Automated the feature pipeline in Airflow and dbt, reducing model refresh time from 2 days to 3 hours",
                        ],
                    ),
                    (
                        "Data Scientist, Bluefin Logistics, Chicago, IL",
                        "Jun 2018 – Feb 2021",
                        [
                            "Developed a delivery-time prediction model (gradient boosting) that lowered late deliveries by 12%",
                            "Created a route clustering analysis in Python and SQL that saved 9% of fuel costs across 300 trucks",
                            "Built Tableau dashboards used weekly by 25 operations managers",
                            "Trained an NLP classifier on 80K customer emails, routing 70% of them automatically",
                        ],
                    ),
                    (
                        "Data Analyst, Maple Street Bank, Milwaukee, WI",
                        "Jul 2016 – May 2018",
                        [
                            "Analyzed credit card transactions with SQL and R to flag fraud patterns, recovering $450K in losses",
                            "Automated 15 monthly reports with Python, saving 30 analyst hours a month",
                            "Presented churn findings to the retail leadership team, which funded a retention pilot",
                        ],
                    ),
                ],
            ),
            (
                "PROJECTS",
                [
                    "Open-source forecasting toolkit: maintain a small Python library for hierarchical time series "
                    "forecasting (PyTorch and statsmodels back ends), 900 GitHub stars.",
                    "Hackathon 2022, first place: built a recommendation system for a public library catalogue in 48 hours.",
                ],
            ),
            (
                "EDUCATION",
                [
                    "Master of Science in Statistics, University of Illinois Chicago, 2016",
                    "Bachelor of Science in Mathematics, Purdue University, 2014",
                ],
            ),
            (
                "CERTIFICATIONS",
                [
                    "AWS Certified Machine Learning - Specialty (2022)",
                    "Google Data Analytics Professional Certificate (2019)",
                ],
            ),
            (
                "PUBLICATIONS",
                [
                    "Raman, P. and Ortiz, L. (2021). Forecasting demand under promotions with gradient boosting. "
                    "Proceedings of the Midwest Retail Analytics Workshop.",
                    "Raman, P. (2020). Practical A/B testing for operations teams. Invited talk, Chicago Data Meetup.",
                ],
            ),
            (
                "AWARDS",
                [
                    "Northwind Analytics Impact Award 2023 for the forecasting platform.",
                    "Bluefin Logistics Innovation Prize 2020 for route clustering.",
                ],
            ),
        ],
    },
    "lucas_moreau_frontend": {
        "name": "Lucas Moreau",
        "headline": "Front-End Developer",
        "contact": "lucas.moreau@example.com | 555-310-4477 | Portland, OR | github.com/lucas-moreau-example",
        "sections": [
            (
                "Summary",
                [
                    "Front-end developer with 5 years of experience building fast, accessible web applications in "
                    "React and TypeScript. Cares about design systems, web performance and testing."
                ],
            ),
            (
                "Skills",
                [
                    "JavaScript, TypeScript, React, Next.js, Redux, HTML5, CSS3, Sass, Tailwind CSS, Webpack, Vite, "
                    "Jest, Cypress, Storybook, Figma, Git, accessibility (WCAG), responsive design, GraphQL"
                ],
            ),
            (
                "Experience",
                [
                    (
                        "Front-End Developer | Brightleaf Studio | Portland, OR",
                        "06/2020 - Present",
                        [
                            "Led the rebuild of a booking web app in React and TypeScript, raising conversion by 14%",
                            "Built a design system of 60 components in Storybook, used by 4 product teams",
                            "Improved Lighthouse performance score from 52 to 94 with code splitting and lazy loading",
                            "Wrote 500+ Jest and Cypress tests, cutting front-end bugs reported by users by 35%",
                        ],
                    ),
                    (
                        "Junior Web Developer | Pine & Co. Agency | Seattle, WA",
                        "09/2018 - 05/2020",
                        [
                            "Developed responsive websites for 20+ clients with HTML, Sass and vanilla JavaScript",
                            "Implemented WCAG 2.1 AA fixes across 8 sites, passing every client accessibility audit",
                        ],
                    ),
                ],
            ),
            ("Education", ["Bachelor of Science in Computer Science, Oregon State University, 2018"]),
        ],
    },
    "hannah_okafor_product_manager": {
        "name": "Hannah Okafor",
        "headline": "Senior Product Manager",
        "contact": "hannah.okafor@example.com | (555) 402-9120 | Denver, CO",
        "sections": [
            (
                "SUMMARY",
                [
                    "Product manager with 9 years of experience in B2B SaaS and healthcare. Owns strategy, roadmaps "
                    "and launches end to end; works closely with engineering, design and sales."
                ],
            ),
            (
                "SKILLS",
                [
                    "Product strategy, roadmapping, user research, customer interviews, PRDs and user stories, "
                    "prioritization, A/B testing, product analytics (Amplitude, SQL), go-to-market, pricing, "
                    "stakeholder management, Agile and Scrum, Jira, Figma, communication, leadership"
                ],
            ),
            (
                "EXPERIENCE",
                [
                    (
                        "Senior Product Manager, Cobalt Health, Denver, CO",
                        "2019 – Present",
                        [
                            "Defined the product strategy and roadmap for a patient scheduling platform used by 2,000 clinics",
                            "Launched a self-service onboarding flow that cut time-to-value from 14 to 3 days",
                            "Ran 25 customer interviews per quarter and turned them into PRDs and prioritized backlogs",
                            "Led a cross-functional team of 12 engineers, 2 designers and 1 data analyst",
                            "Set new pricing tiers with sales and finance, growing annual recurring revenue by 22%",
                        ],
                    ),
                    (
                        "Product Manager, Ledgerly, Boulder, CO",
                        "2015 – 2019",
                        [
                            "Owned the invoicing product from beta to general availability with 8,000 paying customers",
                            "Partnered with 3 accounting software vendors on integrations and licensing",
                            "Introduced product analytics in Amplitude and OKRs, raising feature adoption by 30%",
                        ],
                    ),
                ],
            ),
            (
                "EDUCATION",
                [
                    "Master of Business Administration, University of Colorado Boulder, 2015",
                    "Bachelor of Science in Industrial Engineering, Georgia Institute of Technology, 2012",
                ],
            ),
        ],
    },
    "tom_becker_junior_backend": {
        "name": "Tom Becker",
        "headline": "Junior Backend Developer",
        "contact": "tom.becker@example.com | 555.617.2289 | Austin, TX",
        "sections": [
            (
                "SKILLS",
                ["Python, Django, Flask, PostgreSQL, REST APIs, Docker, Git, Linux, unit testing"],
            ),
            (
                "EXPERIENCE",
                [
                    (
                        "Backend Developer - Cactus Apps, Austin, TX",
                        "Jan 2023 - Present",
                        [
                            "Responsible for the REST API of the mobile app",
                            "Worked on database tables in PostgreSQL",
                            "Helped with bugs and code reviews",
                            "Reduced API response time by 40% by adding Redis caching",
                        ],
                    ),
                    (
                        "Software Engineering Intern - Lone Star Software, Austin, TX",
                        "Jun 2022 - Aug 2022",
                        [
                            "Was part of the team that maintained the internal tools",
                            "Involved in writing unit tests with pytest",
                        ],
                    ),
                ],
            ),
            ("EDUCATION", ["Bachelor of Science in Computer Science, Texas State University, 2022"]),
        ],
    },
}

JOBS: dict[str, str] = {
    "job_data_scientist": """Job Description: Data Scientist

Harbor Retail Group, Chicago, IL

About Us
Harbor Retail Group runs 900 grocery stores across the Midwest and uses data in every decision.

Responsibilities
• Build and deploy machine learning models for demand forecasting and pricing.
• Design A/B tests and analyse their results with sound statistics.
• Work with engineers to put models into production and monitor them.
• Explain findings to business stakeholders with clear data visualization.

Requirements
• 4+ years of experience as a data scientist.
• Strong Python and SQL.
• Experience with machine learning libraries such as scikit-learn, XGBoost or PyTorch.
• Solid statistics and experimentation (A/B testing).
• Experience deploying models with Docker on AWS or another cloud.

Nice to have
• Apache Spark and Airflow.
• Time series forecasting.
• A master's degree in statistics, computer science or a related field.

Benefits
• Health insurance, a pension plan and 25 days of holiday.
""",
    "job_front_end_engineer": """Job Description: Front-End Engineer

Lumen Travel, Portland, OR

About Us
Lumen Travel helps two million people a year plan trips with friends.

Responsibilities
• Build new features of our booking web app in React and TypeScript.
• Own the performance and accessibility of our pages.
• Grow our design system together with our designers.
• Write tests for everything you ship.

Requirements
• 3+ years of experience in front-end development.
• Expert JavaScript and TypeScript, HTML5 and CSS3.
• Experience with React (or a similar framework such as Vue or Angular).
• Testing with Jest, Cypress or Playwright.
• Responsive design and accessibility (WCAG).

Nice to have
• Next.js and GraphQL.
• Storybook and a design system you helped build.
• Figma.

Benefits
• Remote-friendly, a yearly travel budget and flexible hours.
""",
    "job_product_manager": """Job Description: Product Manager

Summit Care Software, Denver, CO

About Us
Summit Care Software makes scheduling and billing software for clinics.

Responsibilities
• Own the product strategy and roadmap of our scheduling product.
• Talk to customers every week and turn what you learn into PRDs and user stories.
• Lead a cross-functional team of engineers and designers from discovery to launch.
• Define pricing and go-to-market plans with sales and marketing.

Requirements
• 5+ years of experience in product management, ideally in B2B SaaS.
• Proven record of launching products that customers love.
• Excellent communication and stakeholder management.
• Comfortable with product analytics and SQL.
• Experience with Agile and Scrum teams.

Nice to have
• Healthcare experience.
• An MBA.
• A/B testing.

Benefits
• Health, dental and vision insurance; a learning budget.
""",
    "job_backend_engineer": """Job Description: Backend Engineer

Riverbend Payments, Austin, TX

About Us
Riverbend Payments processes card payments for small businesses.

Responsibilities
• Design and build REST APIs and microservices in Python.
• Own the PostgreSQL schema and the performance of our queries.
• Keep our services reliable with tests, monitoring and CI/CD.

Requirements
• 2+ years of experience as a backend engineer.
• Python with Django or Flask.
• PostgreSQL and REST APIs.
• Docker and Git.
• Unit testing with pytest.

Nice to have
• Redis, Kafka or RabbitMQ.
• AWS and Kubernetes.
• Experience in fintech or payments.

Benefits
• Stock options, health insurance and a home-office budget.
""",
}


def _pdf(resume: dict) -> bytes:
    from fpdf import FPDF  # development-only dependency

    pdf = FPDF(format="Letter")
    pdf.core_fonts_encoding = "windows-1252"  # "–" and "•" in the core Helvetica font
    pdf.set_creation_date(CREATED)
    pdf.set_title(f"{resume['name']} - Resume")
    pdf.set_author(resume["name"])
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(width, 10, resume["name"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(width, 7, resume["headline"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(width, 6, resume["contact"], new_x="LMARGIN", new_y="NEXT")
    for heading, items in resume["sections"]:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(width, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(120, 120, 120)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(1)
        for item in items:
            if isinstance(item, str):
                pdf.set_font("Helvetica", "", 10)
                pdf.multi_cell(width, 5, item, new_x="LMARGIN", new_y="NEXT")
                continue
            title, dates, bullets = item
            pdf.set_font("Helvetica", "B", 10.5)
            pdf.cell(width, 6, title, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "I", 10)
            pdf.cell(width, 5, dates, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)
            for bullet in bullets:
                pdf.set_x(pdf.l_margin + 3)
                pdf.multi_cell(width - 3, 5, f"• {bullet}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    return bytes(pdf.output())


def _docx(resume: dict) -> bytes:
    import docx  # python-docx

    document = docx.Document()
    document.core_properties.author = resume["name"]
    document.core_properties.title = f"{resume['name']} - Resume"
    document.core_properties.created = CREATED.replace(tzinfo=None)
    document.core_properties.modified = CREATED.replace(tzinfo=None)
    document.core_properties.last_modified_by = resume["name"]
    document.core_properties.revision = 1
    document.add_heading(resume["name"], level=0)
    document.add_paragraph(resume["headline"])
    document.add_paragraph(resume["contact"])
    for heading, items in resume["sections"]:
        document.add_heading(heading.title(), level=1)
        for item in items:
            if isinstance(item, str):
                document.add_paragraph(item)
                continue
            title, dates, bullets = item
            document.add_paragraph().add_run(title).bold = True
            document.add_paragraph().add_run(dates).italic = True
            for bullet in bullets:
                document.add_paragraph(bullet, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed (python-docx stamps the current time)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


# ----- layout samples (assets/resumes/layouts/): common public resume layouts, fictional people -------------
# Each reproduces a layout the analyzer must read: the tests check the title, employer, dates and degree of
# every position. Written by hand after the shape of public templates; no real resume's content.

LAYOUT_HEADER = ("Nora Lindqvist", "nora.lindqvist@example.com | (415) · 555 · 0187 | Oakland, CA")
LAYOUT_JOBS = (  # (title, employer, city, dates)
    ("Front End Supervisor", "Brightline Grocers", "Oakland, CA", "06/15 - Now"),
    ("Data Analyst", "Harbor Analytics", "San Jose, CA", "01/12 - 05/15"),
)
LAYOUT_BULLETS = (
    ("Led a team of 12 cashiers and cut checkout wait times by 20%", "Trained 30 new staff on the register system"),
    (
        "Built weekly sales dashboards in SQL and Tableau for 40 stores",
        "Automated a Python report that saved 6 hours a week",
    ),
)
LAYOUT_EDUCATION = ("Bachelor of Science in Statistics, Expected Graduation: May", "Examplia State University", "2011")
LAYOUT_SKILLS = "SQL, Tableau, Python, Excel, Customer service"
LAYOUT_OTHER = (
    "Dean's list, Spring 2017. Native speaker of Spanish. Won a regional case competition.",
    "Member, Examplia State Robotics Club, 2009 - 2011",
)


def _layout_lines(kind: str) -> list[tuple[str, str]]:
    """(style, text) lines of a one-column layout: style "name", "h" (heading), "b" (bold), "i", "•" or ""."""
    name, contact = LAYOUT_HEADER
    lines = [("name", name), ("", contact), ("h", "EXPERIENCE")]
    for (title, employer, city, dates), bullets in zip(LAYOUT_JOBS, LAYOUT_BULLETS, strict=True):
        if kind == "employer_city_dates":  # "Employer, City, ST - dates" over the title
            lines += [("b", f"{employer}, {city} - {dates}"), ("i", title)]
        elif kind == "title_dash_employer":  # "Title - Employer" over "Month Year to Present"
            lines += [("b", f"{title} - {employer}"), ("i", _long_dates(dates))]
        else:  # "indeed": "Title / Employer - City, ST - / Month Year to Present"
            lines += [("b", title), ("", f"{employer} - {city} -"), ("i", _long_dates(dates))]
        lines += [("•", b) for b in bullets]
    degree, school, year = LAYOUT_EDUCATION
    lines += [("h", "EDUCATION"), ("b", degree), ("", f"{school}, {year}")]
    lines += [("h", "SKILLS"), ("", LAYOUT_SKILLS), ("h", "ACTIVITIES"), *(("", t) for t in LAYOUT_OTHER)]
    return lines


def _long_dates(dates: str) -> str:
    """Short dates in words: "06/15 - Now" -> "June 2015 to Present"."""
    months = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")  # fmt: skip

    def one(part: str) -> str:
        if "/" not in part:
            return "Present"
        month, year = part.split("/")
        return f"{months[int(month) - 1]} 20{year}"

    start, end = dates.split(" - ")
    return f"{one(start)} to {one(end)}"


def _layout_pdf(lines: list[tuple[str, str]]) -> bytes:
    from fpdf import FPDF  # development-only dependency

    pdf = FPDF(format="Letter")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(CREATED)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    sizes = {"name": ("B", 18, 9), "h": ("B", 12, 8), "b": ("B", 10.5, 6), "i": ("I", 10, 5)}
    for style, text in lines:
        font, size, height = sizes.get(style, ("", 10, 5))
        pdf.set_font("Helvetica", font, size)
        pdf.multi_cell(width, height, f"• {text}" if style == "•" else text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _layout_docx(lines: list[tuple[str, str]]) -> bytes:
    import docx  # python-docx

    document = docx.Document()
    document.core_properties.created = CREATED.replace(tzinfo=None)
    document.core_properties.modified = CREATED.replace(tzinfo=None)
    document.core_properties.revision = 1
    for style, text in lines:
        if style == "name":
            document.add_heading(text, level=0)
        elif style == "h":
            document.add_heading(text.title(), level=1)
        elif style == "•":
            document.add_paragraph(text, style="List Bullet")
        else:
            run = document.add_paragraph().add_run(text)
            run.bold, run.italic = style == "b", style == "i"
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _two_column_pdf() -> bytes:
    """A sidebar (contact, skills, education) beside the main column (name, experience), as many templates do."""
    from fpdf import FPDF  # development-only dependency

    name, contact = LAYOUT_HEADER
    pdf = FPDF(format="Letter")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(CREATED)
    pdf.set_margins(14, 14, 14)
    pdf.add_page()
    side, gap = 58, 8
    main_x, main_w = pdf.l_margin + side + gap, pdf.w - pdf.r_margin - (pdf.l_margin + side + gap)
    pdf.set_xy(main_x, 14)
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(main_w, 9, name, new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(main_w, 8, "EXPERIENCE", new_x="LEFT", new_y="NEXT")
    for (title, employer, city, dates), bullets in zip(LAYOUT_JOBS, LAYOUT_BULLETS, strict=True):
        pdf.set_font("Helvetica", "B", 10.5)
        pdf.multi_cell(main_w, 6, f"{title} - {employer}", new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "I", 10)
        pdf.multi_cell(main_w, 5, f"{city} | {_long_dates(dates)}", new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for bullet in bullets:
            pdf.multi_cell(main_w, 5, f"• {bullet}", new_x="LEFT", new_y="NEXT")
    degree, school, year = LAYOUT_EDUCATION
    pdf.set_xy(pdf.l_margin, 14)
    for style, text in (
        ("h", "CONTACT"), *(("", part) for part in contact.split(" | ")), ("h", "SKILLS"),
        *(("", s) for s in LAYOUT_SKILLS.split(", ")), ("h", "EDUCATION"), ("b", degree), ("", school), ("", year),
    ):  # fmt: skip
        pdf.set_font("Helvetica", "B" if style else "", 12 if style == "h" else 10)
        pdf.multi_cell(side, 6 if style == "h" else 5, text, new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())


def _table_docx() -> bytes:
    """A Word resume laid out as a two-cell table: the sidebar in the left cell, the main column in the right."""
    import docx  # python-docx

    name, contact = LAYOUT_HEADER
    document = docx.Document()
    document.core_properties.created = CREATED.replace(tzinfo=None)
    document.core_properties.modified = CREATED.replace(tzinfo=None)
    document.core_properties.revision = 1
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.text = "CONTACT"
    for part in contact.split(" | "):
        left.add_paragraph(part)
    left.add_paragraph("SKILLS")
    left.add_paragraph(LAYOUT_SKILLS)
    degree, school, year = LAYOUT_EDUCATION
    for text in ("EDUCATION", degree, f"{school}, {year}"):
        left.add_paragraph(text)
    right.text = name
    right.add_paragraph("EXPERIENCE")
    for (title, employer, city, dates), bullets in zip(LAYOUT_JOBS, LAYOUT_BULLETS, strict=True):
        right.add_paragraph(f"{title}, {employer}, {city}")
        right.add_paragraph(dates)
        for bullet in bullets:
            right.add_paragraph(f"• {bullet}")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def layout_samples() -> dict[str, bytes]:
    """File name -> bytes of every layout sample."""
    return {
        "one_column_indeed.pdf": _layout_pdf(_layout_lines("indeed")),
        "employer_city_dates.pdf": _layout_pdf(_layout_lines("employer_city_dates")),
        "title_dash_employer.docx": _layout_docx(_layout_lines("title_dash_employer")),
        "two_column.pdf": _two_column_pdf(),
        "table_layout.docx": _table_docx(),
        "plain_indeed.txt": "\n".join(
            text if style != "•" else f"• {text}" for style, text in _layout_lines("indeed")
        ).encode("utf-8"),
    }


def main() -> None:
    """Write every sample file and print its size."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "layouts").mkdir(exist_ok=True)
    written: dict[str, bytes] = {}
    for stem, resume in RESUMES.items():
        written[f"{stem}.pdf"] = _pdf(resume)
    written["hannah_okafor_product_manager.docx"] = _docx(RESUMES["hannah_okafor_product_manager"])
    for stem, text in JOBS.items():
        written[f"{stem}.txt"] = text.encode("utf-8")
    for name, data in layout_samples().items():
        written[f"layouts/{name}"] = data
    for name, data in written.items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
