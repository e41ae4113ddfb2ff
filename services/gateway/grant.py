"""Give a role by hand: `python -m services.gateway.grant someone@example.com admin`.

For the operator with database access: the first admin of an installation whose users
predate roles, or a new admin when the last one is gone. Sets the role of that email
now (if the person has signed in) and at their first sign-in. Not audited through the
gateway: the audit log records what passes through the gateway, and this does not.
"""

from __future__ import annotations

import argparse
import sys

from libs.common.mongo import make_client
from services.gateway.access import ROLES
from services.gateway.settings import GatewaySettings
from services.gateway.store import GatewayStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("email")
    parser.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    client = make_client(settings.mongodb_uri)
    try:
        store = GatewayStore(client[settings.database_name("gateway")])
        store.ensure_indexes()
        store.grant_role(args.email, args.role)
    finally:
        client.close()
    sys.stdout.write(f"{args.email.lower()} is {args.role}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
