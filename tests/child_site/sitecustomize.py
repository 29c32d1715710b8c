"""Every Python process a test starts (conftest puts this folder on PYTHONPATH) notes what it starts
of the speech engine and ffmpeg: see startnotes.py."""

import startnotes

startnotes.watch()
