"""The concurrency mode of ``python -m benchmarks.load`` (issue 26): its waits and its report, no browser."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from benchmarks import load
from engines.registry import get_demo


class FakeLocator:
    def __init__(self, page, name: str) -> None:
        self.page, self.name = page, name

    @property
    def first(self) -> FakeLocator:
        return self

    def get_by_text(self, text: str, exact: bool = False) -> FakeLocator:
        return FakeLocator(self.page, f"link:{text}")

    async def click(self, timeout: float = 0) -> None:
        self.page.clicks += 1
        if self.page.clicks > self.page.lost_clicks:  # the first clicks are lost: the old page reruns
            self.page.shown = self.name.removeprefix("link:")

    async def is_visible(self) -> bool:
        return self.page.shown == self.name.removeprefix("heading:")


class FakePage:
    """Just enough of a Playwright page for ``navigate``: the app is idle, showing ``shown``'s heading."""

    url = "http://127.0.0.1:1/voice"

    def __init__(self, lost_clicks: int) -> None:
        self.lost_clicks, self.clicks, self.shown = lost_clicks, 0, "Voice to text"
        self.handlers: dict[str, list] = {}
        self.images_done = True

    def locator(self, selector: str) -> FakeLocator:
        return FakeLocator(self, selector)

    def get_by_role(self, role: str, name: str) -> FakeLocator:
        return FakeLocator(self, f"heading:{name}")

    async def wait_for_selector(self, selector: str, timeout: float = 0) -> None:
        return None

    async def evaluate(self, script: str, *args) -> bool:
        return self.images_done if script == load.MEDIA_READY_JS else True

    def on(self, event: str, handler) -> None:
        self.handlers.setdefault(event, []).append(handler)


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(load, "LOST_CLICK_S", 0.3)
    monkeypatch.setattr(load, "SETTLE_S", 0.05)


@pytest.mark.parametrize(("lost", "reclicks"), [(0, 0), (1, 1), (2, 2)])
def test_a_lost_click_on_a_page_link_is_clicked_again(quick, lost, reclicks):
    page = FakePage(lost_clicks=lost)
    assert asyncio.run(load.navigate(page, get_demo("churn"), timeout_s=30)) == reclicks
    assert page.clicks == lost + 1


def test_a_page_that_never_shows_fails_in_bounded_time_and_says_where_the_browser_is(quick, monkeypatch):
    monkeypatch.setattr(load, "STEP_TIMEOUT_S", 1.5)
    page = FakePage(lost_clicks=99)
    with pytest.raises(TimeoutError, match=r"'Customer churn predictor' not shown 2 s after .*127\.0\.0\.1:1/voice"):
        asyncio.run(load.navigate(page, get_demo("churn"), timeout_s=600))
    assert page.clicks == 1 + load.NAV_RECLICKS


@dataclass(frozen=True)
class FakeRequest:
    url: str
    resource_type: str


def media_request(url: str, kind: str = "image") -> FakeRequest:
    return FakeRequest(url, kind)


def test_the_next_click_waits_for_the_pages_media_and_ignores_streams_and_other_files():
    page = FakePage(lost_clicks=0)
    session = load.Session(page, load.SessionResult(0))
    picture = media_request("http://127.0.0.1:1/media/ab12.jpg")
    check = media_request("http://127.0.0.1:1/media/cd34.csv", "fetch")
    for request in (
        picture,
        check,
        media_request("http://127.0.0.1:1/media/ef56.wav", "media"),  # audio streams as it plays
        media_request("http://127.0.0.1:1/static/media/font.woff2", "font"),
    ):
        page.handlers["request"][0](request)
    assert session.media == {picture, check}

    async def answer_later() -> None:
        await asyncio.sleep(0.3)
        page.handlers["requestfinished"][0](picture)
        page.handlers["requestfailed"][0](check)

    async def both() -> float:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(session.media_loaded(5), answer_later())
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(both()) >= 0.3
    page.images_done = False  # an <img> not loaded yet holds the click too, and not forever
    with pytest.raises(TimeoutError, match="still loading, after 0 s"):
        asyncio.run(session.media_loaded(0.2))


def result(session: int, **kinds) -> dict:
    return {
        "session": session,
        "pages_done": 6,
        "seconds": 100.0,
        "planted": [],
        "exceptions": [],
        "console_errors": [],
        "leaks": [],
        "failures": [],
        "reclicks": [],
        **kinds,
    }


def test_the_report_fails_on_a_failed_step_and_lists_it_with_its_screenshot():
    failure = "churn (navigate): TimeoutError: heading not shown [screenshot: /tmp/gallery-load-shots/x.png]"
    report = load.concurrency_report(
        {
            "sessions": 2,
            "seconds": 300.0,
            "peak_mb": 1600.0,
            "exceptions": 0,
            "leaks": 0,
            "failures": 1,
            "reclicks": 1,
            "passed": False,
            "results": [
                result(0, reclicks=["voice -> churn: the link clicked 2 times"]),
                result(1, failures=[failure]),
            ],
        }
    )
    assert "1 failed steps (target 0, 0 and 0): FAIL" in report
    assert f"session 1 failures: {failure}" in report
    assert "1 navigations needed a second click" in report
    assert "session 0 reclicks: voice -> churn" in report
