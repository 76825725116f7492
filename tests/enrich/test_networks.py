"""Network owners: hosting, mobile, ISP, business or unknown, from the AS number and the owner's name.

Names as the GeoLite2-ASN test database (../shared/data/maxmind-test) registers them."""

from __future__ import annotations

import pytest

from footfall.enrich.networks import HostingNetworks, kind_of_network

NETWORKS = [
    (15169, "Google Inc.", "hosting"),  # on the list by number
    (16509, "AMAZON-02", "hosting"),
    (14061, "DIGITALOCEAN-ASN", "hosting"),
    (35994, "Akamai Technologies, Inc.", "hosting"),  # by name
    (99999, "Example Hosting Ltd", "hosting"),
    (99998, "Acme Cloud Services", "hosting"),
    (3209, "Vodafone GmbH", "mobile"),
    (6167, "Cellco Partnership DBA Verizon Wireless", "mobile"),
    (9808, "Guangdong Mobile Communication Co.Ltd.", "mobile"),
    (12576, "Orange Personal Communications Services", "mobile"),
    (23693, "PT. Telekomunikasi Selular", "mobile"),
    (1257, "TELE2", "mobile"),
    (7922, "Comcast Cable Communications, Inc.", "isp"),
    (3320, "Deutsche Telekom AG", "isp"),
    (5400, "British Telecommunications plc", "isp"),
    (3215, "France Telecom - Orange", "isp"),
    (7018, "AT&T Services, Inc.", "isp"),
    (4134, "Chinanet", "isp"),
    (4837, "CNCGROUP China169 Backbone", "isp"),
    (1221, "Telstra Pty Ltd", "isp"),
    (174, "Cogent Communications", "isp"),
    (31334, "Kabel Deutschland Vertrieb und Service GmbH", "isp"),
    (3352, "TELEFONICA DE ESPANA", "isp"),
    (17709, "Eastern Broadband Telecom Co.,Ltd", "isp"),
    (3, "Massachusetts Institute of Technology", "business"),
    (7377, "University of California at San Diego", "business"),
    (209, "NOVARTIS-DMZ-US", "business"),
    (11496, "JPMorgan Chase & Co. Bank", "business"),
    (33856, "Turkiye Cumhuriyet Merkez Bankasi", "business"),
    (18255, "Brisbane City Council", "business"),
    (394090, "Forrest County General Hospital", "business"),
    # [T2] a legal form is no sign of a business: telecoms and others carry "Company" as often
    (23969, "TOT Public Company Limited", None),  # nothing in the name says what it runs: named nobody
    (8615, '"Central Telegraph" Public Joint-stock Company', "isp"),
    (23876, "Bangladesh Telegraph & Telephone Board", "isp"),
    (46957, "Medicine Park Telephone Company", "isp"),
    (134600, "Le Siam Internetwork Company Limited", "isp"),
    (206391, "IQ-Fancy Fancy Net Company Ltd", "isp"),
    (71, "Hewlett-Packard Company", None),
    (31399, "Daimler Autonomous System", None),
    # research and education networks serving many institutions, exchanges, registries
    (1942, "Renater", "shared"),
    (786, "Jisc Services Limited", "shared"),
    (11537, "Internet2", "shared"),
    (24348, "CERNET2 IX at Tsinghua University", "shared"),
    (9112, "Institute of Bioorganic Chemistry Polish Academy of Science, Poznan Supercomput", "shared"),
    (202655, "Ministry of Education (MOE)", "shared"),
    (721, "DoD Network Information Center", "shared"),
    # security proxies carry many companies' traffic
    (53444, "ZSCALER, INC.", "hosting"),
    (54538, "PALO ALTO NETWORKS", "hosting"),
    # a weak sign (an industry, a county) does not hold when the name sells IT or network services
    (46392, "Grant County Powernet, Inc.", "isp"),
    (142622, "Dream Information Laboratory", None),
    (54350, "Gallatin Steel Company", "business"),
    (9143, "Ziggo B.V.", None),  # access providers with plain names: not called businesses
    (12322, "Free SAS", None),
    (6830, "Liberty Global Operations B.V.", None),
    (2516, "KDDI KDDI CORPORATION", "isp"),
    (6939, "Hurricane Electric, Inc.", "isp"),
    (64500, None, None),
]


@pytest.mark.parametrize(("asn", "name", "kind"), NETWORKS)
def test_network_kind(asn: int, name: str | None, kind: str | None) -> None:
    assert kind_of_network(asn, name, HostingNetworks()) == kind


def test_an_owner_adds_hosting_networks() -> None:
    assert kind_of_network(64501, "Gallatin Steel Company", HostingNetworks((64501,))) == "hosting"
