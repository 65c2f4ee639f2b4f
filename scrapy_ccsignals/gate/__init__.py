"""The use gate: every family's signals for one response gathered in layer order, the
pure ``decide()`` that combines them, and the provenance record that carries the result.
Imports ``signals``, ``policy`` (the origin's parsed policy) and ``records``; no I/O.
"""
