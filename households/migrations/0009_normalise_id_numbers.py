"""Stored ID numbers typed before every door normalised them (full-width digits, spaces, lower-case x)
are rewritten in normal form — unless the normal form is already another member's, or two stored
spellings share one normal form: those are one person registered twice, left as they are for the
county to merge (the data-quality job lists them with both household numbers)."""

import re
import unicodedata
from collections import Counter

from django.db import migrations

# A copy of households.id_numbers.normalize_id_number as it was when this migration was written, so
# that the migration keeps doing the same thing if that function changes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad\u200b-\u200f\u2060\ufeff]+")
_NORMAL = r"^[0-9]{17}[0-9X]$"


def _normalise(value: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def normalise_id_numbers(apps, schema_editor):
    Member = apps.get_model("households", "Member")
    candidates = {
        pk: _normalise(number)
        for pk, number in Member.objects.exclude(id_number__regex=_NORMAL).values_list("pk", "id_number")
    }
    wanted = Counter(candidates.values())
    taken = set(Member.objects.filter(id_number__in=list(wanted)).values_list("id_number", flat=True))
    for pk, normal in candidates.items():
        if wanted[normal] == 1 and normal not in taken and len(normal) <= 18:
            Member.objects.filter(pk=pk).update(id_number=normal)


class Migration(migrations.Migration):
    dependencies = [("households", "0008_operators_only_admin")]

    operations = [migrations.RunPython(normalise_id_numbers, migrations.RunPython.noop)]
