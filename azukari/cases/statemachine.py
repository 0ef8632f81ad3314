"""DESIGN.md's state table as data: which moves are legal and whose clock runs in each state."""

from azukari.cases.models import AZUKARI_STATES, CaseState

TRANSITIONS: dict[str, frozenset[str]] = {
    CaseState.OPEN: AZUKARI_STATES | {CaseState.RESOLVED},
    **{state: (AZUKARI_STATES - {state}) | {CaseState.RESOLVED} for state in AZUKARI_STATES},
    CaseState.RESOLVED: frozenset({CaseState.AZUKARI, CaseState.CLOSED}),
    CaseState.CLOSED: frozenset({CaseState.AZUKARI}),
}

CENTER, CLIENT, CUSTOMER = "center", "client", "customer"

CLOCK_OF_STATE: dict[str, str] = {
    CaseState.AZUKARI: CENTER,
    CaseState.WAITING_CLIENT: CLIENT,
    CaseState.WAITING_CUSTOMER: CUSTOMER,
    CaseState.CALLBACK_DUE: CENTER,
}


def is_legal(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())
