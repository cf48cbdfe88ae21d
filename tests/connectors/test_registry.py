"""Built-in and third-party connectors register the same way: the ``shipdraft.connectors`` entry points.

The third-party case is real packaging metadata: a ``*.dist-info`` with an ``entry_points.txt`` on
``sys.path``, exactly what ``pip install some-shipdraft-plugin`` leaves behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from connectors.base import connector_registry, registered_connectors
from connectors.checks import registry_lines
from connectors.rest import RestConnector
from connectors.sql import SqlConnector

PLUGIN = '''
"""A third-party WMS connector."""


class AcmeWms:
    kinds = ("wms",)

    def __init__(self, *, name, config, context):
        self.name = name
        self.system = "acme-wms"

    def serves(self, kind):
        return kind == "wms"

    async def fulfillment(self, *, order_no):
        return None

    async def aclose(self):
        return None
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shipdraft_acme_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "shipdraft_acme_plugin-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shipdraft-acme-plugin\nVersion: 1.2.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[shipdraft.connectors]\nacme_wms = shipdraft_acme_plugin:AcmeWms\nbroken = shipdraft_acme_missing:Nope\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("shipdraft_acme_plugin", None)


def test_a_third_party_connector_registers_like_a_built_in_one(plugin: Path) -> None:
    entries = {e.type: e for e in connector_registry()}
    acme = entries["acme_wms"]
    assert acme.kinds == ("wms",) and acme.distribution == "shipdraft-acme-plugin 1.2.0" and not acme.error
    assert entries["broken"].factory is None and "ModuleNotFoundError" in entries["broken"].error
    assert entries["sql"].factory is SqlConnector  # one broken plugin hides nothing else
    factories = registered_connectors()
    assert "acme_wms" in factories and "broken" not in factories
    lines = registry_lines()
    assert any(line.startswith("acme_wms") and "wms" in line and "shipdraft-acme-plugin 1.2.0" in line
               for line in lines)
    assert any(line.startswith("broken") and "BROKEN: ModuleNotFoundError" in line for line in lines)


def test_built_in_connectors_are_entry_points_with_their_kinds() -> None:
    """Needs ``rest = "connectors.rest:RestConnector"`` in pyproject's entry points (and a reinstall)."""
    entries = {e.type: e for e in connector_registry()}
    assert entries["sql"].kinds == ("directory", "erp", "tms", "wms")
    assert entries["rest"].factory is RestConnector and entries["rest"].kinds == ("directory", "erp", "tms", "wms")
    assert any(line.startswith("sql ") and "directory, erp, tms, wms" in line for line in registry_lines())
