"""`socialcredit serve`: a local web explorer over the same run folders as the command line.

A JSON API (api.py, documented at /openapi.json) that the pages use and nothing else; a queue
whose runs execute in worker processes, never in the server (queue.py); plain HTML pages
whose scripts and styles all come from this package and plotly's (pages/). The engine knows
nothing of this room: it is used through its public functions only.
"""

from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
