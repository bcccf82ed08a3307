"""Hurl walk-throughs of the API, run by the pytest collector in `hurl/conftest.py`."""
