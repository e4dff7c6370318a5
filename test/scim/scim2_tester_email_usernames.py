"""Runs scim2-tester's CLI (`scim2 ... test`) with one adjustment: the userName values it
generates are email addresses.

RFC 7643 leaves the format of userName to the service provider; tenure's userName is the
sign-in email address and anything else is refused with 400 invalidValue. scim2-tester fills
userName with a UUID, so every check that creates a user would stop at that refusal and the
checks behind it (reads, attributes, search, PUT, PATCH) would never run. Everything else
the checker generates and checks is unchanged.
"""

import uuid

import scim2_tester.checkers.patch_add as patch_add
import scim2_tester.checkers.patch_replace as patch_replace
import scim2_tester.filling as filling
from scim2_cli import cli

_generate = filling.generate_random_value


def _generate_with_email_user_name(context, path, *args, **kwargs):
    value = _generate(context, path, *args, **kwargs)
    if isinstance(value, str) and str(path).lower().endswith("username"):
        return f"{uuid.uuid4()}@example.com"
    return value


for module in (filling, patch_add, patch_replace):
    module.generate_random_value = _generate_with_email_user_name

if __name__ == "__main__":
    cli()
