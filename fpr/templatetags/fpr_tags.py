from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_current(context, url: str) -> str:
    """`aria-current="page"` for the menu entry of the page being shown (the home entry only on itself).
    When entries nest (/cases/ and /cases/queue/), the longest one that matches is the current one."""
    path = context["request"].path
    matches = [u for _, u in context.get("nav_items", ()) if (path == u if u == "/" else path.startswith(u))]
    current = max(matches, key=len) if matches else None
    return mark_safe('aria-current="page"') if url == current else ""


@register.simple_tag(takes_context=True)
def nav_badge(context, url: str) -> str:
    """The count beside a menu entry (nav_badges: URL → count, a callable evaluated once per request)."""
    badges = context.get("nav_badges")
    if callable(badges):
        badges = badges()
    count = (badges or {}).get(url)
    if not count:
        return ""
    return format_html('<span class="nav-badge" aria-label="{} 项">{}</span>', count, count if count < 1000 else "999+")
