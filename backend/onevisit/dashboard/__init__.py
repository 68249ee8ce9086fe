"""The dashboard: plan coverage, completion and the results clock (docs/dashboard.md)."""
