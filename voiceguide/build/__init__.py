"""The orchestration: one session from plan to files (`session.build_session`), and many at once
(`batch`), each skipped when its files are up to date.
"""
