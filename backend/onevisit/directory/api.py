"""HTTP API of the directories."""

ROUTES: list = []
