from voiceguide.cli.commands import main

main(prog_name="voiceguide")
