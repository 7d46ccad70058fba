"""Tests against a real small LLM served by llama.cpp (`make test-llm`); skipped otherwise."""
