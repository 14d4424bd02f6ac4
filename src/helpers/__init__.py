"""ballotbook: an analytical report kit for party politics.

Layers (data flows one way): ``data`` (load and validate inputs) -> models (``seats``, ``polls``,
``simulate``, ``coalitions``, ``primaries``, ``timeline``) -> views (``charts``, ``tables``) -> notebooks ->
pipeline (``reports``, ``cli``). A lower layer never imports a higher one.
"""

__version__ = "0.1.0"
