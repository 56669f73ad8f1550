"""Batches: analyze, check or animate hundreds of inputs into one results folder, resumably.

- :mod:`.inputs` — files, folders and CSV manifests expanded into items, each with its resume key
  (the SHA-256 of its files' contents and its normalised options);
- :mod:`.ledger` — ``results.jsonl``, one line per finished input, appended and synced one by one;
- :mod:`.jobs` — one input through its single-item pipeline (the same function on every engine);
- :mod:`.engines` — a local process pool, or Ray (an existing cluster or one on 127.0.0.1);
- :mod:`.dashboard` — ``summary.csv`` and ``index.html``, worst first;
- :mod:`.runner` — :func:`run_batch`, all of it in order.
"""

from steadymotion.batch.engines import ENGINES, LocalEngine, RayEngine, make_engine
from steadymotion.batch.inputs import KINDS, BatchItem, expand_inputs
from steadymotion.batch.jobs import run_item
from steadymotion.batch.ledger import Ledger
from steadymotion.batch.runner import BatchSummary, run_batch

__all__ = ["ENGINES", "KINDS", "BatchItem", "BatchSummary", "Ledger", "LocalEngine", "RayEngine", "expand_inputs",
           "make_engine", "run_batch", "run_item"]
