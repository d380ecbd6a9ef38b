"""One client key per address: IPv4 as it is, IPv6 per /64, IPv4-mapped IPv6 as IPv4."""

from __future__ import annotations

import pytest

from server.clients import client_of


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("127.0.0.5", "127.0.0.5"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:10.0.0.7", "10.0.0.7"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_an_address_maps_to_its_client_key(address, client):
    assert client_of(address) == client


def test_two_addresses_of_one_ipv6_64_are_one_client_and_of_two_networks_are_two():
    assert client_of("2001:db8::1") == client_of("2001:db8::abcd:1")
    assert client_of("2001:db8::1") != client_of("2001:db8:0:1::1")
