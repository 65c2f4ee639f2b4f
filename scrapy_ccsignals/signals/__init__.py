"""The signal families' rules: pure parsers and per-family meanings, one module per family.

Text and bytes in, values out: no Scrapy, no I/O, nothing imported from the layers above
(``policy``, ``gate``, ``records`` or the top-level runtime). Each module cites the
specification its rules come from; ``../shared/SIGNALS.md`` in the project's steering repo
is the rulebook they implement.
"""
