"""The Viewer API service: the only code in Viewer Admin that talks to Avara's Viewer API.

Everything else (views, forms, templates) uses the typed surface re-exported here: pydantic
models in and out, keyword-only functions named `<entity>_<action>`, and one exception
hierarchy whose messages a coordinator can act on. The wire contract is `docs/viewer-api.md`;
section numbers in comments refer to it.

The package reads in the order of a request:

- `rules`: what the API states once (DICOM UID, ID formats, metadata limits, enums, `limit`);
  the Django forms reuse these.
- `params`: what goes out (request bodies, and one filters model per list).
- `responses`: what comes in (the API's objects and list pages).
- `exceptions`: the one hierarchy every failure is mapped to.
- `transport`: the one httpx client (retries, backoff, Retry-After, error mapping, logging).
- `client`: the process-wide client (`get_client`, `set_client`; rebuilt on settings change).
- `parsing`, `pagination`: answers into models; list pages and walking them.
- `readback`: what a mutating call whose answer was lost really did (reading the study back).
- `studies`, `users`, `customers`: the endpoint functions, per resource.
- `cache`: short-lived caching of reads through the Django cache.
"""

from studies.viewer_api.client import get_client, ping, set_client
from studies.viewer_api.customers import customer_list, customers_active, customers_all
from studies.viewer_api.exceptions import (
    AuthError,
    BadResponse,
    Conflict,
    InvalidRequest,
    NotApplied,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unavailable,
    ViewerAPIError,
)
from studies.viewer_api.params import (
    CustomerFilters,
    StudyCreate,
    StudyFilters,
    StudyUpdate,
    UserFilters,
)
from studies.viewer_api.readback import (
    FIELD_NAMES,
    differences,
    expected_create,
    expected_update,
    state_digest,
    study_state,
)
from studies.viewer_api.responses import (
    ActionResult,
    ApiKeyRef,
    CustomerRef,
    ExpressCustomer,
    Page,
    Study,
    User,
    UserRef,
)
from studies.viewer_api.rules import (
    DESCRIPTION_MAX_LENGTH,
    LIST_LIMIT_MAX,
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_VALUE_MAX_LENGTH,
    NO_CUSTOMER,
    UNASSIGNED,
    CustomerId,
    Severity,
    StudyId,
    UserId,
    ViewerStatus,
    dicom_uid_problem,
    metadata_problems,
)
from studies.viewer_api.studies import (
    DUPLICATE_UID,
    study_cancel,
    study_create,
    study_get,
    study_get_by_uid,
    study_list,
    study_pages,
    study_uncancel,
    study_update,
    study_viewer_url,
)
from studies.viewer_api.transport import ViewerAPI
from studies.viewer_api.users import user_get, user_get_cached, user_list, user_search

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "DUPLICATE_UID",
    "FIELD_NAMES",
    "LIST_LIMIT_MAX",
    "METADATA_KEY_MAX_LENGTH",
    "METADATA_MAX_PAIRS",
    "METADATA_VALUE_MAX_LENGTH",
    "NO_CUSTOMER",
    "UNASSIGNED",
    "ActionResult",
    "ApiKeyRef",
    "AuthError",
    "BadResponse",
    "Conflict",
    "CustomerFilters",
    "CustomerId",
    "CustomerRef",
    "ExpressCustomer",
    "InvalidRequest",
    "NotApplied",
    "NotFound",
    "OutcomeUnknown",
    "Page",
    "RateLimited",
    "Severity",
    "Study",
    "StudyCreate",
    "StudyFilters",
    "StudyId",
    "StudyUpdate",
    "Unavailable",
    "User",
    "UserFilters",
    "UserId",
    "UserRef",
    "ViewerAPI",
    "ViewerAPIError",
    "ViewerStatus",
    "customer_list",
    "customers_active",
    "customers_all",
    "dicom_uid_problem",
    "differences",
    "expected_create",
    "expected_update",
    "get_client",
    "metadata_problems",
    "ping",
    "set_client",
    "state_digest",
    "study_cancel",
    "study_create",
    "study_get",
    "study_get_by_uid",
    "study_list",
    "study_pages",
    "study_state",
    "study_uncancel",
    "study_update",
    "study_viewer_url",
    "user_get",
    "user_get_cached",
    "user_list",
    "user_search",
]
