"""Rows of the visibility matrices contributed by each app (tests/test_visibility_api.py and
tests/test_visibility_pages.py merge them).

Each module here defines:
- `API`: {(method, path template): (expectation per actor, body builder or None)} — the API matrix rows;
- `PAGES`: {url name: [(method, expectation per actor, form data builder or None)]} — the page rows;
- `PAGE_ARGS`: {url name: lambda ctx: [reverse() args]} for page URLs that take arguments;
- `world(ctx)`: adds the app's records to the shared world (`ctx["org"]` holds the users; the shared
  contact and company, owned by `owner` and shared with Team A, are `ctx["contact"]`/`ctx["company"]`)
  and their path parameters to `ctx["ids"]` (API) and whatever `PAGE_ARGS` needs to `ctx`;
- `state()`: a tuple of everything a refused call on the app's rows could have changed.
Expectations come from `tests.matrix.rules`.
"""

from tests.matrix import activities, commerce, dedupe, imports

MODULES = [activities, commerce, imports, dedupe]
