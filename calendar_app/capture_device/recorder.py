"""The device's "recording": a small, valid WAV file with deterministic bytes (a quarter second
of a 440 Hz tone), written with the standard library, so uploads carry real media without a
camera or an encoder."""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from pathlib import Path

from calendar_app.capture_device.schedule import Booking

AUDIO = 5  # KalturaMediaType
RATE = 8000  # samples per second, 8-bit mono: 2,044 bytes in all
SECONDS = 0.25
TONE_HZ = 440


@dataclass(frozen=True)
class Recording:
    booking: Booking
    path: Path
    media_type: int = AUDIO

    @property
    def receipt(self) -> Path:
        """Written once the upload is done: a restarted device does not upload it again."""
        return self.path.with_suffix(".entry")


def path_for(booking: Booking, work_dir: Path) -> Path:
    return work_dir / f"event-{booking.id}-{booking.start:%Y%m%dT%H%M%SZ}.wav"


def receipt_for(booking: Booking, work_dir: Path) -> Path:
    return path_for(booking, work_dir).with_suffix(".entry")


def record(booking: Booking, work_dir: Path) -> Recording:
    path = path_for(booking, work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(_tone())
    return Recording(booking=booking, path=path)


def _tone() -> bytes:
    # 8-bit WAV samples are unsigned, centred on 128.
    count = int(RATE * SECONDS)
    return bytes(128 + round(100 * math.sin(2 * math.pi * TONE_HZ * i / RATE)) for i in range(count))
