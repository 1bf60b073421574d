"""Fixtures that start real services for the tests (registered in tests/conftest.py)."""


def subprocess_database_url() -> str:
    """DATABASE_URL of the test database (SQLite file or PostgreSQL), for the subprocesses a
    test starts (app instances, task workers)."""
    from django.db import connection

    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
        f"{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
