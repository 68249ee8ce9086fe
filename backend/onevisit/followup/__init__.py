"""Follow-up of results (后续处置, seed 002 art. 22): rectification orders and re-inspection,
case filing and closing, transfers and their feedback. See docs/followup.md."""
