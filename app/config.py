"""Settings, read from `KOSHIKI_*` environment variables."""

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSHIKI_")

    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    """SQLAlchemy URL; empty means an SQLite file in `data_dir`."""
    formulas_dir: Path = PROJECT_ROOT / "formulas"
    prepare_on_startup: bool = True
    """Apply migrations and load the catalog when the app starts."""
    node: str = "node"
    """The Node.js program that typesets formulas on the server as the catalog loads;
    empty: leave them to MathJax in the browser."""
    secret_key: str = ""
    """Signs the learner cookie; empty means a random key kept in `data_dir/secret_key`."""
    environment: Literal["development", "production"] = "development"
    """In production the app refuses to start without an explicit `secret_key`."""
    secure_cookies: bool = False
    """Mark cookies Secure: set it when the app is served over HTTPS."""

    @model_validator(mode="after")
    def _default_database_in_data_dir(self) -> "Settings":
        if self.environment == "production" and not self.secret_key:
            raise ValueError("KOSHIKI_SECRET_KEY must be set when KOSHIKI_ENVIRONMENT=production")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'koshiki.sqlite3'}"
        return self

    def signing_key(self) -> str:
        """The configured key, or one made once and kept beside the data."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self._create_key(path)
        return path.read_text().strip()

    def _create_key(self, path: Path) -> None:
        """Write the key whole under a private name, then link it into place: workers
        starting together all read the one key that won, never a half-written file."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
        draft.touch(mode=0o600)
        try:
            draft.write_text(secrets.token_urlsafe(32))
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path:
        """The SQLite database's file; only for an SQLite `database_url`."""
        return Path(make_url(self.database_url).database or "")
