"""Read models built from the log, and the engine that keeps them up to date."""
