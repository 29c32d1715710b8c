"""The one place voiceguide reaches into pyttsx3's private names, and why no public way would do.

pyttsx3 2.99 starts espeak-ng in its asynchronous "retrieval" mode, and there espeak_Synth copies
ten times the phrase's length from where the phrase is (the size pyttsx3 gives it): a phrase that
ends near the end of mapped memory crashes the process in Synth (tests/test_speech.py shows it).
In that mode every phrase is also made on a thread of espeak's own, which calls the driver back
into Python while this thread goes on calling espeak. pyttsx3 has no setting for the mode, so the
espeak engine (see espeak) has its driver start espeak in its synchronous mode instead: Synth
reads the phrase up to its end only, makes it on the calling thread and calls the driver back
there; there is no second thread at all. That takes three changes to pyttsx3's espeak driver, all
here:
- `started_synchronously()`: pyttsx3's binding `pyttsx3.drivers._espeak.Initialize` is replaced
  while the driver starts espeak, so that it asks for the synchronous mode; and espeak-ng, which
  starts once a process, must not have been started already (`EspeakDriver._moduleInitialized`)
  in the asynchronous mode by another use of pyttsx3.
- `finish_each_phrase()`: espeak's synchronous mode sends no "message terminated" event after a
  phrase, which is when the driver writes the file and ends its loop: the driver's
  `_start_synthesis` (reached through the engine's `proxy._driver`) sends it itself once Synth
  returns, by calling the driver's callback `_onSynth` as espeak's asynchronous mode does. A
  failure to write (a full disk) is then raised to the caller, where the driver's own callback
  could only print it.
- the driver's loop sleeps 10 ms after starting a phrase, which is then made already: its module's
  `time` is replaced by one that does not sleep (a phrase takes a few ms to make).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

from voiceguide.common.errors import SpeechError

_started_synchronously = False


@contextlib.contextmanager
def started_synchronously() -> Iterator[None]:
    """Meanwhile, pyttsx3's espeak driver starts espeak-ng (once a process) in its synchronous
    mode, whatever mode it asks for."""
    global _started_synchronously
    from pyttsx3.drivers import _espeak
    from pyttsx3.drivers.espeak import EspeakDriver

    if EspeakDriver._moduleInitialized and not _started_synchronously:
        raise SpeechError(
            "espeak-ng was started in this process before voiceguide started it, in a mode voiceguide "
            "cannot use; use voiceguide's speech engine before any other use of pyttsx3"
        )
    initialize = _espeak.Initialize

    def synchronous(output: int, *args: Any, **kwargs: Any) -> Any:
        global _started_synchronously
        _started_synchronously = True
        return initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, *args, **kwargs)

    _espeak.Initialize = synchronous
    try:
        yield
    finally:
        _espeak.Initialize = initialize


def finish_each_phrase(engine: Any) -> None:
    """Have the espeak driver of the pyttsx3 *engine* end each phrase as espeak's asynchronous mode
    would: with the "message terminated" event, once the phrase is made. Once per driver."""
    import pyttsx3.drivers.espeak as driver_module
    from pyttsx3.drivers import _espeak

    driver_module.time = types.SimpleNamespace(sleep=lambda seconds: None)
    driver = engine.proxy._driver
    if getattr(driver, "_voiceguide_finishes_phrases", False):
        return
    start = driver._start_synthesis
    terminated = (_espeak.EVENT * 2)()
    terminated[0].type = _espeak.EVENT_MSG_TERMINATED
    terminated[1].type = _espeak.EVENT_LIST_TERMINATED

    def start_and_finish(text: str) -> None:
        start(text)  # the whole phrase, the driver gathering its audio in callbacks on this thread
        driver._onSynth(None, 0, terminated)  # called directly: what it raises reaches the caller

    driver._start_synthesis = start_and_finish
    driver._voiceguide_finishes_phrases = True
