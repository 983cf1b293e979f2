#!/bin/sh
# Builds __ID__.wasm with componentize-py (pip install -r requirements.txt).
# The entry module canvas_component.py exports app.py's Strategy through the
# SDK's component adapter; app.py stays plain Python for `python3 -m unittest`.
set -e
cd "$(dirname "$0")"
"${COMPONENTIZE_PY:-componentize-py}" -d wit -w plugin componentize canvas_component -o __ID__.wasm
