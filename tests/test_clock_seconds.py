"""clock.in_seconds: the one conversion of a time to seconds, for the timeline's JSON and ffmpeg."""

from __future__ import annotations

import json

from voiceguide.common.clock import in_seconds


def test_in_seconds_is_exact_to_the_millisecond() -> None:
    """Milliseconds as seconds, as JSON writes them: whole, tenths and thousandths alike."""
    assert [in_seconds(ms) for ms in (0, 500, 3_000, 727_586)] == [0.0, 0.5, 3.0, 727.586]
    assert json.dumps([in_seconds(1_234), in_seconds(60_000)]) == "[1.234, 60.0]"
    assert f"{in_seconds(3_000)}" == "3.0"  # (ffmpeg's fade length, as music.py gives it)
