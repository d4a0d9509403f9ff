"""The read side: what the doors show, built from the projections and the store (views and
the reads that fill them).  It decides nothing and raises only domain errors."""
