"""Write ``spam_sample.tsv``: a small synthetic SMS corpus for offline use.

Every message is generated here from templates with a fixed seed; none is
copied from a real dataset. The format matches the SMS Spam Collection
(``label<TAB>text``, no header) so one parser reads both.

Run: ``python data/make_spam_sample.py`` (deterministic).
"""

from __future__ import annotations

import random
from pathlib import Path

SEED = 20261121
N_HAM = 800
N_SPAM = 200
OUT = Path(__file__).with_name("spam_sample.tsv")

NAMES = ["Sam", "Alex", "Priya", "Tom", "Mia", "Jon", "Lea", "Omar", "Kate", "Ben", "mum", "dad"]
PLACES = [
    "the station",
    "the office",
    "home",
    "the gym",
    "the cafe",
    "uni",
    "the shop",
    "the park",
    "work",
    "the cinema",
]
TIMES = [
    "at 6",
    "at 7.30",
    "tonight",
    "tomorrow",
    "after lunch",
    "in 10 mins",
    "on Friday",
    "this weekend",
    "later",
    "at noon",
]
FOODS = ["pizza", "curry", "sushi", "pasta", "burgers", "tacos", "soup", "noodles"]
THINGS = ["keys", "charger", "umbrella", "book", "jacket", "wallet", "laptop", "headphones"]
HAM_TEMPLATES = [
    "Hey {name}, are we still on for {food} {time}?",
    "I'm at {place}, where are you?",
    "Running late, be there {time}. Sorry!",
    "Can you pick up some milk on the way back from {place}?",
    "Did you see my {thing}? I think I left it at {place}",
    "ok see you {time}",
    "Thanks for today {name}, it was really nice :)",
    "Meeting moved to {time}, same room as last week.",
    "Happy birthday {name}! Hope you have a great day",
    "Can't talk now, call you {time}",
    "Just got to {place}. Let me know when you're free",
    "Do you want {food} or {food2} for dinner?",
    "Sorry I missed your call, was at {place}",
    "Lol that's hilarious. Tell {name} I said hi",
    "I'll bring the {thing} {time}, don't worry",
    "Are you coming to {place} {time}? {name} will be there too",
    "Good luck with the exam {time}! You'll be fine",
    "Home safe. Thanks for the lift {name}",
    "Remember to lock the door when you leave {place}",
    "Yeah I'm free {time}, what did you have in mind?",
    "The train is delayed again, grr. See you at {place}",
    "Can I borrow your {thing} {time}? Mine broke",
    "Watching the match at {place} {time} if you fancy it",
    "No worries, take your time",
    "What time does it start? I might be a bit late",
    "Just finished work. So tired. {food} {time}?",
    # Legitimate messages that borrow spam's vocabulary: what makes the task hard.
    "I won the pub quiz lol, free drinks for the team {time}!",
    "Call me on 07700 900{box} when you're at {place}, my old phone died",
    "Did you claim the parking refund from work? It's £{small} back",
    "Reply when you can, no rush. Mum says the prize draw at church was fun",
    "Your order from the bakery is ready for collection {time}. Thanks!",
    "URGENT lol. Need your {thing} back before {time}!!",
    "Text me the code for the door again? It's 5 digits I think",
    "Free tonight? Cinema has 2 for 1 on Tuesdays",
    "Won 3-1!! What a match. Drinks at {place}?",
    "The bank called about my card, all sorted now. See you {time}",
]
PRIZES = [
    "£1000 cash",
    "a £500 voucher",
    "a brand new iPhone",
    "a FREE holiday",
    "£2000",
    "a Nokia phone",
    "a $1000 gift card",
    "2 FREE cinema tickets",
]
PROMO = [
    "FREE",
    "URGENT!",
    "WINNER!!",
    "Congratulations!",
    "Exclusive offer:",
    "Final notice:",
    "Act now!",
    "SPECIAL DEAL",
]
SPAM_TEMPLATES = [
    "{promo} You have been selected to receive {prize}. To claim call {phone} now. Claim code {code}. Valid 12hrs only.",
    "{promo} Txt WIN to {short} to enter our weekly draw for {prize}! T&Cs apply. Msg cost 150p",
    "Your mobile number has won {prize} in our prize draw. Call {phone} to claim. Box {box} stop to opt out",
    "{promo} Claim your {prize} today at {url} - offer ends soon!!",
    "You have 1 new voicemail. Please call {phone} now to listen",
    "Your account has been suspended. Verify your details at {url} within 24 hours",
    "{promo} Get {pct}% off all orders this week only. Reply YES to {short} to subscribe",
    "Dear customer, you are owed a refund of £{amount}. Click {url} to claim it",
    "Hot singles in your area want to chat! Text CHAT to {short} now. £1.50/msg",
    "{promo} Ringtone club: get the UK's top 10 tones for free. Send TONE to {short}. 18+ only",
    "Last chance! Your {prize} is waiting. Call {phone} before midnight to claim",
    "Loan approved! Get £{amount} cash today, no credit checks. Reply LOAN to {short}",
    # Spam that avoids the obvious markers.
    "Hi, it's Lisa from the dating site. Saw your profile, text me back on {short} x",
    "Your parcel could not be delivered. Reschedule here: {url}",
    "hey {name} long time no see! check out this pic of u lol {url}",
    "Important: your tax rebate is pending. Complete the form at {url}",
    "We tried to reach you about your car accident claim. Reply YES for a free callback",
    "You are invited to a private sale, members only, this weekend. Details at {url}",
]


def _phone(rng: random.Random) -> str:
    return "09" + "".join(rng.choice("0123456789") for _ in range(9))


def _fill(template: str, rng: random.Random) -> str:
    foods = rng.sample(FOODS, 2)
    return template.format(
        name=rng.choice(NAMES),
        place=rng.choice(PLACES),
        time=rng.choice(TIMES),
        food=foods[0],
        food2=foods[1],
        thing=rng.choice(THINGS),
        prize=rng.choice(PRIZES),
        promo=rng.choice(PROMO),
        phone=_phone(rng),
        short=str(rng.randint(80000, 89999)),
        code=f"{rng.choice('ABCDEFGHJK')}{rng.choice('LMNPQRSTUV')}{rng.randint(100, 999)}",
        box=rng.randint(100, 999),
        url=f"http://{rng.choice(['win', 'claim', 'prize', 'secure-login', 'deals'])}-{rng.randint(10, 99)}.example.com",
        pct=rng.choice([30, 40, 50, 70]),
        small=rng.choice([4, 12, 25, 60]),
        amount=rng.choice([250, 480, 750, 1200, 3000]),
    )


def make(seed: int = SEED) -> list[tuple[str, str]]:
    """Generate (label, text) rows, shuffled, deterministic for a seed."""
    rng = random.Random(seed)
    rows = [("ham", _fill(rng.choice(HAM_TEMPLATES), rng)) for _ in range(N_HAM)]
    rows += [("spam", _fill(rng.choice(SPAM_TEMPLATES), rng)) for _ in range(N_SPAM)]
    rng.shuffle(rows)
    return rows


def main() -> None:
    """Write the sample next to this script."""
    OUT.write_text("".join(f"{label}\t{text}\n" for label, text in make()), encoding="utf-8")


if __name__ == "__main__":
    main()
