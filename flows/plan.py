"""Plan: decide which files a run must read, from what the scan saw and the warehouse knows.

A file whose size, mtime and sidecar signature match the warehouse is unchanged and is never
read: that is what keeps a rerun on an unchanged folder to a scan and one query. Unless its
document was extracted with other rules (`rules_hash`): then it is read and extracted again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flows.ingest import FileEntry
from flows.load import KnownFile

# Quarantined for a limit the user can raise: such files are read again on every run, so a run
# with a higher --max-file-bytes or --max-paragraph-chars picks them up although they did not change.
LIMIT_REASONS = frozenset({"too_large", "paragraph_too_long"})


@dataclass
class Plan:
    todo: list[FileEntry] = field(default_factory=list)  # new or changed by stat: read them
    new_paths: set[str] = field(default_factory=set)  # not loaded before (new or was quarantined)
    unchanged: list[str] = field(default_factory=list)  # loaded, same stat
    still_quarantined: list[str] = field(default_factory=list)  # quarantined, same stat
    removed: list[str] = field(default_factory=list)  # known, no longer in the folder
    stale: set[str] = field(default_factory=set)  # unchanged, but extracted with other rules: in todo


def make_plan(entries: list[FileEntry], known: dict[str, KnownFile], rules_hash: str | None = None) -> Plan:
    """`rules_hash`: the current `rules_fingerprint()`; None compares by stat only."""
    plan = Plan()
    seen = set()
    for e in entries:
        seen.add(e.path)
        k = known.get(e.path)
        if k is None:
            plan.todo.append(e)
            plan.new_paths.add(e.path)
        elif (k.size, k.mtime_ns, k.sidecar_sig) == (e.size, e.mtime_ns, e.sidecar_sig) and not (
            k.quarantined and k.reason in LIMIT_REASONS
        ):
            if k.quarantined:
                plan.still_quarantined.append(e.path)
            elif rules_hash is not None and k.rules_hash != rules_hash:
                plan.todo.append(e)
                plan.stale.add(e.path)
            else:
                plan.unchanged.append(e.path)
        else:
            plan.todo.append(e)
            if k.quarantined:
                plan.new_paths.add(e.path)  # never loaded before: a fixed file is a new document
    plan.removed = sorted(p for p in known if p not in seen)
    return plan


def chunks(items: list, size: int, workers: int = 1) -> list[list]:
    """Split `items` into consecutive lists of at most `size` (the last one shorter).

    With several workers a small run is split evenly between them instead (a daily run of 300
    files in batches of 2,000 would keep one worker idle). A run longer than one round of full
    batches ends in smaller ones (halves, then quarters, then eighths of `size`): the loader
    works behind the workers, and what it still has to load when they finish is a small batch,
    not two full ones.
    """
    if workers > 1:
        size = min(size, -(-len(items) // workers))
    size = max(1, size)
    tail = workers * size
    if workers > 1 and len(items) > 2 * tail and size >= 8:
        head = -(-(len(items) - tail) // size) * size
        out = [items[i : i + size] for i in range(0, head, size)]
        pieces = [size // 2] * workers + [size // 4] * workers  # then eighths to the end
        pos = head
        while pos < len(items):
            n = pieces.pop(0) if pieces else size // 8
            out.append(items[pos : pos + n])
            pos += n
        return out
    return [items[i : i + size] for i in range(0, len(items), size)]
