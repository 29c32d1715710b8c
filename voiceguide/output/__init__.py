"""Writing files: encoding (MP3, M4A, Opus, WAV) with tags and chapters, MP3 in parts at once, the
loudness of the file as heard, the sidecars, and a session's files put in place together or not
at all.
"""
