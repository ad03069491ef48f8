"""Settings of the worker processes the worker tests start: the site's, plus a test app.

``tests.workers.apps`` holds each job at its first checkpoint while SLOW_JOB_SECONDS is
set, so that a test can kill or stop the worker in the middle of a job of each kind.
"""

from tagging_site.settings import *  # noqa: F403
from tagging_site.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.workers.apps.SlowJobsConfig"]
