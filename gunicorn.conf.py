"""gunicorn settings of the web processes, read when gunicorn starts in this folder.

gevent workers: every webhook waits for its batch's commit (gateway/ingest.py), and green
threads wait without handing the GIL back and forth; with OS threads (gthread) the same code
took a half to two thirds as many webhooks a second (README, Performance).
"""
worker_class = "gevent"

# Counters shared by the web processes and the workers of this machine, for /metrics
# (gateway/metrics.py): the folder must be known before the app imports prometheus_client.
# (Not `import config`: gunicorn would take the name for its own setting.)
from config import prepare_metrics_dir  # noqa: E402

prepare_metrics_dir()
