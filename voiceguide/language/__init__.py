"""Each language's catalog: its phrases, and how it says numbers, counts, durations and lists.

Below the plans because reading a plan checks its `language:` against the catalogs there are, and
every later stage (wording, voices) speaks through them.
"""
