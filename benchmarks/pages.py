"""The pages the benchmark times, each paired with the bare Viewer API work it stands on.

A page's `app` step is what a coordinator's browser does (through `AppClient`: httpx against a
gunicorn instance, or Django's test client in this process for counting queries and
profiling). Its `bare` step is the same API work done directly with httpx: same endpoint,
same filters, same page size, same body. Both take the sample's index, so a page that walks
(Load more) or creates (unique UIDs) stays in step on both sides.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, Final, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from benchmarks.html import ROW, form_fields, load_more_url, page_errors
from benchmarks.servers import API_KEY, BenchmarkError

WORKLIST_ROWS: Final = 50
# The worklist with no filter (studies.filters.NO_FILTERS): a plain `/` redirects to the
# coordinator's remembered filters, which the filtered page has just set.
WORKLIST: Final = "/?filters=none"
ASSIGNEE_LIMIT: Final = 10
UID_ROOT: Final = "2.25."


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    location: str


class AppClient(Protocol):
    """A signed-in coordinator's browser, as far as the benchmark needs one."""

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Reply: ...

    def post(
        self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Reply: ...


class HttpxApp:
    """A browser over HTTP: cookies kept, redirects not followed. Given several instances it
    sends each request to the next one, as a round-robin load balancer would."""

    def __init__(
        self, base_urls: list[str], *, keep_alive: bool = True, timeout: float = 30.0
    ) -> None:
        self.base_urls = base_urls
        self._turn = 0
        limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
        self.http = httpx.Client(timeout=timeout, limits=limits)

    def _next(self) -> str:
        base = self.base_urls[self._turn % len(self.base_urls)]
        self._turn += 1
        return base

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Reply:
        return _reply(self.http.get(self._next() + url, headers=headers))

    def post(
        self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Reply:
        base = self._next()
        # The Origin header is what a browser sends with a form post (Django's CSRF check).
        sent = {"Origin": base, **(headers or {})}
        return _reply(self.http.post(base + url, data=data, headers=sent))

    def close(self) -> None:
        self.http.close()


def _reply(response: httpx.Response) -> Reply:
    return Reply(response.status_code, response.text, response.headers.get("location", ""))


def expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        detail = page_errors(reply.text) if reply.status == 200 else reply.text[:300]
        raise BenchmarkError(f"{what} answered {reply.status}, not {status}: {detail}")
    return reply


def sign_in(app: AppClient, username: str, password: str) -> None:
    """Through `/login/` as a browser would: the CSRF token comes from the form."""
    page = expect(app.get("/login/"), 200, "GET /login/")
    fields = form_fields(page.text, "/login/")
    fields.update({"username": username, "password": password})
    reply = expect(app.post("/login/", fields), 302, f"signing in as {username}")
    if reply.location != "/":
        raise BenchmarkError(f"Signing in as {username} did not lead to the worklist.")


class BareApi:
    """Direct calls to the Viewer API (the sandbox upstream), counting every `/v1` request
    through an httpx event hook."""

    def __init__(self, api_base_url: str) -> None:
        self.calls = 0
        self.http = httpx.Client(
            base_url=api_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"},
            timeout=30.0,
            event_hooks={"request": [self._count]},
        )

    def _count(self, request: httpx.Request) -> None:
        if "/v1/" in request.url.path:
            self.calls += 1

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self.http.get(path, params=params)
        if response.status_code != 200:
            raise BenchmarkError(f"GET {path} answered {response.status_code}.")
        return response.json()

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        if response.status_code not in (200, 201):
            raise BenchmarkError(f"POST {path} answered {response.status_code}: {response.text}")
        return response.json()

    def close(self) -> None:
        self.http.close()


def timed(step: Callable[..., object], *args: object) -> float:
    """Seconds `step(*args)` takes."""
    started = time.perf_counter()
    step(*args)
    return time.perf_counter() - started


# --- What the pages work on ---------------------------------------------------------------------


@dataclass
class Fixtures:
    """Ids and names from the seeded clinic that the pages work on."""

    study_ids: list[str]
    names: list[tuple[str, str]]
    assignees: list[tuple[str, str]]  # (user id, "First Last")
    customer_ids: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(20250130))  # noqa: S311

    def uid(self) -> str:
        return f"{UID_ROOT}{self.rng.getrandbits(120) + 1}"


def next_cursor(page: Mapping[str, Any]) -> str | None:
    """The cursor of the next page of a list answer (§5), None on the last page."""
    cursor = page.get("cursor")
    return str(cursor) if page.get("hasMore") and cursor else None


def load_fixtures(api: BareApi) -> Fixtures:
    """Studies to open, assignees to search for and customers to pick, read through the API."""
    studies = api.get("v1/viewer/studies", {"limit": "100", "isCancelled": "false"})["studies"]
    users: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(users) < 2000:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = api.get("v1/viewer/users", params)
        users += [user for user in page["users"] if not user.get("isRevoked")]
        cursor = next_cursor(page)
        if not cursor:
            break
    customers = api.get("v1/express", {"limit": "100"})["expressCustomers"]
    names = sorted({(user["firstName"], user["lastName"]) for user in users})
    random.Random(7).shuffle(names)  # noqa: S311 - which names to search for
    return Fixtures(
        study_ids=[study["studyId"] for study in studies],
        names=names,
        assignees=[(u["userId"], f"{u['firstName']} {u['lastName']}") for u in users[:50]],
        customer_ids=[c["expressCustomerId"] for c in customers if c.get("isActive")],
    )


# --- The pages ----------------------------------------------------------------------------------


class Page:
    """One kind of page: `app` renders it once, `bare` does its API work once."""

    name: str = ""
    # Upstream calls the bare step makes, i.e. what one render should make (the target).
    api_calls: int = 1
    # Database queries one render may make (the cache is Redis, see benchmarks/run.py): the
    # user, the permissions (one query) and the header's count of unsent creates; the session
    # is read from the cache.
    db_queries: int = 3

    def __init__(self, fixtures: Fixtures) -> None:
        self.fx = fixtures

    def app(self, client: AppClient, index: int) -> None:
        raise NotImplementedError

    def bare(self, api: BareApi, index: int) -> None:
        raise NotImplementedError

    def warm_up(self, client: AppClient, api: BareApi) -> None:
        """Untimed renders before the samples (code, templates and connections warm)."""
        for index in (-2, -1):
            self.bare(api, index)
            self.app(client, index)


_ACTIVE: Final = {"isCancelled": "false", "limit": str(WORKLIST_ROWS)}


# Urgent first (the worklist's default) asks for the open studies once more, per render.
_OPEN: Final = {"isCancelled": "false", "studyViewerStatus": "incomplete", "limit": "100"}
# The other worklist pages measure the list itself: newest first, one call.
_NEWEST: Final = {"order": "newest"}


class Worklist(Page):
    name = "worklist (50 rows)"
    api_calls = 2  # the list, and urgent first's one call

    def app(self, client: AppClient, index: int) -> None:
        page = expect(client.get(WORKLIST), 200, f"GET {WORKLIST}")
        rows = len(ROW.findall(page.text))
        # The 50 newest, plus the open STAT and high ones of the 100 newest open studies.
        if rows < WORKLIST_ROWS:
            raise BenchmarkError(f"The worklist shows {rows} rows, not {WORKLIST_ROWS} or more.")

    def bare(self, api: BareApi, index: int) -> None:
        api.get("v1/viewer/studies", _ACTIVE)
        api.get("v1/viewer/studies", _OPEN)


class WorklistEmpty(Page):
    """A worklist filter that matches nothing: its database queries must equal the full
    page's (none per row)."""

    name = "worklist (no rows)"

    def app(self, client: AppClient, index: int) -> None:
        page = expect(client.get("/?q=no-such-study-zzqx&order=newest"), 200, "GET / (no rows)")
        if ROW.search(page.text):
            raise BenchmarkError("A filter that matches nothing shows rows.")

    def bare(self, api: BareApi, index: int) -> None:
        api.get("v1/viewer/studies", _ACTIVE | {"studyDescription": "no-such-study-zzqx"})


class WorklistFiltered(Page):
    name = "worklist, filtered"
    # Each render changes the filters, which are remembered for the coordinator: the
    # preference row and the session are written (an UPDATE each, the session's in a
    # transaction).
    db_queries = 7

    def _filters(self, index: int) -> tuple[dict[str, str], dict[str, str]]:
        """(the worklist's query string, the API query it stands for)."""
        user, customer = self.fx.assignees[0][0], self.fx.customer_ids[0]
        choices: list[tuple[dict[str, str], dict[str, str]]] = [
            ({"severity": "stat"}, {"severity": "stat"}),
            ({"status": "complete"}, {"studyViewerStatus": "complete"}),
            ({"assigned_to": "unassigned"}, {"assignedTo": "null"}),
            ({"assigned_to": user}, {"assignedTo": user}),
            ({"customer": customer}, {"expressCustomerId": customer}),
            ({"q": "MRI"}, {"studyDescription": "MRI"}),
            (
                {"q": "chest", "severity": "normal", "status": "incomplete"},
                {"studyDescription": "chest", "severity": "normal"}
                | {"studyViewerStatus": "incomplete"},
            ),
        ]
        query, params = choices[index % len(choices)]
        return query, _ACTIVE | params

    def warm_up(self, client: AppClient, api: BareApi) -> None:
        """As a coordinator does: the assignee is picked in the filter's type-ahead (which
        keeps the users it found), then the list is filtered by them."""
        super().warm_up(client, api)
        name = self.fx.assignees[0][1]
        search = f"/studies/assignees/?{urlencode({'for': 'filter', 'q': name})}"
        expect(client.get(search), 200, "GET the assignee type-ahead")

    def app(self, client: AppClient, index: int) -> None:
        query, _ = self._filters(index)
        expect(client.get(f"/?{urlencode(query | _NEWEST)}"), 200, "GET / (filtered)")

    def bare(self, api: BareApi, index: int) -> None:
        api.get("v1/viewer/studies", self._filters(index)[1])


class LoadMore(Page):
    """htmx's "Load more": the next 50 rows, walking on from the first page."""

    name = '"Load more"'
    HEADERS: Final = {"HX-Request": "true", "HX-Target": "load-more"}
    db_queries = 1  # a fragment: no header, so no permission check or unsent count

    def __init__(self, fixtures: Fixtures) -> None:
        super().__init__(fixtures)
        self.url: str | None = None
        self.first_url: str | None = None

    def _url(self, client: AppClient) -> str:
        if self.url is None:
            if self.first_url is None:
                self.first_url = load_more_url(
                    expect(client.get(WORKLIST), 200, f"GET {WORKLIST}").text
                )
                if self.first_url is None:
                    raise BenchmarkError("The worklist shows no 'Load more' link.")
            self.url = self.first_url
        return self.url

    def app(self, client: AppClient, index: int) -> None:
        page = expect(client.get(self._url(client), self.HEADERS), 200, "Load more")
        self.url = load_more_url(page.text)  # None at the end: start again from the top

    def bare(self, api: BareApi, index: int) -> None:
        # The app step of this sample asks for the same cursor right after.
        cursor = parse_qs(urlsplit(self.url or self.first_url or "").query).get("cursor", [""])[0]
        api.get("v1/viewer/studies", _ACTIVE | ({"cursor": cursor} if cursor else {}))


class Detail(Page):
    name = "detail page"
    db_queries = 4  # and the study's audit trail

    def _study(self, index: int) -> str:
        return self.fx.study_ids[index % len(self.fx.study_ids)]

    def app(self, client: AppClient, index: int) -> None:
        expect(client.get(f"/studies/{self._study(index)}/"), 200, "GET the detail page")

    def bare(self, api: BareApi, index: int) -> None:
        api.get(f"v1/viewer/studies/{self._study(index)}")


class Edit(Detail):
    name = "edit page"
    # At most the page's three and the form draft (one query reads it with any expired
    # drafts, which are deleted only when there are some); no audit trail.
    db_queries = 4

    def app(self, client: AppClient, index: int) -> None:
        expect(client.get(f"/studies/{self._study(index)}/edit/"), 200, "GET the edit page")


class Create(Page):
    """The full form: GET it (fresh token), fill it like a coordinator, POST it (302 to the
    new study). Every other one with an assignee, a customer and metadata."""

    name = "create form GET + POST"
    label = "Benchmark CT Head without Contrast"
    # Two requests: the form (4: the page's three and the form draft, as on the edit page) and
    # its POST (8: the user, the permissions; the submission's token row in a transaction
    # (3); its audit entry (2) and the submission's outcome (1)).
    db_queries = 12

    def body(self, index: int) -> dict[str, Any]:
        """The API body of sample `index`: the same for its bare and its app step but for the
        Study Instance UID, new on every call."""
        body: dict[str, Any] = {
            "severity": ("normal", "high", "stat")[index % 3],
            "studyDescription": f"{self.label} #{index + 1}",
            "studyInstanceUid": self.fx.uid(),
        }
        if index % 2 == 0:
            user_id, _ = self.fx.assignees[index % len(self.fx.assignees)]
            body["assignedTo"] = user_id
            body["expressCustomerId"] = self.fx.customer_ids[index % len(self.fx.customer_ids)]
            body["metadata"] = {"accessionNumber": f"ACC{index:08d}", "modality": "CT"}
        return body

    def filled_form(self, client: AppClient, index: int) -> dict[str, str]:
        """GET the form and fill it with `body(index)`, as a coordinator would."""
        page = expect(client.get("/studies/new/"), 200, "GET /studies/new/")
        fields = form_fields(page.text, "/studies/new/")
        body = self.body(index)
        fields.update(
            {
                "action": "create",
                "severity": body["severity"],
                "study_description": body["studyDescription"],
                "study_instance_uid": body["studyInstanceUid"],
            }
        )
        if "assignedTo" in body:
            fields["assignee_query"] = self.fx.assignees[index % len(self.fx.assignees)][1]
            fields["assigned_to"] = body["assignedTo"]
            fields["express_customer_id"] = body["expressCustomerId"]
            fields["metadata-TOTAL_FORMS"] = str(len(body["metadata"]))
            for row, (key, value) in enumerate(body["metadata"].items()):
                fields[f"metadata-{row}-key"] = key
                fields[f"metadata-{row}-value"] = value
        return fields

    def app(self, client: AppClient, index: int) -> None:
        fields = self.filled_form(client, index)
        reply = expect(client.post("/studies/new/", fields), 302, "POST /studies/new/")
        if not reply.location.startswith("/studies/stu_"):
            raise BenchmarkError(f"The create led to {reply.location}, not the new study.")

    def bare(self, api: BareApi, index: int) -> None:
        api.post("v1/viewer/studies", self.body(index))


class QuickCreate(Page):
    """The worklist's quick-create over htmx: the form comes back fresh, with the new row."""

    name = "quick-create (htmx)"
    HEADERS: Final = {"HX-Request": "true", "HX-Target": "quick-create"}
    # The create's POST (see Create); a study created on the first attempt leaves the header's
    # unsent count as it was, so the answer does not count them again.
    db_queries = 8

    def __init__(self, fixtures: Fixtures) -> None:
        super().__init__(fixtures)
        self.fields: dict[str, str] | None = None

    def app(self, client: AppClient, index: int) -> None:
        if self.fields is None:
            page = expect(client.get(WORKLIST), 200, f"GET {WORKLIST}")
            self.fields = form_fields(page.text, WORKLIST)
        fields = dict(self.fields)
        fields.update(
            {
                "action": "create",
                "quick-severity": "high",
                "quick-study_description": f"Benchmark quick MRI Brain #{index + 1}",
                "quick-study_instance_uid": self.fx.uid(),
            }
        )
        # A browser posts to the form's action: the worklist's URL, filters included.
        reply = expect(client.post(WORKLIST, fields, self.HEADERS), 200, "quick-create")
        if 'hx-swap-oob="afterbegin:#worklist-rows"' not in reply.text:
            raise BenchmarkError(f"The quick-create made no study: {page_errors(reply.text)}")
        # The fresh form carries the next one-time token.
        self.fields = form_fields(reply.text, WORKLIST)

    def bare(self, api: BareApi, index: int) -> None:
        api.post(
            "v1/viewer/studies",
            {
                "severity": "high",
                "studyDescription": f"Benchmark quick MRI Brain #{index + 1}",
                "studyInstanceUid": self.fx.uid(),
            },
        )


class TypeAhead(Page):
    """The assignee type-ahead for a full name (one filtered users call), each query new."""

    name = "type-ahead, cold"
    HEADERS: Final = {"HX-Request": "true", "HX-Target": "id_assignee_query_results"}
    db_queries = 1  # a fragment: the user (no header, so no permission check)
    offset = 0

    def _name(self, index: int) -> tuple[str, str]:
        return self.fx.names[(self.offset + index) % len(self.fx.names)]

    def app(self, client: AppClient, index: int) -> None:
        first, last = self._name(index)
        url = f"/studies/assignees/?{urlencode({'q': f'{first} {last}'})}"
        reply = expect(client.get(url, self.HEADERS), 200, "the type-ahead")
        if escape(last) not in reply.text:
            raise BenchmarkError(f"The type-ahead for {first} {last} did not list them.")

    def bare(self, api: BareApi, index: int) -> None:
        first, last = self._name(index)
        params = {"firstName": first, "lastName": last, "limit": str(ASSIGNEE_LIMIT)}
        api.get("v1/viewer/users", params)


class TypeAheadCached(TypeAhead):
    """The same queries again: answered from the cache, no API call (the bare step still
    makes the call the cache saves)."""

    name = "type-ahead, cached"
    api_calls = 0

    repeat = 5

    def app(self, client: AppClient, index: int) -> None:
        super().app(client, index % self.repeat)

    def bare(self, api: BareApi, index: int) -> None:
        super().bare(api, index % self.repeat)

    def warm_up(self, client: AppClient, api: BareApi) -> None:
        """Every query once, so that each sample is a cache hit."""
        for index in range(self.repeat):
            self.app(client, index)


def all_pages(fixtures: Fixtures) -> list[Page]:
    return [
        Worklist(fixtures),
        WorklistFiltered(fixtures),
        LoadMore(fixtures),
        Detail(fixtures),
        Edit(fixtures),
        Create(fixtures),
        QuickCreate(fixtures),
        TypeAhead(fixtures),
        TypeAheadCached(fixtures),
    ]
