"""procguide: cited guidance on procurement flexibilities for commissioning with social business models.

Importing the package switches off every call home (model hubs, telemetry, analytics), so that
nothing reaches the network at run time and no user has to set these variables themselves.

It also sets the thread defaults chosen by measurement on a 2-core machine (README, Performance),
before NumPy or torch load; an environment variable set by the operator wins:
- OPENBLAS_NUM_THREADS=1: a question is embedded in NumPy, and several questions are answered at
  once. With two BLAS threads each, the server spent 227 ms of CPU per answer (threads spinning)
  against 98 ms with one, and 4 users got 1.04x the throughput of 1 against 1.49x.
- OMP_WAIT_POLICY=PASSIVE: torch embeds ingest's batches on every core; passive waiting embedded
  38 passages/s against 36 on a quiet machine, and 21 against 17 with another process busy.
"""

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}
_THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
}
for _name, _value in (_OFFLINE_ENV | _THREAD_ENV).items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
