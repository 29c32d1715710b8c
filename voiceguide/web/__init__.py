"""`voiceguide serve`: a local web page to tailor a plan for a person (a profile) and build the
session, for those who do not write YAML. An optional extra (`pip install 'voiceguide[serve]'`):
nothing here is imported unless the command runs."""
