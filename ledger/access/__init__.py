"""Who is calling and what they may see: tokens and the principals they stand for, the web's
sessions, and the one scope policy (`policy`).  It raises access errors, never HTTP ones."""
