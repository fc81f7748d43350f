"""gunicorn settings of the web processes, read when gunicorn starts in this folder.

gevent workers: every webhook waits for its batch's commit (gateway/ingest.py), and green
threads wait without handing the GIL back and forth; with OS threads (gthread) the same code
took a half to two thirds as many webhooks a second (README, Performance).
"""
worker_class = "gevent"
