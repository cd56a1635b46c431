"""Jobs spread over workers: the Celery app, its tasks, and the in-process runner that does the same work.

With `RECRUITER_BROKER` set (a Redis URL) the faces enqueue a job's items as Celery tasks and return at once;
`recruiter worker` runs them on any machine that reaches the broker and the shared database (`RECRUITER_DB`).
Without it nothing changes: the same item code (`recruiter.tasks.work`) runs in-process (`run_job_inline`).

- `submit`  turns a request (URLs to scrape, files to import, a discovery) into a Job with one item per unit
            and hands it to the broker or the in-process runner;
- `work`    what one item does (scrape + save + embed, save + embed a chunk of rows, one search) and how a job
            is finished (index synced, discovery ranked, state settled by its counts);
- `app`     the Celery app: its fault-tolerance settings, the worker's start-up, the beat-schedule hook;
- `limiter` per-host politeness shared by all workers through Redis.

The job rows are the truth (`recruiter.core.jobs`): Celery only carries "run item K of job J", so a lost,
duplicated or redelivered message can delay a job but never corrupt it.
"""
