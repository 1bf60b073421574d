"""Viewer API sandbox views: plain function views answering JSON (§6, §7.1, §7.3, §10.1, §10.2).

Every `/v1` view goes through `endpoint()`, which handles what all of them share: no sign-in and
no CSRF token (it is an API), bearer-key authentication (§12.20), the method check, armed faults
(`sandbox.faults`), the error body of §12.1 and, for any unexpected exception, a JSON 500
`internal` instead of an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from sandbox import serializers, store
from sandbox.auth import authenticate
from sandbox.errors import ApiError, Forbidden, MethodNotAllowed, NotFound, error_response
from sandbox.faults import (
    apply_fault,
    build_fault,
    disarm_all,
    fault_json,
    purge_spent,
    route_of,
)
from sandbox.models import SandboxApiKey, SandboxFault
from sandbox.validation import (
    parse_page,
    parse_study_changes,
    parse_study_create,
    parse_study_filters,
    parse_study_locator,
    parse_user_filters,
    path_id,
    path_uid,
    read_json_object,
)

logger = logging.getLogger(__name__)

Handler = Callable[..., HttpResponse]
View = Callable[..., HttpResponseBase]


def relative_path(request: HttpRequest) -> str:
    """The request path relative to the sandbox base, e.g. `/v1/viewer/studies`."""
    base = reverse("sandbox:index")
    return "/" + request.path[len(base) :] if request.path.startswith(base) else request.path


def _internal_error(request: HttpRequest) -> JsonResponse:
    logger.exception("Sandbox error on %s %s", request.method, route_of(request))
    return error_response(500, "internal", "The sandbox failed unexpectedly.")


def _log_retry(request: HttpRequest) -> None:
    """Make the SDK's retries visible (§1.3): it counts them in X-Stainless-Retry-Count."""
    retry = request.headers.get("X-Stainless-Retry-Count", "0")
    if retry not in ("", "0"):
        logger.info("Sandbox: retry %s of %s %s", retry[:8], request.method, route_of(request))


def endpoint(*, product: str, **handlers: Handler) -> View:
    """Build a view for one path from one handler per HTTP method.

    `product` is "viewer" for `/v1/viewer/*`, where a key with the Viewer product disabled gets
    403 (§12.20), or "express". Handlers take `(request, key, **path_params)`.
    """
    allowed = tuple(handlers)

    def run(
        handler: Handler, request: HttpRequest, key: SandboxApiKey, **params: Any
    ) -> HttpResponse:
        try:
            return handler(request, key, **params)
        except ApiError as exc:
            return exc.response()

    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest, **params: Any) -> HttpResponseBase:
        try:
            key = authenticate(request)
            if product == "viewer" and not key.is_viewer_enabled:
                raise Forbidden("This API key is not enabled for the Viewer product.")
            handler = handlers.get(request.method or "")
            if handler is None:
                raise MethodNotAllowed(request.method or "", allowed)
            _log_retry(request)
            return apply_fault(
                request,
                relative_path(request),
                lambda: run(handler, request, key, **params),
            )
        except ApiError as exc:
            return exc.response()
        except Exception:  # noqa: BLE001 - any failure still answers the JSON error body
            return _internal_error(request)

    return view


# --- Studies (§6) ----------------------------------------------------------------------------


def list_studies(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§6.4: every filter, cursor pagination (§5)."""
    filters = parse_study_filters(request.GET)
    page = parse_page(request.GET)
    rows, cursor = store.paginate(store.filter_studies(store.studies(key.clinic_id), filters), page)
    return JsonResponse(serializers.page("studies", [serializers.study(r) for r in rows], cursor))


def create_study(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§6.1; 201 (§12.2)."""
    data = parse_study_create(read_json_object(request))
    study = store.create_study(key, data)
    return JsonResponse(serializers.study(study), status=201)


def retrieve_study(request: HttpRequest, key: SandboxApiKey, study_id: str) -> JsonResponse:
    """§6.2."""
    study = store.get_study(key.clinic_id, path_id(study_id, "study", "studyId"))
    return JsonResponse(serializers.study(study))


def update_study(request: HttpRequest, key: SandboxApiKey, study_id: str) -> JsonResponse:
    """§6.3."""
    study = store.get_study(key.clinic_id, path_id(study_id, "study", "studyId"))
    changes = parse_study_changes(read_json_object(request))
    return JsonResponse(serializers.study(store.update_study(study, changes)))


def retrieve_study_by_uid(
    request: HttpRequest, key: SandboxApiKey, study_instance_uid: str
) -> JsonResponse:
    """§6.8."""
    study = store.get_study_by_uid(key.clinic_id, path_uid(study_instance_uid))
    return JsonResponse(serializers.study(study))


def cancel_study(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§6.5 with §12.12: cancelling a cancelled study is a 200 "already cancelled"."""
    study = store.locate_study(key.clinic_id, parse_study_locator(read_json_object(request)))
    if store.cancel_study(study):
        return JsonResponse({"success": True, "message": "cancelled"})
    return JsonResponse({"success": True, "message": "already cancelled"})


def uncancel_study(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§6.6 with §12.12: the study must be cancelled, otherwise 409."""
    study = store.locate_study(key.clinic_id, parse_study_locator(read_json_object(request)))
    store.uncancel_study(study)
    return JsonResponse({"success": True, "message": "uncancelled"})


def reroute_url(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§6.7 with §12.13: a link to the sandbox's placeholder viewer, valid for 5 minutes, also
    for a cancelled study."""
    study = store.locate_study(key.clinic_id, parse_study_locator(read_json_object(request)))
    token = store.issue_viewer_token(study)
    url = request.build_absolute_uri(reverse("sandbox:viewer")) + f"?token={token}"
    return JsonResponse({"url": url})


# --- Users (§7.1, §7.3) ----------------------------------------------------------------------


def list_users(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§7.3."""
    filters = parse_user_filters(request.GET)
    page = parse_page(request.GET)
    rows, cursor = store.paginate(store.filter_users(store.users(key.clinic_id), filters), page)
    return JsonResponse(serializers.page("users", [serializers.user(r) for r in rows], cursor))


def retrieve_user(request: HttpRequest, key: SandboxApiKey, user_id: str) -> JsonResponse:
    """§7.1."""
    user = store.get_user(key.clinic_id, path_id(user_id, "user", "userId"))
    return JsonResponse(serializers.user(user))


# --- Express customers (§10.1, §10.2) --------------------------------------------------------


def list_customers(request: HttpRequest, key: SandboxApiKey) -> JsonResponse:
    """§10.1: only `cursor` and `limit`."""
    page = parse_page(request.GET)
    rows, cursor = store.paginate(store.customers(key.clinic_id), page)
    items = [serializers.express_customer(r) for r in rows]
    return JsonResponse(serializers.page("expressCustomers", items, cursor))


def retrieve_customer(
    request: HttpRequest, key: SandboxApiKey, express_customer_id: str
) -> JsonResponse:
    """§10.2."""
    customer = store.get_customer(
        key.clinic_id, path_id(express_customer_id, "customer", "expressCustomerId")
    )
    return JsonResponse(serializers.express_customer(customer))


studies_view = endpoint(product="viewer", GET=list_studies, POST=create_study)
study_view = endpoint(product="viewer", GET=retrieve_study, PATCH=update_study)
study_by_uid_view = endpoint(product="viewer", GET=retrieve_study_by_uid)
cancel_view = endpoint(product="viewer", POST=cancel_study)
uncancel_view = endpoint(product="viewer", POST=uncancel_study)
reroute_url_view = endpoint(product="viewer", POST=reroute_url)
users_view = endpoint(product="viewer", GET=list_users)
user_view = endpoint(product="viewer", GET=retrieve_user)
customers_view = endpoint(product="express", GET=list_customers)
customer_view = endpoint(product="express", GET=retrieve_customer)


# --- Sandbox-only pages and control endpoints (outside /v1) ----------------------------------


@csrf_exempt
@login_not_required
def faults(request: HttpRequest) -> HttpResponse:
    """`<base>/_sandbox/faults`: POST arms a fault (201), GET lists the armed ones, DELETE
    disarms all (and interrupts requests waiting out a fault). Same bearer key as the API;
    faults never apply to this path."""
    try:
        authenticate(request)
        if request.method == "POST":
            fault = build_fault(read_json_object(request))
            purge_spent()
            fault.save()
            return JsonResponse(fault_json(fault), status=201)
        if request.method == "GET":
            armed = SandboxFault.objects.filter(remaining__gt=0)
            return JsonResponse({"faults": [fault_json(f) for f in armed]})
        if request.method == "DELETE":
            return JsonResponse({"success": True, "cleared": disarm_all()})
        raise MethodNotAllowed(request.method or "", ("GET", "POST", "DELETE"))
    except ApiError as exc:
        return exc.response()
    except Exception:  # noqa: BLE001 - any failure still answers the JSON error body
        return _internal_error(request)


@csrf_exempt
@login_not_required
@require_GET
def viewer_page(request: HttpRequest) -> HttpResponse:
    """`<base>/_sandbox/viewer?token=…`: where reroute URLs lead (§12.13). A plain HTML page that
    says it is the sandbox; a missing token is 400, an unknown one 404, an expired one 410."""
    token = request.GET.get("token", "")
    context: dict[str, Any] = {"study": None, "problem": None}
    status = 200
    if not token:
        status, context["problem"] = 400, "This link has no viewer token."
    else:
        found = store.find_viewer_token(token)
        if found is None:
            status, context["problem"] = 404, "This viewer link is not valid."
        elif found.expires_at <= timezone.now():
            status, context["problem"] = 410, "This viewer link has expired. Ask for a new one."
        else:
            context["study"] = found.study
            context["expires_at"] = found.expires_at
    return TemplateResponse(request, "sandbox/viewer.html", context, status=status)


@login_not_required
def index(request: HttpRequest) -> JsonResponse:
    """`<base>/`: says what this is, for a human who opens the base URL."""
    return JsonResponse(
        {
            "name": "Avara Viewer API sandbox",
            "description": "A local stand-in of the Avara Viewer API. Not the real API.",
            "baseUrl": request.build_absolute_uri(reverse("sandbox:index")).rstrip("/"),
        }
    )


@csrf_exempt
@login_not_required
def not_served(request: HttpRequest, **params: Any) -> JsonResponse:
    """Any other path under the sandbox: a JSON 404 (never an HTML page or a redirect)."""
    path = relative_path(request)[:200]
    if path.startswith("/v1/"):
        message = f"{path} is not served by the Viewer API sandbox."
    else:
        message = f"No such sandbox path: {path}."
    return NotFound(message).response()
