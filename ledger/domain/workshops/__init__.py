"""Workshops (SPEC 11): sessions, attendance, the credit derived at the close, and claims.

* `agenda`     the fold of the `workshop-{activity_id}` stream; giving or changing the agenda
* `attendance` recording attendance, correcting it, closing the workshop
* `presence`   which sessions a manager attended, and why the others did not count
* `credit`     the completions a close derives in each attendee's stream, and their difference
* `claims`     a manager's claim that an attended activity was not posted
"""
