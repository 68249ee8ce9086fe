"""Tables of sign-in: no passwords anywhere — passkeys, or a device key plus a PIN."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from onevisit.directory.tables import Department, Inspector

RESTRICT = OnDelete.restrict


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)  # the "actor" of events: not guessable, not sequential
    name = Varchar(length=64)
    role = Varchar(length=16)  # admin | coordinator | leader | inspector
    department = ForeignKey(references=Department, on_delete=RESTRICT, null=True, index=True)
    inspector = ForeignKey(references=Inspector, on_delete=RESTRICT, null=True)
    active = Boolean(default=True)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Enrolment(Table, tablename="enrolment"):
    """A one-time, expiring link that lets a user register a passkey or a device key."""

    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the token
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class Passkey(Table, tablename="passkey"):
    credential_id = Varchar(length=1024, unique=True)  # base64url
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    public_key = Bytea()  # COSE key as returned by py_webauthn
    sign_count = Integer(default=0)
    transports = JSON(default=[])
    aaguid = Varchar(length=64, default="")
    backed_up = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    # The relying party it was registered for (settings.rp_id / settings.origin then): record
    # confirmations are re-verified against it. NULL on passkeys older than the column.
    rp_id = Varchar(length=255, null=True, default=None)
    origin = Varchar(length=255, null=True, default=None)


class WebAuthnChallenge(Table, tablename="webauthn_challenge"):
    handle = Varchar(length=64, unique=True)  # random id the client echoes
    challenge = Varchar(length=128)  # base64url of the random challenge bytes
    purpose = Varchar(length=16)  # register | login | device_login
    app_user = ForeignKey(references=User, on_delete=RESTRICT, null=True)
    enrolment = ForeignKey(references=Enrolment, on_delete=RESTRICT, null=True)
    device_id = Varchar(length=64, default="")  # device_login: the device asked for it
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class DeviceKey(Table, tablename="device_key"):
    """An ECDSA P-256 key made on a phone (EVIDENCE.md §2); revoked keys stay, marked."""

    device_id = Varchar(length=64, unique=True)  # hex SHA-256 of the SPKI DER
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    spki = Bytea()
    pin_hash = Text(default="")  # scrypt; empty when the device signs in with a passkey
    failed_pins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    label = Varchar(length=128, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = Varchar(length=64, default="")


class Session(Table, tablename="session"):
    token_hash = Varchar(length=64, unique=True)  # SHA-256 of the cookie value
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    csrf_token = Varchar(length=64)
    method = Varchar(length=16)  # passkey | device_pin | cli
    device_id = Varchar(length=64, default="", index=True)  # device_pin: ended on revoke
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    user_agent = Text(default="")


class DeviceStatus(Table, tablename="device_status"):
    """A phone's latest backlog report (docs/visits.md "Team view"): how many of this device's
    signed events its outbox still holds unverified, per visit. Operational state, not
    evidence: one row per device, overwritten by each report (never in the evidence store)."""

    device_id = Varchar(length=64, unique=True)  # a device_key.device_id
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)  # its owner
    pending = Integer(default=0)  # queued or uploading rows, all visits and none
    rejected = Integer(default=0)  # rows rejected for good (never to arrive), shown only
    visits = JSON(default={})  # {"<visit id>": pending rows of that visit}
    last_ok_ms = BigInt(null=True, default=None)  # the phone's last sync that got an answer
    reported_ms = BigInt()  # server time of the report
