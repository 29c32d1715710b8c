"""What is said and when: the wording of every cue in the session's language, and the timeline that
lays out speech, tones and silences in integer milliseconds, with overruns. Pure: no audio.
"""
