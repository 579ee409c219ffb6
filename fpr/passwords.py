"""A password strength rule Django does not ship: several kinds of characters, said in Chinese."""

from django.core.exceptions import ValidationError

KINDS = (str.isupper, str.islower, str.isdigit)


class CharacterKindsValidator:
    """At least `kinds` of: upper-case letters, lower-case letters, digits, other symbols."""

    def __init__(self, kinds: int = 3):
        self.kinds = kinds

    def _count(self, password: str) -> int:
        found = {test for test in KINDS if any(test(c) for c in password)}
        return len(found) + any(not c.isalnum() for c in password)

    def validate(self, password, user=None):
        if self._count(password) < self.kinds:
            raise ValidationError(
                f"密码至少要包含大写字母、小写字母、数字、符号中的{self.kinds}类。", code="password_too_simple"
            )

    def get_help_text(self):
        return f"密码至少包含大写字母、小写字母、数字、符号中的{self.kinds}类。"
