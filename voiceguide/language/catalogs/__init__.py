"""The phrase catalogs, one YAML file per language (see voiceguide/language/catalog.py)."""
