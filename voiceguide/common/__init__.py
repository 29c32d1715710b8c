"""What every stage shares: errors, clock times, stopping on a signal, worker processes, and
finding the external programs and libraries (ffmpeg, espeak-ng) that voiceguide runs.

The bottom of the house: it imports nothing else of voiceguide.
"""
