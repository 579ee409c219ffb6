from .celery import app as celery_app

__all__ = ("celery_app",)

from fpr.log_masking import install as _mask_personal_data_in_logs  # noqa: E402

_mask_personal_data_in_logs()
