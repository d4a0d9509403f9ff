"""CEU Ledger: the continuing-education record of medical office managers, event-sourced."""
