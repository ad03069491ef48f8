from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import Project, Tag, TaxonomyChange
from ml.taxonomy import (
    PATH_SEPARATOR,
    TaxonomyEntry,
    TaxonomyFormatError,
    ancestors,
    parse_taxonomy,
    write_taxonomy,
)


@dataclass(frozen=True)
class TaxonomyImportResult:
    created: int
    unchanged: int
    hotkeys_set: int

    @property
    def total(self) -> int:
        return self.created + self.unchanged


def _refuse_under_deprecated(entries: list[TaxonomyEntry], existing: dict[str, Tag]) -> None:
    """Refuse new paths that would go under a deprecated tag, naming each of them."""
    deprecated = {path for path, tag in existing.items() if not tag.active}
    if not deprecated:
        return
    refused = [
        entry.path
        for entry in entries
        if entry.path not in existing and deprecated.intersection(ancestors(entry.path))
    ]
    if refused:
        raise TaxonomyFormatError(
            None,
            "new tags under a deprecated tag (restore it first, or leave them out): "
            + ", ".join(map(repr, refused)),
        )


@transaction.atomic
def taxonomy_import(
    *, project: Project, entries: list[TaxonomyEntry], by: User | None = None
) -> TaxonomyImportResult:
    """Add the entries' tags to the project; tags already there are left as they are.

    Runs in one transaction: an error anywhere leaves the taxonomy untouched.
    Entries must list parents before children (``parse_taxonomy`` does). A new tag
    under a deprecated tag is refused, naming every such path: the file cannot restore
    a deprecated tag nor offer tags under one (restoring is the editor's ``tag_restore``).
    A deprecated tag gets no hotkey from a file. An import that changed something is
    kept in the taxonomy's history.
    """
    existing = {tag.path: tag for tag in Tag.objects.select_for_update().filter(project=project)}
    _refuse_under_deprecated(entries, existing)
    used_hotkeys = {tag.hotkey: tag.path for tag in existing.values() if tag.hotkey}
    created = unchanged = hotkeys_set = 0
    for entry in entries:
        tag = existing.get(entry.path)
        if tag is None:
            parts = entry.parts
            parent_path = PATH_SEPARATOR.join(parts[:-1])
            parent = existing.get(parent_path) if len(parts) > 1 else None
            if len(parts) > 1 and parent is None:
                raise TaxonomyFormatError(None, f"the parent of {entry.path!r} is missing")
            tag = Tag.objects.create(
                project=project, parent=parent, name=parts[-1], path=entry.path, depth=len(parts)
            )
            existing[entry.path] = tag
            created += 1
        else:
            unchanged += 1
        if entry.hotkey and not tag.hotkey and tag.active:
            holder = used_hotkeys.get(entry.hotkey)
            if holder is not None and holder != entry.path:
                raise TaxonomyFormatError(
                    None, f"hotkey {entry.hotkey!r} of {entry.path!r} is already used by {holder!r}"
                )
            tag.hotkey = entry.hotkey
            tag.save(update_fields=["hotkey"])
            used_hotkeys[entry.hotkey] = entry.path
            hotkeys_set += 1
    if created or hotkeys_set:
        TaxonomyChange.objects.create(
            project=project,
            action=TaxonomyChange.Action.IMPORTED,
            details={"created": created, "unchanged": unchanged, "hotkeys_set": hotkeys_set},
            changed_by=by,
        )
    return TaxonomyImportResult(created=created, unchanged=unchanged, hotkeys_set=hotkeys_set)


def taxonomy_import_text(
    *, project: Project, text: str, fmt: str, by: User | None = None
) -> TaxonomyImportResult:
    """Parse a whole file first, then import it: a bad line stops everything before any write."""
    entries = parse_taxonomy(text, fmt)
    if not entries:
        raise TaxonomyFormatError(None, "the file holds no tags")
    return taxonomy_import(project=project, entries=entries, by=by)


def taxonomy_text(project: Project, fmt: str, *, with_deprecated: bool = False) -> str:
    """The project's taxonomy written in ``fmt`` (csv, lines, json), as the importer reads it."""
    tags = project.tags.all() if with_deprecated else project.tags.active()
    entries = [TaxonomyEntry(path, hotkey) for path, hotkey in tags.values_list("path", "hotkey")]
    return write_taxonomy(entries, fmt)
