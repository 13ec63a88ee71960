"""Workers: the processes that train runs. A worker claims a handed-out run and trains it at low priority; the
launchers hand runs to a local process or to a Celery pool (and see who is alive)."""
