"""Field work: what inspectors record on site, and what it adds up to (docs/events.md).

- `codes`: the code lists (item results, national result codes, dispositions, special
  outcomes, refusal reasons) with their Chinese labels.
- `bodies`: `check_body(event_type, body)`, the contract of each event type's body.
- `projection`: `project_visit(...)`, the visit's state rebuilt from its events (a fold);
  `views` turns the fold into the frozen `model.VisitState`.
- `record`: the inspection record document, its hash and short code.

Pure: no database, no HTTP. The store feeds events in log order; the API serves the state.
"""
