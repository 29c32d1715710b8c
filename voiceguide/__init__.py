"""voiceguide: turn an exercise plan written in YAML into a voice-guided audio session."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("voiceguide")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
