#!/bin/sh
# Builds __ID__.wasm with componentize-js (npm install first, or set COMPONENTIZE_JS).
set -e
cd "$(dirname "$0")"
"${COMPONENTIZE_JS:-node_modules/.bin/componentize-js}" app.js --wit wit -n plugin -o __ID__.wasm -d http -d fetch-event
