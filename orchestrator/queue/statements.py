"""The queue's hot-path statements (claim, slots, fenced item updates), built once per dialect.

Building a SQLAlchemy statement costs more than running it on a local PostgreSQL (the
``queue_throughput`` benchmark measured ≈1 ms of construction and cache-key work per item),
so the statements a runner executes for every item are built here with bind parameters and
only bound at run time. Datetime parameters carry the column's type so that SQLite stores
them in the same format as every other write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    TextClause,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)

from orchestrator.queue.models import ItemStatus
from orchestrator.queue.tables import SlotRow, WorkItemRow

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]
SLOTS = SlotRow.__table__  # type: ignore[attr-defined]

NEW = ItemStatus.new.value
IN_PROGRESS = ItemStatus.in_progress.value


def _when(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


@dataclass(frozen=True)
class QueueStatements:
    candidates: Any  # new items, best first (params: now, lim)
    candidates_of_bots: Any  # the same for some bots (params: now, lim, bots)
    claim_item: Any  # new → in_progress under a fresh token once all its slots are held, RETURNING the row
    take_slot: Any  # the first free slot of a capacity → held, RETURNING slot and token
    free_slot: Any  # give a held slot back (fenced by its token)
    move_slot: Any  # a held slot (fenced by its token) straight to the next item, RETURNING slot and token
    link_run: Any  # point a claimed item at its run
    finish_item: Any  # record a claimed item's outcome (fenced by its token)
    release_item: Any  # put a claimed item back, not as a crash (fenced by its token)
    insert_item: Any  # a new item unless (bot, reference) exists, RETURNING the row (or nothing)
    insert_new_item: Any  # a new item, RETURNING the row; an existing (bot, reference) fails
    # PostgreSQL only: the best new item claimed with the slots a finished item hands over, in
    # one statement, when it is of that bot (see ``claim_with_handover``)
    claim_with_handover: TextClause | None = None

    @classmethod
    def build(cls, *, postgresql: bool, insert: Callable[[Any], Any]) -> QueueStatements:
        """``insert``: the dialect's INSERT construct (for ON CONFLICT)."""
        candidates = (
            select(ITEMS)
            # written as a literal, not a parameter: a prepared statement's generic plan can then
            # still use the partial claim index (WHERE status = 'new')
            .where(ITEMS.c.status == literal_column(f"'{NEW}'"))
            .where(or_(ITEMS.c.not_before.is_(None), ITEMS.c.not_before <= _when("now", ITEMS.c.not_before)))
            # the order of ix_work_items_claim_order: deadlines first (by priority, then the
            # earliest), then the rest by priority and age
            .order_by(
                ITEMS.c.deadline.is_(None), ITEMS.c.priority.desc(), ITEMS.c.deadline, ITEMS.c.created_at
            )
            .limit(bindparam("lim", type_=Integer))
        )
        if postgresql:  # one array parameter: the statement text does not depend on how many bots
            of_bots = candidates.where(ITEMS.c.bot == any_(bindparam("bots", type_=ARRAY(String))))
        else:
            of_bots = candidates.where(ITEMS.c.bot.in_(bindparam("bots", expanding=True)))
        free = (
            select(SLOTS.c.slot)
            .where(SLOTS.c.capacity == bindparam("cap"))
            .where(
                or_(SLOTS.c.holder_item.is_(None), SLOTS.c.lease_until < _when("now", SLOTS.c.lease_until))
            )
            .order_by(SLOTS.c.slot)
            .limit(1)
        )
        if postgresql:
            candidates = candidates.with_for_update(skip_locked=True)
            of_bots = of_bots.with_for_update(skip_locked=True)
            free = free.with_for_update(skip_locked=True)
        fenced_item = (ITEMS.c.id == bindparam("item_id"), ITEMS.c.token == bindparam("item_token"))
        fenced_slot = (
            SLOTS.c.capacity == bindparam("cap"),
            SLOTS.c.slot == bindparam("slot_no"),
            SLOTS.c.token == bindparam("slot_token"),
        )
        held_by_item = {  # a slot taken (or moved) for the item being claimed
            "holder_item": bindparam("item_id"),
            "holder_owner": bindparam("owner"),
            "lease_until": _when("until", SLOTS.c.lease_until),
            "token": SLOTS.c.token + 1,
        }
        # the slots this claim took for the item (sent with it, so both need one round trip)
        slots_held = (
            select(func.count())
            .select_from(SLOTS)
            .where(
                SLOTS.c.holder_item == bindparam("item_id"),
                SLOTS.c.holder_owner == bindparam("owner"),
                SLOTS.c.lease_until == _when("until", SLOTS.c.lease_until),
            )
            .scalar_subquery()
        )
        return cls(
            candidates=candidates,
            candidates_of_bots=of_bots,
            claim_item=update(ITEMS)
            .where(
                ITEMS.c.id == bindparam("item_id"),
                ITEMS.c.status == NEW,
                slots_held == bindparam("slots_needed", type_=Integer),
            )
            .values(
                status=IN_PROGRESS,
                lease_owner=bindparam("owner"),
                lease_until=_when("until", ITEMS.c.lease_until),
                token=ITEMS.c.token + 1,
                attempts=ITEMS.c.attempts + 1,
                started_at=func.coalesce(ITEMS.c.started_at, _when("now", ITEMS.c.started_at)),
                # the run created in the claiming transaction, if any
                run_id=func.coalesce(bindparam("new_run_id", type_=ITEMS.c.run_id.type), ITEMS.c.run_id),
                updated_at=_when("now", ITEMS.c.updated_at),
            )
            .returning(*ITEMS.c),
            # one statement: the slot is chosen (and, on PostgreSQL, locked) in the subquery
            take_slot=update(SLOTS)
            .where(SLOTS.c.capacity == bindparam("cap"), SLOTS.c.slot == free.scalar_subquery())
            .values(held_by_item)
            .returning(SLOTS.c.slot, SLOTS.c.token),
            free_slot=update(SLOTS)
            .where(*fenced_slot)
            .values(holder_item=None, holder_owner=None, lease_until=None),
            move_slot=update(SLOTS)
            .where(*fenced_slot)
            .values(held_by_item)
            .returning(SLOTS.c.slot, SLOTS.c.token),
            link_run=update(ITEMS)
            .where(*fenced_item, ITEMS.c.status == IN_PROGRESS)
            .values(run_id=bindparam("new_run_id"), updated_at=_when("now", ITEMS.c.updated_at)),
            finish_item=update(ITEMS)
            .where(*fenced_item, ITEMS.c.status == IN_PROGRESS)
            .values(
                status=bindparam("new_status"),
                reason=bindparam("new_reason"),
                reason_code=bindparam("new_code"),
                parked_step=bindparam("new_parked"),
                straight_through=bindparam("new_stp"),
                lease_owner=None,
                lease_until=None,
                finished_at=_when("finished", ITEMS.c.finished_at),
                run_id=func.coalesce(bindparam("new_run_id", type_=ITEMS.c.run_id.type), ITEMS.c.run_id),
                updated_at=_when("now", ITEMS.c.updated_at),
            ),
            insert_item=insert(ITEMS)
            .on_conflict_do_nothing(index_elements=["bot", "reference"])
            .returning(*ITEMS.c),
            insert_new_item=insert(ITEMS).returning(*ITEMS.c),
            release_item=update(ITEMS)
            .where(*fenced_item, ITEMS.c.status == IN_PROGRESS)
            .values(
                status=NEW, lease_owner=None, lease_until=None, updated_at=_when("now", ITEMS.c.updated_at)
            ),
            claim_with_handover=claim_with_handover() if postgresql else None,
        )


# The statuses are literals (ItemStatus values), as in ``candidates``: the prepared statement's
# generic plan can then use the partial claim index (WHERE status = 'new').
_CLAIM_WITH_HANDOVER = """
WITH cand AS (
    SELECT work_items.id, work_items.bot, work_items.run_id, work_items.attempts
    FROM work_items
    WHERE work_items.status = 'new'
      AND (work_items.not_before IS NULL OR work_items.not_before <= :now)
    ORDER BY (work_items.deadline IS NULL), work_items.priority DESC, work_items.deadline,
             work_items.created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), handed AS (
    SELECT * FROM unnest(CAST(:caps AS VARCHAR[]), CAST(:slot_nos AS INTEGER[]),
                         CAST(:slot_tokens AS INTEGER[])) AS h(capacity, slot, token)
), moved AS (
    UPDATE slots
    SET holder_item = cand.id, holder_owner = :owner, lease_until = :until, token = slots.token + 1
    FROM cand
    WHERE cand.bot = :bot
      AND slots.capacity = ANY(CAST(:caps AS VARCHAR[])) AND slots.slot = ANY(CAST(:slot_nos AS INTEGER[]))
      AND (slots.capacity, slots.slot, slots.token) IN (SELECT capacity, slot, token FROM handed)
    RETURNING slots.capacity, slots.slot, slots.token
), claimed AS (
    UPDATE work_items
    SET status = 'in_progress', lease_owner = :owner, lease_until = :until,
        token = work_items.token + 1, attempts = work_items.attempts + 1,
        started_at = coalesce(work_items.started_at, :now),
        run_id = CASE WHEN work_items.run_id IS NULL AND work_items.attempts = 0
                      THEN CAST(:new_run_id AS VARCHAR) ELSE work_items.run_id END,
        updated_at = :now
    FROM cand
    WHERE work_items.id = cand.id AND (SELECT count(*) FROM moved) = :slots_needed
    RETURNING work_items.*
)
SELECT cand.id AS cand_id, cand.bot AS cand_bot, cand.run_id AS cand_run_id,
       cand.attempts AS cand_attempts,
       (SELECT array_agg(moved.capacity ORDER BY moved.capacity) FROM moved) AS moved_caps,
       (SELECT array_agg(moved.slot ORDER BY moved.capacity) FROM moved) AS moved_slots,
       (SELECT array_agg(moved.token ORDER BY moved.capacity) FROM moved) AS moved_tokens,
       claimed.*
FROM cand LEFT JOIN claimed ON true
"""


def claim_with_handover() -> TextClause:
    """The best new item, locked; if it is of the bot ``bot``, the handed-over slots (fenced by
    their tokens) move to it and it is claimed — one statement, one round trip, instead of the
    candidate query, the slot UPDATEs and the item's UPDATE.

    Returns one row per candidate found (none when the queue is empty): the candidate's
    ``cand_*`` columns, the slots moved to it (``moved_*`` arrays: capacity, slot, new token)
    and, if it was claimed (all ``slots_needed`` moved), the claimed row's columns; else those
    are NULL and the caller claims the candidate the usual way (it stays locked by this
    transaction), the moved slots under their new tokens.
    """
    return text(_CLAIM_WITH_HANDOVER).bindparams(
        bindparam("now", type_=ITEMS.c.updated_at.type),
        bindparam("until", type_=ITEMS.c.lease_until.type),
        bindparam("caps", type_=ARRAY(String)),
        bindparam("slot_nos", type_=ARRAY(Integer)),
        bindparam("slot_tokens", type_=ARRAY(Integer)),
        bindparam("slots_needed", type_=Integer),
    )
