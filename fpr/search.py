"""The search box of the list pages (农户, 监测对象, 待办, 预警线索): its words are often an ID number, so they
never travel in a URL. The form POSTs to the list's search door, which keeps the words in the session
under an opaque token and sends the browser back to the list with the filters and that token; the list
reads the words back with `search_words`. The address bar, the browser history and the access logs of
proxies and of the server then hold `?s=Xy3…`, never a person's number.

What the words match is households.selectors.household_search (one rule for every list).
"""

import secrets
from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

SEARCH_PARAMETER = "s"  # the token in the list's URL
WORDS_PARAMETER = "q"  # the form field (and, typed by hand or from the API, a plain query parameter)
SESSION_KEY = "searches"
KEPT = 20  # searches remembered per session (each page link names one)
MAX_WORDS = 64  # a pasted spaced ID number ("5224 2219 …") is longer than 18 characters


def search_words(request) -> str:
    """The words a list is searched by: those of the token in its URL, or `?q=` as typed."""
    if token := request.GET.get(SEARCH_PARAMETER):
        return request.session.get(SESSION_KEY, {}).get(token, "")
    return request.GET.get(WORDS_PARAMETER, "").strip()[:MAX_WORDS]


def search_query(request) -> QueryDict:
    """The list's GET parameters with the search words in place of their token, for the filter form."""
    query = request.GET.copy()
    if query.get(SEARCH_PARAMETER):
        query[WORDS_PARAMETER] = search_words(request)
    return query


def search_view(list_url: str, *, keep: Iterable[str]):
    """The POST-only door of one list's search form: `keep` names the filters that go back into the
    list's URL as usual; the words only as a token."""
    keep = tuple(keep)

    @login_required
    @require_POST
    def view(request):
        query = QueryDict(mutable=True)
        for name in keep:
            if value := request.POST.get(name, "")[:64]:
                query[name] = value
        if words := request.POST.get(WORDS_PARAMETER, "").strip()[:MAX_WORDS]:
            searches = request.session.get(SESSION_KEY, {})
            token = secrets.token_urlsafe(8)
            request.session[SESSION_KEY] = {**dict(list(searches.items())[-(KEPT - 1) :]), token: words}
            query[SEARCH_PARAMETER] = token
        url = reverse(list_url)
        return redirect(f"{url}?{query.urlencode()}" if query else url)

    return view
