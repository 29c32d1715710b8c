"""voiceguide: turn an exercise plan written in YAML into a voice-guided audio session."""

__version__ = "0.1.0"
"""The one place the version is written (pyproject.toml reads it): reading it back from the
installed package's metadata took a tenth of `voiceguide validate`."""
