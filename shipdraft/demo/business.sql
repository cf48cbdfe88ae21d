DROP SCHEMA IF EXISTS demo CASCADE; CREATE SCHEMA demo;

-- shipdraft demo data: Nordkyst Logistikk AS (fictional freight forwarder, Bergen).
-- "Today" in the demo world is 2026-11-23. All domains are .example.
-- Idempotent: re-running drops and recreates the whole demo schema.

CREATE TABLE demo.customers (
  customer_id  text PRIMARY KEY,
  name         text NOT NULL,
  email_domain text NOT NULL,
  language     text NOT NULL CHECK (language IN ('en', 'no', 'de', 'sv'))
);

CREATE TABLE demo.contacts (
  email       text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES demo.customers
);

CREATE TABLE demo.orders (
  order_no       text PRIMARY KEY,
  customer_id    text NOT NULL REFERENCES demo.customers,
  customer_po    text,
  status         text NOT NULL CHECK (status IN ('open', 'confirmed', 'in_production', 'ready_for_pickup',
                   'shipped', 'partially_shipped', 'delivered', 'cancelled', 'on_hold')),
  requested_date date,
  confirmed_date date,
  created_at     timestamptz NOT NULL
);

CREATE TABLE demo.order_lines (
  order_no    text REFERENCES demo.orders,
  line_no     int,
  sku         text,
  description text,
  qty_ordered numeric,
  qty_shipped numeric,
  PRIMARY KEY (order_no, line_no)
);

CREATE TABLE demo.shipments (
  shipment_id   text PRIMARY KEY,
  order_no      text REFERENCES demo.orders,
  carrier       text,
  mode          text CHECK (mode IN ('sea', 'road', 'air', 'parcel')),
  tracking_no   text,
  container_no  text,
  status        text NOT NULL CHECK (status IN ('booked', 'picked_up', 'in_transit', 'at_port', 'customs_hold',
                  'out_for_delivery', 'delivered', 'exception', 'delayed')),
  origin        text,
  destination   text,
  eta           timestamptz,
  delivered_at  timestamptz,
  pod_signed_by text
);

CREATE TABLE demo.shipment_events (
  shipment_id text REFERENCES demo.shipments,
  event_time  timestamptz,
  location    text,
  code        text,
  description text,
  PRIMARY KEY (shipment_id, event_time)
);

CREATE TABLE demo.fulfillments (
  order_no  text PRIMARY KEY REFERENCES demo.orders,
  warehouse text,
  status    text NOT NULL CHECK (status IN ('open', 'picking', 'picked', 'packed', 'shipped')),
  picked_at timestamptz,
  packed_at timestamptz,
  shipped_at timestamptz
);


-- Scenario notes (for humans; the agent must find these facts from the data itself):
--   NK204117 (C100)  sea container MSKU4417209 delayed at transhipment: confirmed 2026-11-24, ETA 2026-12-03.
--   NK204096 (C100)  parcel delivered 2026-11-11, POD signed by Per Olsen.
--   NK204125 (C100)  partially shipped: desks (line 3) not shipped yet.
--   NK204140 (C100)  on hold, no confirmed date.
--   NK204207 (C200)  two containers: HLXU8803192 discharged in Hamburg, CMAU3390479 still at sea.
--   NK204211 (C200)  road delivery with 3 damaged pallets noted on CMR.
--   NK204219 (C200)  cancelled.
--   NK204301 (C300)  road shipment in customs hold at Svinesund.
--   NK204309 (C300)  shipped in two road shipments (one delivered, one in transit).
--   NK204320 (C300)  delivered with 2 damaged colli.
--   NK204401 (C400)  two containers CMAU5521840 and CMAU6104732.
--   NK204405 (C400)  container TGHU6604319 discharged in Felixstowe, awaiting haulage.
--   NK204505 (C500)  reefer temperature deviation en route, delivered.
--   NK999999 does NOT exist (used by an inbox email on purpose).


INSERT INTO demo.customers (customer_id, name, email_domain, language) VALUES
  ('C100', 'Hansen Møbler AS', 'hansen-mobler.example', 'no'),
  ('C200', 'Baltic Timber GmbH', 'baltic-timber.example', 'de'),
  ('C300', 'Svea Kök AB', 'sveakok.example', 'sv'),
  ('C400', 'Northwind Retail Ltd', 'northwind-retail.example', 'en'),
  ('C500', 'Fjord Fisk Export AS', 'fjordfisk.example', 'no');

INSERT INTO demo.contacts (email, customer_id) VALUES
  ('kari.nilsen@hansen-mobler.example', 'C100'),
  ('innkjop@hansen-mobler.example', 'C100'),
  ('j.weber@baltic-timber.example', 'C200'),
  ('logistik@baltic-timber.example', 'C200'),
  ('anna.lind@sveakok.example', 'C300'),
  ('inkop@sveakok.example', 'C300'),
  ('tom.baker@northwind-retail.example', 'C400'),
  ('supplychain@northwind-retail.example', 'C400'),
  ('ola.berg@fjordfisk.example', 'C500');

INSERT INTO demo.orders (order_no, customer_id, customer_po, status, requested_date, confirmed_date, created_at) VALUES
  ('NK204096', 'C100', '4500012290', 'delivered', '2026-11-11', '2026-11-11', '2026-11-02 09:12:00+01'),
  ('NK204117', 'C100', '4500012345', 'shipped', '2026-11-20', '2026-11-24', '2026-10-06 10:30:00+02'),
  ('NK204118', 'C100', '4500012388', 'delivered', '2026-11-18', '2026-11-18', '2026-11-09 13:05:00+01'),
  ('NK204125', 'C100', '4500012402', 'partially_shipped', '2026-11-19', '2026-11-20', '2026-11-05 08:41:00+01'),
  ('NK204131', 'C100', '4500012455', 'confirmed', '2026-12-01', '2026-12-03', '2026-11-16 11:20:00+01'),
  ('NK204140', 'C100', '4500012471', 'on_hold', '2026-11-27', NULL, '2026-11-18 14:02:00+01'),
  ('NK204152', 'C100', '4500012502', 'ready_for_pickup', '2026-11-26', '2026-11-26', '2026-11-12 10:15:00+01'),
  ('NK204203', 'C200', '7100004521', 'shipped', '2026-11-27', '2026-11-27', '2026-11-03 09:00:00+01'),
  ('NK204207', 'C200', '7100004533', 'shipped', '2026-11-23', '2026-11-27', '2026-10-28 15:45:00+01'),
  ('NK204211', 'C200', '7100004560', 'delivered', '2026-11-16', '2026-11-16', '2026-11-02 10:10:00+01'),
  ('NK204215', 'C200', '7100004588', 'in_production', '2026-12-04', '2026-12-07', '2026-11-10 08:30:00+01'),
  ('NK204219', 'C200', '7100004602', 'cancelled', '2026-11-30', '2026-11-30', '2026-11-05 13:55:00+01'),
  ('NK204222', 'C200', '7100004615', 'confirmed', '2026-11-30', '2026-12-01', '2026-11-13 09:25:00+01'),
  ('NK204301', 'C300', 'PO-88123', 'shipped', '2026-11-23', '2026-11-23', '2026-11-09 10:00:00+01'),
  ('NK204305', 'C300', 'PO-88140', 'delivered', '2026-11-19', '2026-11-19', '2026-11-10 14:30:00+01'),
  ('NK204309', 'C300', 'PO-88152', 'shipped', '2026-11-20', '2026-11-20', '2026-11-06 09:50:00+01'),
  ('NK204312', 'C300', 'PO-88167', 'open', '2026-12-02', NULL, '2026-11-17 16:05:00+01'),
  ('NK204316', 'C300', 'PO-88171', 'ready_for_pickup', '2026-11-26', '2026-11-26', '2026-11-13 11:40:00+01'),
  ('NK204320', 'C300', 'PO-88180', 'delivered', '2026-11-18', '2026-11-18', '2026-11-04 08:15:00+01'),
  ('NK204401', 'C400', 'PO-55012', 'shipped', '2026-11-27', '2026-11-30', '2026-10-30 12:00:00+01'),
  ('NK204405', 'C400', 'PO-55019', 'shipped', '2026-11-23', '2026-11-23', '2026-10-26 09:35:00+01'),
  ('NK204409', 'C400', 'PO-55027', 'delivered', '2026-11-17', '2026-11-17', '2026-10-29 16:20:00+01'),
  ('NK204413', 'C400', 'PO-55031', 'in_production', '2026-11-30', '2026-12-04', '2026-11-11 10:45:00+01'),
  ('NK204417', 'C400', 'PO-55040', 'shipped', '2026-12-04', '2026-12-04', '2026-11-09 13:10:00+01'),
  ('NK204420', 'C400', 'PO-55046', 'confirmed', '2026-12-07', '2026-12-07', '2026-11-17 15:00:00+01'),
  ('NK204501', 'C500', '30211', 'shipped', '2026-11-24', '2026-11-24', '2026-11-19 07:45:00+01'),
  ('NK204505', 'C500', '30219', 'delivered', '2026-11-20', '2026-11-20', '2026-11-16 08:05:00+01'),
  ('NK204509', 'C500', '30224', 'shipped', '2026-11-30', '2026-11-30', '2026-11-12 12:30:00+01'),
  ('NK204512', 'C500', '30230', 'open', '2026-12-03', NULL, '2026-11-21 09:10:00+01'),
  ('NK204515', 'C500', '30236', 'delivered', '2026-11-16', '2026-11-16', '2026-11-12 14:55:00+01'),
  ('NK204518', 'C500', '30241', 'shipped', '2026-11-23', '2026-11-23', '2026-11-19 08:20:00+01');

INSERT INTO demo.order_lines (order_no, line_no, sku, description, qty_ordered, qty_shipped) VALUES
  ('NK204096', 1, 'HM-CUSH-45', 'Putetrekk lin 45x45 cm, grå', 120, 120),
  ('NK204096', 2, 'HM-THROW-01', 'Pledd ull, naturhvit', 40, 40),
  ('NK204117', 1, 'HM-SOFA-3S-GR', 'Sofa 3-seter, stoff grå', 60, 60),
  ('NK204117', 2, 'HM-CHAIR-LND', 'Lenestol Lind, eik', 80, 80),
  ('NK204117', 3, 'HM-TBL-OAK180', 'Spisebord eik 180 cm', 25, 25),
  ('NK204118', 1, 'HM-BED-160', 'Seng 160x200 m/ madrass', 12, 12),
  ('NK204118', 2, 'HM-NIGHT-01', 'Nattbord hvit', 24, 24),
  ('NK204125', 1, 'HM-SHELF-80', 'Reol Bjørk 80 cm', 50, 50),
  ('NK204125', 2, 'HM-SHELF-120', 'Reol Bjørk 120 cm', 30, 30),
  ('NK204125', 3, 'HM-DESK-140', 'Skrivebord Fjell 140 cm', 20, 0),
  ('NK204131', 1, 'HM-SOFA-2S-BL', 'Sofa 2-seter, stoff blå', 30, 0),
  ('NK204131', 2, 'HM-POUF-01', 'Puff, stoff blå', 30, 0),
  ('NK204140', 1, 'HM-WARD-200', 'Garderobeskap 200 cm, hvit', 15, 0),
  ('NK204152', 1, 'HM-LAMP-FL', 'Gulvlampe messing', 40, 0),
  ('NK204152', 2, 'HM-RUG-200', 'Teppe ull 200x300 cm', 10, 0),
  ('NK204203', 1, 'BT-KVH-48198', 'Konstruktionsvollholz Fichte C24 48x198 mm, 5,4 m (Pakete)', 120, 120),
  ('NK204207', 1, 'BT-BRD-22145', 'Hobeldielen Kiefer 22x145 mm (Pakete)', 200, 200),
  ('NK204207', 2, 'BT-LAT-3648', 'Dachlatten 36x48 mm (Bund)', 300, 300),
  ('NK204211', 1, 'BT-PLY-18', 'Sperrholz Birke 18 mm, 1250x2500 (Paletten)', 40, 40),
  ('NK204215', 1, 'BT-GLU-GL30', 'Brettschichtholz GL30c 140x360 mm (Stück)', 18, 0),
  ('NK204219', 1, 'BT-OSB-15', 'OSB/3 Platten 15 mm (Paletten)', 60, 0),
  ('NK204222', 1, 'BT-TER-28145', 'Terrassendielen Lärche 28x145 mm (Pakete)', 150, 0),
  ('NK204301', 1, 'SK-PAN-28', 'Stekpanna gjutjärn 28 cm', 400, 400),
  ('NK204301', 2, 'SK-KNIFE-5', 'Knivset 5 delar', 150, 150),
  ('NK204305', 1, 'SK-TOWEL-2', 'Kökshandduk lin, 2-pack', 200, 200),
  ('NK204309', 1, 'SK-POT-5L', 'Gryta emaljerad 5 l', 300, 300),
  ('NK204309', 2, 'SK-BOARD-OAK', 'Skärbräda ek', 500, 500),
  ('NK204312', 1, 'SK-MUG-4', 'Muggar stengods 4-pack', 250, 0),
  ('NK204316', 1, 'SK-APRON', 'Förkläde canvas', 180, 0),
  ('NK204316', 2, 'SK-OVEN-MIT', 'Grillvante', 180, 0),
  ('NK204320', 1, 'SK-GLASS-6', 'Vinglas 6-pack', 120, 120),
  ('NK204320', 2, 'SK-PLATE-12', 'Tallriksset porslin 12 delar', 80, 80),
  ('NK204401', 1, 'NW-KNIT-01', 'Wool jumper, Nordic pattern', 2400, 2400),
  ('NK204401', 2, 'NW-HAT-02', 'Knitted hat', 3000, 3000),
  ('NK204401', 3, 'NW-MITT-03', 'Wool mittens', 3000, 3000),
  ('NK204405', 1, 'NW-JKT-SHELL', 'Shell jacket, navy', 1200, 1200),
  ('NK204409', 1, 'NW-SOCK-WL3', 'Wool socks, 3-pack', 5000, 5000),
  ('NK204413', 1, 'NW-BLK-MER', 'Merino blanket', 800, 0),
  ('NK204417', 1, 'NW-BOOT-W', 'Winter boots', 1500, 1500),
  ('NK204420', 1, 'NW-SCARF-W', 'Wool scarf', 2000, 0),
  ('NK204501', 1, 'FF-SAL-FR', 'Fersk laks, hel, 4-5 kg (kasser)', 320, 320),
  ('NK204505', 1, 'FF-SAL-FIL', 'Laksefilet fersk, trim D (kasser)', 900, 900),
  ('NK204509', 1, 'FF-COD-KLP', 'Klippfisk torsk (kg)', 18000, 18000),
  ('NK204512', 1, 'FF-SAL-FR', 'Fersk laks, hel, 4-5 kg (kasser)', 200, 0),
  ('NK204515', 1, 'FF-SAMPLE-RL', 'Prøvepakke røykelaks', 12, 12),
  ('NK204518', 1, 'FF-SAL-FR', 'Fersk laks, hel, 4-5 kg (kasser)', 400, 400);

INSERT INTO demo.shipments (shipment_id, order_no, carrier, mode, tracking_no, container_no, status, origin, destination, eta, delivered_at, pod_signed_by) VALUES
  ('SHP-31001', 'NK204117', 'Maersk', 'sea', NULL, 'MSKU4417209', 'delayed', 'Ningbo, CN', 'Bergen, NO', '2026-12-03 08:00:00+01', NULL, NULL),
  ('SHP-31002', 'NK204118', 'Bring Cargo', 'road', '70730259304981234', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Hansen Møbler AS, Forus, Stavanger, NO', '2026-11-18 12:00:00+01', '2026-11-18 10:42:00+01', 'M. Haugland'),
  ('SHP-31003', 'NK204125', 'Bring Cargo', 'road', '70730259305112233', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Hansen Møbler AS, Åsane, Bergen, NO', '2026-11-20 12:00:00+01', '2026-11-20 09:58:00+01', 'J. Dale'),
  ('SHP-31004', 'NK204096', 'Bring', 'parcel', '370730259300412356', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Hansen Møbler AS, Tiller, Trondheim, NO', '2026-11-11 16:00:00+01', '2026-11-11 13:27:00+01', 'Per Olsen'),
  ('SHP-31005', 'NK204152', 'Bring Cargo', 'road', '70730259305230017', NULL, 'booked', 'Bergen, NO (Nordkyst terminal Dokken)', 'Hansen Møbler AS, Tiller, Trondheim, NO', '2026-11-26 12:00:00+01', NULL, NULL),
  ('SHP-31011', 'NK204203', 'Hapag-Lloyd', 'sea', NULL, 'HLXU2208567', 'in_transit', 'Bergen, NO', 'Hamburg, DE', '2026-11-26 14:00:00+01', NULL, NULL),
  ('SHP-31012', 'NK204207', 'Hapag-Lloyd', 'sea', NULL, 'HLXU8803192', 'at_port', 'Bergen, NO', 'Hamburg, DE', '2026-11-22 06:00:00+01', NULL, NULL),
  ('SHP-31013', 'NK204207', 'CMA CGM', 'sea', NULL, 'CMAU3390479', 'in_transit', 'Bergen, NO', 'Hamburg, DE', '2026-11-27 10:00:00+01', NULL, NULL),
  ('SHP-31014', 'NK204211', 'DB Schenker', 'road', 'DBS-40177821', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Baltic Timber GmbH, Lübeck, DE', '2026-11-16 10:00:00+01', '2026-11-16 09:15:00+01', 'M. Krüger'),
  ('SHP-31021', 'NK204301', 'DSV Road', 'road', 'DSV-NO-5531208', NULL, 'customs_hold', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, lager Göteborg, SE', '2026-11-25 12:00:00+01', NULL, NULL),
  ('SHP-31022', 'NK204305', 'PostNord', 'parcel', '00370726201234567891', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, butik Hornsgatan, Stockholm, SE', '2026-11-19 16:00:00+01', '2026-11-19 11:08:00+01', 'Erik Sjöberg'),
  ('SHP-31023', 'NK204309', 'DSV Road', 'road', 'DSV-NO-5530977', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, lager Göteborg, SE', '2026-11-20 12:00:00+01', '2026-11-20 10:31:00+01', 'L. Ek'),
  ('SHP-31024', 'NK204309', 'DSV Road', 'road', 'DSV-NO-5531450', NULL, 'in_transit', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, lager Göteborg, SE', '2026-11-24 12:00:00+01', NULL, NULL),
  ('SHP-31025', 'NK204316', 'DSV Road', 'road', 'DSV-NO-5531622', NULL, 'booked', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, lager Göteborg, SE', '2026-11-26 12:00:00+01', NULL, NULL),
  ('SHP-31026', 'NK204320', 'DSV Road', 'road', 'DSV-NO-5530611', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Svea Kök AB, lager Göteborg, SE', '2026-11-18 12:00:00+01', '2026-11-18 14:20:00+01', 'S. Karlsson'),
  ('SHP-31031', 'NK204401', 'CMA CGM', 'sea', NULL, 'CMAU5521840', 'in_transit', 'Bergen, NO', 'Felixstowe, GB', '2026-11-28 08:00:00+00', NULL, NULL),
  ('SHP-31032', 'NK204405', 'Maersk', 'sea', NULL, 'TGHU6604319', 'at_port', 'Bergen, NO', 'Felixstowe, GB', '2026-11-22 07:00:00+00', NULL, NULL),
  ('SHP-31033', 'NK204409', 'DFDS Logistics', 'road', 'DFDS-UK-7782011', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Northwind Retail Ltd, DC Daventry, GB', '2026-11-17 10:00:00+00', '2026-11-17 09:32:00+00', 'J. Patel'),
  ('SHP-31034', 'NK204417', 'Maersk', 'sea', NULL, 'TGHU9012648', 'picked_up', 'Bergen, NO', 'Felixstowe, GB', '2026-12-02 12:00:00+00', NULL, NULL),
  ('SHP-31035', 'NK204401', 'CMA CGM', 'sea', NULL, 'CMAU6104732', 'in_transit', 'Bergen, NO', 'Felixstowe, GB', '2026-11-29 10:00:00+00', NULL, NULL),
  ('SHP-31041', 'NK204501', 'SAS Cargo', 'air', '117-48213365', NULL, 'in_transit', 'Bergen, NO (BGO)', 'Tokyo, JP (NRT)', '2026-11-24 18:00:00+09', NULL, NULL),
  ('SHP-31042', 'NK204505', 'Kystfrakt Kjøl AS', 'road', 'KK-2611-0442', NULL, 'delivered', 'Bergen, NO', 'Boulogne-sur-Mer, FR', '2026-11-20 06:00:00+01', '2026-11-20 05:40:00+01', 'P. Lefèvre'),
  ('SHP-31043', 'NK204509', 'Maersk', 'sea', NULL, 'MSKU7719028', 'in_transit', 'Bergen, NO', 'Lisboa, PT', '2026-11-30 08:00:00+00', NULL, NULL),
  ('SHP-31044', 'NK204515', 'Bring', 'parcel', '370730259300498761', NULL, 'delivered', 'Bergen, NO (Nordkyst terminal Dokken)', 'Hamburg, DE', '2026-11-16 16:00:00+01', '2026-11-16 11:52:00+01', 'H. Müller'),
  ('SHP-31045', 'NK204518', 'Kystfrakt Kjøl AS', 'road', 'KK-2611-0468', NULL, 'out_for_delivery', 'Bergen, NO', 'Rungis (Paris), FR', '2026-11-23 14:00:00+01', NULL, NULL);

INSERT INTO demo.shipment_events (shipment_id, event_time, location, code, description) VALUES
  ('SHP-31001', '2026-10-24 09:10:00+08', 'Ningbo, CN', 'GIN', 'Gate in full at Ningbo terminal'),
  ('SHP-31001', '2026-10-27 22:40:00+08', 'Ningbo, CN', 'LOD', 'Loaded on vessel MAERSK HALDEN'),
  ('SHP-31001', '2026-10-28 06:15:00+08', 'Ningbo, CN', 'DEP', 'Vessel departed Ningbo'),
  ('SHP-31001', '2026-11-17 14:30:00+01', 'Rotterdam, NL', 'DIS', 'Discharged at transhipment port Rotterdam'),
  ('SHP-31001', '2026-11-19 16:05:00+01', 'Rotterdam, NL', 'DLY', 'Feeder connection rolled to next sailing (port congestion). New ETA Bergen 2026-12-03'),
  ('SHP-31002', '2026-11-17 14:10:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken'),
  ('SHP-31002', '2026-11-17 15:30:00+01', 'Bergen, NO', 'DEP', 'Departed terminal Bergen'),
  ('SHP-31002', '2026-11-18 07:55:00+01', 'Stavanger, NO', 'OFD', 'Out for delivery'),
  ('SHP-31002', '2026-11-18 10:42:00+01', 'Stavanger, NO', 'DLV', 'Delivered, signed by M. Haugland'),
  ('SHP-31003', '2026-11-19 13:05:00+01', 'Bergen, NO', 'PUP', 'Partial shipment picked up (lines 1-2, 80 colli)'),
  ('SHP-31003', '2026-11-20 07:40:00+01', 'Bergen, NO', 'OFD', 'Out for delivery'),
  ('SHP-31003', '2026-11-20 09:58:00+01', 'Åsane, Bergen, NO', 'DLV', 'Delivered, signed by J. Dale'),
  ('SHP-31004', '2026-11-10 15:40:00+01', 'Bergen, NO', 'PUP', 'Parcel handed over to Bring'),
  ('SHP-31004', '2026-11-11 05:20:00+01', 'Trondheim, NO', 'ARR', 'Arrived at terminal Trondheim'),
  ('SHP-31004', '2026-11-11 08:10:00+01', 'Trondheim, NO', 'OFD', 'Out for delivery'),
  ('SHP-31004', '2026-11-11 13:27:00+01', 'Trondheim, NO', 'DLV', 'Delivered, signed by Per Olsen'),
  ('SHP-31005', '2026-11-20 11:00:00+01', 'Bergen, NO', 'BKD', 'Transport booked with Bring Cargo'),
  ('SHP-31005', '2026-11-23 08:00:00+01', 'Bergen, NO', 'PUS', 'Pickup scheduled 2026-11-24 08:00-12:00'),
  ('SHP-31011', '2026-11-20 10:20:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31011', '2026-11-21 18:45:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel NORDIC TERN'),
  ('SHP-31011', '2026-11-21 23:30:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31011', '2026-11-22 14:10:00+01', 'Stavanger, NO', 'ARR', 'Vessel call Stavanger (en route)'),
  ('SHP-31012', '2026-11-16 09:30:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31012', '2026-11-17 17:20:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel NORDIC TERN'),
  ('SHP-31012', '2026-11-17 22:00:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31012', '2026-11-22 05:40:00+01', 'Hamburg, DE', 'DIS', 'Discharged at Hamburg CTA, awaiting on-carriage booking'),
  ('SHP-31013', '2026-11-19 08:45:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31013', '2026-11-20 19:10:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel CMA CGM FJELL'),
  ('SHP-31013', '2026-11-21 02:00:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31014', '2026-11-12 13:30:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken'),
  ('SHP-31014', '2026-11-13 09:00:00+01', 'Bergen, NO', 'DEP', 'Departed Bergen (ferry to Hirtshals)'),
  ('SHP-31014', '2026-11-14 07:15:00+01', 'Hirtshals, DK', 'ARR', 'Arrived Hirtshals'),
  ('SHP-31014', '2026-11-16 09:15:00+01', 'Lübeck, DE', 'DLV', 'Delivered with remarks: 3 pallets damaged (noted on CMR), signed by M. Krüger'),
  ('SHP-31021', '2026-11-19 14:00:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken'),
  ('SHP-31021', '2026-11-20 06:30:00+01', 'Bergen, NO', 'DEP', 'Departed terminal Bergen'),
  ('SHP-31021', '2026-11-21 08:30:00+01', 'Svinesund, NO/SE', 'ARR', 'Arrived at border crossing Svinesund'),
  ('SHP-31021', '2026-11-21 11:05:00+01', 'Svinesund, NO/SE', 'CUS', 'Customs hold: commercial invoice does not match export declaration, awaiting corrected documents'),
  ('SHP-31022', '2026-11-17 16:20:00+01', 'Bergen, NO', 'PUP', 'Parcel handed over to PostNord'),
  ('SHP-31022', '2026-11-18 22:40:00+01', 'Jönköping, SE', 'ARR', 'Arrived at sorting terminal'),
  ('SHP-31022', '2026-11-19 07:50:00+01', 'Stockholm, SE', 'OFD', 'Out for delivery'),
  ('SHP-31022', '2026-11-19 11:08:00+01', 'Stockholm, SE', 'DLV', 'Delivered, signed by Erik Sjöberg'),
  ('SHP-31023', '2026-11-18 13:10:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken (shipment 1 of 2)'),
  ('SHP-31023', '2026-11-19 09:40:00+01', 'Svinesund, NO/SE', 'CLR', 'Customs cleared'),
  ('SHP-31023', '2026-11-20 10:31:00+01', 'Göteborg, SE', 'DLV', 'Delivered, signed by L. Ek'),
  ('SHP-31024', '2026-11-21 12:25:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken (shipment 2 of 2)'),
  ('SHP-31024', '2026-11-21 15:00:00+01', 'Bergen, NO', 'DEP', 'Departed terminal Bergen'),
  ('SHP-31024', '2026-11-22 19:35:00+01', 'Oslo, NO', 'ARR', 'Arrived at terminal Alnabru'),
  ('SHP-31025', '2026-11-20 09:15:00+01', 'Bergen, NO', 'BKD', 'Transport booked with DSV Road'),
  ('SHP-31025', '2026-11-23 07:45:00+01', 'Bergen, NO', 'PUS', 'Pickup scheduled 2026-11-24'),
  ('SHP-31026', '2026-11-16 13:00:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken'),
  ('SHP-31026', '2026-11-17 10:20:00+01', 'Svinesund, NO/SE', 'CLR', 'Customs cleared'),
  ('SHP-31026', '2026-11-18 14:20:00+01', 'Göteborg, SE', 'DLV', 'Delivered with remarks: 2 colli damaged, signed by S. Karlsson'),
  ('SHP-31031', '2026-11-18 11:00:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31031', '2026-11-19 07:30:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel CMA CGM FJELL'),
  ('SHP-31031', '2026-11-19 12:00:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31031', '2026-11-22 16:45:00+01', 'Rotterdam, NL', 'ARR', 'Vessel call Rotterdam (en route)'),
  ('SHP-31032', '2026-11-15 10:10:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31032', '2026-11-16 08:00:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel MAERSK SKAGEN'),
  ('SHP-31032', '2026-11-16 13:30:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31032', '2026-11-22 06:50:00+00', 'Felixstowe, GB', 'DIS', 'Discharged at Felixstowe'),
  ('SHP-31032', '2026-11-22 15:20:00+00', 'Felixstowe, GB', 'AVL', 'Customs cleared, available for collection - awaiting haulage booking'),
  ('SHP-31033', '2026-11-12 10:30:00+01', 'Bergen, NO', 'PUP', 'Picked up at Nordkyst terminal Dokken'),
  ('SHP-31033', '2026-11-12 18:00:00+01', 'Bergen, NO', 'DEP', 'Departed Bergen'),
  ('SHP-31033', '2026-11-15 06:40:00+00', 'Immingham, GB', 'ARR', 'Arrived Immingham'),
  ('SHP-31033', '2026-11-16 11:10:00+00', 'Immingham, GB', 'CLR', 'Import customs cleared'),
  ('SHP-31033', '2026-11-17 09:32:00+00', 'Daventry, GB', 'DLV', 'Delivered, signed by J. Patel'),
  ('SHP-31034', '2026-11-18 14:00:00+01', 'Bergen, NO', 'BKD', 'Booking confirmed, vessel MAERSK SKAGEN voyage 248N'),
  ('SHP-31034', '2026-11-23 07:30:00+01', 'Bergen, NO', 'PUP', 'Container loaded at Nordkyst warehouse, en route to terminal'),
  ('SHP-31035', '2026-11-21 09:30:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31035', '2026-11-22 06:15:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel CMA CGM SOLUND'),
  ('SHP-31035', '2026-11-22 11:40:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31041', '2026-11-22 09:30:00+01', 'Bergen, NO (BGO)', 'RCS', 'Received at BGO cargo terminal, 320 boxes'),
  ('SHP-31041', '2026-11-22 13:05:00+01', 'Bergen, NO (BGO)', 'DEP', 'Departed BGO to OSL'),
  ('SHP-31041', '2026-11-22 21:50:00+01', 'Oslo, NO (OSL)', 'DEP', 'Departed OSL to NRT'),
  ('SHP-31042', '2026-11-17 15:00:00+01', 'Bergen, NO', 'PUP', 'Picked up, reefer set point 0 to +2 C'),
  ('SHP-31042', '2026-11-17 19:30:00+01', 'Bergen, NO', 'DEP', 'Departed Bergen (ferry to Hirtshals)'),
  ('SHP-31042', '2026-11-18 23:10:00+01', 'Hamburg, DE', 'EXC', 'Temperature deviation alarm: +6.2 C for approx. 3 h, unit restarted'),
  ('SHP-31042', '2026-11-20 05:40:00+01', 'Boulogne-sur-Mer, FR', 'DLV', 'Delivered, signed by P. Lefèvre'),
  ('SHP-31043', '2026-11-18 10:00:00+01', 'Bergen, NO', 'GIN', 'Gate in full at Bergen container terminal'),
  ('SHP-31043', '2026-11-19 20:30:00+01', 'Bergen, NO', 'LOD', 'Loaded on vessel MAERSK SKAGEN'),
  ('SHP-31043', '2026-11-20 03:00:00+01', 'Bergen, NO', 'DEP', 'Vessel departed Bergen'),
  ('SHP-31044', '2026-11-13 15:10:00+01', 'Bergen, NO', 'PUP', 'Parcel handed over to Bring'),
  ('SHP-31044', '2026-11-16 08:20:00+01', 'Hamburg, DE', 'OFD', 'Out for delivery'),
  ('SHP-31044', '2026-11-16 11:52:00+01', 'Hamburg, DE', 'DLV', 'Delivered, signed by H. Müller'),
  ('SHP-31045', '2026-11-20 16:00:00+01', 'Bergen, NO', 'PUP', 'Picked up, reefer set point 0 to +2 C'),
  ('SHP-31045', '2026-11-20 19:30:00+01', 'Bergen, NO', 'DEP', 'Departed Bergen'),
  ('SHP-31045', '2026-11-23 06:10:00+01', 'Rungis, FR', 'OFD', 'Out for delivery');

INSERT INTO demo.fulfillments (order_no, warehouse, status, picked_at, packed_at, shipped_at) VALUES
  ('NK204096', 'BGO-DOKKEN', 'shipped', '2026-11-10 10:05:00+01', '2026-11-10 13:30:00+01', '2026-11-10 15:40:00+01'),
  ('NK204117', 'NGB-CFS (agent Ningbo)', 'shipped', '2026-10-22 09:00:00+08', '2026-10-23 15:00:00+08', '2026-10-24 09:10:00+08'),
  ('NK204118', 'BGO-DOKKEN', 'shipped', '2026-11-17 09:20:00+01', '2026-11-17 12:45:00+01', '2026-11-17 14:10:00+01'),
  ('NK204125', 'BGO-DOKKEN', 'shipped', '2026-11-18 10:00:00+01', '2026-11-19 09:30:00+01', '2026-11-19 13:05:00+01'),
  ('NK204131', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204140', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204152', 'BGO-DOKKEN', 'packed', '2026-11-20 08:30:00+01', '2026-11-21 11:15:00+01', NULL),
  ('NK204203', 'BGO-DOKKEN', 'shipped', '2026-11-18 08:00:00+01', '2026-11-19 14:00:00+01', '2026-11-20 10:20:00+01'),
  ('NK204207', 'BGO-DOKKEN', 'shipped', '2026-11-13 08:00:00+01', '2026-11-14 15:30:00+01', '2026-11-16 09:30:00+01'),
  ('NK204211', 'BGO-DOKKEN', 'shipped', '2026-11-11 09:00:00+01', '2026-11-12 10:45:00+01', '2026-11-12 13:30:00+01'),
  ('NK204215', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204219', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204222', 'BGO-DOKKEN', 'picked', '2026-11-21 10:40:00+01', NULL, NULL),
  ('NK204301', 'BGO-DOKKEN', 'shipped', '2026-11-18 09:00:00+01', '2026-11-19 10:30:00+01', '2026-11-19 14:00:00+01'),
  ('NK204305', 'BGO-DOKKEN', 'shipped', '2026-11-17 09:40:00+01', '2026-11-17 13:10:00+01', '2026-11-17 16:20:00+01'),
  ('NK204309', 'BGO-DOKKEN', 'shipped', '2026-11-17 08:30:00+01', '2026-11-18 11:00:00+01', '2026-11-18 13:10:00+01'),
  ('NK204312', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204316', 'BGO-DOKKEN', 'packed', '2026-11-19 13:20:00+01', '2026-11-20 08:50:00+01', NULL),
  ('NK204320', 'BGO-DOKKEN', 'shipped', '2026-11-13 09:15:00+01', '2026-11-16 10:00:00+01', '2026-11-16 13:00:00+01'),
  ('NK204401', 'BGO-DOKKEN', 'shipped', '2026-11-16 08:00:00+01', '2026-11-17 16:00:00+01', '2026-11-18 11:00:00+01'),
  ('NK204405', 'BGO-DOKKEN', 'shipped', '2026-11-12 08:00:00+01', '2026-11-13 14:40:00+01', '2026-11-15 10:10:00+01'),
  ('NK204409', 'BGO-DOKKEN', 'shipped', '2026-11-10 08:30:00+01', '2026-11-11 15:00:00+01', '2026-11-12 10:30:00+01'),
  ('NK204413', 'BGO-DOKKEN', 'open', NULL, NULL, NULL),
  ('NK204417', 'BGO-DOKKEN', 'shipped', '2026-11-19 08:00:00+01', '2026-11-20 15:30:00+01', '2026-11-23 07:30:00+01'),
  ('NK204420', 'BGO-DOKKEN', 'picking', NULL, NULL, NULL),
  ('NK204501', 'BGO-FLESLAND (kjølelager)', 'shipped', '2026-11-22 06:00:00+01', '2026-11-22 07:30:00+01', '2026-11-22 09:30:00+01'),
  ('NK204505', 'BGO-FLESLAND (kjølelager)', 'shipped', '2026-11-17 10:00:00+01', '2026-11-17 13:00:00+01', '2026-11-17 15:00:00+01'),
  ('NK204509', 'BGO-DOKKEN', 'shipped', '2026-11-16 08:00:00+01', '2026-11-17 14:00:00+01', '2026-11-18 10:00:00+01'),
  ('NK204512', 'BGO-FLESLAND (kjølelager)', 'open', NULL, NULL, NULL),
  ('NK204515', 'BGO-DOKKEN', 'shipped', '2026-11-13 10:00:00+01', '2026-11-13 12:00:00+01', '2026-11-13 15:10:00+01'),
  ('NK204518', 'BGO-FLESLAND (kjølelager)', 'shipped', '2026-11-20 11:00:00+01', '2026-11-20 14:00:00+01', '2026-11-20 16:00:00+01');
