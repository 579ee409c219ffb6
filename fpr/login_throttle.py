"""Login throttling on two separate keys (issue #11, finding 15), on top of django-axes.

- **The account**: `AXES_FAILURE_LIMIT` (FPR_LOGIN_FAILURE_LIMIT, default 5) failed logins for one user
  name, from any addresses, lock that account for the cool-off time — the right password from a second
  address is refused too.
- **The address**: `FPR_LOGIN_IP_FAILURE_LIMIT` (default 20) failed logins from one address, over any user
  names, lock that address — spraying a few common passwords over many accounts is stopped. The limit is
  higher than the account's because a township office or a county network shares one address.

axes stores one row per (user name, address, browser) and, with `AXES_LOCKOUT_PARAMETERS = ["username",
"ip_address"]`, sums the rows of each key separately; it has one failure limit for all keys. This handler
scales each key's sum to the account limit so that "some key reached its own limit" is what axes checks.

Trade-off: anyone may lock any account for the cool-off time by typing wrong passwords for its user name
(that is what stopping a guesser on many addresses means); the lock ends by itself, and an administrator
of the account's subtree can lift it at once on the 登录锁定 page. A successful login clears only that
account's own failures, never the address's failures for other accounts (a sprayer who holds one valid
account cannot reset the address counter with it).
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def client_address(request) -> str | None:
    """The address of the client for the per-address lock: REMOTE_ADDR, or behind FPR_TRUSTED_PROXY_COUNT
    proxies the X-Forwarded-For entry the outermost proxy appended (entries before it are the client's own
    words and are ignored)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.FPR_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies][:45]


def key_limits() -> dict[str, int]:
    return {"username": settings.AXES_FAILURE_LIMIT, "ip_address": settings.FPR_LOGIN_IP_FAILURE_LIMIT}


class AccountAndAddressHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """The failures of the most exhausted key, scaled to the account limit: at least the account limit
        exactly when some key has reached its own limit."""
        account_limit = settings.AXES_FAILURE_LIMIT
        limits = key_limits()
        worst = 0
        for key, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
        ):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            limit = limits.get(key, account_limit) if isinstance(key, str) else account_limit
            worst = max(worst, failures * account_limit // max(limit, 1))
        return worst

    def reset_user_attempts(self, request, credentials=None) -> int:
        """On a successful login: clear the account's failures only (not the address's)."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
