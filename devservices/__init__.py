"""Real local services for the tests, the demo server and the benchmark.

Each service is started from Debian's packages on a free loopback port in a temporary
directory and stopped (its directory removed) when the `with` block ends:

    with devservices.postgres.running() as database_url: ...
    with devservices.redis.running() as redis_url: ...
    with devservices.orthanc.running() as dicomweb_url: ...

`python -m devservices --with postgres,redis -- COMMAND ...` runs a command with the services
up and their URLs in the environment (see `devservices.__main__`). A service whose package is
missing raises `ServiceUnavailable`, whose message says how to install it.
"""
