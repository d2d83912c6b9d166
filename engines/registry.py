"""The demo registry: the single list that navigation, the home page and the tests read.

Adding a demo is one :class:`Demo` entry here plus its page and its engine.
No Streamlit import: tests and benchmarks read it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("Language", "Vision", "Audio", "Tabular", "Recommenders", "Time series")


@dataclass(frozen=True)
class Demo:
    """One demo of the gallery.

    Attributes:
        key: Stable id (URL path, benchmark engine argument, test id).
        title: Card and navigation title.
        icon: Emoji shown on the card and in navigation.
        section: One of SECTIONS.
        pitch: One line that says what it does.
        techniques: Short names of the methods it shows.
        page: Page script, relative to the repository root.
        engine: Engine module (dotted path).
        needs: The optional stacks (``engines.core.stacks``) without which the demo cannot run at all; a demo
            that only loses a part (and says what answers instead) lists none.
    """

    key: str
    title: str
    icon: str
    section: str
    pitch: str
    techniques: tuple[str, ...]
    page: str
    engine: str
    needs: tuple[str, ...] = ()

    @property
    def page_path(self) -> Path:
        """Absolute path of the page script."""
        return ROOT / self.page


DEMOS: tuple[Demo, ...] = (
    Demo(
        key="spam",
        title="Spam detector",
        icon="🛡️",
        section="Language",
        pitch="Paste a text message and see whether it is spam, which words gave it away, and how sure the model is.",
        techniques=(
            "TF-IDF word + char n-grams",
            "calibrated linear SVM",
            "naive Bayes baseline",
            "occlusion explanations",
        ),
        page="app_pages/spam.py",
        engine="engines.spam",
    ),
    Demo(
        key="sentiment",
        title="Sentiment analyzer",
        icon="💬",
        section="Language",
        pitch="Type a review or a tweet and see whether it is positive, negative or neutral, how strongly, and which words decided it.",
        techniques=(
            "fine-tuned MiniLM transformer",
            "VADER lexicon",
            "TF-IDF + logistic regression",
            "occlusion explanations",
        ),
        page="app_pages/sentiment.py",
        engine="engines.sentiment",
    ),
    Demo(
        key="summarizer",
        title="Text summarizer",
        icon="📝",
        section="Language",
        pitch="Paste an article or upload a PDF or Word file and get its key sentences, with the source highlighted beside them.",
        techniques=(
            "position-aware graph ranking",
            "MMR redundancy control",
            "Lead-k and TextRank baselines",
            "ROUGE evaluation",
        ),
        page="app_pages/summarizer.py",
        engine="engines.summarizer",
    ),
    Demo(
        key="textgen",
        title="Predictive text generator",
        icon="⌨️",
        section="Language",
        pitch="Type a few words and an LSTM trained on Shakespeare suggests the next ones and writes on; then train your own model and watch its loss fall.",
        techniques=(
            "character and word LSTM",
            "temperature, top-k, top-p sampling",
            "Kneser-Ney n-gram baseline",
            "perplexity",
        ),
        page="app_pages/textgen.py",
        engine="engines.textgen",
        needs=("ml",),
    ),
    Demo(
        key="chatbot",
        title="Knowledge-base chatbot",
        icon="🤖",
        section="Language",
        pitch='Ask how any demo here works, how accurate it is or how to deploy it: answers quoted from the documentation with their sources, and an honest "I don\'t know" when it has no answer.',
        techniques=(
            "hybrid retrieval (BM25 + MiniLM embeddings)",
            "grounded, cited answers",
            "intent classification",
            "follow-up rewriting",
        ),
        page="app_pages/chatbot.py",
        engine="engines.chatbot",
    ),
    Demo(
        key="resume",
        title="Resume analyzer",
        icon="📄",
        section="Language",
        pitch="Upload a resume (PDF or Word) and get a clean profile, an explained match score against any job ad, the skills it is missing and a prioritised list of what to improve.",
        techniques=(
            "PDF / DOCX parsing in reading order",
            "section and entity extraction (rules, gazetteers, optional BERT NER)",
            "skills taxonomy with synonyms",
            "explained match score with MiniLM similarity",
        ),
        page="app_pages/resume.py",
        engine="engines.resume",
    ),
    Demo(
        key="news",
        title="Personalized news aggregator",
        icon="📰",
        section="Language",
        pitch="Pick your interests (or invent a topic) and get a personal front page gathered from news feeds: the same story from several outlets grouped into one, every article categorised, the feed re-ranked the moment you like or hide a story, and why each one is there.",
        techniques=(
            "concurrent, polite feed fetching (robots.txt, rate limits)",
            "TF-IDF + complement naive Bayes trained on BBC News",
            "zero-shot topics with MiniLM",
            "near-duplicate grouping",
            "ranking with relevance, recency and MMR diversity",
        ),
        page="app_pages/news.py",
        engine="engines.news",
    ),
    Demo(
        key="imageclf",
        title="Image classifier",
        icon="🖼️",
        section="Vision",
        pitch="Draw or photograph a digit, upload any photo, or teach it your own classes from a ZIP: a CNN trained in the page, pretrained ImageNet features, and a saliency map of what it looked at.",
        techniques=(
            "CNN with augmentation",
            "transfer learning (frozen features + linear head)",
            "saliency maps",
            "int8 quantization",
        ),
        page="app_pages/imageclf.py",
        engine="engines.imageclf",
        needs=("ml",),
    ),
    Demo(
        key="detect",
        title="Live object detection",
        icon="🎯",
        section="Vision",
        pitch="Turn on your webcam and watch people and faces get boxed, numbered and counted in real time over WebRTC, or annotate a photo or a video.",
        techniques=(
            "HOG + linear SVM, Haar cascades",
            "COCO transformers (YOLOS, RT-DETR)",
            "IoU tracking",
            "adaptive frame pacing",
        ),
        page="app_pages/detect.py",
        engine="engines.detect",
        needs=("media",),
    ),
    Demo(
        key="voice",
        title="Voice to text",
        icon="🎙️",
        section="Audio",
        pitch="Speak and watch your words appear as you talk, translated beside them, with the mood and the keywords of what you said; or transcribe a recording into subtitles.",
        techniques=(
            "streaming speech recognition (PocketSphinx)",
            "Whisper through transformers",
            "voice activity detection",
            "Marian translation",
        ),
        page="app_pages/voice.py",
        engine="engines.speech",
        needs=("media",),
    ),
    Demo(
        key="churn",
        title="Customer churn predictor",
        icon="📉",
        section="Tabular",
        pitch="Describe a telecom customer and see how likely they are to leave, why, and whether a retention offer pays.",
        techniques=(
            "logistic regression + gradient boosting",
            "profit-optimal threshold",
            "permutation importance",
            "bias check by group",
        ),
        page="app_pages/churn.py",
        engine="engines.churn",
    ),
    Demo(
        key="house_prices",
        title="House price estimator",
        icon="🏠",
        section="Tabular",
        pitch="Describe a house and get its price with a 90% prediction interval, what drove it, and how five models compare.",
        techniques=(
            "gradient boosting",
            "lasso feature selection",
            "outlier detection",
            "conformal intervals",
        ),
        page="app_pages/house_prices.py",
        engine="engines.house_prices",
    ),
    Demo(
        key="movies",
        title="Movie recommender",
        icon="🎬",
        section="Recommenders",
        pitch="Rate a few movies and get picks that explain themselves, explore look-alikes, and see eight algorithms compared.",
        techniques=(
            "matrix factorization (SVD, SVD++)",
            "item KNN + EASE",
            "stacked hybrid",
            "cold start",
        ),
        page="app_pages/movies.py",
        engine="engines.movies",
    ),
    Demo(
        key="forecast",
        title="Forecasting dashboard",
        icon="📈",
        section="Time series",
        pitch="Pick a series (CO2, stock prices, page views, sales or your own CSV) and see it decomposed, forecast by six models, and scored by backtest.",
        techniques=(
            "STL decomposition",
            "SARIMA with order selection",
            "Prophet",
            "gradient boosting on lags",
            "rolling-origin backtests",
        ),
        page="app_pages/forecast.py",
        engine="engines.forecast",
    ),
    Demo(
        key="anomaly",
        title="Anomaly monitor",
        icon="🚨",
        section="Time series",
        pitch="Stream a sensor or business metric point by point, flag anomalies as they arrive, raise alerts, and score detectors the NAB way.",
        techniques=(
            "rolling z-score and MAD",
            "STL residuals",
            "Isolation Forest, LOF, One-Class SVM",
            "online detection",
            "NAB scoring",
        ),
        page="app_pages/anomaly.py",
        engine="engines.anomaly",
    ),
)


def get_demo(key: str) -> Demo:
    """The demo registered under ``key``.

    Raises:
        KeyError: naming the valid keys, when ``key`` is unknown.
    """
    for demo in DEMOS:
        if demo.key == key:
            return demo
    valid = ", ".join(d.key for d in DEMOS)
    raise KeyError(f"Unknown demo {key!r}. Valid keys: {valid}.")


def by_section() -> dict[str, list[Demo]]:
    """Registered demos grouped by section, in SECTIONS order, empty sections left out."""
    groups: dict[str, list[Demo]] = {}
    for section in SECTIONS:
        members = [d for d in DEMOS if d.section == section]
        if members:
            groups[section] = members
    return groups
