"""gunicorn settings of the web processes, read when gunicorn starts in this folder.

gevent workers: every webhook waits for its batch's commit (gateway/ingest.py), and green
threads wait without contending for the GIL; with OS threads (gthread) the same code took
half the webhooks a second (README, Performance).
"""
worker_class = "gevent"
