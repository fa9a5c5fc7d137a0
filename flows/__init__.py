"""bankmetrics: Chinese bank news -> evidenced quantities in a DuckDB warehouse.

One module per stage (ingest, clean, extract, normalise, load, export); `pipeline` wires them
into the Prefect flow and `cli` is the command line. Nothing runs at import time.
"""

__version__ = "0.1.0"
