"""`python -m procguide ...`: the `procguide` command, for a child process started with this
interpreter (the bench's `serve`)."""

from procguide.cli import app

app(prog_name="procguide")
