"""How a person names a refund: its NetSuite internal id (1042) or its document number (CM-1042, in any
case). Shared by the operator function and the CLI, which checks a name before asking anything of AWS.
"""

from __future__ import annotations

import re

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.state import RefundState

MAX_REFERENCE_LENGTH = 64
NETSUITE_ID = re.compile(r"[0-9]{1,20}")  # ASCII digits only: str.isdigit() also takes "²"


class InvalidReference(ValueError):
    """Not something a refund can be named by; the message says what is."""


def parse_reference(raw: str) -> str:
    """The name, trimmed; an empty or malformed one is refused with what a refund's name looks like."""
    reference = raw.strip()
    if not reference:
        raise InvalidReference(
            "no refund named: give its NetSuite internal id (all digits, e.g. 1042) or its document "
            "number (e.g. CM-1042)"
        )
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise InvalidReference(
            f"{reference[:20]!r}... is not a NetSuite internal id or document number "
            f"(those are at most {MAX_REFERENCE_LENGTH} characters)"
        )
    if not reference.isprintable():
        raise InvalidReference(
            f"{reference!r} is not a NetSuite internal id or document number (it holds control characters)"
        )
    return reference


def is_netsuite_id(reference: str) -> bool:
    return NETSUITE_ID.fullmatch(reference) is not None


def document_number_spellings(document_number: str) -> list[str]:
    """The spellings to look a document number up by: the state table's index matches exactly, and
    NetSuite's numbering prints document numbers in one case (CM-1042), so `cm-1042` means it too."""
    return list(dict.fromkeys([document_number, document_number.upper(), document_number.lower()]))


def find_states(store: StateStore, reference: str) -> list[RefundState]:
    """A refund's state by NetSuite internal id or by document number (any case); several when one
    document number is shared (NetSuite allows it across record types)."""
    if is_netsuite_id(reference):
        state = store.get(reference)
        if state is not None:
            return [state]
    found: dict[str, RefundState] = {}
    for spelling in document_number_spellings(reference):
        for state in store.find_by_document_number(spelling):
            found[state.netsuite_id] = state
    return list(found.values())
