"""Background jobs: long work (evidence ingest, report builds, reminders, large imports) recorded as a ``job`` row
and run by ``lmreview worker`` from a huey queue, or in a thread of the web process when no worker is running.

The row is the truth: its status, progress, result and errors, the files it was given and the files it made
(``job_file``). The queue only carries the job's id. See docs/architecture.md, "Background jobs".
"""
