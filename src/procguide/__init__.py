"""procguide: cited guidance on procurement flexibilities for commissioning with social business models.

Importing the package switches off every call home (model hubs, telemetry, analytics), so that
nothing reaches the network at run time and no user has to set these variables themselves.
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
for _name, _value in _OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
