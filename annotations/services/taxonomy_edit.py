"""Editing a taxonomy tag by tag: add, rename, move, merge, deprecate, restore, hotkeys.

Every change writes a ``TaxonomyChange`` (who, when, what before and after). Tags are
never deleted: labels, decisions and their history point at them. A deprecated tag
stays on the labels that carry it, in exports too, but is no longer offered to
annotators nor learned by the model. A merge moves the source's confirmed labels,
decisions and suggestions to the target, writing the label history for each
confirmed label it moves (so ``audit_labels`` stays clean), then deprecates the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from annotations.models import (
    POSITIVE_DECISIONS,
    ConfirmedLabel,
    LabelChange,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TaxonomyChange,
    Video,
)
from annotations.services.learning.model_store import versions_pin_taxonomy
from annotations.services.learning.uncertainty import uncertainty_refresh
from ml.taxonomy import MAX_DEPTH, MAX_NAME_LENGTH, PATH_SEPARATOR, clean_name

# As the Tag model's validator: one digit or lower-case Latin letter.
HOTKEY = re.compile(r"^[0-9a-z]$")
MAX_REASON = 500


@dataclass(frozen=True)
class MergeResult:
    labels_moved: int
    labels_already_there: int
    decisions_moved: int
    suggestions_moved: int
    children_moved: int


def _record(
    tag: Tag,
    action: str,
    *,
    by: User | None,
    before: str = "",
    after: str = "",
    **details: object,
) -> TaxonomyChange:
    """The entry of ``tag``'s project's taxonomy history for a change to ``tag``."""
    return TaxonomyChange.objects.create(
        project=tag.project,
        tag=tag,
        action=action,
        before=before,
        after=after,
        details=details,
        changed_by=by,
    )


def _checked_name(name: str) -> str:
    cleaned = clean_name(name)
    if not cleaned:
        raise ValidationError(_("A tag needs a name."))
    if ":" in cleaned:
        raise ValidationError(
            _("A tag name cannot contain “:”, which separates the levels of a path.")
        )
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("A tag name may be at most %(n)d characters long.") % {"n": MAX_NAME_LENGTH}
        )
    return cleaned


def _checked_hotkey(project: Project, hotkey: str, *, besides: Tag | None = None) -> str:
    hotkey = hotkey.strip()
    if not hotkey:
        return ""
    if not HOTKEY.match(hotkey):
        raise ValidationError(_("A hotkey is one digit or lower-case letter."))
    holders = project.tags.filter(hotkey=hotkey)
    if besides is not None:
        holders = holders.exclude(pk=besides.pk)
    taken = holders.first()
    if taken is not None:
        raise ValidationError(
            _("The hotkey “%(key)s” is already used by “%(tag)s”.")
            % {"key": hotkey, "tag": taken.path}
        )
    return hotkey


def _path_under(parent: Tag | None, name: str) -> str:
    return f"{parent.path}{PATH_SEPARATOR}{name}" if parent is not None else name


def _free_path(project: Project, path: str, *, besides: Tag | None = None) -> None:
    clashes = project.tags.filter(path=path)
    if besides is not None:
        clashes = clashes.exclude(pk=besides.pk)
    clash = clashes.first()
    if clash is not None:
        raise ValidationError(_("There is already a tag “%(path)s”.") % {"path": path})
    if path.count(PATH_SEPARATOR) + 1 > MAX_DEPTH:
        raise ValidationError(_("A taxonomy is at most %(n)d levels deep.") % {"n": MAX_DEPTH})


def descendants(tag: Tag) -> QuerySet[Tag]:
    """Every tag under ``tag`` (not the tag itself)."""
    return Tag.objects.filter(project=tag.project_id, path__startswith=tag.path + PATH_SEPARATOR)


@transaction.atomic
def tag_add(
    *, project: Project, name: str, parent: Tag | None = None, hotkey: str = "", by: User | None
) -> Tag:
    if parent is not None and parent.project_id != project.pk:
        raise ValidationError(_("The parent tag belongs to another project."))
    name = _checked_name(name)
    path = _path_under(parent, name)
    _free_path(project, path)
    tag = Tag.objects.create(
        project=project,
        parent=parent,
        name=name,
        path=path,
        depth=path.count(PATH_SEPARATOR) + 1,
        hotkey=_checked_hotkey(project, hotkey),
    )
    _record(tag, TaxonomyChange.Action.ADDED, by=by, after=path)
    return tag


def _repath(tag: Tag, *, parent: Tag | None, name: str) -> tuple[str, str]:
    """Give ``tag`` a new parent and name, carrying every tag under it along."""
    versions_pin_taxonomy(tag.project)  # the model versions still find their tags after
    old_path = tag.path
    new_path = _path_under(parent, name)
    under = list(descendants(tag).select_for_update())
    for child in under:
        child.path = new_path + child.path[len(old_path) :]
        child.depth = child.path.count(PATH_SEPARATOR) + 1
    tag.parent = parent
    tag.name = name
    tag.path = new_path
    tag.depth = new_path.count(PATH_SEPARATOR) + 1
    # Paths are unique: park the old ones first so a swap of names never collides midway.
    for moved in [tag, *under]:
        Tag.objects.filter(pk=moved.pk).update(path=f"\x1f{moved.pk}")
    tag.save(update_fields=["parent", "name", "path", "depth"])
    Tag.objects.bulk_update(under, ["path", "depth"])
    return old_path, new_path


@transaction.atomic
def tag_rename(*, tag: Tag, name: str, by: User | None) -> Tag:
    name = _checked_name(name)
    if name == tag.name:
        return tag
    _free_path(tag.project, _path_under(tag.parent, name), besides=tag)
    before, after = _repath(tag, parent=tag.parent, name=name)
    _record(tag, TaxonomyChange.Action.RENAMED, by=by, before=before, after=after)
    return tag


@transaction.atomic
def tag_move(*, tag: Tag, parent: Tag | None, by: User | None) -> Tag:
    if parent is not None:
        if parent.project_id != tag.project_id:
            raise ValidationError(_("The new parent belongs to another project."))
        if parent.pk == tag.pk or parent.path.startswith(tag.path + PATH_SEPARATOR):
            raise ValidationError(_("A tag cannot move under itself or under one of its own tags."))
    if (parent.pk if parent else None) == tag.parent_id:
        return tag
    new_path = _path_under(parent, tag.name)
    _free_path(tag.project, new_path, besides=tag)
    deepest = (
        max([t.depth for t in descendants(tag)] + [tag.depth], default=tag.depth)
        - tag.depth
        + new_path.count(PATH_SEPARATOR)
        + 1
    )
    if deepest > MAX_DEPTH:
        raise ValidationError(_("A taxonomy is at most %(n)d levels deep.") % {"n": MAX_DEPTH})
    before, after = _repath(tag, parent=parent, name=tag.name)
    _record(tag, TaxonomyChange.Action.MOVED, by=by, before=before, after=after)
    return tag


def _move_labels(source: Tag, target: Tag, by: User | None) -> tuple[int, int]:
    """Confirmed labels of ``source`` onto ``target``, each move in the label history."""
    removed = (_("tag merged into “%(path)s”") % {"path": target.path})[:MAX_REASON]
    added = (_("moved from “%(path)s” by a merge") % {"path": source.path})[:MAX_REASON]
    # The videos first, in order, as every change of confirmed tags does: a review of one
    # of them waits for the merge, and the revision of its tags stays exact.
    list(
        Video.objects.select_for_update()
        .filter(pk__in=ConfirmedLabel.objects.filter(tag=source).values("video_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    on_target = set(ConfirmedLabel.objects.filter(tag=target).values_list("video_id", flat=True))
    moved = already = 0
    changes = []
    for label in ConfirmedLabel.objects.filter(tag=source).select_for_update():
        # The label's entries under both tags keep how it was confirmed; a label the model
        # confirmed names its version wherever it is added.
        entry = partial(LabelChange, video_id=label.video_id, source=label.source, changed_by=by)
        changes.append(entry(tag=source, action=LabelChange.Action.REMOVED, reason=removed))
        if label.video_id in on_target:
            # The video keeps the target's label: still confirmed, its place at the end of
            # "most uncertain first" (services/learning/uncertainty) stands.
            label.delete()
            already += 1
            continue
        changes.append(
            entry(
                tag=target,
                action=LabelChange.Action.ADDED,
                reason=added,
                model_version_id=label.model_version_id,
            )
        )
        # The label keeps who confirmed it and how: only the tag's name changed.
        label.tag = target
        label.save(update_fields=["tag"])
        moved += 1
    LabelChange.objects.bulk_create(changes)
    return moved, already


def _move_decisions(source: Tag, target: Tag) -> int:
    moved = 0
    on_target = {d.annotation_id: d for d in TagDecision.objects.filter(tag=target)}
    for decision in TagDecision.objects.filter(tag=source).select_for_update():
        kept = on_target.get(decision.annotation_id)
        if kept is None:
            decision.tag = target
            decision.save(update_fields=["tag"])
        else:
            # One decision per tag: a choice of either tag is a choice of the merged one.
            if decision.decision in POSITIVE_DECISIONS and kept.decision not in POSITIVE_DECISIONS:
                kept.decision = decision.decision
                kept.save(update_fields=["decision"])
            decision.delete()
        moved += 1
    return moved


def _move_suggestions(source: Tag, target: Tag) -> int:
    suggested = set(Suggestion.objects.filter(tag=target).values_list("video_id", flat=True))
    doubled = Suggestion.objects.filter(tag=source, video_id__in=suggested)
    changed = list(doubled.values_list("video_id", flat=True))
    doubled.delete()
    # One suggestion fewer can change how uncertain the model looks about the video.
    uncertainty_refresh(video_ids=changed)
    return Suggestion.objects.filter(tag=source).update(tag=target)


def _merge(source: Tag, target: Tag, by: User | None) -> MergeResult:
    children_moved = 0
    target_children = {child.name: child for child in target.children.all()}
    for child in list(source.children.all()):
        twin = target_children.get(child.name)
        if twin is not None:
            _merge(child, twin, by)
        else:
            _repath(child, parent=target, name=child.name)
        children_moved += 1
    labels_moved, already = _move_labels(source, target, by)
    decisions = _move_decisions(source, target)
    suggestions = _move_suggestions(source, target)
    source.active = False
    source.hotkey = ""
    source.merged_into = target
    source.save(update_fields=["active", "hotkey", "merged_into"])
    result = MergeResult(labels_moved, already, decisions, suggestions, children_moved)
    _record(
        source,
        TaxonomyChange.Action.MERGED,
        by=by,
        before=source.path,
        after=target.path,
        **vars(result),
    )
    return result


@transaction.atomic
def tag_merge(*, source: Tag, target: Tag, by: User | None) -> MergeResult:
    """Merge ``source`` into ``target``: its labels, decisions, suggestions and children move."""
    if source.project_id != target.project_id:
        raise ValidationError(_("Both tags must belong to the same project."))
    if source.pk == target.pk:
        raise ValidationError(_("Choose another tag to merge into."))
    if target.path.startswith(source.path + PATH_SEPARATOR):
        raise ValidationError(
            _("“%(target)s” is under “%(source)s”: merge the lower tag into the upper one instead.")
            % {"target": target.path, "source": source.path}
        )
    if not target.active:
        raise ValidationError(
            _("“%(path)s” is deprecated; merge into a tag in use.") % {"path": target.path}
        )
    return _merge(source, target, by)


@transaction.atomic
def tag_deprecate(*, tag: Tag, by: User | None) -> int:
    """Stop offering ``tag`` and every tag under it; returns how many tags changed."""
    subtree = Tag.objects.filter(Q(pk=tag.pk) | Q(pk__in=descendants(tag)), active=True)
    changed = subtree.update(active=False, hotkey="")
    if changed:
        _record(tag, TaxonomyChange.Action.DEPRECATED, by=by, before=tag.path, tags=changed)
    return changed


@transaction.atomic
def tag_restore(*, tag: Tag, by: User | None) -> int:
    """Offer ``tag`` again, with the tags under it and above it (a path needs its parents)."""
    if tag.merged_into_id is not None:
        raise ValidationError(
            _("“%(path)s” was merged into another tag; its labels are there now.")
            % {"path": tag.path}
        )
    above = tag.ancestor_paths()[:-1]
    restored = Tag.objects.filter(
        Q(pk=tag.pk)
        | Q(pk__in=descendants(tag).filter(merged_into__isnull=True))
        | Q(project=tag.project_id, path__in=above),
        active=False,
    ).update(active=True)
    if restored:
        _record(tag, TaxonomyChange.Action.RESTORED, by=by, after=tag.path, tags=restored)
    return restored


@transaction.atomic
def tag_hotkey_set(*, tag: Tag, hotkey: str, by: User | None) -> Tag:
    hotkey = _checked_hotkey(tag.project, hotkey, besides=tag)
    if hotkey and not tag.active:
        raise ValidationError(_("A deprecated tag gets no hotkey."))
    if hotkey == tag.hotkey:
        return tag
    before = tag.hotkey
    tag.hotkey = hotkey
    tag.save(update_fields=["hotkey"])
    _record(tag, TaxonomyChange.Action.HOTKEY, by=by, before=before, after=hotkey)
    return tag
