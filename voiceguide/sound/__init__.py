"""Making sound: speech engines and their cache, helper processes that speak, the tones, every phrase
levelled to one loudness, music under the voice, and the session's samples mixed in chunks.
"""
