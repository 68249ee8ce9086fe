"""HTTP API of the auth area."""

ROUTES: list = []
