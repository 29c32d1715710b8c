from voiceguide.cli import main

main(prog_name="voiceguide")
