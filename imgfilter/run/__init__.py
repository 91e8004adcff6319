"""Files in, files out: plan jobs, read -> steps -> write each file, run them somewhere, report.

- :mod:`.options`: the typed records a command builds once (:class:`RunOptions`, :class:`Step`);
- :mod:`.jobs`: which files go where, collisions refused before any work;
- :mod:`.one`: one file's route (read eager or lazy -> steps -> write whole or chunked);
- :mod:`.executors`: here, worker processes, or a dask.distributed cluster;
- :mod:`.signals`: stopping (Ctrl-C, SIGTERM, SIGHUP) and the cleanup of temporary files;
- :mod:`.progress`: the progress bar and one-line messages;
- :mod:`.batch`: :func:`run`, from plan to summary line and exit status.

Nothing here imports click; the CLI maps the problems raised here to its errors.
"""
