"""gunicorn settings of Viewer Admin:
`gunicorn viewer_admin.wsgi -c python:viewer_admin.gunicorn_conf --bind …`.

`script/server` (production mode) and the README's deploy steps use it. It logs requests to
stdout with paths as route templates and query strings as their keys only, so that no Study
Instance UID, name, email or description reaches the access log
(`viewer_admin.gunicorn_logging`). Bind address, workers and threads stay on the command line.
"""

logger_class = "viewer_admin.gunicorn_logging.RedactingLogger"
accesslog = "-"
errorlog = "-"
# gunicorn's default format (the "combined" log format); `r` and `f` are redacted.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
