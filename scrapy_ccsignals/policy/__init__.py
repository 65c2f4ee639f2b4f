"""Per-origin policy: what an origin is, fetching its policy files through the engine
(the only I/O the access gate needs) and the stores that keep them across requests, runs
and workers. Imports ``signals`` and ``records``; never the middlewares or the extension
(the fetcher's host is a protocol).
"""
