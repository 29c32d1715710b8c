"""Sessions in the listener's language: the catalogs, how each language says numbers, counts,
durations and lists, the plan's own texts per language, and the options that choose the language.

No audio is rendered here. The expected phrases are written as a native speaker says them, not as
the code happens to print them. The CLI tests that lay out a session synthesize its phrases with the
real engine only to measure them (once per test run, thanks to the run's speech cache).
"""

from __future__ import annotations

import dataclasses
import re
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from voiceguide.cli.commands import main
from voiceguide.cli.support import customized_plan
from voiceguide.common.errors import PlanError, SettingsError
from voiceguide.language.catalog import Language, available_languages, catalog_codes, load_catalog
from voiceguide.plans.customize import Customized, customize
from voiceguide.plans.loader import load_plan_text
from voiceguide.plans.plan import Plan
from voiceguide.plans.profile import Layer, Located
from voiceguide.script.timeline import EventKind, Phase, build_timeline
from voiceguide.script.wording import PHRASE_KEYS, Wording, sentence
from voiceguide.sound.speech import (
    Synthesizer,
    VoiceInfo,
    _default_voice,
    _voices_name,
    installed_voices,
    list_voices,
    speaks,
    voice_for_language,
)
from voiceguide.sound.speechcache import SpeechCache

CODES = catalog_codes()
TRANSLATED = [code for code in CODES if code != "en"]
"""The languages the default plan is translated into (English is its own)."""

GRAMMATICAL_CASES = ("nom", "gen", "dat", "acc", "voc", "loc", "ins")
"""The cases a phrase may have a `<key>_<case>` variant for."""
UNITS = ("second", "minute", "rep", "round", "set")
"""The units the session counts in, which every catalog must be able to say."""

TEXT, COUNT, MS = "text", "count", "ms"
GIVEN: dict[str, dict[str, str]] = {
    "default_safety": {},
    "equipment": {"items": TEXT},
    "length": {"minutes": COUNT, "seconds": COUNT},
    "length_short": {"minutes": COUNT, "seconds": COUNT},
    "begin": {},
    "exercise_heading": {"index": COUNT, "count": COUNT, "name": TEXT},
    "start_side": {"side": TEXT},
    "reps": {"reps": COUNT},
    "rounds": {"reps": COUNT, "work": MS},
    "sets": {"sets": COUNT, "what": TEXT},
    "each_side": {"what": TEXT},
    "hold_each": {"hold": MS},
    "hold_once": {"hold": MS},
    "rest_between_rounds": {"rest": MS},
    "phase": {"name": TEXT, "length": MS},
    "get_ready": {},
    "hold": {},
    "go": {},
    "halfway": {},
    "time_left": {"left": MS},
    "release": {},
    "stop": {},
    "relax": {},
    "rest": {},
    "next_rep": {"rep": COUNT, "reps": COUNT},
    "next_round": {"rep": COUNT, "reps": COUNT},
    "last_rep": {},
    "last_round": {},
    "switch": {"side": TEXT},
    "next_set": {"set": COUNT, "sets": COUNT},
    "circuit": {"name": TEXT, "rounds": COUNT},
    "done": {},
    "frequency": {"frequency": TEXT},
    "half_second": {},
    "seconds_and_a_half": {"whole": COUNT},
    "seconds_decimal": {"whole": COUNT, "tenths": COUNT, "unit": TEXT},
    "minutes_and_seconds": {"minutes": TEXT, "seconds": TEXT},
    "page_no_audio": {"file": TEXT},
}
"""What the session passes to each phrase (read off wording.py and language.py): a text already in
the session's language, a count, or a length in milliseconds. A phrase not listed is given nothing."""

COUNT_SAMPLES = {
    "minutes": (2, 5, 12, 21, 45),
    "seconds": (10, 20, 30, 60, 80),
    "index": (1, 2, 3, 4, 5),
    "count": (2, 2, 5, 5, 12),
    "reps": (1, 2, 5, 10, 21),
    "rep": (1, 2, 3, 4, 10),
    "sets": (2, 2, 3, 4, 5),
    "set": (1, 2, 2, 3, 4),
    "rounds": (1, 2, 3, 5, 12),
    "whole": (1, 2, 5, 10, 21),
    "tenths": (1, 3, 7, 9, 2),
}
"""Realistic values for the counts: a rep is never past the reps, an exercise never past the count."""
MS_SAMPLES = (500, 1000, 1500, 2300, 5000, 20_000, 21_000, 61_000, 90_000)
"""Realistic lengths: half a second to a minute and a half, with halves, tenths and ones in them."""

ENGLISH_WORDS = re.compile(
    r"\b(exercise|get ready|release|rest|next up|seconds?|hold|halfway|well done|let's begin|"
    r"this session|switch to|start with|reps?|rounds?|each side|you will need|relax|go)\b",
    re.IGNORECASE,
)
"""Words of the English catalog that no other language's session should say."""


def fields_of(template: str) -> dict[str, str]:
    """The fields of a phrase template and their format specs."""
    return {
        name: spec or ""
        for _, name, spec, _ in string.Formatter().parse(template)
        if name is not None
    }


def base_and_case(key: str) -> tuple[str, str]:
    """("seconds_and_a_half", "acc") for a case variant, (key, "nom") for a phrase itself."""
    base, _, case = key.rpartition("_")
    return (base, case) if base and case in GRAMMATICAL_CASES else (key, "nom")


@pytest.fixture(scope="module")
def localized_plans() -> dict[str, Customized]:
    """The default plan as it is spoken in each language (no speech measured)."""
    return {
        code: customized_plan(
            None, profile=None, sets=(), voice=None, rate=None, week=None, language=code
        )
        for code in CODES
    }


def text_samples(lang: Language, plan: Plan) -> dict[str, str]:
    """Texts in *lang* as the session passes them: the plan's own, and counts said by the catalog."""
    exercise = next(e for e in plan.exercises if e.sides)
    return {
        "items": lang.join(list(plan.equipment)),
        "name": exercise.name,
        "side": exercise.sides[0],
        "what": lang.count(10, "rep"),
        "frequency": plan.frequency or "",
        "file": "feet-for-back-pain.mp3",
        "unit": lang.unit_word(Decimal("2.3"), "second"),
        "minutes": lang.count(1, "minute"),
        "seconds": lang.count(30, "second"),
    }


# --- 1. Catalogs -------------------------------------------------------------------------------


def test_the_shipped_languages() -> None:
    """voiceguide has catalogs for Czech, German, English, Spanish and French, each named in its
    own language, and every phrase this file knows the values of is a phrase of the session."""
    assert CODES == ["cs", "de", "en", "es", "fr"]
    assert (
        available_languages()
        == "cs (čeština), de (Deutsch), en (English), es (español), fr (français)"
    )
    assert set(GIVEN) <= set(PHRASE_KEYS)


@pytest.mark.parametrize("code", CODES)
def test_catalog_has_every_phrase_and_nothing_else(code: str) -> None:
    """Every phrase key is in the catalog; any other key is a `<key>_<case>` variant of one of them."""
    phrases = load_catalog(code).phrases
    assert [key for key in PHRASE_KEYS if key not in phrases] == []
    strays = [
        key
        for key in phrases
        if key not in PHRASE_KEYS and base_and_case(key)[0] not in PHRASE_KEYS
    ]
    assert strays == [], f"{code}: keys that are neither a phrase nor a case of one: {strays}"
    assert all(isinstance(text, str) and text.strip() for text in phrases.values())


@pytest.mark.parametrize("code", CODES)
def test_every_phrase_asks_only_for_what_the_session_gives_in_the_right_form(code: str) -> None:
    """Each phrase (and each case variant) uses only the values the session passes to it, a text
    plainly, a length as a duration, a count as a number, an ordinal or a unit."""
    lang = load_catalog(code)
    wrong = []
    for key, template in lang.phrases.items():
        base, _ = base_and_case(key)
        for name, spec in fields_of(template).items():
            kind = GIVEN.get(base, {}).get(name)
            spec_kind = spec.partition(".")[0]
            if kind is None:
                wrong.append(
                    f"{key}: {{{name}}} is not given to {base!r} (given: {sorted(GIVEN.get(base, {}))})"
                )
            elif kind == TEXT and spec:
                wrong.append(f"{key}: {{{name}:{spec}}} is a text, it takes no format")
            elif kind == MS and spec_kind != "duration":
                wrong.append(
                    f"{key}: {{{name}:{spec}}} is a length in ms, it must be said as a duration"
                )
            elif kind == COUNT and spec_kind not in ("", "number", "ordinal", "word", *lang.units):
                wrong.append(f"{key}: {{{name}:{spec}}} is a count, not a {spec_kind!r}")
    assert wrong == []


@pytest.mark.parametrize("code", CODES)
def test_every_phrase_renders_with_realistic_values(
    code: str, localized_plans: dict[str, Customized]
) -> None:
    """Every phrase and case variant renders through Language.say for a range of realistic values,
    with no braces, no digits, no doubled or stray spaces left in what is said."""
    lang = load_catalog(code)
    texts = text_samples(lang, localized_plans[code].plan)
    bad = []
    rendered = 0
    for key in lang.phrases:
        base, case = base_and_case(key)
        for i, ms in enumerate(MS_SAMPLES):
            values: dict[str, Any] = {}
            for name, kind in GIVEN.get(base, {}).items():
                if kind == TEXT:
                    values[name] = texts[name]
                elif kind == MS:
                    values[name] = ms
                else:
                    samples = COUNT_SAMPLES[name]
                    values[name] = samples[i % len(samples)]
            said = lang.say(base, case=case, **values)
            rendered += 1
            own = said  # (the plan's own texts may hold digits: "2 to 3 times a day")
            for name, value in values.items():
                if GIVEN[base][name] == TEXT:
                    own = own.replace(value, "")
            if (
                not said.strip()
                or re.search(r"[{}0-9]", own)
                or "  " in said
                or said != said.strip()
                or " ," in said
            ):
                bad.append(f"{key} with {values}: {said!r}")
    assert rendered >= len(PHRASE_KEYS) * len(MS_SAMPLES)
    assert bad == [], "\n".join(bad)


# --- 2. Units ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_unit_has_a_form_for_every_plural_category(code: str) -> None:
    """Each catalog has every unit the session counts in, each with a nominative form for every
    plural category of its language, and its other cases only in categories the language has."""
    lang = load_catalog(code)
    categories = lang.plural_categories()
    assert "other" in categories and "one" in categories
    assert [unit for unit in UNITS if unit not in lang.units] == []
    for name, unit in lang.units.items():
        nominative = unit.forms["nom"]
        missing = categories - set(nominative)
        assert not missing, f"{code}: unit {name!r} has no nominative for {sorted(missing)}"
        assert all(word.strip() for word in nominative.values())
        for case, forms in unit.forms.items():
            assert case in GRAMMATICAL_CASES, f"{code}: unit {name!r} has an unknown case {case!r}"
            assert set(forms) <= categories, (
                f"{code}: {name}.{case} has categories {sorted(set(forms) - categories)}"
            )


# --- 3. Numbers, plurals, durations, lists ------------------------------------------------------


def _said(code: str, call: tuple[Any, ...]) -> str:
    lang = load_catalog(code)
    what, *args = call
    if what == "say":
        key, values = args
        return lang.say(key, **values)
    result: str = getattr(lang, what)(*args)
    return result


SAID = [
    # Czech: the plural form after 1, 2-4 and 5+, the gender of the number, the cases.
    ("cs", ("count", 1, "second"), "jedna sekunda"),
    ("cs", ("count", 2, "second"), "dvě sekundy"),
    ("cs", ("count", 4, "second"), "čtyři sekundy"),
    ("cs", ("count", 5, "second"), "pět sekund"),
    ("cs", ("count", 0, "second"), "nula sekund"),
    (
        "cs",
        ("count", 21, "second"),
        ("dvacet jedna sekund", "dvacet jedna sekunda", "jednadvacet sekund"),
    ),
    ("cs", ("count", 1, "rep"), "jedno opakování"),
    ("cs", ("count", 2, "rep"), "dvě opakování"),
    ("cs", ("count", 5, "rep"), "pět opakování"),
    ("cs", ("count", 1, "round"), "jedno kolo"),
    ("cs", ("count", 2, "round"), "dvě kola"),
    ("cs", ("count", 5, "round"), "pět kol"),
    ("cs", ("count", 21, "round"), ("dvacet jedna kol", "dvacet jedno kolo", "jednadvacet kol")),
    ("cs", ("count", 1, "set"), "jedna série"),
    ("cs", ("count", 3, "set"), "tři série"),
    ("cs", ("count", 5, "set"), "pět sérií"),
    ("cs", ("count", 1, "minute", "acc"), "jednu minutu"),
    ("cs", ("count", 2, "minute", "acc"), "dvě minuty"),
    ("cs", ("count", 12, "minute", "acc"), "dvanáct minut"),
    ("cs", ("duration", 1000), "jedna sekunda"),
    ("cs", ("duration", 1000, "acc"), "jednu sekundu"),
    ("cs", ("duration", 1000, "loc"), "jedné sekundě"),
    ("cs", ("duration", 3000, "loc"), "třech sekundách"),
    ("cs", ("duration", 20_000, "loc"), "dvaceti sekundách"),
    ("cs", ("duration", 500), "půl sekundy"),
    ("cs", ("duration", 1500), "jedna a půl sekundy"),
    ("cs", ("duration", 1500, "acc"), "jednu a půl sekundy"),
    ("cs", ("duration", 1500, "loc"), "jedné a půl sekundě"),
    ("cs", ("duration", 2500), "dvě a půl sekundy"),
    ("cs", ("duration", 2300), "dvě celé tři sekundy"),
    ("cs", ("duration", 5300), "pět celých tři sekundy"),
    ("cs", ("duration", 90_000), "jedna minuta a třicet sekund"),
    ("cs", ("duration", 90_000, "acc"), "jednu minutu a třicet sekund"),
    ("cs", ("duration", 90_000, "loc"), "jedné minutě a třiceti sekundách"),
    (
        "cs",
        ("duration", 21_000, "acc"),
        ("dvacet jedna sekund", "dvacet jednu sekundu", "jednadvacet sekund"),
    ),
    ("cs", ("say", "next_rep", {"rep": 1, "reps": 5}), "Opakování jedna z pěti."),
    ("cs", ("say", "next_rep", {"rep": 2, "reps": 3}), "Opakování dva ze tří."),
    ("cs", ("say", "next_rep", {"rep": 2, "reps": 2}), "Opakování dva ze dvou."),
    ("cs", ("say", "next_rep", {"rep": 4, "reps": 6}), "Opakování čtyři ze šesti."),
    ("cs", ("say", "next_rep", {"rep": 3, "reps": 4}), "Opakování tři ze čtyř."),
    ("cs", ("say", "next_round", {"rep": 3, "reps": 10}), "Kolo tři z deseti."),
    ("cs", ("say", "next_set", {"set": 2, "sets": 3}), "Další série: dvě ze tří."),
    (
        "cs",
        ("say", "exercise_heading", {"index": 1, "count": 5, "name": "Dřep"}),
        "Cvik jedna z pěti: Dřep",
    ),
    ("cs", ("say", "length", {"minutes": 12, "seconds": 12}), "Cvičení trvá asi dvanáct minut."),
    ("cs", ("say", "length", {"minutes": 2, "seconds": 2}), "Cvičení trvá asi dvě minuty."),
    (
        "cs",
        ("say", "length", {"minutes": 21, "seconds": 21}),
        (
            "Cvičení trvá asi dvacet jedna minut.",
            "Cvičení trvá asi dvacet jednu minutu.",
            "Cvičení trvá asi jednadvacet minut.",
        ),
    ),
    (
        "cs",
        ("say", "length_short", {"minutes": 30, "seconds": 30}),
        "Cvičení trvá asi třicet sekund.",
    ),
    ("cs", ("say", "hold_once", {"hold": 1000}), "Vydržte jednu sekundu."),
    (
        "cs",
        ("say", "hold_once", {"hold": 21_000}),
        (
            "Vydržte dvacet jedna sekund.",
            "Vydržte dvacet jednu sekundu.",
            "Vydržte jednadvacet sekund.",
        ),
    ),
    ("cs", ("say", "rounds", {"reps": 5, "work": 20_000}), "pět kol po dvaceti sekundách"),
    ("cs", ("say", "rounds", {"reps": 2, "work": 1000}), "dvě kola po jedné sekundě"),
    # German: "eine" Sekunde but "ein" Satz, halves, ordinals.
    ("de", ("count", 1, "second"), "eine Sekunde"),
    ("de", ("count", 2, "second"), "zwei Sekunden"),
    ("de", ("count", 0, "second"), "null Sekunden"),
    ("de", ("count", 21, "second"), "einundzwanzig Sekunden"),
    ("de", ("count", 1, "rep"), "eine Wiederholung"),
    ("de", ("count", 10, "rep"), "zehn Wiederholungen"),
    ("de", ("count", 1, "round"), "eine Runde"),
    ("de", ("count", 1, "set"), "ein Satz"),
    ("de", ("count", 3, "set"), "drei Sätze"),
    ("de", ("count", 1, "minute"), "eine Minute"),
    ("de", ("duration", 500), "eine halbe Sekunde"),
    ("de", ("duration", 1500), "eineinhalb Sekunden"),
    ("de", ("duration", 2500), "zweieinhalb Sekunden"),
    ("de", ("duration", 2300), "zwei Komma drei Sekunden"),
    ("de", ("duration", 61_000), "eine Minute und eine Sekunde"),
    ("de", ("duration", 120_000), "zwei Minuten"),
    ("de", ("say", "next_set", {"set": 2, "sets": 3}), "Als Nächstes: der zweite von drei Sätzen."),
    ("de", ("say", "next_set", {"set": 1, "sets": 2}), "Als Nächstes: der erste von zwei Sätzen."),
    ("de", ("say", "next_rep", {"rep": 2, "reps": 10}), "Wiederholung zwei von zehn."),
    (
        "de",
        ("say", "exercise_heading", {"index": 1, "count": 5, "name": "Kniebeuge"}),
        "Übung eins von fünf: Kniebeuge",
    ),
    (
        "de",
        ("say", "length", {"minutes": 12, "seconds": 12}),
        "Diese Einheit dauert etwa zwölf Minuten.",
    ),
    ("de", ("say", "hold_each", {"hold": 3000}), "Jeweils drei Sekunden halten."),
    ("de", ("say", "rounds", {"reps": 5, "work": 20_000}), "fünf Runden, jeweils zwanzig Sekunden"),
    # Spanish: "un"/"una" by gender, "veintiún", halves after the unit, feminine ordinals.
    ("es", ("count", 1, "second"), "un segundo"),
    ("es", ("count", 2, "second"), "dos segundos"),
    ("es", ("count", 0, "second"), "cero segundos"),
    ("es", ("count", 21, "second"), "veintiún segundos"),
    ("es", ("count", 31, "second"), "treinta y un segundos"),
    ("es", ("count", 1, "rep"), "una repetición"),
    ("es", ("count", 21, "rep"), ("veintiuna repeticiones", "veintiún repeticiones")),
    ("es", ("count", 200, "rep"), "doscientas repeticiones"),
    ("es", ("count", 1, "set"), "una serie"),
    ("es", ("count", 1, "round"), "una ronda"),
    ("es", ("count", 1, "minute"), "un minuto"),
    ("es", ("duration", 500), "medio segundo"),
    ("es", ("duration", 1500), "un segundo y medio"),
    ("es", ("duration", 2500), "dos segundos y medio"),
    ("es", ("duration", 2300), "dos coma tres segundos"),
    ("es", ("say", "next_set", {"set": 2, "sets": 3}), "Ahora, la segunda de tres series."),
    ("es", ("say", "next_set", {"set": 1, "sets": 2}), "Ahora, la primera de dos series."),
    (
        "es",
        ("say", "exercise_heading", {"index": 1, "count": 5, "name": "Sentadilla"}),
        "Ejercicio uno de cinco: Sentadilla",
    ),
    (
        "es",
        ("say", "length", {"minutes": 12, "seconds": 12}),
        "Esta sesión dura unos doce minutos.",
    ),
    ("es", ("say", "hold_once", {"hold": 1000}), "Mantén un segundo."),
    # French: "une" seconde but "un" tour, singular for zero, "et demie", "d'une".
    ("fr", ("count", 1, "second"), "une seconde"),
    ("fr", ("count", 0, "second"), "zéro seconde"),
    ("fr", ("count", 2, "second"), "deux secondes"),
    ("fr", ("count", 21, "second"), "vingt et une secondes"),
    (
        "fr",
        ("say", "length", {"minutes": 81, "seconds": 81}),
        "Cette séance dure environ quatre-vingt-une minutes.",
    ),
    ("fr", ("count", 1, "round"), "un tour"),
    ("fr", ("count", 21, "round"), "vingt et un tours"),
    ("fr", ("count", 1, "rep"), "une répétition"),
    ("fr", ("count", 1, "set"), "une série"),
    ("fr", ("count", 200, "second"), "deux cents secondes"),
    ("fr", ("duration", 0), "zéro seconde"),
    ("fr", ("duration", 500), "une demi-seconde"),
    ("fr", ("duration", 1500), "une seconde et demie"),
    ("fr", ("duration", 2500), "deux secondes et demie"),
    ("fr", ("duration", 21_500), "vingt et une secondes et demie"),
    ("fr", ("duration", 2300), "deux virgule trois secondes"),
    ("fr", ("say", "rounds", {"reps": 5, "work": 1000}), "cinq tours d'une seconde"),
    ("fr", ("say", "sets", {"sets": 2, "what": "une minute"}), "deux séries d'une minute"),
    ("fr", ("say", "rounds", {"reps": 3, "work": 8000}), "trois tours de huit secondes"),
    ("fr", ("say", "next_set", {"set": 2, "sets": 3}), "Ensuite, la deuxième série sur trois."),
    ("fr", ("say", "next_set", {"set": 1, "sets": 2}), "Ensuite, la première série sur deux."),
    (
        "fr",
        ("say", "exercise_heading", {"index": 1, "count": 5, "name": "Squat"}),
        "Exercice un sur cinq : Squat",
    ),
    (
        "fr",
        ("say", "length", {"minutes": 12, "seconds": 12}),
        "Cette séance dure environ douze minutes.",
    ),
    # English.
    ("en", ("count", 1, "second"), "one second"),
    ("en", ("count", 0, "second"), "zero seconds"),
    ("en", ("count", 2, "second"), "two seconds"),
    ("en", ("count", 21, "second"), "twenty-one seconds"),
    ("en", ("count", 1, "rep"), "one rep"),
    ("en", ("count", 10, "rep"), "ten reps"),
    ("en", ("count", 1, "set"), "one set"),
    ("en", ("duration", 500), "half a second"),
    ("en", ("duration", 1500), "one and a half seconds"),
    ("en", ("duration", 2500), "two and a half seconds"),
    ("en", ("duration", 2300), "two point three seconds"),
    ("en", ("duration", 120_000), "two minutes"),
    ("en", ("say", "next_set", {"set": 2, "sets": 3}), "Next: set two of three."),
    (
        "en",
        ("say", "exercise_heading", {"index": 1, "count": 5, "name": "Squat"}),
        "Exercise one of five: Squat",
    ),
    (
        "en",
        ("say", "length", {"minutes": 12, "seconds": 12}),
        "This session takes about twelve minutes.",
    ),
    ("en", ("say", "hold_each", {"hold": 1000}), "Hold each for one second."),
    # The time left, and the last rep or round, in every language.
    ("en", ("say", "time_left", {"left": 10_000}), "ten seconds left."),
    ("en", ("say", "time_left", {"left": 60_000}), "one minute left."),
    ("de", ("say", "time_left", {"left": 10_000}), "Noch zehn Sekunden."),
    ("de", ("say", "time_left", {"left": 60_000}), "Noch eine Minute."),
    ("cs", ("say", "time_left", {"left": 30_000}), "Ještě třicet sekund."),
    ("cs", ("say", "time_left", {"left": 60_000}), "Ještě jedna minuta."),
    ("cs", ("say", "time_left", {"left": 120_000}), "Ještě dvě minuty."),
    ("es", ("say", "time_left", {"left": 10_000}), "diez segundos para terminar."),
    ("es", ("say", "time_left", {"left": 60_000}), "un minuto para terminar."),
    ("fr", ("say", "time_left", {"left": 10_000}), "Encore dix secondes."),
    ("fr", ("say", "time_left", {"left": 60_000}), "Encore une minute."),
    ("en", ("say", "last_rep", {}), "Last rep."),
    ("en", ("say", "last_round", {}), "Last round."),
    ("de", ("say", "last_rep", {}), "Letzte Wiederholung."),
    ("de", ("say", "last_round", {}), "Letzte Runde."),
    ("cs", ("say", "last_rep", {}), "Poslední opakování."),
    ("cs", ("say", "last_round", {}), "Poslední kolo."),
    ("es", ("say", "last_rep", {}), "Última repetición."),
    ("es", ("say", "last_round", {}), "Última ronda."),
    ("fr", ("say", "last_rep", {}), "Dernière répétition."),
    ("fr", ("say", "last_round", {}), "Dernier tour."),
]


def _id(code: str, call: tuple[Any, ...], expected: str | tuple[str, ...]) -> str:
    case = call[-1] if call[0] != "say" and call[-1] in GRAMMATICAL_CASES else None
    return f"{code}: {expected if isinstance(expected, str) else expected[0]}" + (
        f" ({case})" if case else ""
    )


@pytest.mark.parametrize(
    ("code", "call", "expected"),
    SAID,
    ids=[_id(code, call, expected) for code, call, expected in SAID],
)
def test_language_says_it_as_a_native_speaker_does(
    code: str, call: tuple[Any, ...], expected: str | tuple[str, ...]
) -> None:
    """Counts, durations and phrases come out as correct language: the right plural form and gender
    of number, the right case, contractions; where the language allows several forms, any of them."""
    said = _said(code, call)
    allowed = (expected,) if isinstance(expected, str) else expected
    assert said in allowed, (
        f"{code} {call}: said {said!r}, expected {' or '.join(repr(a) for a in allowed)}"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("cs", "jedna minuta a třicet sekund"),
        ("de", "eine Minute und dreißig Sekunden"),
        ("en", "one minute thirty seconds"),
        ("es", "un minuto y treinta segundos"),
        ("fr", "une minute et trente secondes"),
    ],
)
def test_a_minute_and_a_half_in_each_language(code: str, expected: str) -> None:
    """90 seconds are said as one minute and thirty seconds, in every language."""
    assert load_catalog(code).duration(90_000) == expected


@pytest.mark.parametrize(
    ("code", "two", "three"),
    [
        ("cs", "a a b", "a, b a c"),
        ("de", "a und b", "a, b und c"),
        ("en", "a and b", "a, b, and c"),
        ("es", "a y b", "a, b y c"),
        ("fr", "a et b", "a, b et c"),
    ],
)
def test_lists_are_joined_as_each_language_joins_them(code: str, two: str, three: str) -> None:
    """A list of one is itself, of two and three joined with the language's "and" (a no-break space,
    which Czech typography puts after a one-letter word, counts as a space)."""
    lang = load_catalog(code)
    assert lang.join(["a"]) == "a"
    assert lang.join([]) == ""
    assert lang.join(["a", "b"]).replace("\xa0", " ") == two
    assert lang.join(["a", "b", "c"]).replace("\xa0", " ") == three


@pytest.mark.parametrize(
    ("code", "counted"),
    [
        ("cs", ["jedna", "dva", "tři"]),
        ("de", ["eins", "zwei", "drei"]),
        ("en", ["one", "two", "three"]),
        ("es", ["uno", "dos", "tres"]),
        ("fr", ["un", "deux", "trois"]),
    ],
)
def test_counting_out_loud(code: str, counted: list[str]) -> None:
    """The seconds counted during a hold are the language's counting words."""
    wording = Wording(code)
    assert [wording.count(n) for n in (1, 2, 3)] == counted


# --- 4. The spoken session -----------------------------------------------------------------------


def _speech(customized: Customized) -> list[str]:
    timeline = build_timeline(plan=customized.plan, speech_ms=lambda text: 60 * len(text))
    return [
        event.text for event in timeline.events if event.kind is EventKind.SPEECH and event.text
    ]


@pytest.fixture(scope="module")
def spoken(localized_plans: dict[str, Customized]) -> dict[str, list[str]]:
    """What each language's session of the default plan says, laid out with 60 ms per character."""
    return {code: _speech(customized) for code, customized in localized_plans.items()}


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_translated_session_has_no_english_left(
    code: str, spoken: dict[str, list[str]], localized_plans: dict[str, Customized]
) -> None:
    """The default plan spoken in a translation says its title and names in that language, and
    nothing of the English catalog or the plan's English texts."""
    said = spoken[code]
    plan = localized_plans[code].plan
    assert len(said) > 300
    assert sentence(plan.title) in said
    assert plan.title != localized_plans["en"].plan.title
    english = [(text, found.group(0)) for text in said if (found := ENGLISH_WORDS.search(text))]
    assert english == []
    english_plan = localized_plans["en"].plan
    english_texts = [english_plan.title, *(e.name for e in english_plan.exercises)]
    english_texts += [side for e in english_plan.exercises for side in e.sides]
    assert [t for t in english_texts if any(t in text for text in said)] == []
    english_counts = {Wording("en").count(n) for n in range(1, 61)}
    shared = (set(said) & set(spoken["en"])) - english_counts
    assert shared == set(), f"{code} says these as the English session does: {sorted(shared)}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_translated_session_counts_in_its_language(
    code: str, localized_plans: dict[str, Customized]
) -> None:
    """The seconds counted during holds are the language's own numbers, and the translated default
    plan lacks no text in any of its languages."""
    customized = localized_plans[code]
    timeline = build_timeline(plan=customized.plan, speech_ms=lambda text: 60 * len(text))
    counted = [
        e.text for e in timeline.events if e.kind is EventKind.SPEECH and e.phase is Phase.HOLD
    ]
    wording = Wording(code)
    numbers = {wording.count(n) for n in range(1, 11)}
    cues = {load_catalog(code).say(key) for key in ("hold", "halfway", "release")}
    assert len(counted) > 50 and set(counted) - cues <= numbers
    assert {wording.count(n) for n in (1, 2, 3)} <= set(counted)
    assert dict(customized.missing_translations) == dict.fromkeys(TRANSLATED, ())


def test_exercises_are_chosen_before_the_sides_are_translated() -> None:
    """`sides: left` picks the left sides by their English names, and a German session then says
    the German name of the left side and never the right one."""
    customized = customized_plan(
        None, profile=None, sets=("sides=left",), voice=None, rate=None, week=None, language="de"
    )
    sides = [side for exercise in customized.plan.exercises for side in exercise.sides]
    assert sides == ["linkes Bein", "linker Fuß", "linker Fuß"]


# --- 5. Plan texts per language -----------------------------------------------------------------

TWO_LANGUAGE_PLAN = """\
language: en
title: {en: Feet, de: Füße}
exercises:
  - name: Squeeze
    instructions: {en: Squeeze your toes., de: Krallen Sie die Zehen.}
    hold: 2
"""


def _in_language(plan: Plan, code: str) -> Customized:
    return customize(
        plan=plan,
        layers=[Layer(origin="--language", settings={"language": Located(code, "--language")})],
    )


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as raised:
        load_plan_text(text, display_name="plan.yaml")
    return raised.value.problems


def test_a_text_per_language_is_spoken_in_the_session_language() -> None:
    """A plan in English with German versions of some texts loads as English; in German it says the
    German versions; in Czech it falls back to English and names each text it has no Czech for."""
    plan = load_plan_text(TWO_LANGUAGE_PLAN, display_name="plan.yaml")
    assert (plan.language, plan.title, plan.exercises[0].instructions) == (
        "en",
        "Feet",
        "Squeeze your toes.",
    )

    german = _in_language(plan, "de")
    assert german.plan.language == "de"
    assert (german.plan.title, german.plan.exercises[0].instructions) == (
        "Füße",
        "Krallen Sie die Zehen.",
    )
    assert german.plan.exercises[0].name == "Squeeze"
    assert german.missing_translations["de"] == ("exercise 'Squeeze' name: 'Squeeze'",)

    czech = _in_language(plan, "cs")
    assert (czech.plan.language, czech.plan.title) == ("cs", "Feet")
    assert czech.missing_translations["cs"] == (
        "title: 'Feet'",
        "exercise 'Squeeze' name: 'Squeeze'",
        "exercise 'Squeeze' instructions: 'Squeeze your toes.'",
    )
    assert _in_language(plan, "en").plan == dataclasses.replace(plan, week=None)


def test_a_text_without_the_plans_language_is_a_problem_with_its_place() -> None:
    """A text mapping with no version in the plan's language names file, line, field and language."""
    problems = _problems(TWO_LANGUAGE_PLAN.replace("{en: Feet, de: Füße}", "{de: Füße, fr: Pieds}"))
    assert len(problems) == 1
    assert problems[0].startswith("plan.yaml:2:8: title: ")
    assert "no 'en' version" in problems[0] and "de, fr" in problems[0]


@pytest.mark.parametrize("key", ["english", "text", "de_DE!"])
def test_a_text_mapping_with_other_keys_is_a_problem(key: str) -> None:
    """A mapping whose keys are not language codes is refused where it is, saying what was expected."""
    problems = _problems(
        TWO_LANGUAGE_PLAN.replace("{en: Feet, de: Füße}", f"{{en: Feet, '{key}': Füße}}")
    )
    assert len(problems) == 1
    assert problems[0].startswith("plan.yaml:2:8: title: expected text, or the text per language")


def test_per_language_lists_must_have_the_same_length() -> None:
    """Sides given as a list per language must give every side in every language."""
    text = TWO_LANGUAGE_PLAN + "    sides: {en: [left foot, right foot], de: [linker Fuß]}\n"
    problems = _problems(text)
    assert len(problems) == 1
    assert problems[0].startswith("plan.yaml:7:")
    assert "sides" in problems[0] and "'de'" in problems[0] and "'en'" in problems[0]
    assert "1 " in problems[0] and "2 " in problems[0]


def test_per_language_lists_and_items_are_translated() -> None:
    """Sides given as a list per language or item by item, and phase names per language, are all
    spoken in the session's language."""
    text = """\
title: Both
exercises:
  - name: Press
    hold: 2
    sides: {en: [left foot, right foot], de: [linker Fuß, rechter Fuß]}
  - name: Breathe
    phases: [{name: {en: Inhale, de: Einatmen}, seconds: 4}, {name: {en: Exhale, de: Ausatmen}, seconds: 4}]
    sides: [{en: left arm, de: linker Arm}, {en: right arm, de: rechter Arm}]
"""
    german = _in_language(load_plan_text(text), "de").plan
    assert german.exercises[0].sides == ("linker Fuß", "rechter Fuß")
    assert german.exercises[1].sides == ("linker Arm", "rechter Arm")
    assert [step.name for step in german.exercises[1].steps] == ["Einatmen", "Ausatmen"]


def test_a_language_without_a_catalog_is_a_problem_listing_the_languages() -> None:
    """`language: it` is refused at its place, with every language voiceguide speaks."""
    problems = _problems(TWO_LANGUAGE_PLAN.replace("language: en", "language: it"))
    assert len(problems) == 1
    assert problems[0].startswith("plan.yaml:1:11: language: ")
    assert "'it'" in problems[0]
    assert available_languages() in problems[0]
    for code in CODES:
        assert f"{code} (" in problems[0]


def test_a_german_plan_needs_no_mapping() -> None:
    """A plan in German with plain texts loads and is spoken in German with German phrases; spoken
    in English it keeps its German texts and says that each of them has no English version."""
    text = """\
language: de
title: Füße
exercises:
  - name: Zehen krallen
    instructions: Krallen Sie die Zehen in den Boden.
    reps: 2
    hold: 3
"""
    plan = load_plan_text(text)
    assert (plan.language, plan.title, dict(plan.translations)) == ("de", "Füße", {})
    said = _speech(_in_language(plan, "de"))
    assert said[0] == "Füße."
    assert "Zwei Wiederholungen. Jeweils drei Sekunden halten." in said
    assert "Machen Sie sich bereit." in said
    english = _in_language(plan, "en")
    assert english.plan.title == "Füße"
    assert len(english.missing_translations["en"]) == 3
    assert "Get ready." in _speech(english)


def test_the_same_text_translated_differently_in_two_places_keeps_each_translation() -> None:
    """English "left" may be "levá noha" in one exercise and "levé chodidlo" in another: each place
    is spoken with its own translation (or the plan is refused as ambiguous), never the other's."""
    text = """\
language: en
title: Sides
exercises:
  - name: {en: Leg lift, cs: Zvedání nohy}
    hold: 2
    sides: {en: [left, right], cs: [levá noha, pravá noha]}
  - name: {en: Foot press, cs: Tlak chodidlem}
    hold: 2
    sides: {en: [left, right], cs: [levé chodidlo, pravé chodidlo]}
"""
    try:
        plan = load_plan_text(text, display_name="plan.yaml")
    except PlanError as error:  # refusing the plan is right too, if it says where
        assert any(
            problem.startswith("plan.yaml:") and "left" in problem for problem in error.problems
        )
        return
    czech = _in_language(plan, "cs").plan
    assert [exercise.sides for exercise in czech.exercises] == [
        ("levá noha", "pravá noha"),
        ("levé chodidlo", "pravé chodidlo"),
    ]


def test_a_regional_plan_language_finds_its_texts() -> None:
    """A plan written in `language: de-AT` gives its texts under de-AT: they are its own texts."""
    text = """\
language: de-AT
title: {de-AT: Füße, en: Feet}
exercises:
  - name: Zehen krallen
    hold: 2
"""
    plan = load_plan_text(text, display_name="plan.yaml")
    assert (plan.language, plan.title) == ("de", "Füße")
    assert _in_language(plan, "en").plan.title == "Feet"


# --- 6. The command line -------------------------------------------------------------------------


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (the first to measure speech in a process probes which ffmpeg to use)
def test_validate_in_czech_is_ok(runner: CliRunner) -> None:
    """`validate --language cs` of the default plan exits 0, says OK, and lists nothing missing."""
    result = runner.invoke(main, ["validate", "--language", "cs"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<default plan feet-for-back-pain.yaml>: OK, 5 exercises, ")
    assert "version" not in result.output


@pytest.mark.speech
def test_validate_lists_texts_missing_in_a_language(runner: CliRunner, tmp_path: Path) -> None:
    """validate of a plan with some German texts lists the texts that have none, and still exits 0."""
    plan = tmp_path / "partly.yaml"
    plan.write_text(TWO_LANGUAGE_PLAN.replace("hold: 2", "hold: 2\n    reset: 3\n    reps: 2"))
    result = runner.invoke(main, ["validate", str(plan)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "1 text of the plan has no Deutsch (de) version; the plan's own is spoken there:"
    )
    assert lines[1] == "  exercise 'Squeeze' name: 'Squeeze'"
    assert lines[-1].startswith(f"{plan}: OK, 1 exercise, ")


@pytest.mark.speech
def test_validate_of_texts_in_a_language_without_a_catalog(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A plan that also gives a text in Italian (which voiceguide cannot speak) builds; validate
    then either accepts it, listing the texts without an Italian version, or names the place."""
    plan = tmp_path / "italian.yaml"
    plan.write_text(
        TWO_LANGUAGE_PLAN.replace("{en: Feet, de: Füße}", "{en: Feet, de: Füße, it: Piedi}")
    )
    result = runner.invoke(main, ["validate", str(plan)])
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert "(it) version" in result.stdout and "exercise 'Squeeze' name" in result.stdout
    else:
        assert result.exit_code == 2 and f"{plan}:2:" in result.stderr, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--language", "it"],
        ["preview", "--language", "it"],
        ["build", "--language", "it"],
        ["preview", "--set", "language=it"],
        [
            "program",
            "data/feet-for-back-pain.yaml",
            "--weeks",
            "1",
            "--language",
            "it",
            "-o",
            "{tmp}",
        ],
        [
            "batch",
            "data/feet-for-back-pain.yaml",
            "data/profiles",
            "--language",
            "it",
            "-o",
            "{tmp}",
        ],
    ],
    ids=["validate", "preview", "build", "set", "program", "batch"],
)
def test_an_unknown_language_exits_2_listing_the_languages(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    """--language it (and --set language=it) is a usage error naming every language voiceguide speaks."""
    root = Path(__file__).parent.parent
    args = [
        str(root / a) if a.startswith("data/") else a.replace("{tmp}", str(tmp_path)) for a in args
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert "'it'" in result.stderr
    for code, name in [
        ("cs", "čeština"),
        ("de", "Deutsch"),
        ("en", "English"),
        ("es", "español"),
        ("fr", "français"),
    ]:
        assert f"{code} ({name})" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.speech
def test_voices_in_german_lists_only_german_voices(runner: CliRunner) -> None:
    """`voices --language de` lists every installed German voice, gmw/de among them, and no other."""
    result = runner.invoke(main, ["voices", "--language", "de"], catch_exceptions=False)
    assert result.exit_code == 0
    listed = [line.split()[1] for line in result.stdout.splitlines()[1:]]
    voices = {voice.id: voice for voice in list_voices()}
    german = {
        vid
        for vid, v in voices.items()
        if any(re.fullmatch(r"de(-.*)?", lang.casefold()) for lang in v.languages)
    }
    assert "gmw/de" in listed
    assert set(listed) == german
    assert result.stderr == f"{len(listed)} {'voice' if len(listed) == 1 else 'voices'}\n"


@pytest.mark.speech
def test_voices_in_an_unknown_language_is_a_usage_error(runner: CliRunner) -> None:
    """`voices --language xx` exits 2 and says which languages the installed voices speak."""
    result = runner.invoke(main, ["voices", "--language", "xx"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and result.stdout == ""
    assert "no installed voice speaks 'xx'" in result.stderr
    assert "de (Deutsch)" in result.stderr and "fr (français)" in result.stderr


@pytest.mark.speech
@pytest.mark.parametrize(
    ("profile", "line"),
    [("language: de\n", "1:11"), ("settings:\n  language: de\n", "2:13")],
    ids=["top", "settings"],
)
def test_a_profile_chooses_the_language(
    runner: CliRunner, tmp_path: Path, profile: str, line: str
) -> None:
    """A profile's `language: de`, at its top or in its settings, makes the session German, and
    `preview --explain` names the profile's line as the source."""
    path = tmp_path / "person.yaml"
    path.write_text(profile)
    result = runner.invoke(
        main, ["preview", "--explain", "--profile", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert ["language", "de", f"{path}:{line}"] in [
        row.split() for row in result.stdout.splitlines()
    ]
    assert '"Füße zuerst: fünf Übungen gegen Schmerzen im unteren Rücken."' in result.stdout
    assert '"Machen Sie sich bereit."' in result.stdout and "Get ready" not in result.stdout


def test_a_profile_giving_the_language_twice_is_a_problem(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A profile with `language:` both at the top and in settings is refused at its place."""
    path = tmp_path / "twice.yaml"
    path.write_text("language: de\nsettings:\n  language: cs\n")
    result = runner.invoke(main, ["validate", "--profile", str(path)])
    assert result.exit_code == 2
    assert f"{path}:1:11" in result.stderr and "given twice" in result.stderr


@pytest.mark.speech
def test_set_language_speaks_czech(runner: CliRunner) -> None:
    """`--set language=cs` makes the session Czech, and --explain says so."""
    result = runner.invoke(
        main, ["preview", "--explain", "--set", "language=cs"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert ["language", "cs", "--set", "'language=cs'"] in [
        row.split() for row in result.stdout.splitlines()
    ]
    assert '"Nejdřív chodidla: pět cviků na bolest v kříži."' in result.stdout
    assert '"Připravte se."' in result.stdout


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (the first to measure speech in a process probes which ffmpeg to use)
def test_exercises_are_still_named_in_the_plans_language(runner: CliRunner) -> None:
    """With --language de, `--set "Toe presses.reps=3"` gives the German "Zehen krallen" three reps,
    and --explain names --language as the source of the language."""
    args = ["preview", "--explain", "--language", "de", "--set", "Toe presses.reps=3"]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [row.split() for row in result.stdout.splitlines()]
    assert ["language", "de", "--language"] in rows
    assert ["Toe", "presses.reps", "3", "--set", "'Toe", "presses.reps=3'"] in rows
    assert '"Übung eins von fünf: Zehen krallen."' in result.stdout
    assert '"Drei Wiederholungen. Jeweils drei Sekunden halten."' in result.stdout
    assert '"Wiederholung zwei von drei."' in result.stdout
    assert '"Letzte Wiederholung."' in result.stdout  # (the third, and last)
    assert "Zehn Wiederholungen. Jeweils drei Sekunden halten." not in result.stdout


def test_language_codes_are_read_loosely() -> None:
    """--language takes any case and a region: DE, de-AT and de_CH all speak German."""
    for written in ("DE", "de-AT", "de_CH"):
        customized = customized_plan(
            None, profile=None, sets=(), voice=None, rate=None, week=None, language=written
        )
        assert customized.plan.language == "de"
        assert customized.plan.title.startswith("Füße zuerst")


# --- 7. The voice for a language -----------------------------------------------------------------


@pytest.mark.speech
def test_the_default_voice_for_each_language() -> None:
    """Without a chosen voice, German is spoken by gmw/de, French by roa/fr, English by gmw/en, and
    every language voiceguide has phrases in by a voice that speaks it."""
    voices = installed_voices()
    chosen = {code: voice_for_language(code, voices) for code in CODES}
    assert {
        code: v.id if v else None for code, v in chosen.items() if code in ("de", "fr", "en")
    } == {
        "de": "gmw/de",
        "fr": "roa/fr",
        "en": "gmw/en",
    }
    for code, voice in chosen.items():
        assert voice is not None and speaks(voice, code), f"{code}: {voice}"
        assert any(lang.casefold().split("-")[0] == code for lang in voice.languages), (
            f"{code}: {voice}"
        )


HANDMADE = [
    VoiceInfo("gmw/en-029", "English (Caribbean)", ("en-029",), "Male"),
    VoiceInfo("gmw/en-us", "English (America)", ("en-us",), "Male"),
    VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",), "Male"),
    VoiceInfo("gmw/de", "German", ("de",), "Male"),
    VoiceInfo("roa/fr-be", "French (Belgium)", ("fr-be",), "Male"),
    VoiceInfo("roa/it", "Italian", ("it",), "Male"),
]
"""A few voices as espeak-ng names them: no Czech or Spanish, and Italian, which has no catalog."""


def test_a_voice_for_the_language_itself_before_a_regional_one() -> None:
    """The language's own voice is preferred to a regional one listed before it; a regional voice
    is taken when there is no other; no voice is found for a language none speaks."""
    assert voice_for_language("en", HANDMADE) == HANDMADE[2]
    assert voice_for_language("de", HANDMADE) == HANDMADE[3]
    assert voice_for_language("fr", HANDMADE) == HANDMADE[4]
    assert voice_for_language("cs", HANDMADE) is None
    assert (
        not speaks(HANDMADE[3], "d")
        and speaks(HANDMADE[4], "fr")
        and not speaks(HANDMADE[4], "fr-ch")
    )


def test_no_voice_for_the_language_is_a_settings_error_listing_the_spoken_ones() -> None:
    """With no Czech voice, Czech is refused, naming the languages the voices do speak (of those
    voiceguide has phrases in); English falls back to the engine's default voice instead."""
    with pytest.raises(SettingsError) as raised:
        _default_voice("cs", HANDMADE)
    message = str(raised.value)
    assert "no installed voice speaks čeština (cs)" in message
    assert "de (Deutsch), en (English), fr (français)" in message
    assert "es (" not in message and "it (" not in message
    assert _default_voice("en", [HANDMADE[3]]) is None


def test_a_synthesizer_for_a_language_without_a_voice_is_refused(tmp_path: Path) -> None:
    """A Synthesizer asked for Spanish when the (cached) voice list has no Spanish voice raises a
    SettingsError before any speech is made; one for German is made."""
    cache = SpeechCache(engine="handmade voices", folder=tmp_path)
    cache.store_json(_voices_name(cache), [dataclasses.asdict(voice) for voice in HANDMADE])
    with pytest.raises(SettingsError, match=r"no installed voice speaks español \(es\)"):
        Synthesizer(voice=None, rate=150, sample_rate=22_050, cache=cache, language="es")
    with Synthesizer(
        voice=None, rate=150, sample_rate=22_050, cache=cache, language="de"
    ) as synthesizer:
        assert synthesizer.synthesized == 0
    assert list(tmp_path.glob("speech/*/*.pcm")) == []
