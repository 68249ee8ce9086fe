"""Tables of media. MediaObject is evidence (append-only, refused UPDATE/DELETE by triggers in
media_object_guard.py); MediaUpload is mutable bookkeeping of an upload in progress."""

from piccolo.columns import UUID, BigInt, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from onevisit.auth.tables import User

RESTRICT = OnDelete.restrict  # piccolo's default CASCADE is never what evidence wants


class MediaObject(Table, tablename="media_object"):
    """One stored original, named by the SHA-256 of its bytes (EVIDENCE.md §3)."""

    sha256 = Varchar(length=64, unique=True)
    bytes = BigInt()
    mime = Varchar(length=64)
    purpose = Varchar(length=16)  # photo | signature | video
    width = Integer(null=True, default=None)  # images: as stored, before EXIF orientation
    height = Integer(null=True, default=None)
    uploaded_by = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class MediaUpload(Table, tablename="media_upload"):
    """A resumable upload (tus 1.0 core as the model). The id is server-generated: the partial
    file is named by it, never by anything the client sends."""

    id = UUID(primary_key=True)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    mime = Varchar(length=64)
    purpose = Varchar(length=16)
    upload_offset = BigInt(default=0)  # bytes received and fsynced; the PATCH lock
    state = Varchar(length=16, default="open")  # open | complete | rejected
    app_user = ForeignKey(references=User, on_delete=RESTRICT, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
