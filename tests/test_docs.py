"""The help texts, checked the way sqlite-utils' tests/test_docs.py checks its own: every command and
subcommand explains itself with an example of its use, and the defaults that the help and the
README state are the ones the code uses. (The README's console examples are run in test_readme.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from voiceguide.build.session import RenderSettings
from voiceguide.cli.commands import main
from voiceguide.output.formats import DEFAULT_BITRATES, EXTENSIONS, AudioFormat
from voiceguide.sound.speechcache import MAX_BYTES

README = Path(__file__).parent.parent / "README.md"


def every_command(
    group: click.Group = main, path: tuple[str, ...] = ("voiceguide",)
) -> Iterator[tuple[str, ...]]:
    """The path of every command under *group*, the group itself first, subgroups included."""
    yield path
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))
        else:
            yield (*path, name)


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path[1:], "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def examples_in(text: str) -> list[str]:
    """The lines of the help's "Example:" or "Examples:" section."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if re.fullmatch(r"\s*Examples?:", line)]
    assert len(starts) == 1, f"expected one Example(s): section in:\n{text}"
    section = []
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            break
        section.append(line.strip())
    return section


def test_every_command_is_checked() -> None:
    """The walk below reaches every command, subcommands included (so a new one cannot slip past)."""
    assert set(every_command()) >= {
        ("voiceguide",),
        ("voiceguide", "build"),
        ("voiceguide", "cache", "clear"),
    }


@pytest.mark.parametrize("path", list(every_command()), ids=" ".join)
def test_command_has_help_with_an_example_of_itself(path: tuple[str, ...]) -> None:
    """`--help` of every command says what it does and shows at least one example of that command."""
    command = command_at(path)
    assert command.help and command.short_help != "", path
    text = help_text(path)
    mine = [line for line in examples_in(text) if line.startswith(" ".join(path))]
    assert mine, f"{' '.join(path)} --help has no example of {' '.join(path)}:\n{text}"


def stated_bitrates(text: str) -> dict[str, str]:
    """{format: bitrate} from a text like "64k for mp3 and m4a, 48k for opus"."""
    stated = {}
    for bitrate, names in re.findall(r"(\d+k) for ([\w/ ]+?)(?=,|\)|$)", text):
        for name in re.split(r" and |/|, ", names):
            stated[name.strip()] = bitrate
    return stated


def commands_with(option: str) -> list[tuple[str, ...]]:
    paths = [
        path for path in every_command() if any(option in p.opts for p in command_at(path).params)
    ]
    assert paths, option
    return paths


@pytest.mark.parametrize("path", commands_with("--bitrate"), ids=" ".join)
def test_bitrate_help_states_the_encoders_own_defaults(path: tuple[str, ...]) -> None:
    """The default bitrates `--bitrate --help` names are those the encoder uses, for every format."""
    text = " ".join(help_text(path).split())  # undo click's wrapping
    found = re.search(r"--bitrate TEXT .*?\(default: ([^)]*)\)", text)
    assert found, text
    expected = {
        ext.lstrip("."): DEFAULT_BITRATES[fmt]
        for ext, fmt in EXTENSIONS.items()
        if fmt in DEFAULT_BITRATES
    }
    assert stated_bitrates(found.group(1)) == expected


@pytest.mark.parametrize(
    ("option", "default"),
    [
        ("--loudness", RenderSettings().loudness_lufs),
        ("--music-level", RenderSettings().music_level_db),
    ],
)
def test_option_defaults_in_help_are_the_renderers(option: str, default: float) -> None:
    """The defaults click shows for the rendering options are the renderer's own."""
    for path in commands_with(option):
        (param,) = [p for p in command_at(path).params if option in p.opts]
        assert param.default == default, path
        assert f"[default: {default}" in " ".join(help_text(path).split()), path


@pytest.mark.parametrize("path", commands_with("--format"), ids=" ".join)
def test_format_choices_are_the_encoders_formats(path: tuple[str, ...]) -> None:
    """--format offers every format the encoder writes, by the names its files end in."""
    (param,) = [p for p in command_at(path).params if "--format" in p.opts]
    assert isinstance(param.type, click.Choice)
    assert {EXTENSIONS[f".{name}"] for name in param.type.choices} == set(AudioFormat)


def test_readme_states_the_default_bitrates_of_the_code() -> None:
    """The README's sentence on bitrates names the encoder's defaults."""
    names = {AudioFormat.MP3: "MP3", AudioFormat.M4A: "AAC", AudioFormat.OPUS: "Opus"}
    by_rate: dict[str, list[str]] = {}
    for audio_format, rate in DEFAULT_BITRATES.items():
        by_rate.setdefault(rate, []).append(names[audio_format])
    sentence = ", ".join(f"{rate} for {' and '.join(formats)}" for rate, formats in by_rate.items())
    assert sentence in " ".join(README.read_text(encoding="utf-8").split())


def test_readme_states_the_speech_caches_limit_in_the_unit_it_is_set_in() -> None:
    """The cache's limit is a whole number of MiB, and the README says which."""
    assert MAX_BYTES % 2**20 == 0
    assert f"at most {MAX_BYTES // 2**20} MiB" in README.read_text(encoding="utf-8")
