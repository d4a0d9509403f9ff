"""The pages, one controller per kind of person (SPEC section 9)."""
