"""The rules for usernames, display names and passwords, shared by every way a user is made.

A username is stored and looked up in one canonical form, so `ALICE`, full-width `ａｌｉｃｅ` and
` alice ` are the same person, and `alice` followed by a zero-width space is refused rather than
becoming a second account that looks the same.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
USERNAME_RULE = "2 to 64 characters from a-z, 0-9 and . _ @ -, starting with a letter or digit"
DISPLAY_NAME_MAX = 120
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
# Control, format (zero-width, bidi overrides), surrogate, private-use and unassigned
# characters, and line/paragraph separators: invisible or able to disguise a name.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def canonical_username(raw: str) -> str:
    """The one form a username is stored and looked up in: NFKC, case-folded, stripped."""
    return unicodedata.normalize("NFKC", raw).casefold().strip()


def _has_invisible(text: str) -> bool:
    return any(unicodedata.category(char) in REFUSED_CATEGORIES for char in text)


def username_problem(name: str) -> str | None:
    """Why a canonical username is not allowed, or None when it is."""
    if _has_invisible(name):
        return "Must not contain control or invisible characters"
    if not USERNAME_PATTERN.fullmatch(name):
        return f"Must be {USERNAME_RULE}"
    return None


def display_name_problem(name: str) -> str | None:
    """Why a (stripped) display name is not allowed, or None when it is."""
    if _has_invisible(name):
        return "Must not contain control or invisible characters"
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        return f"Must be 1 to {DISPLAY_NAME_MAX} characters"
    return None


def password_problem(password: str) -> str | None:
    """Why a new password is not allowed, or None when it is."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"At least {MIN_PASSWORD_LENGTH} characters (at most {MAX_PASSWORD_LENGTH})"
    return None
