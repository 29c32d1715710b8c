"""The command line on top: click commands, their options, messages and exit codes."""
