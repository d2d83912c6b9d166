"""Write data/news_sample.jsonl: short fictional news articles for the offline news aggregator.

Every article is made up by this script from templates (fictional companies, people, teams
and places; links under example.org, a domain reserved for documentation). The set spans
the five BBC News categories (business, entertainment, politics, sport, tech) plus two extra
topics (science, health) for the invented-topic feature, and several stories are told by two
or three fictional outlets in different words, so near-duplicate grouping has work to do.
Dates are relative to a fixed reference time; the engine shifts them to "now" when asked.

Run: ``python data/make_news_sample.py`` (seeded: the same file every time).
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 13
OUT = Path(__file__).parent / "news_sample.jsonl"
REFERENCE = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # samples.REFERENCE_TIME must match
OUTLETS = [
    "The Harbour Gazette",
    "Northgate Post",
    "Riverside Times",
    "The Daily Ledger",
    "Meadowbank Courier",
    "Lantern Wire",
]
PER_TEMPLATE = 3  # articles made from each template (different fillers)

FILL = {
    "company": ["Brightwater Foods", "Kestrel Motors", "Halden Bank", "Orchid Telecom", "Pinecrest Retail",
                "Corvane Energy", "Tallis Airways", "Marlow Steel", "Juniper Insurance", "Falkner Pharma"],
    "ceo": ["Ruth Okafor", "Daniel Szabo", "Priya Menon", "Tomas Lind", "Helen Ashby", "Marcus Reyes"],
    "pct": ["3", "4.5", "7", "12", "18", "21"],
    "money": ["£40m", "£120m", "$2.1bn", "£650m", "$310m", "€90m"],
    "quarter": ["first", "second", "third", "fourth"],
    "actor": ["Elena Varga", "Tobias Crane", "Maya Lindqvist", "Oliver Nkemelu", "Sofia Marchetti", "Jonah Pike"],
    "film": ["The Glass Orchard", "Midnight at Carrow Pier", "Salt and Cinder", "The Last Cartographer",
             "Paper Lanterns", "A Winter in Vell"],
    "band": ["The Hollow Pines", "Static Meridian", "Velvet Harbour", "Northern Lights Parade", "Copper Fox"],
    "festival": ["Eastbrook Film Festival", "Harbourside Music Week", "Larkfield Arts Festival"],
    "politician": ["Margaret Hale", "Samuel Idris", "Fiona Carr", "Anthony Blake-Moore", "Leila Rahman"],
    "party": ["the Progress Party", "the Civic Alliance", "the Unity Group", "the Reform League"],
    "policy": ["housing", "childcare", "rail investment", "social care", "border checks", "energy bills"],
    "team": ["Ashford Rovers", "Kingsbridge United", "Marsh Lane Athletic", "Portwell City", "Redhill Albion",
             "Stonebridge Town"],
    "player": ["Luca Benedetti", "Aaron McBride", "Kofi Mensah", "Ryan Holloway", "Dmitri Volkov", "Sam Ortega"],
    "athlete": ["Grace Adeyemi", "Nina Kowalski", "Hannah Brooks", "Isla Fraser"],
    "score": ["2-1", "3-0", "1-1", "4-2", "0-2"],
    "device": ["smartphone", "laptop", "smartwatch", "games console", "tablet"],
    "firm": ["Nimbus Labs", "Quillsoft", "Arclight Systems", "Voxel Forge", "Cobalt Networks", "Hexa Digital"],
    "software": ["operating system", "browser", "messaging app", "search engine", "video service"],
    "scientist": ["Dr Amara Osei", "Prof Lena Hartmann", "Dr Kenji Watanabe", "Dr Carla Duarte"],
    "planet": ["Mars", "Jupiter's moon Europa", "the asteroid Bennu", "Saturn's moon Titan"],
    "disease": ["type 2 diabetes", "heart disease", "asthma", "migraine"],
    "town": ["Eastbrook", "Larkfield", "Carrow", "Vell", "Harwick", "Mossley"],
}  # fmt: skip

TEMPLATES: dict[str, list[tuple[str, list[str]]]] = {
    "business": [
        (
            "{company} profits rise {pct}% as sales recover",
            [
                "{company} has reported a {pct}% rise in profits for the {quarter} quarter, helped by stronger sales.",
                "Chief executive {ceo} said demand had recovered faster than expected and the firm would raise its dividend.",
                "Shares in the company rose in early trading as investors welcomed the results.",
                "Analysts said the figures beat market forecasts but warned that costs remain high.",
            ],
        ),
        (
            "{company} agrees {money} takeover deal",
            [
                "{company} has agreed a {money} takeover by a rival group, ending months of talks.",
                "The deal, which needs approval from shareholders and regulators, values each share at a premium of {pct}%.",
                "{ceo}, who will leave the board once the sale completes, said the offer was fair to investors.",
                "Unions said they would seek guarantees on jobs at the firm's factories.",
            ],
        ),
        (
            "Bank of {town} holds rates as inflation eases to {pct}%",
            [
                "The Bank of {town} has held interest rates after inflation eased to {pct}% last month.",
                "Economists had expected the decision, although two members of the committee voted for a cut.",
                "Mortgage lenders said borrowing costs were likely to fall later in the year.",
                "Business groups urged the bank to act sooner to support growth and investment.",
            ],
        ),
        (
            "{company} to cut jobs as costs climb",
            [
                "{company} plans to cut hundreds of jobs as rising energy and wage costs squeeze its margins.",
                "The firm said it would save {money} a year and close two sites in {town}.",
                "{ceo} said the decision was painful but necessary to protect the rest of the business.",
                "Its shares fell {pct}% on the news and unions called the cuts short-sighted.",
            ],
        ),
        (
            "{company} hit as retail sales fall {pct}% in wet winter",
            [
                "Retail sales fell {pct}% last month, {company} and other chains said, as shoppers stayed at home.",
                "Clothing and furniture stores were hit hardest, while online sales and supermarkets held up.",
                "{company} said footfall at its high street stores was well below last year.",
                "Economists said consumer spending would recover slowly as wages rise faster than prices.",
            ],
        ),
    ],
    "entertainment": [
        (
            "{actor} to star in film adaptation of {film}",
            [
                "{actor} has been cast in the lead role of a film adaptation of the novel {film}.",
                "Filming will begin in {town} in the spring, with a cinema release planned for next year.",
                "The director said {actor} was the first choice for the part and brought warmth to the character.",
                "Fans of the book welcomed the casting on social media.",
            ],
        ),
        (
            "{film} wins top prize at {festival}",
            [
                "The drama {film} has won the top prize at the {festival}, beating a strong field of debut films.",
                "Its star {actor} was also named best actor by the jury on the closing night.",
                "Critics praised the film's script, its photography and its quiet, moving ending.",
                "The film will open in cinemas and on streaming services next month.",
            ],
        ),
        (
            "{band} announce reunion tour and new album",
            [
                "{band} have announced a reunion tour, their first concerts together in ten years.",
                "The band will also release a new album in the summer, recorded in a studio in {town}.",
                "Tickets for the twelve shows went on sale on Friday and sold out within hours.",
                "The singer said the group had missed playing live and wanted to thank loyal fans.",
            ],
        ),
        (
            "Box office: {film} tops the charts",
            [
                "{film} has topped the box office chart in its opening weekend, taking {money} worldwide.",
                "The thriller, starring {actor}, beat the latest superhero sequel into second place.",
                "Cinema owners said audiences had returned in strong numbers for the film.",
                "The studio is already planning a sequel with the same director and cast.",
            ],
        ),
        (
            "{actor} joins cast of long-running TV drama",
            [
                "{actor} is to join the cast of the long-running television drama set in {town}.",
                "The actor will play a detective who returns to the town after twenty years away.",
                "Producers said the new series would be the darkest yet, with episodes filmed on location.",
                "The show's writers promised viewers surprises for the favourite characters.",
            ],
        ),
    ],
    "politics": [
        (
            "{politician} unveils plan on {policy}",
            [
                "{politician} of {party} has unveiled a plan to reform {policy}, promising a vote in parliament this year.",
                "The minister told MPs the changes would cost {money} and be paid for by savings elsewhere.",
                "Opposition politicians said the plan was vague and the money would not be enough.",
                "Campaigners welcomed the announcement but urged the government to act faster.",
            ],
        ),
        (
            "{party} wins by-election in {town}",
            [
                "{party} has won the by-election in {town}, overturning a large majority.",
                "The new MP said voters had sent a clear message to the government about {policy}.",
                "Turnout was low at {pct}%, and the party leader {politician} called the result historic.",
                "The government said by-elections were often difficult for parties in power.",
            ],
        ),
        (
            "MPs back {politician}'s {policy} bill after heated debate",
            [
                "MPs have backed {politician}'s {policy} bill after a heated debate in the Commons.",
                "Several members of {party} rebelled, but the bill passed its second reading.",
                "{politician} said the law would make a real difference to families across the country.",
                "The bill will now go to committee, where amendments are expected from all parties.",
            ],
        ),
        (
            "{politician} resigns from cabinet over {policy}",
            [
                "{politician} has resigned from the cabinet in protest at the government's approach to {policy}.",
                "In a letter to the prime minister, the minister said the policy broke an election promise.",
                "Allies said the resignation was a serious blow to the leadership of {party}.",
                "A government spokesperson thanked the minister for their service.",
            ],
        ),
        (
            "Election campaign: {politician} clashes with rivals over {policy}",
            [
                "{politician} and rival leaders have clashed over {policy} on the first day of the election campaign.",
                "{politician} of {party} accused rivals of making promises they could not pay for.",
                "Opinion polls suggest the race is close, with many voters still undecided.",
                "Leaders will face each other in a televised debate next week.",
            ],
        ),
    ],
    "sport": [
        (
            "{team} beat {team2} {score} in derby",
            [
                "{team} beat {team2} {score} in a tense derby on Saturday, with {player} scoring the winner.",
                "The home side dominated the first half and went ahead from a corner before the break.",
                "The manager praised the fans and said the win would give the squad confidence for the league run-in.",
                "{team2} remain in the relegation places after a third straight defeat.",
            ],
        ),
        (
            "{player} signs new contract with {team}",
            [
                "{player} has signed a new four-year contract with {team}, ending speculation about his future.",
                "The striker has scored fourteen goals in all competitions this season.",
                "The club's manager said keeping {player} was vital to their plans for next season.",
                "Several rival clubs had been linked with a summer transfer.",
            ],
        ),
        (
            "{athlete} wins gold in world championship final",
            [
                "{athlete} has won gold at the world championships with a personal best in the final.",
                "The 24-year-old led from the start and held off the defending champion on the last lap.",
                "She said the medal was reward for a hard winter of training after injury.",
                "Coaches said her form made her a favourite for the next Olympic Games.",
            ],
        ),
        (
            "{team} sack manager after poor run",
            [
                "{team} have sacked their manager after a run of six league games without a win.",
                "The club is {pct} points from safety and the board said a change was needed.",
                "Former captain {player} will take charge of the team for the next two matches.",
                "Supporters had protested outside the stadium after the last home defeat.",
            ],
        ),
        (
            "{team} beat {team2} on penalties to reach cup final",
            [
                "{team} are through to the cup final after beating {team2} on penalties in {town}.",
                "The match finished {score} after extra time, with both keepers making fine saves.",
                "{player} scored the decisive spot kick to send the travelling fans into celebration.",
                "The final will be played at the national stadium next month.",
            ],
        ),
    ],
    "tech": [
        (
            "{firm} launches new {device} with longer battery life",
            [
                "{firm} has launched a new {device} that it says lasts {pct}% longer on a single charge.",
                "The device uses a more efficient chip and a larger battery, and goes on sale next week.",
                "Reviewers praised the screen and camera but said the price was high.",
                "Analysts expect strong sales over the holiday season.",
            ],
        ),
        (
            "Security flaw found in {firm} {software}",
            [
                "Researchers have found a serious security flaw in {firm}'s {software}, used by millions of people.",
                "The bug could let hackers run code on a computer if a user opens a malicious link.",
                "{firm} has released an update and urged users to install it as soon as possible.",
                "Experts said there was no sign that the flaw had been exploited so far.",
            ],
        ),
        (
            "{firm} unveils AI assistant for developers",
            [
                "{firm} has unveiled an artificial intelligence assistant that writes and reviews software code.",
                "The tool, built on a large language model, suggests fixes and explains errors to programmers.",
                "The company said early users finished tasks {pct}% faster in trials.",
                "Critics warned that code written by machines still needs careful checking by people.",
            ],
        ),
        (
            "{firm} to double broadband speeds around {town}",
            [
                "Broadband speeds around {town} are set to double under a {money} plan by {firm} to lay fibre cables.",
                "{firm} will connect villages around {town} first, with work starting this summer.",
                "Residents have long complained of slow internet that makes working from home difficult.",
                "The network operator said most homes would be connected within three years.",
            ],
        ),
        (
            "{firm} fined over handling of user data",
            [
                "{firm} has been fined {money} by the data regulator over its handling of users' personal data.",
                "The regulator found the company kept location data for longer than it told users.",
                "{firm} said it disagreed with the decision and would consider an appeal.",
                "Privacy campaigners said the fine showed that technology firms must follow the rules.",
            ],
        ),
    ],
    "science": [
        (
            "{firm} probe sends back first images of {planet}",
            [
                "The {firm} space probe has sent back its first close-up images of {planet}, scientists said.",
                "{scientist}, who leads the mission's imaging team, said the pictures showed surprising surface detail.",
                "The probe will spend two years studying the geology and chemistry of its target.",
                "Researchers hope the data will help explain how the solar system formed.",
            ],
        ),
        (
            "Researchers map ancient forest under {town}",
            [
                "Researchers have mapped the remains of an ancient forest buried beneath {town}.",
                "{scientist} said tree stumps preserved in peat were more than five thousand years old.",
                "The team used ground radar and soil samples to reconstruct the landscape.",
                "The findings shed light on how the climate of the region changed after the ice age.",
            ],
        ),
    ],
    "health": [
        (
            "{scientist}: new treatment cuts risk of {disease} complications",
            [
                "A new treatment cut the risk of serious complications from {disease} by {pct}% in a clinical trial.",
                "{scientist}, who led the study, said patients also reported fewer side effects.",
                "The health service is expected to review the evidence before deciding whether to offer it.",
                "Charities welcomed the results but said more research was needed in older patients.",
            ],
        ),
        (
            "{town} hospital waiting lists fall for first time in a year",
            [
                "Hospital waiting lists in {town} have fallen for the first time in a year, official figures show.",
                "Managers in {town} said extra weekend clinics had helped clear a backlog of operations.",
                "Doctors warned that staff shortages could reverse the progress next winter.",
                "The health secretary said the figures showed the recovery plan was working.",
            ],
        ),
    ],
}

# Stories told by several outlets: (category, template index, variant headlines, variant closing lines).
DUPLICATES = [
    ("business", 1, ["{company} to be bought in {money} deal", "Rival agrees {money} swoop for {company}"],
     ["The takeover is expected to complete by the end of the year.", "Staff were told of the sale at a meeting on Monday."]),
    ("politics", 3, ["Minister {politician} quits over {policy} row", "{politician} walks out of cabinet in {policy} protest"],
     ["It is the third resignation from the cabinet this year.", "The prime minister is expected to name a successor today."]),
    ("sport", 2, ["Gold for {athlete} at world championships", "World title for {athlete} after stunning final"],
     ["Her parents watched from the stands in the stadium.", "It is her first global title."]),
    ("tech", 1, ["Update urged after {software} security bug found", "Millions of {software} users told to update now"],
     ["Security agencies repeated the advice to update.", "The flaw affects versions released in the last two years."]),
    ("entertainment", 2, ["{band} reunite for tour and album", "{band} back together after ten years"],
     ["Extra dates may be added because of demand.", "The first single will be released next week."]),
    ("science", 0, ["First close-up pictures of {planet} from probe", "Probe's images of {planet} surprise scientists"],
     ["The mission was launched four years ago.", "More images will be released next month."]),
    ("health", 0, ["Trial shows new {disease} treatment works", "{disease} patients could benefit from new therapy"],
     ["The results were published in a medical journal this week.", "The treatment could be available within two years."]),
    ("business", 2, ["Bank keeps rates on hold as inflation slows to {pct}%", "Rates unchanged with inflation down to {pct}%"],
     ["Markets had priced in a hold.", "The next decision is due in six weeks."]),
]  # fmt: skip


def fill(rng: random.Random, template: str, slots: dict[str, str]) -> str:
    """``template`` with every {slot} filled, new slots drawn from FILL."""
    for key in FILL:
        if "{" + key + "}" in template and key not in slots:
            slots[key] = rng.choice(FILL[key])
    if "{team2}" in template and "team2" not in slots:
        slots["team2"] = rng.choice([t for t in FILL["team"] if t != slots.get("team")])
    text = template.format(**slots)
    return text[:1].upper() + text[1:]


def story_key(category: str, templates: tuple[str, list[str]], slots: dict[str, str]) -> str:
    """Which story an article tells: its template and the fillers that template uses.

    Outlets retelling one story share it; so do two articles that happen to draw the same fillers for
    one template (they report the same made-up facts). ``benchmarks/news.py`` scores the near-duplicate
    grouping against it.
    """
    used = sorted((key, value) for key, value in slots.items() if "{" + key + "}" in json.dumps(templates))
    return "story-" + hashlib.sha256(f"{category}|{templates[0]}|{used}".encode()).hexdigest()[:10]


def article(
    rng: random.Random, category: str, title: str, sentences: list[str], outlet: str, hours_ago: float, story: str
) -> dict:
    """One JSON row."""
    slug = "-".join(w.strip(".,:'%£$€").lower() for w in title.split())[:60].strip("-")
    digest = hashlib.sha256(f"{outlet}|{title}|{hours_ago}".encode()).hexdigest()[:10]
    outlet_slug = outlet.lower().replace("the ", "").replace(" ", "-")
    published = None if rng.random() < 0.04 else (REFERENCE - timedelta(minutes=round(hours_ago * 60))).isoformat()
    return {
        "id": f"sample-{digest}",
        "title": title,
        "summary": sentences[0],
        "text": " ".join(sentences),
        "source": outlet,
        "link": f"https://{outlet_slug}.example.org/{category}/{slug}",
        "published": published,
        "category": category,
        "provenance": "bundled sample",
        "story": story,
    }


def main() -> None:
    """Write the sample file."""
    rng = random.Random(SEED)
    rows: list[dict] = []
    for category, templates in TEMPLATES.items():
        for title_t, body_t in templates:
            count = PER_TEMPLATE if category not in ("science", "health") else 2
            # Different fillers for each article of a template: different people, firms, teams, figures.
            drawn = {key: rng.sample(values, count) for key, values in FILL.items() if len(values) >= count}
            for k in range(count):
                slots: dict[str, str] = {key: values[k] for key, values in drawn.items()}
                title = fill(rng, title_t, slots)
                sentences = [fill(rng, s, slots) for s in body_t]
                if rng.random() < 0.3:  # vary the order of the middle sentences
                    sentences[1], sentences[2] = sentences[2], sentences[1]
                story = story_key(category, (title_t, body_t), slots)
                outlet = rng.choice(OUTLETS)
                rows.append(article(rng, category, title, sentences, outlet, rng.uniform(0.5, 24 * 7), story))
    for category, index, headlines, closings in DUPLICATES:
        title_t, body_t = TEMPLATES[category][index]
        slots = {}
        base_title = fill(rng, title_t, slots)
        base = [fill(rng, s, slots) for s in body_t]
        hours = rng.uniform(1, 30)
        outlets = rng.sample(OUTLETS, 3)
        story = story_key(category, (title_t, body_t), slots)
        rows.append(article(rng, category, base_title, base, outlets[0], hours, story))
        for k, (headline, closing) in enumerate(zip(headlines, closings, strict=True), start=1):
            # Same facts, new headline, the lead kept (wire copy), the rest trimmed and a new closing line.
            variant = [base[0], base[1], closing]
            rows.append(
                article(
                    rng, category, fill(rng, headline, slots), variant, outlets[k], hours + rng.uniform(0.2, 3), story
                )
            )
    rng.shuffle(rows)
    with OUT.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} articles to {OUT}")


if __name__ == "__main__":
    main()
