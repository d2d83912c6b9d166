"""Voice to text: word error rate and real-time factor of each recognizer, and the live delay in the browser.

Dataset ``speech-samples`` (data directory): five LibriVox sentences read by a person (Jane Austen's *Sense and
Sensibility*, from pocketsphinx's test data), "one two three" (speech_recognition's test file, 44.1 kHz) and
11 s of John F. Kennedy's inaugural address (whisper.cpp's sample). Rows per recognizer that can run here:

- ``wer_librivox``: word error rate over the five LibriVox files pooled (errors over reference words),
  ``wer_all``: over all seven files; lower-cased words, punctuation ignored, digits kept as written.
- ``rtf_1core``: seconds of work per second of audio for the whole set, torch and the decoder on one thread
  (PocketSphinx is single-threaded); below 1 is faster than real time.
- Whisper (transformers) joins when its weights can be loaded offline.

Dataset ``webrtc``: the browser suite's live microphone test run once (``tests/e2e/webrtc_probe.py``: the app
and Chromium in a private network namespace, the fake microphone playing two LibriVox sentences with pauses):
the delay from the end of an utterance's audio reaching the server to its final text on the page (median),
the utterances finalised, and the share of the spoken words found in the transcript. Needs root, unshare,
Chromium and Playwright; skipped with the reason otherwise.

Anchor: issue 10's target real-time factor (<= 0.5 on one core). No published word error rate of this
exact model and language model on these files exists to set beside ours; Whisper, the peer a user would
pick instead, gets its rows when its weights can be loaded.
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import Anchor, Record, Skip

ENGINE = "voice"
SAMPLES = "speech-samples (7 files, 40 s)"
LIVE = "webrtc (fake microphone, 2 LibriVox sentences)"
SPOKEN = (
    "pocketsphinx-librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
    "pocketsphinx-librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
)
ANCHORS = [
    Anchor(ENGINE, SAMPLES, "issue 10 target (default recognizer, one core)", "rtf_1core", 0.5),
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _recognizers(progress):
    from engines.core.errors import SourceError
    from engines.speech.sphinx import SphinxRecognizer

    found = {"pocketsphinx": SphinxRecognizer()}
    try:
        from engines.speech.whisper import load_whisper

        whisper = load_whisper()
        found[whisper.resolved.spec.name] = whisper
    except SourceError as exc:
        progress(f"voice: Whisper skipped: {str(exc).splitlines()[0]}")
    return found


def _sample_rows(folder: Path, progress) -> list[Record]:
    import torch

    from engines.speech.audio import decode_audio
    from engines.speech.segments import transcribe
    from engines.speech.transcript import word_error_rate

    torch.set_num_threads(1)
    with (folder / "transcripts.csv").open(encoding="utf-8") as listing:
        rows = list(csv.DictReader(listing))
    clips = [
        (row["file"], row["transcript"], decode_audio((folder / row["file"]).read_bytes(), row["file"])) for row in rows
    ]
    seconds = sum(audio.seconds for _, _, audio in clips)
    records = []
    for key, recognizer in _recognizers(progress).items():
        errors = {"librivox": [0, 0], "all": [0, 0]}
        started = time.perf_counter()
        for name, reference, audio in clips:
            text = " ".join(s.text for s in transcribe(recognizer, audio.samples))
            ref = len(_words(reference))
            wrong = round(word_error_rate(reference, text) * ref)
            for group in ("all", "librivox") if "librivox" in name else ("all",):
                errors[group][0] += wrong
                errors[group][1] += ref
            progress(f"voice: {key}: {name}: {text!r}")
        rtf = (time.perf_counter() - started) / seconds
        values = {
            "wer_librivox": errors["librivox"][0] / errors["librivox"][1],
            "wer_all": errors["all"][0] / errors["all"][1],
            "rtf_1core": rtf,
        }
        progress(f"voice: {recognizer.name}: WER {values['wer_librivox']:.3f} (LibriVox), RTF {rtf:.3f}")
        records += [Record(ENGINE, SAMPLES, key, m, float(v), key == "pocketsphinx") for m, v in values.items()]
    return records


def _live_rows(folder: Path, progress) -> list[Record]:
    from tests.e2e.webrtc_probe import run_probe, unavailable

    if unavailable() or not Path("/usr/bin/chromium").exists():
        progress("voice: the WebRTC row needs root, unshare and /usr/bin/chromium; skipped")
        return []
    with (folder / "transcripts.csv").open(encoding="utf-8") as listing:
        reference = {row["file"]: row["transcript"] for row in csv.DictReader(listing)}
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as out:
        result = run_probe("microphone", [folder / f for f in SPOKEN], Path(out) / "probe", seconds=14)
    said = Counter(w for f in SPOKEN for w in _words(reference[f]))
    heard = Counter(_words(result.get("transcript", "")))
    found = sum(min(n, heard[w]) for w, n in said.items()) / sum(said.values())
    values = {"utterances": result.get("utterances", 0), "words_found": found}
    if result.get("delay_s") is not None:
        values["final_delay_s"] = result["delay_s"]
    progress(f"voice: WebRTC: {values}")
    return [Record(ENGINE, LIVE, "pocketsphinx", m, float(v), True) for m, v in values.items()]


def run(data_dir: Path, seeds: int = 1, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001 (deterministic)
    """Transcribe the speech samples with every recognizer, then run the live microphone probe once."""
    folder = Path(data_dir) / "speech-samples"
    if not (folder / "transcripts.csv").is_file():
        raise Skip(f"{folder}/transcripts.csv not found: the voice benchmark needs the speech samples")
    return _sample_rows(folder, progress) + _live_rows(folder, progress), ANCHORS
