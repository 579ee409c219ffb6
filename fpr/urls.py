from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fpr import views
from fpr.forms import LoginForm
from households.demo import DEMO_PASSWORD, demo_accounts
from workflow import inbox_views

# Under /api/ an unmatched address or a refused request answers with the API's JSON error shape.
handler404 = "fpr.api.not_found"
handler400 = "fpr.api.bad_request"
handler500 = "fpr.api.server_error"

login_view = auth_views.LoginView.as_view(
    template_name="registration/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
    # Shown only when settings.DEMO_MODE is on (the template checks `demo_mode`).
    extra_context={
        "demo_accounts": demo_accounts(),
        "demo_password": DEMO_PASSWORD,
    },
)

urlpatterns = [
    # The landing page by role (the registry's counts and the inbox, or a department officer's uploads)
    # and 我的待办 compose every app, so they live in workflow (fpr modules import no app; this URL table
    # is where the apps are put together).
    path("", inbox_views.home, name="home"),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("healthz/", views.healthz, name="healthz"),
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("households.account_urls")),
    path("households/", include("households.urls")),
    path("cases/", include("workflow.urls")),
    path("assistance/", include("assistance.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("reports/", include("reports.urls")),
    path("imports/", include("workflow.onboarding.urls")),
    path("api/v1/", include("fpr.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("admin/", admin.site.urls),
]
