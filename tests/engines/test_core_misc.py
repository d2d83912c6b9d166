"""Progress scaling, the demo registry, model cards and settings."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from engines import registry
from engines.core import settings
from engines.core.card import ModelCard
from engines.core.progress import null_progress, scaled
from engines.registry import DEMOS, SECTIONS, Demo, by_section, get_demo

# --- progress -----------------------------------------------------------------------------------------


def test_scaled_maps_onto_the_parent_range(progress_log):
    child = scaled(progress_log, 0.2, 0.6)
    for fraction in (0.0, 0.25, 0.5, 1.0):
        child(fraction, f"at {fraction}")
    assert progress_log.fractions == pytest.approx([0.2, 0.3, 0.4, 0.6])
    assert [message for _, message in progress_log.calls] == ["at 0.0", "at 0.25", "at 0.5", "at 1.0"]


def test_scaled_clamps_out_of_range_fractions(progress_log):
    child = scaled(progress_log, 0.5, 0.9)
    child(-3.0, "before")
    child(7.5, "after")
    assert progress_log.fractions == pytest.approx([0.5, 0.9])


def test_scaled_nests(progress_log):
    inner = scaled(scaled(progress_log, 0.0, 0.5), 0.5, 1.0)
    inner(0.0, "")
    inner(1.0, "")
    assert progress_log.fractions == pytest.approx([0.25, 0.5])


def test_null_progress_accepts_reports():
    assert null_progress(0.5, "ignored") is None


# --- registry -----------------------------------------------------------------------------------------


def test_get_demo_returns_the_registered_demo():
    for demo in DEMOS:
        assert get_demo(demo.key) is demo


def test_unknown_demo_key_lists_the_valid_keys():
    with pytest.raises(KeyError, match="Unknown demo 'no-such-demo'") as info:
        get_demo("no-such-demo")
    for demo in DEMOS:
        assert demo.key in str(info.value)


def fake_demo(key: str, section: str) -> Demo:
    return Demo(
        key=key,
        title=key.title(),
        icon="*",
        section=section,
        pitch="p",
        techniques=(),
        page=f"app_pages/{key}.py",
        engine=f"engines.{key}",
    )


def test_by_section_follows_sections_order_and_drops_empty_sections(monkeypatch):
    demos = (
        fake_demo("forecast", "Time series"),
        fake_demo("spam", "Language"),
        fake_demo("faces", "Vision"),
        fake_demo("translate", "Language"),
    )
    monkeypatch.setattr(registry, "DEMOS", demos)

    groups = by_section()

    assert list(groups) == ["Language", "Vision", "Time series"]
    assert [d.key for d in groups["Language"]] == ["spam", "translate"]  # registry order inside a section
    assert all(groups.values())


def test_real_registry_is_consistent():
    keys = [demo.key for demo in DEMOS]
    assert len(keys) == len(set(keys)), "duplicate demo keys"
    groups = by_section()
    assert list(groups) == [s for s in SECTIONS if s in groups]
    assert sum(len(members) for members in groups.values()) == len(DEMOS)
    for demo in DEMOS:
        assert demo.section in SECTIONS, demo
        assert demo.pitch and demo.title and demo.icon


@pytest.mark.parametrize("demo", DEMOS, ids=[d.key for d in DEMOS])
def test_demo_page_exists_and_engine_imports(demo):
    assert demo.page_path.is_file(), demo.page_path
    assert demo.page_path.is_relative_to(registry.ROOT)
    module = importlib.import_module(demo.engine)
    assert module.__name__ == demo.engine


@pytest.mark.parametrize("demo", DEMOS, ids=[d.key for d in DEMOS])
def test_engine_imports_no_streamlit(demo):
    code = f"import sys, {demo.engine}; print('streamlit' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=registry.ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- model card ---------------------------------------------------------------------------------------


def make_card(**kwargs) -> ModelCard:
    fields = dict(
        model="Calibrated linear SVM",
        why="Strong on short texts.",
        data="SMS Spam Collection",
        provenance="bundled sample",
        split="Stratified 70/30 split, seed 0.",
        metrics={"accuracy": 0.98765, "spam F1": 0.9},
        train_seconds=1.234,
        n_train=3900,
        n_test=1672,
        limitations=("English only.", "Trained on 2012 messages."),
        versions={"scikit-learn": "1.8.0"},
        citation="Almeida et al. 2011",
    )
    fields.update(kwargs)
    return ModelCard(**fields)


def test_model_card_markdown_has_metrics_limitations_and_provenance():
    text = make_card().to_markdown()
    assert "### Model card: Calibrated linear SVM" in text
    assert "| accuracy | 0.9877 |" in text
    assert "| spam F1 | 0.9000 |" in text
    assert "- English only.\n- Trained on 2012 messages." in text
    assert "SMS Spam Collection (bundled sample); 3,900 training and 1,672 held-out examples" in text
    assert "1.23 s" in text
    assert "scikit-learn 1.8.0" in text
    assert "**Citation.** Almeida et al. 2011" in text


def test_model_card_without_limitations_or_citation_says_so():
    text = make_card(limitations=(), citation="").to_markdown()
    assert "- none recorded" in text
    assert "Citation" not in text


# --- settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("1", False), ("true", False), (" YES ", False), ("on", False), ("0", True), ("", True), ("no", True)],
)
def test_gallery_offline_controls_downloads_and_the_hub(monkeypatch, value, allowed):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("GALLERY_OFFLINE", value)
    assert settings.downloads_allowed() is allowed
    assert settings.hub_allowed() is allowed


def test_hf_hub_offline_vetoes_the_hub(monkeypatch):
    monkeypatch.delenv("GALLERY_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert settings.hub_allowed()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not settings.hub_allowed()


def test_settings_are_read_at_call_time(monkeypatch):
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    assert not settings.downloads_allowed()
    monkeypatch.delenv("GALLERY_OFFLINE")
    assert settings.downloads_allowed()


def test_cache_dir_honours_gallery_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_dir() == tmp_path / "mine"


def test_cache_dir_falls_back_to_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("GALLERY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert settings.cache_dir() == tmp_path / "xdg" / settings.APP_NAME
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings.cache_dir() == tmp_path / "home" / ".cache" / settings.APP_NAME


def test_data_and_model_dirs_must_exist(monkeypatch, tmp_path):
    assert settings.data_dir() is None
    assert settings.model_dir() is None
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("GALLERY_MODEL_DIR", "   ")
    assert settings.data_dir() is None
    assert settings.model_dir() is None
    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    assert settings.data_dir() == tmp_path
    assert settings.model_dir() == tmp_path


def test_user_home_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GALLERY_DATA_DIR", "~")
    monkeypatch.setenv("GALLERY_CACHE_DIR", "~/cache")
    assert settings.data_dir() == Path(tmp_path)
    assert settings.cache_dir() == tmp_path / "cache"


@pytest.mark.parametrize(("value", "seconds"), [(None, 10.0), ("3", 3.0), ("0.1", 0.5), ("soon", 10.0)])
def test_download_timeout(monkeypatch, value, seconds):
    if value is not None:
        monkeypatch.setenv("GALLERY_DOWNLOAD_TIMEOUT", value)
    assert settings.download_timeout() == seconds
