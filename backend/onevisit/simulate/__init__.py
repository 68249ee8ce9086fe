"""Simulated phones and field work through the real HTTP API (tests, demo, benchmarks)."""
