"""What a background job says (``Job.message``, and ``Job.stage`` while it runs), in the
reader's language.

A job stores English sentences (its worker has no reader's language): the lifecycle
writes why a job was taken over, queued again, cancelled or retried, and each kind's
run writes its outcome or why it failed. As ``display.step_message`` does for the
processing steps, each known sentence is recognised here and said again through a
translatable template; a reason inside a sentence (after "queued again: ", "cancelled:
"...) is said again the same way, and words no pattern knows (an exception's own text)
stay as written. The reasons a job's end leaves on its object (a video's error, a
model version's note, a snapshot's error) are the same sentences. The API keeps the
stored English: it is data.
"""

from __future__ import annotations

import re

from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from annotations.models import ExportSnapshot, ModelVersion
from annotations.services.learning.prediction_jobs import WAITING_STAGE
from annotations.views.display import STEP_LABELS, Say, said_again, step_label, step_message


def job_message(message: str) -> str:
    """``message`` in the active language when it is one a job writes, else as it is."""
    known = said_again(_KNOWN, message)
    return message if known is None else known


def _who(name: str) -> str:
    return _("an admin") if name == "an admin" else name


def _worker(name: str) -> str:
    """A worker's name (``host:pid``); a run that recorded none is "a worker" or "unknown"."""
    # Translators: said of a worker whose name was not recorded, after "taken over from".
    return {"a worker": _("a worker"), "unknown": _("unknown")}.get(name, name)


def _state(choices: type[ExportSnapshot.State] | type[ModelVersion.State], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _steps(names: str) -> str:
    return ", ".join(step_label(name) for name in names.split(", "))


def _number(text: str) -> str:
    """A figure the gate wrote, with the reader's decimal separator."""
    return text.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def _reference(name: str) -> str:
    return _("zero-shot") if name == "zero-shot" else name


def _gate_note(g: dict[str, str]) -> str:
    """The gate's note (``training._comparison_note``), figure by figure."""
    if "promoted" in g:
        verdict = _("promoted")
    else:
        verdict = _("kept as a candidate (not above %(reference)s + margin %(margin)s)") % {
            "reference": _reference(g["below"]),
            "margin": _number(g["margin"]),
        }
    caveat = (
        _(" (v%(version)s had trained on some of them)") % {"version": g["seen_by"]}
        if "seen_by" in g
        else ""
    )
    return ngettext(
        "%(verdict)s: %(metric)s %(candidate)s (%(reference)s: %(reference_score)s) on the "
        "same %(n)s held-out video%(caveat)s; difference %(difference)s (95%% CI %(low)s to "
        "%(high)s)",
        "%(verdict)s: %(metric)s %(candidate)s (%(reference)s: %(reference_score)s) on the "
        "same %(n)s held-out videos%(caveat)s; difference %(difference)s (95%% CI %(low)s to "
        "%(high)s)",
        int(g["videos"]),
    ) % {
        "verdict": verdict,
        "metric": g["metric"],
        "candidate": _number(g["candidate"]),
        "reference": _reference(g["reference"]),
        "reference_score": _number(g["reference_score"]),
        "n": g["videos"],
        "caveat": caveat,
        "difference": _number(g["difference"]),
        "low": _number(g["low"]),
        "high": _number(g["high"]),
    }


# What ``job_object`` says when a job's object is gone, by the name each kind gives it.
_DELETED = {
    "video": gettext_lazy("the video was deleted"),
    "snapshot": gettext_lazy("the snapshot was deleted"),
    "model version": gettext_lazy("the model version was deleted"),
    "prediction request": gettext_lazy("the prediction request was deleted"),
    "project": gettext_lazy("the project was deleted"),
}
_FIXED = {
    # Prediction.
    "no tag above its threshold": gettext_lazy("no tag above its threshold"),
    "the uploaded file is no longer there; send it again": gettext_lazy(
        "the uploaded file is no longer there; send it again"
    ),
    "the video could not be processed": gettext_lazy("the video could not be processed"),
    # Training: the gate had nothing to compare on.
    "no held-out videos to compare on; promote by hand": gettext_lazy(
        "no held-out videos to compare on; promote by hand"
    ),
    # Dataset import.
    "the file to import is no longer there; send it again": gettext_lazy(
        "the file to import is no longer there; send it again"
    ),
    "a Label Studio export is a JSON list of tasks": gettext_lazy(
        "a Label Studio export is a JSON list of tasks"
    ),
}
_SILENT = (
    r"its worker \((?P<worker>.*?)\) stopped responding "
    r"\((?:last heartbeat (?P<when>.+? UTC)|last heartbeat its start)\)"
)


def _silent(g: dict[str, str]) -> str:
    """How the sweeper says a worker went silent (``control._silent_since``)."""
    if "when" in g:
        return _("its worker (%(worker)s) stopped responding (last heartbeat %(when)s)") % {
            "worker": _worker(g["worker"]),
            "when": g["when"],
        }
    return _("its worker (%(worker)s) stopped responding (no heartbeat since its start)") % {
        "worker": _worker(g["worker"])
    }


_KNOWN: list[tuple[re.Pattern[str], Say]] = [
    # Fixed sentences.
    (
        re.compile(rf"(?P<text>{'|'.join(re.escape(text) for text in _FIXED)})"),
        lambda g: str(_FIXED[g["text"]]),
    ),
    (
        re.compile(rf"the (?P<name>{'|'.join(re.escape(name) for name in _DELETED)}) was deleted"),
        lambda g: str(_DELETED[g["name"]]),
    ),
    # The lifecycle: takeover, requeue, cancel, retry, the sweeper.
    (
        re.compile(
            r"taken over from (?P<worker>.+?), silent since "
            r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"
        ),
        lambda g: (
            _("taken over from %(worker)s, silent since %(when)s")
            % {"worker": _worker(g["worker"]), "when": g["when"]}
        ),
    ),
    (
        re.compile(r"taken over from (?P<worker>.+)"),
        lambda g: _("taken over from %(worker)s") % {"worker": _worker(g["worker"])},
    ),
    (
        re.compile(r"the worker (?P<worker>.*?) stopped before it finished"),
        lambda g: _("the worker %(worker)s stopped before it finished") % g,
    ),
    (
        re.compile(r"the worker (?P<worker>.*?) was stopped before it finished"),
        lambda g: _("the worker %(worker)s was stopped before it finished") % g,
    ),
    (
        re.compile(rf"{_SILENT}; given up after (?P<attempts>\d+) attempts"),
        lambda g: (
            ngettext(
                "%(silent)s; given up after %(n)s attempt",
                "%(silent)s; given up after %(n)s attempts",
                int(g["attempts"]),
            )
            % {"silent": _silent(g), "n": g["attempts"]}
        ),
    ),
    (
        re.compile(rf"{_SILENT} \(attempt (?P<attempt>\d+) of (?P<max>\d+)\)"),
        lambda g: (
            _("%(silent)s (attempt %(n)s of %(max)s)")
            % {"silent": _silent(g), "n": g["attempt"], "max": g["max"]}
        ),
    ),
    (
        re.compile(r"queued again: (?P<reason>.+)", re.DOTALL),
        lambda g: _("queued again: %(reason)s") % {"reason": job_message(g["reason"])},
    ),
    (
        re.compile(r"cancelled by (?P<who>.+)"),
        lambda g: _("cancelled by %(who)s") % {"who": _who(g["who"])},
    ),
    (
        re.compile(r"retried by (?P<who>.+)"),
        lambda g: _("retried by %(who)s") % {"who": _who(g["who"])},
    ),
    (
        re.compile(r"handed to the workers again by (?P<who>.+)"),
        lambda g: _("handed to the workers again by %(who)s") % {"who": _who(g["who"])},
    ),
    # What a cancelled job leaves on its object: a video's error, a version's or a
    # snapshot's note.
    (
        re.compile(r"processing cancelled: (?P<reason>.+)", re.DOTALL),
        lambda g: _("processing cancelled: %(reason)s") % {"reason": job_message(g["reason"])},
    ),
    (
        re.compile(r"cancelled: (?P<reason>.+)", re.DOTALL),
        lambda g: _("cancelled: %(reason)s") % {"reason": job_message(g["reason"])},
    ),
    # Ingest: the outcome, or the failed essential step with its own message.
    (
        re.compile(r"(?P<n>\d+) steps run(; failed: (?P<failed>.+))?"),
        lambda g: (
            ngettext("%(n)s step run", "%(n)s steps run", int(g["n"])) % g
            + (_("; failed: %(steps)s") % {"steps": _steps(g["failed"])} if "failed" in g else "")
        ),
    ),
    (
        re.compile(
            rf"(?P<step>{'|'.join(re.escape(name) for name in STEP_LABELS)}): (?P<detail>.+)",
            re.DOTALL,
        ),
        lambda g: f"{step_label(g['step'])}: {step_message(g['detail'])}",
    ),
    (
        re.compile(r"unknown steps: (?P<unknown>.+); known: (?P<known>.+)"),
        lambda g: _("unknown steps: %(unknown)s; known: %(known)s") % g,
    ),
    # Suggestions refresh: how many videos, and what the run made of them.
    (
        re.compile(r"(?P<n>\d+) videos: (?P<made>.+)"),
        lambda g: (
            ngettext("%(n)s video: %(made)s", "%(n)s videos: %(made)s", int(g["n"]))
            % {"n": g["n"], "made": step_message(g["made"])}
        ),
    ),
    # Export.
    (
        re.compile(r"(?P<n>\d+) rows"),
        lambda g: ngettext("%(n)s row", "%(n)s rows", int(g["n"])) % g,
    ),
    (
        re.compile(r"the snapshot is (?P<state>\w+), not waiting to be built"),
        lambda g: (
            _("the snapshot is %(state)s, not waiting to be built")
            % {"state": _state(ExportSnapshot.State, g["state"])}
        ),
    ),
    (
        re.compile(r"the export could not be written: (?P<reason>.+)", re.DOTALL),
        lambda g: (
            _("the export could not be written: %(reason)s") % {"reason": job_message(g["reason"])}
        ),
    ),
    # Training.
    (
        re.compile(r"version (?P<number>\d+) is (?P<state>\w+), not waiting to be trained"),
        lambda g: (
            _("version %(number)s is %(state)s, not waiting to be trained")
            % {"number": g["number"], "state": _state(ModelVersion.State, g["state"])}
        ),
    ),
    (
        re.compile(
            r"only (?P<n>\d+) videos have confirmed labels; at least (?P<needed>\d+) are "
            r"needed \(MIN_TRAINING_VIDEOS\)"
        ),
        lambda g: (
            ngettext(
                "only %(n)s video has confirmed labels; at least %(needed)s are needed "
                "(MIN_TRAINING_VIDEOS)",
                "only %(n)s videos have confirmed labels; at least %(needed)s are needed "
                "(MIN_TRAINING_VIDEOS)",
                int(g["n"]),
            )
            % g
        ),
    ),
    (
        re.compile(
            # "below": the words of notes written before a tie stopped promoting.
            r"(?:(?P<promoted>promoted)|kept as a candidate \((?:below|not above) "
            r"(?P<below>\S+) \+ margin (?P<margin>\S+)\)): (?P<metric>\S+) (?P<candidate>\S+) "
            r"\((?P<reference>\S+): "
            r"(?P<reference_score>\S+)\) on the same (?P<videos>\d+) held-out videos"
            r"(?: \(v(?P<seen_by>\d+) had trained on some of them\))?; difference "
            r"(?P<difference>\S+) \(95% CI (?P<low>\S+) to (?P<high>\S+)\)"
        ),
        _gate_note,
    ),
    # Dataset import.
    (
        re.compile(
            r"(?P<created>\d+) imported, (?P<skipped>\d+) skipped, (?P<failed>\d+) failed, "
            r"(?P<tags>\d+) tags created"
        ),
        lambda g: (
            _("%(created)s imported, %(skipped)s skipped, %(failed)s failed, %(tags)s tags created")
            % g
        ),
    ),
    (
        re.compile(r"format must be one of (?P<formats>.+); got (?P<got>.+)"),
        lambda g: _("format must be one of %(formats)s; got %(got)s") % g,
    ),
    (
        re.compile(r"the file is not valid JSON: (?P<detail>.+)", re.DOTALL),
        lambda g: _("the file is not valid JSON: %(detail)s") % g,
    ),
]


# What a running job says it is doing (Job.stage): fixed phrases, and phrases with counts.
# A stage may nest ("fold 2/5: features: sentence embeddings"); each part is said apart,
# and a part no stage phrase knows may be a sentence the job also ends with (the import's
# running summary), said as its message would be.
_STAGE_PHRASES = {
    # The lifecycle (``jobs.lifecycle``) and a job waiting for another one.
    "queued": gettext_lazy("queued"),
    "queued again": gettext_lazy("queued again"),
    "starting": gettext_lazy("starting"),
    "done": gettext_lazy("done"),
    WAITING_STAGE: gettext_lazy("waiting for the video to be processed"),
    # Prediction.
    "fetching the file": gettext_lazy("fetching the file"),
    "storing the video": gettext_lazy("storing the video"),
    "predicting": gettext_lazy("predicting"),
    # Training, and the steps of ``ml.train`` within it.
    "reading the labeled videos": gettext_lazy("reading the labeled videos"),
    "reading labels": gettext_lazy("reading the labels"),
    "saving the model": gettext_lazy("saving the model"),
    "comparing with the promoted model": gettext_lazy("comparing with the promoted model"),
    "learning curve": gettext_lazy("learning curve"),
    "held-out evaluation": gettext_lazy("evaluation on held-out videos"),
    "final model": gettext_lazy("final model"),
    "refit on all videos": gettext_lazy("refit on all videos"),
    "text features": gettext_lazy("text features"),
    "sentence embeddings": gettext_lazy("sentence embeddings"),
    "features ready": gettext_lazy("features ready"),
    "baseline": gettext_lazy("baseline"),
    "features": gettext_lazy("features"),
    "too few videos for cross-validation; thresholds left at 0.5": gettext_lazy(
        "too few videos for cross-validation; thresholds left at 0.5"
    ),
    # Suggestions refresh, dataset import.
    "reading the videos": gettext_lazy("reading the videos"),
    "reading the file": gettext_lazy("reading the file"),
}
_STAGE_PATTERNS: list[tuple[re.Pattern[str], Say]] = [
    (
        re.compile(r"fold (?P<i>\d+)/(?P<n>\d+), candidate (?P<c>\d+)/(?P<m>\d+)"),
        lambda g: _("fold %(i)s of %(n)s, candidate %(c)s of %(m)s") % g,
    ),
    (re.compile(r"fold (?P<i>\d+)/(?P<n>\d+)"), lambda g: _("fold %(i)s of %(n)s") % g),
    (re.compile(r"fold (?P<i>\d+) features"), lambda g: _("features of fold %(i)s") % g),
    (re.compile(r"best of (?P<n>\d+)"), lambda g: _("best of %(n)s") % g),
    # The best candidate (``Candidate.describe``): its parameters, then its block weights.
    (
        re.compile(r"(?P<params>C=\S+, class_weight=\S+), weights"),
        lambda g: _("%(params)s, weights") % g,
    ),
    (re.compile(r"(?P<n>\d+) rows written"), lambda g: _("%(n)s rows written") % g),
    (re.compile(r"(?P<n>\d+) items read"), lambda g: _("%(n)s items read") % g),
    (
        re.compile(r"(?P<i>\d+) of (?P<n>\d+) videos"),
        lambda g: _("%(i)s of %(n)s videos") % g,
    ),
]


def _stage_part(part: str) -> str:
    if part in _STAGE_PHRASES:
        return str(_STAGE_PHRASES[part])
    if part in STEP_LABELS:
        return step_label(part)
    said = said_again(_STAGE_PATTERNS, part)
    return job_message(part) if said is None else said


def job_stage(stage: str) -> str:
    """A job's stage in the active language; parts no phrase knows stay as written."""
    return ": ".join(_stage_part(part) for part in stage.strip().split(": "))
