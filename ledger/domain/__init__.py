"""The rules of the ledger as pure functions: no I/O, no clock; dates are arguments."""
