"""Display sessions: a display client's session tags its display's results and keeps a
live summary of the tracks seen (docs/api.md "Sessions", docs/results.md).

- ``summary``: the summary's pure merge logic.
- ``services``: start, end, read and expire sessions (the API and the farm call these).
- ``batch``: what the results consumer does per batch: which session each result is in,
  and patching the open sessions' summaries.
- ``signalling``: ``cms.signals.session_updated``, at most once a second per session
  (its Redis key family), and once at the close.
"""
