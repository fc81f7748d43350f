"""gunicorn settings of the web processes, read when gunicorn starts in this folder.

Every name given a value here that gunicorn knows is one of its settings (so: no `import config`).
"""
import os

from config import prepare_metrics_dir
from logs import gunicorn_config

# gevent workers: every webhook waits for its batch's commit (gateway/ingest.py), and green
# threads wait without handing the GIL back and forth; with OS threads (gthread) the same code
# took a half to two thirds as many webhooks a second (bench/README.md).
worker_class = "gevent"

# Logs (logs.py): text, or JSON lines with LOG_FORMAT=json, for gunicorn's lines and the app's.
# The access log gives the path without its query string: an officer's search may hold a number.
logconfig_dict = gunicorn_config(os.environ.get("LOG_FORMAT", ""), os.environ.get("LOG_LEVEL", "INFO"))
access_log_format = "%(h)s %(m)s %(U)s %(s)s %(M)sms"

# Counters shared by the web processes and the workers of this machine, for /metrics
# (gateway/metrics.py): the folder must be known before the app imports prometheus_client.
prepare_metrics_dir()
