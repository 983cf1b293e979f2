#!/bin/sh
# Builds __ID__.wasm with componentize-py (pip install -r requirements.txt).
set -e
cd "$(dirname "$0")"
"${COMPONENTIZE_PY:-componentize-py}" -d wit -w plugin componentize app -o __ID__.wasm
