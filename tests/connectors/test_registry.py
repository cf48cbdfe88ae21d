"""Built-in and third-party connectors register the same way: the ``shipdraft.connectors`` entry points.

The third-party case is real packaging metadata: a ``*.dist-info`` with an ``entry_points.txt`` on
``sys.path``, exactly what ``pip install some-shipdraft-plugin`` leaves behind.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path
from typing import Any

import pytest
import respx
import yaml

import connectors
from agent.models import ReferenceKind
from connectors.base import Kind, RegisteredConnector, connector_registry, registered_connectors
from connectors.checks import registry_lines
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from connectors.tms.dhl import DhlTracker
from shipdraft import cli
from shipdraft.config import load_mailbox_config
from shipdraft.demo import demo_dir
from shipdraft.wiring import build_connectors, build_systems
from tests.connectors.fixtures import INHOUSE_CONFIG, INHOUSE_ENV

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


# --------------------------------------------------------------------------- every built-in adapter is registered

# modules that hold no adapter of their own (shared clients and auth of the adapters next to them)
HELPER_MODULES = {"connectors.erp.netsuite_auth", "connectors.erp.odoo_rpc"}
FRAMEWORK_MODULES = {"connectors.auth", "connectors.base", "connectors.breaker", "connectors.cache",
                     "connectors.checks", "connectors.http", "connectors.mapping", "connectors.pagination"}


def _adapter_classes() -> dict[str, type]:
    """Every connector class defined in ``connectors/`` (not ``connectors/mail/``), by module."""
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(connectors.__path__, prefix="connectors."):
        if info.ispkg or info.name.startswith("connectors.mail.") or info.name in FRAMEWORK_MODULES:
            continue
        module = importlib.import_module(info.name)
        classes = [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == info.name
                   and set(getattr(c, "kinds", ()) or ()) and set(c.kinds) <= set(Kind)]
        if info.name in HELPER_MODULES:
            assert not classes, f"{info.name} is listed as a helper but defines {classes}"
            continue
        assert len(classes) == 1, f"{info.name}: expected one connector class, found {classes}"
        found[info.name] = classes[0]
    return found


def _built_in() -> dict[str, RegisteredConnector]:
    return {e.type: e for e in connector_registry() if e.distribution.startswith("shipdraft ")}


def test_every_adapter_module_in_connectors_is_registered_as_an_entry_point() -> None:
    """A new module under connectors/ (erp/, tms/, wms/ or generic) must be added to pyproject's entry points."""
    adapters = _adapter_classes()
    assert {"connectors.erp.dynamics_fo", "connectors.erp.netsuite", "connectors.tms.dhl", "connectors.tms.ups",
            "connectors.tms.project44", "connectors.wms.shipbob", "connectors.wms.odoo_pickings",
            "connectors.sql", "connectors.rest"} <= set(adapters)
    built_in = _built_in()
    assert not [e for e in built_in.values() if e.error], "a built-in connector fails to load"
    registered = {e.factory: name for name, e in built_in.items()}
    missing = sorted(module for module, cls in adapters.items() if cls not in registered)
    assert not missing, f"not in [project.entry-points.\"shipdraft.connectors\"] (then pip install -e .): {missing}"
    assert len(built_in) == len(adapters)  # and nothing registered twice or pointing elsewhere
    for name, entry in built_in.items():
        assert entry.kinds and entry.kinds == tuple(entry.factory.kinds), name


def test_connectors_list_prints_every_built_in_with_its_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["connectors", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, entry in _built_in().items():
        [line] = [line for line in lines if line.split()[0] == name]
        assert ", ".join(entry.kinds) in line and entry.target in line, line
    assert sum(1 for line in lines if line.split()[0] in {"dynamics_fo", "netsuite"} and " erp " in line) == 2
    assert sum(1 for line in lines if line.split()[0] in {"dhl", "ups", "project44"} and " tms " in line) == 3
    assert sum(1 for line in lines if line.split()[0] in {"shipbob", "odoo_pickings"} and " wms " in line) == 2


# --------------------------------------------------------------------------- the wiring builds each type from YAML

def _vendor_cases() -> dict[str, tuple[Any, Kind]]:
    from tests.connectors import test_conformance_erp2 as erp2
    from tests.connectors import test_conformance_vendors as erp
    from tests.connectors.tms import test_conformance_tms as tms
    from tests.connectors.wms import test_conformance_wms as wms

    cases: dict[str, tuple[Any, Kind]] = {}
    for module, kind in ((erp, Kind.ERP), (erp2, Kind.ERP), (tms, Kind.TMS), (wms, Kind.WMS)):
        for case in module.CASES.values():
            cases.setdefault(case.config["type"], (case, kind))
    # DHL tracks by number only, so it keeps its promises outside the TMS CASES table
    cases["dhl"] = (tms.Case(DhlTracker, tms.dhl.DHL_CONFIG, tms.dhl.dhl_routes, tms.dhl.DHL_ENV,
                             tms._known("", "")), Kind.TMS)
    return cases


async def _known_lookup(connector: Any, kind: Kind, order_no: str) -> Any:
    if kind == Kind.ERP:
        return await connector.get_order(order_no=order_no)
    if kind == Kind.WMS:
        return await connector.fulfillment(order_no=order_no)
    if isinstance(connector, DhlTracker):
        return await connector.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
    return await connector.shipments_for_order(order_no=order_no)


def _mailbox_yaml(tmp_path: Path, *, kind: Kind, name: str, config: dict[str, Any]) -> Path:
    demo = yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))
    mailbox = {"name": "ops", "address": "ops@nordkyst-logistikk.example", "provider": {"type": "maildir"},
               "systems": {"directory": "demo", kind.value: name},
               "connectors": {"demo": demo["connectors"]["demo"], name: config}}
    path = tmp_path / "mailbox.yaml"
    path.write_text(yaml.safe_dump(mailbox, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.anyio
@pytest.mark.parametrize("ctype", sorted(e.type for e in connector_registry()
                                         if e.distribution.startswith("shipdraft ") and e.type not in ("sql", "rest")))
async def test_the_wiring_builds_each_vendor_adapter_by_type_and_it_answers(
        ctype: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _vendor_cases()
    assert ctype in cases, f"no conformance case uses type {ctype!r}"
    case, kind = cases[ctype]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    config = load_mailbox_config(path=_mailbox_yaml(tmp_path, kind=kind, name="vendor", config=case.config))
    built = build_connectors(config=config, database_url="postgresql://nobody@127.0.0.1:1/none")
    try:
        vendor = built["vendor"]
        assert type(vendor) is registered_connectors()[ctype] and vendor.serves(kind)
        systems = build_systems(config=config, connectors=built)
        active = {Kind.ERP: systems.orders, Kind.TMS: systems.tracker, Kind.WMS: systems.warehouse}[kind]
        assert active is vendor and systems.names == {"directory": "nordkyst-demo", kind.value: vendor.system}
        with respx.mock(assert_all_called=False) as router:
            case.routes(router)
            found = await _known_lookup(vendor, kind, case.known.order_no)
        records = found if isinstance(found, list) else [found]
        assert records and all(r is not None and r.customer_id == case.known.customer for r in records)
    finally:
        for connector in built.values():
            await connector.aclose()


def test_the_wiring_builds_the_generic_connectors_by_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in INHOUSE_ENV.items():
        monkeypatch.setenv(key, value)
    config = load_mailbox_config(path=_mailbox_yaml(tmp_path, kind=Kind.TMS, name="inhouse", config=INHOUSE_CONFIG))
    built = build_connectors(config=config, database_url="postgresql://nobody@127.0.0.1:1/none")
    assert type(built["demo"]) is SqlConnector and type(built["inhouse"]) is RestConnector
    assert build_systems(config=config, connectors=built).tracker is built["inhouse"]
