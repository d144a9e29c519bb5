"""OML living report: data contract, statistics, text and build for the factsheet
"Sociale relaties met leraren" (OnderwijsMonitor Limburg, groep 8, 2023–2025)."""

__version__ = "0.1.0"
