"""Write ``speech_sample.wav`` and ``speech_sample.txt``: a short English sentence spoken by eSpeak NG.

The voice-to-text page offers it as its one-click sample when no real recording is at hand (the real
speech samples live in the data directory, never in the repository). It is a synthetic voice: the
offline recognizer, trained on people, gets fewer of its words right than it does on a person, and the
page says so and shows the word error rate against the text below.

Run: ``python data/make_speech_sample.py`` (needs ``espeak-ng``; 16 kHz mono 16-bit PCM, deterministic).
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

TEXT = "I would like to order a pizza with cheese and a glass of water please."
VOICE, SPEED = "en-us+m1", 125  # words per minute
OUT = Path(__file__).with_name("speech_sample.wav")
RATE = 16_000


def main() -> None:
    """Speak the sentence, resample it to 16 kHz, pad it with silence and write the two files."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "espeak.wav"
        command = ["espeak-ng", "-v", VOICE, "-s", str(SPEED), "-w", str(raw), TEXT]
        subprocess.run(command, check=True)  # noqa: S603 (a fixed command; espeak-ng from the PATH)
        with wave.open(str(raw)) as source:
            rate = source.getframerate()
            samples = np.frombuffer(source.readframes(source.getnframes()), np.int16).astype(np.float64)
    positions = np.arange(0, len(samples) * RATE / rate) * rate / RATE  # linear resampling to 16 kHz
    resampled = np.interp(positions, np.arange(len(samples)), samples)
    padded = np.concatenate([np.zeros(RATE // 2), resampled, np.zeros(RATE // 2)])  # half a second each side
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.clip(padded, -32768, 32767).astype(np.int16).tobytes())
    OUT.with_suffix(".txt").write_text(TEXT + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(padded) / RATE:.1f} s) and {OUT.with_suffix('.txt').name}")


if __name__ == "__main__":
    main()
