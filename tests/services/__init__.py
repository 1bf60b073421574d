"""Fixtures that start real services for the tests (registered in tests/conftest.py)."""
