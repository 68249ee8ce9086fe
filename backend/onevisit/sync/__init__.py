"""Offline sync: the batch endpoint for signed events (media uploads live in onevisit.media)."""
