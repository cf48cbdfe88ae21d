"""Test data for connector tests: a MariaDB business database and two REST APIs (respx routes).

The MariaDB schema mirrors a slice of the demo data but stores what an older
ERP would: its own status codes (mapped through ``status_map``) and naive
DATETIME values in local time (read through ``timezone: Europe/Oslo``).

The REST fakes copy documented shapes:
- ERPNext / Frappe REST (``/api/resource/Sales Order/{name}`` -> ``{"data": {...}}``, lists as
  ``{"data": [...]}`` with ``filters``/``fields`` JSON query parameters and ``limit_start``/
  ``limit_page_length`` paging, 404 ``{"exc_type": "DoesNotExistError", ...}``,
  ``Authorization: token key:secret``);
- an in-house TMS/WMS JSON API (the kind of API a forwarder builds itself): API key header, ISO 8601
  dates with and without offsets, page-number paging, problem+json errors.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pymysql
import respx

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
_counter = itertools.count()


@dataclass(frozen=True)
class Known:
    """What a test can ask a connector and what the answer must be."""

    contact: str            # an exact contact address of ``customer``
    colleague: str          # same email domain as ``customer``, not a contact
    customer: str
    order_no: str
    customer_po: str
    container: str
    other_customer_order: str = ""
    missing: str = "NK999999"


POSTGRES_KNOWN = Known(contact="kari.nilsen@hansen-mobler.example", colleague="new.colleague@hansen-mobler.example",
                       customer="C100", order_no="NK204117", customer_po="4500012345", container="MSKU4417209",
                       other_customer_order="NK204301")
MARIADB_KNOWN = POSTGRES_KNOWN

# --------------------------------------------------------------------------- MariaDB

MARIADB_SCHEMA = [
    """CREATE TABLE customers (customer_id VARCHAR(10) PRIMARY KEY, name VARCHAR(100) NOT NULL,
                               email_domain VARCHAR(100) NOT NULL)""",
    "CREATE TABLE contacts (email VARCHAR(200) PRIMARY KEY, customer_id VARCHAR(10) NOT NULL)",
    """CREATE TABLE orders (order_no VARCHAR(20) PRIMARY KEY, customer_id VARCHAR(10) NOT NULL,
                            customer_po VARCHAR(30), status VARCHAR(10) NOT NULL, requested_date DATE,
                            confirmed_date DATE)""",
    """CREATE TABLE order_lines (order_no VARCHAR(20), line_no INT, sku VARCHAR(30), description VARCHAR(100),
                                 qty_ordered DECIMAL(10,2), qty_shipped DECIMAL(10,2),
                                 PRIMARY KEY (order_no, line_no))""",
    """CREATE TABLE shipments (shipment_id VARCHAR(20) PRIMARY KEY, order_no VARCHAR(20), carrier VARCHAR(50),
                               mode VARCHAR(10), tracking_no VARCHAR(40), container_no VARCHAR(20),
                               status VARCHAR(10) NOT NULL, origin VARCHAR(80), destination VARCHAR(80),
                               eta DATETIME, delivered_at DATETIME, pod_signed_by VARCHAR(50))""",
    """CREATE TABLE shipment_events (shipment_id VARCHAR(20), event_time DATETIME, location VARCHAR(80),
                                     code VARCHAR(10), description VARCHAR(100),
                                     PRIMARY KEY (shipment_id, event_time))""",
    """CREATE TABLE fulfillments (order_no VARCHAR(20) PRIMARY KEY, warehouse VARCHAR(30), status VARCHAR(10) NOT NULL,
                                  picked_at DATETIME, packed_at DATETIME, shipped_at DATETIME)""",
]
MARIADB_DATA = [
    "INSERT INTO customers VALUES ('C100', 'Hansen Møbler AS', 'hansen-mobler.example'), "
    "('C300', 'Svea Kök AB', 'sveakok.example')",
    "INSERT INTO contacts VALUES ('kari.nilsen@hansen-mobler.example', 'C100'), ('anna.lind@sveakok.example', 'C300')",
    "INSERT INTO orders VALUES ('NK204117', 'C100', '4500012345', 'GI', '2026-11-20', '2026-11-24'), "
    "('NK204301', 'C300', 'SK-7781', 'GI', '2026-11-21', '2026-11-23')",
    "INSERT INTO order_lines VALUES ('NK204117', 1, 'HM-SOFA-3S-GR', 'Sofa 3-seter, stoff grå', 60, 60), "
    "('NK204117', 2, 'HM-CHAIR-LND', 'Lenestol Lind, eik', 80, 80)",
    "INSERT INTO shipments VALUES ('SHP-31001', 'NK204117', 'Maersk', 'sea', NULL, 'MSKU4417209', 'DLY', 'Ningbo, CN', "
    "'Bergen, NO', '2026-12-03 08:00:00', NULL, NULL), "
    "('SHP-33001', 'NK204301', 'DSV Road', 'road', NULL, NULL, 'CUS', 'Jönköping, SE', 'Oslo, NO', "
    "'2026-11-25 14:00:00', NULL, NULL)",
    "INSERT INTO shipment_events VALUES ('SHP-31001', '2026-11-19 06:40:00', 'Tanjung Pelepas, MY', 'TSD', "
    "'Transhipment delayed'), ('SHP-31001', '2026-11-02 22:10:00', 'Ningbo, CN', 'DEP', 'Vessel departed')",
    "INSERT INTO fulfillments VALUES ('NK204117', 'NGB-CFS', 'SHP', '2026-10-22 09:00:00', '2026-10-23 15:00:00', "
    "'2026-10-24 09:10:00')",
]
_SHIPMENT_COLUMNS = """s.shipment_id, s.order_no, o.customer_id, s.carrier, s.mode, s.tracking_no, s.container_no,
       s.status, s.origin, s.destination, s.eta, s.delivered_at, s.pod_signed_by,
       e.event_time AS last_event_time, e.location AS last_event_location, e.code AS last_event_code,
       e.description AS last_event_description
FROM shipments s JOIN orders o ON o.order_no = s.order_no
LEFT JOIN shipment_events e ON e.shipment_id = s.shipment_id
  AND e.event_time = (SELECT MAX(x.event_time) FROM shipment_events x WHERE x.shipment_id = s.shipment_id)"""
MARIADB_QUERIES = {
    "customers_by_contact": "SELECT customer_id FROM contacts WHERE lower(email) = %(address)s",
    "customers_by_domain": "SELECT customer_id FROM customers WHERE lower(email_domain) = %(domain)s",
    "order": "SELECT order_no, customer_id, customer_po, status, requested_date, confirmed_date FROM orders "
             "WHERE order_no = %(order_no)s",
    "order_lines": "SELECT line_no, sku, description, qty_ordered, qty_shipped FROM order_lines "
                   "WHERE order_no = %(order_no)s ORDER BY line_no",
    "order_deliveries": "SELECT shipment_id FROM shipments WHERE order_no = %(order_no)s ORDER BY shipment_id",
    "orders_by_po": "SELECT order_no, customer_id, customer_po, status, requested_date, confirmed_date FROM orders "
                    "WHERE replace(customer_po, '-', '') = %(customer_po)s",
    "shipments_for_order": f"SELECT {_SHIPMENT_COLUMNS} WHERE s.order_no = %(order_no)s ORDER BY s.shipment_id",
    "shipments_by_reference": f"SELECT {_SHIPMENT_COLUMNS} WHERE (%(kind)s = 'container_number' "
                              "AND s.container_no = %(value)s) OR (%(kind)s = 'shipment_id' "
                              "AND replace(s.shipment_id, '-', '') = %(value)s)",
    "fulfillment": "SELECT f.order_no, o.customer_id, f.warehouse, f.status, f.picked_at, f.packed_at, f.shipped_at "
                   "FROM fulfillments f JOIN orders o ON o.order_no = f.order_no WHERE f.order_no = %(order_no)s",
}
MARIADB_STATUS_MAP = {
    "order": {"OP": "open", "GI": "shipped", "PGI": "partially_shipped", "DLV": "delivered"},
    "shipment": {"DLY": "delayed", "CUS": "customs_hold", "TRN": "in_transit", "POD": "delivered"},
    "fulfillment": {"PCK": "picked", "PAK": "packed", "SHP": "shipped"},
}


def mariadb_available() -> bool:
    try:
        pymysql.connect(**MARIADB, connect_timeout=2).close()
    except pymysql.err.MySQLError:
        return False
    return True


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A fresh MariaDB database with the test business data; yields its DSN."""
    name = f"shipdraft_t_{os.getpid()}_{next(_counter)}"
    admin = pymysql.connect(**MARIADB, autocommit=True, charset="utf8mb4")
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{name}`")
            for statement in (*MARIADB_SCHEMA, *MARIADB_DATA):
                cur.execute(statement)
        yield f"mysql://{MARIADB['user']}@{MARIADB['host']}:{MARIADB['port']}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def mariadb_config(*, dsn_env: str, **extra: Any) -> dict[str, Any]:
    return {"type": "sql", "dsn": f"env:{dsn_env}", "system": "legacy-erp", "timezone": "Europe/Oslo",
            "status_map": MARIADB_STATUS_MAP, "queries": dict(MARIADB_QUERIES), **extra}


# --------------------------------------------------------------------------- ERPNext (order system)

ERPNEXT_URL = "https://erp.nordkyst.example"
ERPNEXT_ORDERS = {
    "SAL-ORD-2026-00417": {
        "name": "SAL-ORD-2026-00417", "doctype": "Sales Order", "docstatus": 1, "customer": "C100",
        "customer_name": "Hansen Møbler AS", "po_no": "4500012345", "transaction_date": "2026-10-06",
        "delivery_date": "2026-11-24", "status": "To Deliver and Bill", "delivery_status": "Partly Delivered",
        "per_delivered": 40.0, "modified": "2026-11-19 08:12:44.123456",
        "items": [
            {"idx": 1, "item_code": "HM-SOFA-3S-GR", "item_name": "Sofa 3-seter, stoff grå", "qty": 60.0,
             "delivered_qty": 60.0},
            {"idx": 2, "item_code": "HM-CHAIR-LND", "item_name": "Lenestol Lind, eik", "qty": 80.0,
             "delivered_qty": 0.0},
        ],
    },
    "SAL-ORD-2026-00431": {
        "name": "SAL-ORD-2026-00431", "doctype": "Sales Order", "docstatus": 1, "customer": "C300",
        "customer_name": "Svea Kök AB", "po_no": "SK-7781", "transaction_date": "2026-10-30",
        "delivery_date": "2026-11-23", "status": "On Hold", "delivery_status": "Not Delivered",
        "per_delivered": 0.0, "modified": "2026-11-20 10:00:00.000000", "items": [],
    },
}
ERPNEXT_KNOWN = Known(contact="", colleague="", customer="C100", order_no="SAL-ORD-2026-00417",
                      customer_po="4500012345", container="", other_customer_order="SAL-ORD-2026-00431",
                      missing="SAL-ORD-2026-99999")
ERPNEXT_CONFIG: dict[str, Any] = {
    "type": "rest", "system": "erpnext", "base_url": ERPNEXT_URL, "timezone": "Europe/Oslo",
    "auth": {"type": "erpnext", "api_key": "env:TEST_ERPNEXT_KEY", "api_secret": "env:TEST_ERPNEXT_SECRET"},
    "link": ERPNEXT_URL + "/app/sales-order/{record_id}",
    "status_map": {"order": {"Draft": "open", "On Hold": "on_hold", "To Deliver and Bill": "confirmed",
                             "To Deliver": "confirmed", "To Bill": "shipped", "Completed": "delivered",
                             "Cancelled": "cancelled", "Closed": "delivered"}},
    "endpoints": {
        "order": {
            "path": "/api/resource/Sales Order/{order_no}", "record": "data",
            "fields": {"order_no": "name", "customer_id": "customer", "customer_po": "po_no", "status": "status",
                       "confirmed_date": "delivery_date"},
            "lines": {"path": "items", "fields": {"line_no": "idx", "sku": "item_code", "description": "item_name",
                                                  "qty_ordered": "qty", "qty_shipped": "delivered_qty"}},
        },
        "orders_by_po": {
            "path": "/api/resource/Sales Order", "record": "data",
            "params": {"filters": '[["po_no","=","{customer_po}"]]',
                       "fields": '["name","customer","po_no","status","delivery_date"]'},
            "paginate": {"type": "offset", "offset_param": "limit_start", "limit_param": "limit_page_length",
                         "limit": 20},
            "fields": {"order_no": "name", "customer_id": "customer", "customer_po": "po_no", "status": "status",
                       "confirmed_date": "delivery_date"},
        },
    },
}
ERPNEXT_ENV = {"TEST_ERPNEXT_KEY": "k3y-erpnext", "TEST_ERPNEXT_SECRET": "s3cret-erpnext-value"}


def erpnext_routes(router: respx.MockRouter) -> None:
    """Frappe REST answers for the orders above; checks the ``token key:secret`` header like Frappe does."""

    def authorized(request: httpx.Request) -> bool:
        return request.headers.get("Authorization") == "token k3y-erpnext:s3cret-erpnext-value"

    def forbidden() -> httpx.Response:
        return httpx.Response(401, json={"exc_type": "AuthenticationError", "exception":
                                         "frappe.exceptions.AuthenticationError"})

    def one(request: httpx.Request, name: str) -> httpx.Response:
        if not authorized(request):
            return forbidden()
        if name in ERPNEXT_ORDERS:
            return httpx.Response(200, json={"data": ERPNEXT_ORDERS[name]})
        return httpx.Response(404, json={"exc_type": "DoesNotExistError",
                                         "exception": f"frappe.exceptions.DoesNotExistError: Sales Order {name} "
                                                      "not found",
                                         "_server_messages": json.dumps([json.dumps(
                                             {"message": f"Sales Order {name} not found"})])})

    def listing(request: httpx.Request) -> httpx.Response:
        if not authorized(request):
            return forbidden()
        filters = json.loads(request.url.params["filters"])
        fields = json.loads(request.url.params.get("fields", '["name"]'))
        start = int(request.url.params.get("limit_start", 0))
        size = int(request.url.params.get("limit_page_length", 20))
        rows = [o for o in ERPNEXT_ORDERS.values() if all(o.get(f) == v for f, _, v in filters)]
        return httpx.Response(200, json={"data": [{k: o[k] for k in fields} for o in rows[start:start + size]]})

    router.get(url__regex=rf"^{ERPNEXT_URL}/api/resource/Sales%20Order/(?P<name>[^?]+)$").mock(
        side_effect=lambda request, name: one(request, httpx.URL(f"/{name}").path[1:]))
    router.get(url__regex=rf"^{ERPNEXT_URL}/api/resource/Sales%20Order\?").mock(side_effect=listing)


# --------------------------------------------------------------------------- in-house TMS / WMS / directory

INHOUSE_URL = "https://api.nordkyst.example/v1"
INHOUSE_ENV = {"TEST_INHOUSE_KEY": "inhouse-key-123"}
INHOUSE_KNOWN = Known(contact="kari.nilsen@hansen-mobler.example", colleague="new.colleague@hansen-mobler.example",
                      customer="C100", order_no="NK204117", customer_po="", container="MSKU4417209",
                      other_customer_order="NK204301")
_INHOUSE_SHIPMENTS = [
    {"id": "SHP-31001", "orderNumber": "NK204117", "customer": {"id": "C100"}, "carrier": "Maersk", "mode": "sea",
     "containerNumber": "MSKU4417209", "status": "DELAYED", "origin": "Ningbo, CN", "destination": "Bergen, NO",
     "eta": "2026-12-03T08:00:00+01:00", "deliveredAt": None,
     "window": {"from": "2026-12-03T08:00:00+01:00", "to": "2026-12-03T16:00:00+01:00"},
     "lastEvent": {"at": "2026-11-19T06:40:00Z", "place": "Tanjung Pelepas, MY", "code": "TSD",
                   "text": "Transhipment delayed"}},
    {"id": "SHP-31002", "orderNumber": "NK204117", "customer": {"id": "C100"}, "carrier": "Bring", "mode": "road",
     "trackingNumber": "70730259304981234", "status": "DELIVERED", "eta": "2026-11-18T12:00:00",
     "deliveredAt": "2026-11-18T10:42:00", "pod": {"signedBy": "M. Haugland",
                                                   "url": INHOUSE_URL + "/pod/SHP-31002.pdf"},
     "lastEvent": {"at": "2026-11-18T10:42:00", "place": "Stavanger, NO", "code": "DLV", "text": "Delivered"}},
    {"id": "SHP-33001", "orderNumber": "NK204301", "customer": {"id": "C300"}, "carrier": "DSV Road",
     "mode": "road", "status": "CUSTOMS", "eta": "2026-11-25T14:00:00+01:00"},
]
_INHOUSE_FULFILLMENTS = {
    "NK204117": {"order": "NK204117", "customerId": "C100", "site": "NGB-CFS", "state": "SHIPPED",
                 "pickedAt": "2026-10-22T09:00:00+08:00", "packedAt": "2026-10-23T15:00:00+08:00",
                 "shippedAt": "2026-10-24T09:10:00+08:00"},
    "NK204301": {"order": "NK204301", "customerId": "C300", "site": "JKP", "state": "PACKED",
                 "pickedAt": "2026-11-20T10:00:00", "packedAt": "2026-11-20T12:00:00", "shippedAt": None},
}
_INHOUSE_CONTACTS = {"kari.nilsen@hansen-mobler.example": "C100", "anna.lind@sveakok.example": "C300"}
_INHOUSE_DOMAINS = {"hansen-mobler.example": "C100", "sveakok.example": "C300"}
_SHIPMENT_FIELDS = {
    "shipment_id": "id", "order_no": "orderNumber", "customer_id": "customer.id", "carrier": "carrier",
    "mode": "mode", "tracking_no": "trackingNumber", "container_no": "containerNumber", "status": "status",
    "origin": "origin", "destination": "destination", "eta": "eta", "delivered_at": "deliveredAt",
    "pod_signed_by": "pod.signedBy", "pod_link": "pod.url", "delivery_window_start": "window.\"from\"",
    "delivery_window_end": "window.\"to\"", "last_event_time": "lastEvent.at",
    "last_event_location": "lastEvent.place", "last_event_code": "lastEvent.code",
    "last_event_description": "lastEvent.text",
}
INHOUSE_CONFIG: dict[str, Any] = {
    "type": "rest", "system": "nordkyst-tms", "base_url": INHOUSE_URL, "timezone": "Europe/Oslo",
    "auth": {"type": "api_key", "header": "X-Api-Key", "key": "env:TEST_INHOUSE_KEY"},
    "retries": 1, "backoff": 0.01,
    "status_map": {"shipment": {"BOOKED": "booked", "IN_TRANSIT": "in_transit", "DELAYED": "delayed",
                                "CUSTOMS": "customs_hold", "DELIVERED": "delivered"},
                   "fulfillment": {"PICKED": "picked", "PACKED": "packed", "SHIPPED": "shipped"}},
    "endpoints": {
        "customers_by_contact": {"path": "/contacts", "params": {"email": "{address}"}, "record": "items",
                                 "fields": {"customer_id": "customerId"}},
        "customers_by_domain": {"path": "/customers", "params": {"domain": "{domain}"}, "record": "items",
                                "fields": {"customer_id": "id"}},
        "shipments_for_order": {"path": "/shipments", "params": {"order": "{order_no}"}, "record": "items",
                                "paginate": {"type": "page_number", "param": "page", "size_param": "size", "size": 1},
                                "fields": _SHIPMENT_FIELDS},
        "track": {"path": "/shipments", "params": {"{kind}": "{value}"}, "record": "items",
                  "fields": _SHIPMENT_FIELDS},
        "fulfillment": {"path": "/fulfillments/{order_no}",
                        "fields": {"order_no": "order", "customer_id": "customerId", "warehouse": "site",
                                   "status": "state", "picked_at": "pickedAt", "packed_at": "packedAt",
                                   "shipped_at": "shippedAt"}},
    },
}


def inhouse_routes(router: respx.MockRouter) -> None:
    """The in-house API: ``X-Api-Key`` checked, problem+json errors, page-number paging."""

    def problem(status: int, title: str) -> httpx.Response:
        return httpx.Response(status, json={"type": "about:blank", "title": title, "status": status},
                              headers={"Content-Type": "application/problem+json"})

    def guarded(handler: Any) -> Any:
        def wrapped(request: httpx.Request, **kw: Any) -> httpx.Response:
            if request.headers.get("X-Api-Key") != INHOUSE_ENV["TEST_INHOUSE_KEY"]:
                return problem(401, "Invalid API key")
            return handler(request, **kw)
        return wrapped

    def contacts(request: httpx.Request) -> httpx.Response:
        customer = _INHOUSE_CONTACTS.get(request.url.params.get("email", ""))
        return httpx.Response(200, json={"items": [{"customerId": customer}] if customer else []})

    def customers(request: httpx.Request) -> httpx.Response:
        customer = _INHOUSE_DOMAINS.get(request.url.params.get("domain", ""))
        return httpx.Response(200, json={"items": [{"id": customer}] if customer else []})

    def shipments(request: httpx.Request) -> httpx.Response:
        p = request.url.params
        if "order" in p:
            rows = [s for s in _INHOUSE_SHIPMENTS if s["orderNumber"] == p["order"]]
        elif "container_number" in p:
            rows = [s for s in _INHOUSE_SHIPMENTS if s.get("containerNumber") == p["container_number"]]
        elif "tracking_number" in p:
            rows = [s for s in _INHOUSE_SHIPMENTS if s.get("trackingNumber") == p["tracking_number"]]
        elif "shipment_id" in p:
            rows = [s for s in _INHOUSE_SHIPMENTS if s["id"].replace("-", "") == p["shipment_id"]]
        else:
            return problem(400, "Unsupported filter")
        page, size = int(p.get("page", 1)), int(p.get("size", 50))
        return httpx.Response(200, json={"items": rows[(page - 1) * size:page * size], "page": page})

    def fulfillment(request: httpx.Request, order: str) -> httpx.Response:
        found = _INHOUSE_FULFILLMENTS.get(order)
        return httpx.Response(200, json=found) if found else problem(404, "No such fulfillment")

    router.get(f"{INHOUSE_URL}/contacts").mock(side_effect=guarded(contacts))
    router.get(f"{INHOUSE_URL}/customers").mock(side_effect=guarded(customers))
    router.get(f"{INHOUSE_URL}/shipments").mock(side_effect=guarded(shipments))
    router.get(url__regex=rf"^{INHOUSE_URL}/fulfillments/(?P<order>[^/?]+)$").mock(side_effect=guarded(fulfillment))
