"""The pipeline: from a batch file or a command line to published reports. One concern per module:

config (reports.yml) · parameters (declared notebook parameters) · cache (cache keys) · kernels (kernel start-up)
· execute (one report end to end) · render (the HTML page) · pdf (the page printed by Chromium, --pdf) · publish
(atomic writes, manifests) · index (the index page) · build (build and run) · executors (where reports run)
· processes (the build lock, workers, kernel sockets).

Imports every layer below it; only ``helpers.cli`` imports it.
"""

import sys

# jsonschema imports the optional grammar package rfc3987-syntax when it is installed (jupyterlab pulls it in
# through jupyter-events); it costs ~1.3 s at every nbformat import and checks only "iri" formats, which
# notebooks never use. Marking it absent makes jsonschema skip it (its import is guarded by ImportError).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
