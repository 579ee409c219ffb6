"""Request guards that apply to every door (pages, API, admin) at once.

- `RefuseNulMiddleware`: PostgreSQL refuses a NUL character (\\x00) in text, so a query parameter,
  a form field or a cookie carrying one would end in a 500 wherever it reaches a query unparsed. No
  legitimate input holds one: a page request is answered 400 before any view or session lookup. The
  API authenticates first and answers such a parameter 400 from `fpr.api.exception_handler`.
- `NoStoreMiddleware`: a signed-in page holds personal data; the browser and any proxy on the way
  must not keep it (`Cache-Control: no-store`), unless the view decided its own caching.
- `PasswordChangeRequiredMiddleware`: an account whose password was set by someone else (the bulk
  import's initial passwords: `User.must_change_password`) reaches only the password change page, its
  done page and logout until its owner sets their own password; every other page redirects there, the
  API (signed in by session) answers 403. The change clears the flag.
"""

from urllib.parse import unquote_to_bytes

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

NUL_DETAIL = "请求中含有不允许的字符（空字符 \\0），请检查链接或填写的内容。"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(text: str) -> bool:
    return "\x00" in text


def request_has_nul(request) -> bool:
    """A NUL in the path, the query string (raw or %00), a cookie, or a field of a form POST."""
    if request.path_info.startswith("/api/"):
        # The API authenticates first (an anonymous or wrongly signed call stays a 401, whatever its
        # parameters); a NUL that then reaches a query is a 400 from fpr.api.exception_handler.
        return False
    if _has_nul(request.path_info) or b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    if any(_has_nul(name) or _has_nul(value) for name, value in request.COOKIES.items()):
        return True
    # Form bodies of pages only: the API's JSON and fields go through DRF, whose CharField refuses NUL
    # with its own 400; reading the body here would also get in the way of DRF's parsers.
    if request.method == "POST" and request.content_type in FORM_TYPES:
        return any(_has_nul(name) or any(map(_has_nul, values)) for name, values in request.POST.lists())
    return False


def refuse_nul(request):
    # Rendered before the session is read (it is not trusted either): the page looks signed out.
    return render(request, "400.html", {"detail": NUL_DETAIL}, status=400)


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request_has_nul(request):
            return refuse_nul(request)
        return self.get_response(request)


class NoStoreMiddleware:
    """After AuthenticationMiddleware. Static files never get here (WhiteNoise answers them first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


MUST_CHANGE_DETAIL = "首次登录请先修改初始密码：初始密码由他人发放，修改后才能使用系统。"
# The pages such an account may reach (URL names); static files never get here (WhiteNoise).
MUST_CHANGE_OPEN = ("accounts:password_change", "accounts:password_change_done", "logout", "healthz")


class PasswordChangeRequiredMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open: frozenset[str] | None = None

    def _open_paths(self) -> frozenset[str]:
        if self._open is None:
            self._open = frozenset(reverse(name) for name in MUST_CHANGE_OPEN)
        return self._open

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and request.path_info not in self._open_paths()
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": MUST_CHANGE_DETAIL}, status=403)
            messages.warning(request, MUST_CHANGE_DETAIL)
            return redirect("accounts:password_change")
        return self.get_response(request)
