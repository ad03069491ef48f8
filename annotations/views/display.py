"""Stored values said in the reader's language: processing steps, their messages,
metadata, and why a file was refused (a video's import, a taxonomy's).

The ingest steps store their outcome as an English sentence (the worker has no
reader's language); here each known sentence is recognised and said again through a
translatable template. A message no pattern knows (a library's error text) is shown
as it was written. Metadata keys the app writes get a label; the columns a manifest
brought keep their own names. What a job says (``Job.message``, and ``Job.stage`` while it
runs) is said again the same way, by ``annotations.views.job_messages``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

STEP_LABELS = {
    "probe": gettext_lazy("Reading the file"),
    "transcript": gettext_lazy("Transcript"),
    "text": gettext_lazy("Text analysis"),
    "summary": gettext_lazy("Summary"),
    "frames": gettext_lazy("Keyframes and picture"),
    "audio": gettext_lazy("Sound"),
    "image_embedding": gettext_lazy("Picture embedding"),
    "suggestions": gettext_lazy("Suggested tags"),
}


def step_label(name: str) -> str:
    return str(STEP_LABELS.get(name, name))


def _streams(value: str) -> str:
    return {
        "video and audio": _("video and audio"),
        "video": _("video only"),
        "audio": _("audio only"),
    }.get(value, value)


Say = Callable[[dict[str, str]], str]
# What a suggestions run adds when the model confirmed videos by itself (SuggestionRun.describe).
_AUDITED = r"(; (?P<confirmed>\d+) videos confirmed by the model, (?P<audited>\d+) audited)?"


def _audited(g: dict[str, str]) -> str:
    if "confirmed" not in g:
        return ""
    return "; " + (
        ngettext(
            "%(confirmed)s video confirmed by the model, %(audited)s audited",
            "%(confirmed)s videos confirmed by the model, %(audited)s audited",
            int(g["confirmed"]),
        )
        % g
    )


# Why ``ml.media`` refused a file (MediaError): a failed probe step stores the sentence, and
# an upload refused for it says it. The library's own words inside (FFmpeg's) stay as written.
_MEDIA_ERRORS: list[tuple[re.Pattern[str], Say]] = [
    (re.compile(r"the file is empty \(0 bytes\)"), lambda g: _("the file is empty (0 bytes)")),
    (
        re.compile(r"not a video or audio file \(its contents are not a known media format\)"),
        lambda g: _("not a video or audio file (its contents are not a known media format)"),
    ),
    (
        re.compile(r"the file could not be opened as media: (?P<reason>.+)", re.DOTALL),
        lambda g: _("the file could not be opened as media: %(reason)s") % g,
    ),
    (
        re.compile(r"the file has no video or audio stream"),
        lambda g: _("the file has no video or audio stream"),
    ),
    (re.compile(r"the file has zero duration"), lambda g: _("the file has zero duration")),
    (
        re.compile(
            r"the file is damaged: its first frame cannot be decoded \((?P<reason>.+)\)", re.DOTALL
        ),
        lambda g: _("the file is damaged: its first frame cannot be decoded (%(reason)s)") % g,
    ),
    (
        re.compile(r"the file is damaged: it holds no decodable frame"),
        lambda g: _("the file is damaged: it holds no decodable frame"),
    ),
    (
        re.compile(
            r"the file is truncated: it claims (?P<seconds>[\d.]+) s but nothing near its end "
            r"can be decoded"
        ),
        lambda g: (
            _(
                "the file is truncated: it claims %(seconds)s s but nothing near its end "
                "can be decoded"
            )
            % g
        ),
    ),
]

_KNOWN: list[tuple[re.Pattern[str], Say]] = [
    *_MEDIA_ERRORS,
    (
        re.compile(r"no media file: this video is labeled from its text alone"),
        lambda g: _("no media file: this video is labeled from its text alone"),
    ),
    (
        re.compile(
            r"the video is (?P<hours>[\d.]+) hours long, over the limit of "
            r"(?P<limit>[\d.]+) hours \(MAX_VIDEO_SECONDS\)"
        ),
        lambda g: (
            _(
                "the video is %(hours)s hours long, over the limit of %(limit)s hours "
                "(MAX_VIDEO_SECONDS)"
            )
            % g
        ),
    ),
    (
        re.compile(
            r"(?P<seconds>[\d.]+) s, (?P<streams>video and audio|video|audio)(, (?P<size>\d+x\d+))?"
        ),
        lambda g: (
            _("%(seconds)s s, %(streams)s") % {**g, "streams": _streams(g["streams"])}
            + (f", {g['size']}" if g.get("size") else "")
        ),
    ),
    (
        re.compile(r"(?P<n>\d+) segments from the subtitle file"),
        lambda g: (
            ngettext(
                "%(n)s segment from the subtitle file",
                "%(n)s segments from the subtitle file",
                int(g["n"]),
            )
            % g
        ),
    ),
    (
        re.compile(r"(?P<n>\d+) segments from the subtitle stream"),
        lambda g: (
            ngettext(
                "%(n)s segment from the subtitle stream",
                "%(n)s segments from the subtitle stream",
                int(g["n"]),
            )
            % g
        ),
    ),
    (
        re.compile(r"no audio track and no subtitles: nothing to transcribe"),
        lambda g: _("no audio track and no subtitles: nothing to transcribe"),
    ),
    (
        re.compile(
            r"speech recognition is not available: (?P<reason>.*) The video can be labeled "
            r"without a transcript; re-run this step once the model is there\.",
            re.DOTALL,
        ),
        lambda g: (
            _(
                "speech recognition is not available: %(reason)s The video can be labeled "
                "without a transcript; re-run this step once the model is there."
            )
            % g
        ),
    ),
    (
        re.compile(r"(?P<n>\d+) segments recognised( \((?P<language>[\w-]+)\))?"),
        lambda g: (
            ngettext("%(n)s segment recognised", "%(n)s segments recognised", int(g["n"])) % g
            + (f" ({g['language']})" if g.get("language") else "")
        ),
    ),
    (
        re.compile(r"(?P<n>\d+) words after cleaning"),
        lambda g: (
            ngettext("%(n)s word after cleaning", "%(n)s words after cleaning", int(g["n"])) % g
        ),
    ),
    (re.compile(r"no transcript to summarise"), lambda g: _("no transcript to summarise")),
    (
        re.compile(r"(?P<n>\d+) characters"),
        lambda g: ngettext("%(n)s character", "%(n)s characters", int(g["n"])) % g,
    ),
    (re.compile(r"audio-only file: no keyframes"), lambda g: _("audio-only file: no keyframes")),
    (
        re.compile(
            r"(?P<sampled>\d+) frames sampled, (?P<shots>\d+) shots, (?P<keyframes>\d+) "
            r"keyframes(?P<truncated> \(the file is damaged after that point\))?"
        ),
        lambda g: (
            _("%(sampled)s frames sampled, %(shots)s shots, %(keyframes)s keyframes") % g
            + (_(" (the file is damaged after that point)") if g.get("truncated") else "")
        ),
    ),
    (re.compile(r"no audio track"), lambda g: _("no audio track")),
    (
        re.compile(r"speech in (?P<percent>\d+)% of the audio"),
        lambda g: _("speech in %(percent)s%% of the audio") % g,
    ),
    (re.compile(r"done"), lambda g: _("done")),
    (
        re.compile(r"no image model configured \(IMAGE_EMBEDDING_MODEL\)"),
        lambda g: _("no image model configured (IMAGE_EMBEDDING_MODEL)"),
    ),
    (re.compile(r"no keyframes to embed"), lambda g: _("no keyframes to embed")),
    (
        re.compile(r"image model not available: (?P<reason>.*)", re.DOTALL),
        lambda g: _("image model not available: %(reason)s") % g,
    ),
    (
        re.compile(r"(?P<dims>\d+)-dimensional embedding from (?P<n>\d+) keyframes"),
        lambda g: _("%(dims)s-dimensional embedding from %(n)s keyframes") % g,
    ),
    (
        re.compile(r"not run: the (?P<step>\w+) step failed"),
        lambda g: _("not run: the step “%(step)s” failed") % {"step": step_label(g["step"])},
    ),
    (
        re.compile(rf"(?P<n>\d+) suggestions \(model v(?P<version>\d+)\){_AUDITED}"),
        lambda g: (
            ngettext(
                "%(n)s suggestion (model v%(version)s)",
                "%(n)s suggestions (model v%(version)s)",
                int(g["n"]),
            )
            % g
            + _audited(g)
        ),
    ),
    (
        re.compile(rf"(?P<n>\d+) suggestions \(zero-shot\){_AUDITED}"),
        lambda g: (
            ngettext("%(n)s suggestion (zero-shot)", "%(n)s suggestions (zero-shot)", int(g["n"]))
            % g
            + _audited(g)
        ),
    ),
]


def said_again(known: list[tuple[re.Pattern[str], Say]], message: str) -> str | None:
    """``message`` said by the first of ``known`` whose pattern it matches; None if none."""
    text = message.strip()
    for pattern, say in known:
        found = pattern.fullmatch(text)
        if found is not None:
            groups = {key: value for key, value in found.groupdict().items() if value is not None}
            return say(groups)
    return None


# What importing one video warns about (``video_import``): a tag, as Python quotes it.
_IMPORT_WARNINGS: list[tuple[re.Pattern[str], Say]] = [
    (
        re.compile(r"unknown tag (?P<path>'.*'|\".*\") kept in metadata only"),
        lambda g: (
            _("unknown tag “%(path)s” kept in metadata only")
            % {"path": ast.literal_eval(g["path"])}
        ),
    ),
    (
        re.compile(r"tag (?P<path>'.*'|\".*\") is deprecated; not applied"),
        lambda g: (
            _("tag “%(path)s” is deprecated and was not applied")
            % {"path": ast.literal_eval(g["path"])}
        ),
    ),
]


def import_warning(message: str) -> str:
    """A warning of a video's import in the active language when it is known, else as it is."""
    said = said_again(_IMPORT_WARNINGS, message)
    return message if said is None else said


# Why a video's import was refused (``VideoImportError``): the project has it already, or
# its file is not usable media (as ``ml.media`` says it).
_IMPORT_REFUSALS: list[tuple[re.Pattern[str], Say]] = [
    (
        re.compile(r"already imported as video #(?P<id>\d+) \((?P<title>.*)\)", re.DOTALL),
        lambda g: _("already imported as video #%(id)s (%(title)s)") % g,
    ),
    (
        re.compile(r"already imported \(by a concurrent import\)"),
        lambda g: _("already imported (by another import at the same time)"),
    ),
    *_MEDIA_ERRORS,
]


def import_refusal(message: str) -> str:
    """Why a video's import was refused, in the active language when the reason is known."""
    said = said_again(_IMPORT_REFUSALS, message)
    return message if said is None else said


# Why a taxonomy file was refused (``ml.taxonomy``, ``services.taxonomy``), after the line
# it names if it names one; names are quoted as Python quotes them and stay so.
_QUOTED = r"(?:'.*'|\".*\")"
_TAXONOMY_ERRORS: list[tuple[re.Pattern[str], Say]] = [
    (re.compile(r"the row names no tag"), lambda g: _("the row names no tag")),
    (
        re.compile(r"level (?P<level>\d+) is empty but a deeper level is filled"),
        lambda g: _("level %(level)s is empty but a deeper level is filled") % g,
    ),
    (re.compile(r"level (?P<level>\d+) is empty"), lambda g: _("level %(level)s is empty") % g),
    (
        re.compile(rf"tag name (?P<name>{_QUOTED}) contains ':', the level separator"),
        lambda g: _("tag name %(name)s contains “:”, the level separator") % g,
    ),
    (
        re.compile(r"tag name at level (?P<level>\d+) is longer than (?P<n>\d+) characters"),
        lambda g: (
            ngettext(
                "tag name at level %(level)s is longer than %(n)s character",
                "tag name at level %(level)s is longer than %(n)s characters",
                int(g["n"]),
            )
            % g
        ),
    ),
    (
        re.compile(r"the path is (?P<depth>\d+) levels deep; at most (?P<n>\d+) are allowed"),
        lambda g: (
            ngettext(
                "the path is %(depth)s level deep; at most %(n)s are allowed",
                "the path is %(depth)s levels deep; at most %(n)s are allowed",
                int(g["depth"]),
            )
            % g
        ),
    ),
    (
        re.compile(r"hotkey (?P<hotkey>.+) must be one digit or lower-case letter"),
        lambda g: _("hotkey %(hotkey)s must be one digit or lower-case letter") % g,
    ),
    (
        re.compile(
            rf"hotkey (?P<hotkey>{_QUOTED}) is given to both (?P<a>{_QUOTED}) and (?P<b>{_QUOTED})"
        ),
        lambda g: _("hotkey %(hotkey)s is given to both %(a)s and %(b)s") % g,
    ),
    (
        re.compile(
            rf"hotkey (?P<hotkey>{_QUOTED}) of (?P<path>{_QUOTED}) is already used by "
            rf"(?P<holder>{_QUOTED})"
        ),
        lambda g: _("hotkey %(hotkey)s of %(path)s is already used by %(holder)s") % g,
    ),
    (
        re.compile(r"not valid JSON: (?P<detail>.+)", re.DOTALL),
        lambda g: _("not valid JSON: %(detail)s") % g,
    ),
    (
        re.compile(r'expected a list of paths or of \{"name", "children"\} objects'),
        lambda g: _('expected a list of paths or of {"name", "children"} objects'),
    ),
    (
        re.compile(r"expected a tag object or path, found (?P<node>.+)", re.DOTALL),
        lambda g: _("expected a tag object or path, found %(node)s") % g,
    ),
    (
        re.compile(r'a tag object needs a "name" string: (?P<node>.+)', re.DOTALL),
        lambda g: _('a tag object needs a "name" string: %(node)s') % g,
    ),
    (
        re.compile(rf'"children" of (?P<name>{_QUOTED}) must be a list'),
        lambda g: _("“children” of %(name)s must be a list") % g,
    ),
    (
        re.compile(rf"unknown taxonomy format (?P<fmt>{_QUOTED}); use csv, lines or json"),
        lambda g: _("unknown taxonomy format %(fmt)s; use csv, lines or json") % g,
    ),
    (
        re.compile(r"(?P<file>.+) is not UTF-8 text \((?P<reason>.+)\)"),
        lambda g: _("%(file)s is not UTF-8 text (%(reason)s)") % g,
    ),
    (
        re.compile(rf"the parent of (?P<path>{_QUOTED}) is missing"),
        lambda g: _("the parent of %(path)s is missing") % g,
    ),
    (re.compile(r"the file holds no tags"), lambda g: _("the file holds no tags")),
    (
        re.compile(
            r"new tags under a deprecated tag \(restore it first, or leave them out\): "
            r"(?P<paths>.+)",
            re.DOTALL,
        ),
        lambda g: (
            _("new tags under a deprecated tag (restore it first, or leave them out): %(paths)s")
            % g
        ),
    ),
]
_ON_LINE = re.compile(r"line (?P<line>\d+): (?P<detail>.+)", re.DOTALL)


def taxonomy_error(message: str) -> str:
    """Why a taxonomy file was refused, in the active language where the reason is known."""
    on_line = _ON_LINE.fullmatch(message.strip())
    detail = on_line["detail"] if on_line else message
    said = said_again(_TAXONOMY_ERRORS, detail)
    if said is None:
        return message
    return (
        _("line %(line)s: %(detail)s") % {"line": on_line["line"], "detail": said}
        if on_line
        else said
    )


def known_step_message(message: str) -> str | None:
    """``message`` in the active language when it is one the steps write; None if not."""
    return said_again(_KNOWN, message)


def step_message(message: str) -> str:
    """``message`` in the active language when it is one the steps write, else as it is."""
    known = known_step_message(message)
    return message if known is None else known


METADATA_LABELS = {
    "channel": gettext_lazy("Channel"),
    "upload_date": gettext_lazy("Upload date"),
    "comments": gettext_lazy("Comments"),
    "url": gettext_lazy("Address"),
    "original_tags": gettext_lazy("Tags it came with"),
    "unknown_tags": gettext_lazy("Tags not in the taxonomy"),
    "suggestions_model": gettext_lazy("Suggestions made by"),
    # A dataset import (``services.interchange``) and a prediction request leave these.
    "imported_from": gettext_lazy("Imported from"),
    "origin": gettext_lazy("Came from"),
    "prediction_job": gettext_lazy("Prediction request"),
    "views": gettext_lazy("Views"),
    "likes": gettext_lazy("Likes"),
    "author": gettext_lazy("Author"),
    "category": gettext_lazy("Category"),
    "language": gettext_lazy("Language"),
}
# The values the app itself writes under those keys.
METADATA_VALUES = {
    ("imported_from", "dataset"): gettext_lazy("a dataset file"),
    ("origin", "prediction"): gettext_lazy("a prediction request"),
}


def metadata_rows(metadata: dict[str, object]) -> list[tuple[str, str]]:
    """(label, value) for each metadata entry; lists are joined with commas, and a value the
    app writes itself is said in words."""
    rows = []
    for key, value in metadata.items():
        label = METADATA_LABELS.get(key)
        if isinstance(value, list):
            shown = ", ".join(str(item) for item in value)
        else:
            shown = str(METADATA_VALUES.get((key, str(value)), value))
        rows.append((str(label) if label else key.replace("_", " ").capitalize(), shown))
    return rows
