"""Which IP addresses a fetch may connect to: the public internet only.

The answer comes from the IANA special-purpose address registries, written
down here, rather than from ``ipaddress.is_global``, whose answers have
changed between Python patch releases. IPv6 addresses that carry an IPv4
address (IPv4-mapped and -compatible, 6to4, Teredo, NAT64) are refused when
the IPv4 address inside is. Every block of the registries is refused, even
those marked globally reachable: none of them serves web pages.

Sources (checked 2026-11):
https://www.iana.org/assignments/iana-ipv4-special-registry/
https://www.iana.org/assignments/iana-ipv6-special-registry/
"""

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPV4_SPECIAL_PURPOSE = tuple(
    IPv4Network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private use
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link local (cloud metadata services live here)
        "172.16.0.0/12",  # private use
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.31.196.0/24",  # AS112-v4
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",  # private use
        "192.175.48.0/24",  # direct delegation AS112 service
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast (IPv4 address space registry)
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)

# Public IPv6 unicast is allocated from 2000::/3 only; everything outside it
# (loopback, link-local, unique local, site-local, multicast, IPv4-compatible,
# discard-only, SRv6 SIDs...) is refused without a list.
IPV6_GLOBAL_UNICAST = IPv6Network("2000::/3")
IPV6_SPECIAL_PURPOSE = tuple(
    IPv6Network(block)
    for block in (
        "2001::/23",  # IETF protocol assignments: Teredo, ORCHID, AMT, AS112, benchmarking
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "2620:4f:8000::/48",  # direct delegation AS112 service
        "3fff::/20",  # documentation
    )
)

IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
IPV4_COMPATIBLE = IPv6Network("::/96")
NAT64_PREFIXES = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))
# NAT64's well-known prefix reaches the public IPv4 internet through a translator.
NAT64_WELL_KNOWN = NAT64_PREFIXES[0]


def is_public_address(address: str) -> bool:
    """True only for an address on the public internet (a zone suffix is ignored)."""
    ip = ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv4Address):
        return is_public_ipv4(ip)
    embedded = embedded_ipv4(ip)
    if not all(is_public_ipv4(inner) for inner in embedded):
        return False
    if ip in IPV4_MAPPED or ip in NAT64_WELL_KNOWN:
        return True  # the connection goes to the public IPv4 address inside
    return ip in IPV6_GLOBAL_UNICAST and not any(ip in block for block in IPV6_SPECIAL_PURPOSE)


LOOPBACK_V4 = IPv4Network("127.0.0.0/8")


def is_loopback_address(address: str) -> bool:
    """True for this machine's own addresses: 127.0.0.0/8, ::1, and
    127.0.0.0/8 in an IPv6 form (IPv4-mapped or -compatible)."""
    ip = ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv4Address):
        return ip in LOOPBACK_V4
    if ip.is_loopback:
        return True
    inner = ip.ipv4_mapped or (
        IPv4Address(int(ip) & 0xFFFF_FFFF) if ip in IPV4_COMPATIBLE else None
    )
    return inner is not None and inner in LOOPBACK_V4


def is_public_ipv4(ip: IPv4Address) -> bool:
    return not any(ip in block for block in IPV4_SPECIAL_PURPOSE)


def embedded_ipv4(ip: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, by each transition form."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in IPV4_COMPATIBLE or any(ip in prefix for prefix in NAT64_PREFIXES):
        found.append(IPv4Address(int(ip) & 0xFFFF_FFFF))
    return [inner for inner in found if inner is not None]
