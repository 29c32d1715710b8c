"""A language's catalog: its phrases, and how it says numbers, counts, durations and lists.

Catalogs are data (voiceguide/catalogs/<code>.yaml), one per language, so that a phrase is fixed
by editing its catalog, never the code. A phrase is a template whose fields name how a value is
said, for instance:

    "Exercise {index:number} of {count:number}"       a number spelled out
    "Hold each for {hold:duration}."                   "five seconds", "one minute thirty seconds"
    "{reps:rep}"                                       "ten reps": the count and its unit, agreeing
    "Cvik {index:number} {count:number.from}"          a named form: "z pěti", "ze tří" (Czech)
    "Drž {hold:duration.acc}"                          a grammatical case of the unit ("jednu sekundu")

Numbers are spelled by num2words, never left to the speech engine (which reads some digit forms
wrongly); a catalog adjusts its words by gender and case with word maps. Which plural form a count
takes (Czech: 1 sekunda, 2 sekundy, 5 sekund) follows CLDR's rules, through Babel.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from voiceguide.common.errors import SettingsError

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Unit:
    """A countable noun: its gender (which form of the number goes with it) and its plural forms."""

    gender: str
    forms: Mapping[str, Mapping[str, str]]
    """By case ("nom" always, others where they differ), then by CLDR plural category."""

    def word(self, category: str, case: str = "nom") -> str:
        by_category = self.forms.get(case, {})
        return (
            by_category.get(category)
            or self.forms["nom"].get(category)
            or self.forms["nom"]["other"]
        )


@dataclass(frozen=True, slots=True)
class NumberForm:
    """How a number's words change in one gender or case: whole words, word endings, a preposition."""

    words: Mapping[str, str]
    endings: Mapping[str, str]
    prefixes: tuple[tuple[str, tuple[str, ...]], ...]
    """(text, beginnings): the first whose beginnings match the number's first word (an empty list
    matches any) is put in front, like Czech "z pěti" against "ze tří"."""
    like: str | None
    """Another form applied first (Czech "from" is the genitive with a preposition)."""
    applies_to: str = "every"
    """Which words change: "every" word, only the "last" ("vingt et une", but "un million"), or
    the number only when it is one word "alone" (Czech "jedna sekunda", but "dvacet jedna sekund")."""


class Language:
    """One catalog, ready to fill its phrases."""

    def __init__(self, code: str, catalog: Mapping[str, Any]) -> None:
        self.code = code
        self.name: str = catalog["name"]
        self.lowercase_inside_sentence: bool = catalog.get("lowercase_inside_sentence", False)
        """Whether a phrase written capitalized (a phase name) is lowered mid-sentence; not in German,
        where nouns keep their capital."""
        self.phrases: Mapping[str, str] = catalog["phrases"]
        self.units = {
            name: Unit(
                gender=spec["gender"],
                forms={case: dict(forms) for case, forms in spec["forms"].items()},
            )
            for name, spec in catalog["units"].items()
        }
        numbers = catalog.get("numbers") or {}
        self.forms = {
            name: NumberForm(
                words=spec.get("words", {}),
                endings=spec.get("endings", {}),
                prefixes=tuple(
                    (text, tuple(starts)) for text, starts in spec.get("prefixes", {}).items()
                ),
                like=spec.get("like"),
                applies_to=spec.get("applies_to", "every"),
            )
            for name, spec in numbers.get("forms", {}).items()
        }
        contractions = catalog.get("contractions", {})
        self.contractions = [
            (re.compile(rf"\b{re.escape(written)}\b"), said)
            for written, said in contractions.items()
        ]
        """Words that merge when they meet (French "de une" is "d'une")."""
        self.always = NumberForm(
            words=numbers.get("always", {}), endings={}, prefixes=(), like=None
        )
        """Fixes to num2words's own output in every form (Czech 'dvěstě' is 'dvě stě')."""
        self._formatter = _PhraseFormatter(self)

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    def say(self, key: str, /, *, case: str = "nom", **values: Any) -> str:
        """The phrase *key* with its fields filled in; its `key_<case>` variant where it has one."""
        template = self.phrases.get(f"{key}_{case}") or self.phrases[key]
        said = self._formatter.format(template, **values)
        for pattern, replacement in self.contractions:
            said = pattern.sub(replacement, said)
        return said

    def plural_category(self, count: int | Decimal) -> str:
        return str(_locale(self.code).plural_form(count))

    def plural_categories(self) -> set[str]:
        """Every plural category the language's numbers fall in ("one", "few", "many", "other")."""
        return {*_locale(self.code).plural_form.tags, "other"}

    def number(self, value: int, form: str | None = None) -> str:
        from num2words import num2words

        return self._in_form(str(num2words(value, lang=self.code)), form)

    def ordinal(self, value: int, form: str | None = None) -> str:
        from num2words import num2words

        return self._in_form(str(num2words(value, lang=self.code, to="ordinal")), form)

    def count(self, value: int, unit_name: str, case: str = "nom") -> str:
        """ "five seconds", "jedna sekunda", "un segundo": the number agrees with its unit."""
        unit = self.units[unit_name]
        return f"{self.number(value, self._gender_form(unit, case))} {unit.word(self.plural_category(value), case)}"

    def unit_word(self, value: int | Decimal, unit_name: str, case: str = "nom") -> str:
        return self.units[unit_name].word(self.plural_category(value), case)

    def join(self, items: list[str] | tuple[str, ...]) -> str:
        """ "a, b and c" as the language writes a list."""
        from babel.lists import format_list

        return str(format_list(list(items), locale=self.code)) if items else ""

    def duration(self, ms: int, case: str = "nom") -> str:
        """ "three seconds", "two and a half seconds", "one minute thirty seconds" (to a tenth)."""
        minutes, rest_ms = divmod(ms, 60_000)
        tenths = round(rest_ms / 100)
        if tenths == 600:  # (59.96 s rounds up to a whole minute)
            minutes, tenths = minutes + 1, 0
        said_minutes = self.count(minutes, "minute", case) if minutes else ""
        if minutes and not tenths:
            return said_minutes
        whole, tenth = divmod(tenths, 10)
        if tenth == 0:
            seconds = self.count(whole, "second", case)
        elif tenth == 5 and whole == 0:
            seconds = self.say("half_second", case=case)
        elif tenth == 5:
            seconds = self.say("seconds_and_a_half", case=case, whole=whole)
        else:
            unit = self.unit_word(Decimal(tenths) / 10, "second", case)
            seconds = self.say("seconds_decimal", case=case, whole=whole, tenths=tenth, unit=unit)
        return (
            self.say("minutes_and_seconds", minutes=said_minutes, seconds=seconds)
            if minutes
            else seconds
        )

    def _gender_form(self, unit: Unit, case: str) -> str | None:
        for name in (f"{unit.gender}.{case}", unit.gender):
            if name in self.forms:
                return name
        return None

    def _in_form(self, spelled: str, form_name: str | None) -> str:
        # Words and the separators between them ("quatre-vingt-un": the "un" is a word of its own).
        parts = re.split(r"([ -])", spelled)
        spelled = "".join(self.always.words.get(part, part) for part in parts)
        if form_name is None:
            return spelled
        form = self.forms[form_name]
        if form.like is not None:
            spelled = self._in_form(spelled, form.like)
        parts = re.split(r"([ -])", spelled)
        words = range(0, len(parts), 2)
        changing = {
            "every": words,
            "last": words[-1:],
            "alone": words if len(parts) == 1 else range(0),
        }
        for index in changing[form.applies_to]:
            parts[index] = _changed(parts[index], form)
        spelled = "".join(parts)
        for text, beginnings in form.prefixes:
            if not beginnings or spelled.startswith(beginnings):
                return text + spelled
        return spelled


def _changed(word: str, form: NumberForm) -> str:
    if word in form.words:
        return form.words[word]
    for ending, replacement in form.endings.items():
        if word.endswith(ending):
            return word[: -len(ending)] + replacement
    return word


class _PhraseFormatter(string.Formatter):
    """Fills a phrase's fields; the format spec says how a value is said (see the module doc)."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        language = self.language
        kind, _, form = format_spec.partition(".")
        if not kind:
            return language.number(value) if isinstance(value, int) else str(value)
        if kind == "number":
            return language.number(value, form or None)
        if kind == "ordinal":
            return language.ordinal(value, form or None)
        if kind == "duration":
            return language.duration(value, form or "nom")
        if (
            kind == "word"
        ):  # the unit alone, in the plural form the value asks for: "{n:word.point.acc}"
            unit, _, case = form.partition(".")
            return language.unit_word(value, unit, case or "nom")
        if kind in language.units:
            return language.count(value, kind, form or "nom")
        raise ValueError(f"unknown format {format_spec!r}")


@functools.cache
def _locale(code: str) -> Any:
    from babel import Locale

    return Locale.parse(code)


def language_code(text: str) -> str:
    """ "de" for "de", "DE", "de-AT" or "de_AT": voiceguide tells languages apart, not regions."""
    return text.strip().replace("_", "-").casefold().split("-")[0]


@functools.cache
def catalog_codes() -> list[str]:
    """The languages voiceguide has phrases for."""
    folder = resources.files("voiceguide.language.catalogs")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


@functools.cache
def load_catalog(code: str) -> Language:
    """The catalog for *code* ("de", "cs"); SettingsError listing the catalogs if there is none."""
    base = language_code(code)
    if base not in catalog_codes():
        raise SettingsError(
            f"voiceguide has no phrases in the language {code!r}; it speaks {available_languages()}"
        )
    text = (
        resources.files("voiceguide.language.catalogs")
        .joinpath(f"{base}.yaml")
        .read_text(encoding="utf-8")
    )
    return Language(base, yaml.safe_load(text))


def language_name(code: str) -> str:
    """The language's own name for itself ("Deutsch"), for languages without a catalog too."""
    if code in catalog_codes():
        return load_catalog(code).name
    try:
        return str(_locale(code).display_name)
    except ValueError:  # (babel's UnknownLocaleError is a ValueError)
        return code


def available_languages() -> str:
    """ "cs (čeština), de (Deutsch), en (English), ..." for messages."""
    return ", ".join(f"{code} ({load_catalog(code).name})" for code in catalog_codes())
