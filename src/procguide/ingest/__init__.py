"""Ingest: load documents, split them on their structure, and add, replace or remove them in the index."""

from procguide.ingest.document import IngestError, SourceDocument
from procguide.ingest.pipeline import IngestReport, discover, ingest_paths

__all__ = ["IngestError", "IngestReport", "SourceDocument", "discover", "ingest_paths"]
