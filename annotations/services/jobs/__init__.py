"""One lifecycle for every background job: ingest, training, suggestions, prediction,
export and dataset import.

``lifecycle``: asking for a job, the claim (a conditional UPDATE that also takes over a
job whose worker died), the run's heartbeat and checkpoints, and how a run ends. The
services of each kind use it. ``control``: running a job by id (the one task entry
point), cancelling and retrying it, and the sweeper; it knows every kind, so no service
imports it. Import the submodules, not this package.
"""
