"""Answers: the built-in extractive answerer, the optional LLM answerer, citation checking,
abstention, notices about superseded law, and rendering an answer with its sources.
"""

from procguide.answer.result import Answer, Citation

__all__ = ["Answer", "Citation"]
