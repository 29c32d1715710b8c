"""Reading: plans and profiles from YAML into frozen, typed objects, every value checked with its
file, line and field; then a person's settings (profile layers, `--set`, week, scales) applied,
with where each value came from, and the plan's texts put into the session's language.
"""
