"""Settings, read from `KOSHIKI_*` environment variables."""

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOSHIKI_")

    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    """SQLAlchemy URL; empty means an SQLite file in `data_dir`."""
    formulas_dir: Path = PROJECT_ROOT / "formulas"
    prepare_on_startup: bool = True
    """Apply migrations and load the catalog when the app starts."""

    @model_validator(mode="after")
    def _default_database_in_data_dir(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'koshiki.sqlite3'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
