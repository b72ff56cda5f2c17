"""Staff photos: stored in the instance folder, served to whoever shows them
(consoles, rating tablets, displays).  Uploads are re-encoded with Pillow so
only a real, bounded image ever reaches the disk."""
from __future__ import annotations

import io
from pathlib import Path

from flask import abort, current_app, send_file
from PIL import Image, UnidentifiedImageError

from .. import models as m
from ..api import get_db
from ..security import current_principal, require
from . import bp

MAX_PHOTO_BYTES = 2 * 1024 * 1024
MAX_SIDE = 600


class PhotoError(ValueError):
    """An upload that is not an acceptable picture (message is an English msgid)."""


def photo_dir() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "photos"


def save_photo(user_id: int, data: bytes) -> str:
    """Validate, shrink and store a JPEG; returns the file name kept on User.photo."""
    if not data:
        raise PhotoError("Choose a picture file.")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError("The picture is too large (at most 2 MB).")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG", "WEBP", "GIF"):
                raise PhotoError("The file is not a picture (JPEG, PNG or WebP).")
            img.load()
            img = img.convert("RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PhotoError("The file is not a picture (JPEG, PNG or WebP).") from None
    folder = photo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{user_id}.jpg"
    (folder / name).write_bytes(out.getvalue())
    return name


@bp.route("/photos/<int:user_id>")
@require("staff", "leader", "admin", "rating", "display")
def photo(user_id: int):
    p = current_principal()
    with get_db().read() as s:
        u = s.get(m.User, user_id)
        if u is None or u.office_id != p.office_id or not u.photo:
            abort(404)
        name = Path(u.photo).name  # never a path out of the folder
    path = photo_dir() / name
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=60)
