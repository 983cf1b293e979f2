"""The entry module of a componentized Python strategy (componentize-py's
`app` argument): it exports the author's `Strategy` from app.py through the
SDK's component adapter. Authors do not edit it; app.py stays plain Python,
importable without a component build."""

from app import Strategy as _Authored

from canvas_sdk.component import export

Strategy = export(_Authored)
