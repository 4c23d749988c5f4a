"""Serving: the BentoML extraction service (`service.py`) and building it into a Bento (`bento.py`)."""
