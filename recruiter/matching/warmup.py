"""Loading the embedding model in the background while a command starts up.

A cold `recruiter rank` spends most of its time importing the database layer and numpy (about half a second of
CPU) and then loads the model (onnxruntime, the tokenizer, a session: a tenth of a second or more). Neither needs
the other, so the model loads in a thread from the command's first line and the ranking takes it when it gets
there (`recruiter.matching.backends.prefetch`). On a machine with a core to spare the two overlap; on a busy one
the command loses nothing. This module imports nothing heavy itself: the thread does.
"""

from __future__ import annotations

import atexit
import threading


def start_loading_model() -> threading.Thread:
    """Start loading the configured model (`RECRUITER_MODEL`) in a daemon thread; returns the thread.

    The process waits for the thread at exit (a command that failed early does not leave it half-way through a
    native library's start-up during interpreter shutdown)."""
    thread = threading.Thread(target=_load, name="recruiter-model-warmup", daemon=True)
    thread.start()
    atexit.register(thread.join, 30)
    return thread


def _load() -> None:
    try:
        from recruiter.matching.backends import model_key, prefetch

        prefetch(model_key())
    except Exception:  # the command's own load of the model reports any problem
        pass


__all__ = ["start_loading_model"]
