"""The authorization matrix (tests/api/test_authorization.py), rows for the routes of SPEC 6
added with issue 8.  When those routes land, these rows move into MATRIX there and this file
goes.  Columns: none, bad, admin, tma, mgma, m1, m2, CMM auditor, CMOM auditor."""

from __future__ import annotations

import pytest

from tests.api.test_authorization import Given, row, wrong_answers

REASON = {"reason": "failed audit"}

# fmt: off
NEW_ROUTES = [
    #                                             none bad  admin tma mgma m1   m2   CMM  CMOM
    # Acting on a certification: an auditor of its program only, not even an admin.
    row("POST /v1/managers/{manager}/certifications/CMM/revoke",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body=REASON, given=Given.a_fresh_cmm_manager),
    row("POST /v1/managers/{manager}/certifications/CMM/reinstate",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body={"reason": "appeal upheld"}, given=Given.a_fresh_revoked_cmm_manager),
    row("POST /v1/managers/{manager}/certifications/CMM/extensions",
                                                   401, 401, 403, 403, 403, 403, 403, 201, 403,
        body={"ends_on": "2028-03-01", "reason": "medical leave"},
        given=Given.a_fresh_cmm_manager),
    # The CMOM auditor asking for CMM's managers: 403.
    row("GET /v1/managers",                        401, 401, 200, 403, 403, 403, 403, 200, 403,
        query={"program": "CMM"}),
    # m-2 holds CMM only: the CMOM auditor audits none of its programs; m-1 is another manager.
    row("GET /v1/managers/m-2",                    401, 401, 200, 403, 403, 403, 200, 200, 403),
    row("POST /v1/managers/m-2/profile",           401, 401, 200, 403, 403, 403, 200, 200, 403,
        body={"name": "Pat Doe"}),
    row("GET /v1/providers",                       401, 401, 200, 200, 200, 200, 200, 200, 200),
    row("GET /v1/activities",                      401, 401, 200, 200, 200, 200, 200, 200, 200,
        query={"program": "CMM"}),
    # mgma reading tma's postings: 403.
    row("GET /v1/providers/tma/completions",       401, 401, 200, 200, 403, 403, 403, 403, 403),
    # A CMM fee: the CMOM auditor is outside its program.
    row("POST /v1/fees/{fee}/refund",              401, 401, 201, 403, 403, 403, 403, 201, 403,
        body={"amount_cents": 1, "reason": "rounding"}, given=Given.a_cmm_fee),
]
# fmt: on


@pytest.mark.parametrize("entry", NEW_ROUTES, ids=str)
async def test_each_caller_gets_what_the_who_column_of_section_6_allows(world, entry):
    assert await wrong_answers(world, entry) == {}
