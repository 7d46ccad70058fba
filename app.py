"""Launch the procguide chat UI: `python app.py` (the index must be built: `procguide ingest`)."""

import procguide  # noqa: F401  (switches off network calls before Gradio loads)
from procguide.ui.app import launch

if __name__ == "__main__":
    launch()
