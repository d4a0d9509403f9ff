"""The composition root: settings, pools, stores and services wired once, and handed to both
doors (the API and the pages) through the same dependencies."""
