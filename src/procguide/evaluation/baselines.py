"""Baselines for the eval report: the same questions and the same answerer, with retrieval swapped
for BM25 alone, or for the naive LangChain recipe (RecursiveCharacterTextSplitter 1000/200, dense
top-4 from Chroma, no fusion).
"""

from __future__ import annotations

from pathlib import Path

from procguide.assistant import Assistant
from procguide.config import Settings
from procguide.index import Index, NaiveRecipeStore
from procguide.ingest import IngestError, discover
from procguide.ingest.loaders import load_document
from procguide.retrieve import NaiveRecipeSearch, Retriever, keyword_only_search

BASELINES = ("bm25", "naive")


def naive_store(settings: Settings, paths: list[Path]) -> NaiveRecipeStore:
    """Load the same documents as whole texts with their document-level metadata only."""
    store = NaiveRecipeStore(settings)
    documents = []
    for path in discover(paths)[0]:
        try:
            doc = load_document(path)
        except IngestError:
            continue
        text = "\n\n".join(b.text for b in doc.blocks)
        meta = {"doc_id": doc.doc_id, "title": doc.title, "url": doc.url,
                "jurisdiction": doc.jurisdiction, "doc_type": doc.doc_type}
        if doc.provisions:
            meta["provisions"] = list(doc.provisions)
        documents.append((text, meta))
    store.add_documents(documents)
    return store


def baseline_assistant(name: str, settings: Settings, index: Index, paths: list[Path]) -> Assistant:
    retriever: Retriever
    if name == "bm25":
        retriever = keyword_only_search
    elif name == "naive":
        retriever = NaiveRecipeSearch(naive_store(settings, paths))
    else:
        raise ValueError(f"Unknown baseline '{name}': choose from {', '.join(BASELINES)}")
    return Assistant(settings, index, retriever=retriever)
