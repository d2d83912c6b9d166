"""The benchmark command: its JSON schema, anchors and skip behaviour (on a tiny stand-in corpus)."""

from __future__ import annotations

import json
import shutil

from benchmarks.__main__ import main
from engines.spam.model import SMS_SPAM


def test_spam_benchmark_writes_plain_records(tmp_path, capsys):
    folder = tmp_path / "data" / "sms-spam-collection"
    folder.mkdir(parents=True)
    shutil.copy(SMS_SPAM.sample, folder / "SMSSpamCollection")  # the synthetic sample in the reference layout
    out = tmp_path / "results.json"
    assert main(["spam", "--data-dir", str(tmp_path / "data"), "--seeds", "2", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert {tuple(sorted(r)) for r in records} == {("dataset", "default", "engine", "metric", "model", "value")}
    assert {r["metric"] for r in records} == {"accuracy", "spam_caught", "blocked_ham", "roc_auc", "train_s"}
    assert {r["dataset"] for r in records} == {"sms-spam-collection"}
    defaults = {r["model"] for r in records if r["default"]}
    assert len(defaults) == 1
    assert all(0.0 <= r["value"] <= 1.0 for r in records if r["metric"] != "train_s")
    table = capsys.readouterr().out
    assert "anchor: Almeida et al. 2011, SVM (published)" in table
    assert "0.9764" in table


def test_missing_dataset_is_skipped_with_a_reason(tmp_path, capsys):
    assert main(["spam", "--data-dir", str(tmp_path)]) == 0
    assert "spam: skipped" in capsys.readouterr().out
