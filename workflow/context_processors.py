"""Menu badges (我的待办 and the page of each kind) and the home page's inbox counts, from
workflow.inbox: one query per request, and only when a page shows them."""

from workflow.inbox import inbox_counts


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def counts():
        # Templates call a callable when they resolve it; the request keeps the one answer.
        if not hasattr(request, "_fpr_inbox_counts"):
            request._fpr_inbox_counts = inbox_counts(user=user)
        return request._fpr_inbox_counts

    def badges():
        found = counts()
        return found.badges() if found else {}

    return {"inbox": counts, "nav_badges": badges}
