"""The event store on PostgreSQL (asyncpg), one module per concern:

* `connection`: connections and pools carrying the store's codecs;
* `reads`: the log as readers see it (the head, events by position, type, stream or id) and
  the channels an append announces itself on;
* `store`: the adapter, `PostgresEventStore`, and the locked append that keeps positions
  dense and in commit order;
* `coalescing`: the commit scheduler, many appends in one transaction;
* `known_head`: the speculative one-round-trip path for a batch planned on the head this
  store last left.

Import from the module itself: this package forwards nothing.
"""
