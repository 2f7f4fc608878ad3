"""URL and network rules, in one place (no Qt, no HTTP library).

The management client (requests), the key check (httpx), the hub's settings
and CLI, the client-setup writers and the window all ask these functions, so a
rule such as "plain http only to this computer" or "never through a proxy for a
hub on this computer" cannot drift between them (it did: the key check once
sent the key through an environment proxy the client bypassed).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MAX_RESPONSE_BYTES",
    "OPENABLE_SCHEMES",
    "InsecureUrlError",
    "display_host",
    "format_base_url",
    "format_netloc",
    "host_of",
    "http_refusal",
    "is_loopback_host",
    "is_loopback_url",
    "openable_url",
    "proxies_for",
    "proxy_for",
    "validate_hub_url",
]

OPENABLE_SCHEMES = ("http", "https")
# The most an HTTP client of this app reads of one answer. A 10,000-key list is ~2.5 MB;
# this leaves room for longer labels and future fields, and stops a hostile server early.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class InsecureUrlError(ValueError):
    """Plain http:// to a host other than this computer, refused unless explicitly allowed.

    A ValueError, so code that only asks "is this address usable?" needs one except clause;
    ``HubClient`` turns it into its typed ``InsecureTransportError``.
    """


# --------------------------------------------------------------------------- hosts


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (also IPv4-mapped), the hosts
    where plain http never leaves the machine. Brackets, case and a trailing dot
    are ignored; any other name (even ``localhost.example.org``) is not loopback."""
    if not host:
        return False
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or bool(mapped and mapped.is_loopback)


def host_of(url: str) -> str | None:
    """The host name of ``url`` (lower case, no brackets), or None when it has none or is malformed."""
    try:
        return urlsplit(url.strip() if isinstance(url, str) else "").hostname
    except ValueError:
        return None


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this computer (see ``is_loopback_host``)."""
    return is_loopback_host(host_of(url))


def format_netloc(host: str, port: int | None = None) -> str:
    """``host[:port]`` with an IPv6 literal bracketed (``[::1]:8750``)."""
    name = host.strip("[]")
    netloc = f"[{name}]" if ":" in name else name
    return netloc if port is None else f"{netloc}:{port}"


def format_base_url(host: str, port: int | None = None, scheme: str = "http") -> str:
    """``http://127.0.0.1:8750`` (IPv6 literals bracketed)."""
    return f"{scheme}://{format_netloc(host, port)}"


def display_host(url: str) -> str:
    """``host[:port]`` of a URL for messages and labels (the text itself when it has none)."""
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


# --------------------------------------------------------------------------- the http rule


def http_refusal(url: str, allow_insecure_http: bool = False,
                 what: str = "your password and keys") -> str | None:
    """Why plain ``http://`` to ``url`` is refused, or None when the scheme is fine.

    One rule for the whole app: http only to this computer unless the user
    explicitly allowed it (``--allow-insecure-http``, the sign-in dialog's box).
    ``what`` names what would travel in clear.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or allow_insecure_http or is_loopback_host(parts.hostname):
        return None
    return (
        f"Refusing plain http:// to {parts.hostname}: {what} would cross the network "
        "unencrypted. Use the hub's https:// address (plain http is allowed only for this "
        "computer, e.g. http://127.0.0.1:8750)."
    )


def validate_hub_url(url: str, allow_insecure_http: bool = False) -> str:
    """Check and normalise a hub base URL; return e.g. ``https://hub.example.org``.

    Raises ValueError (with a message for the person who typed it) for text that
    is not a usable hub address, and InsecureUrlError for plain http:// to a host
    other than this machine unless ``allow_insecure_http``. An address typed
    without a scheme gets https://, or http:// for a loopback host.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("Enter the hub address, e.g. https://hub.example.org.")
    text = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError("The hub address must not contain spaces or control characters.")
    if "://" not in text:
        other_scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):(?!\d)", text)
        if other_scheme:  # e.g. "mailto:x" or "javascript:..." (but not "host:8750")
            raise ValueError(f"The hub address must start with https:// (not {other_scheme.group(1)}:).")
        try:
            guess = urlsplit("//" + text).hostname
        except ValueError:
            guess = None
        text = ("http://" if is_loopback_host(guess) else "https://") + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"This is not a valid hub address ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in OPENABLE_SCHEMES:
        raise ValueError(f"The hub address must start with https:// (not {scheme}://).")
    if "@" in parts.netloc:
        raise ValueError("Don't put a user name or password in the hub address; sign in with them instead.")
    host = parts.hostname
    if not host:
        raise ValueError("The hub address has no host name; it should look like https://hub.example.org.")
    if port == 0:
        raise ValueError("The hub address has port 0, which cannot be reached.")
    if parts.query or parts.fragment or text.rstrip().endswith(("?", "#")):
        raise ValueError("The hub address must not contain '?' or '#'; give only the hub's base address.")
    refusal = http_refusal(text, allow_insecure_http)
    if refusal:
        raise InsecureUrlError(refusal)
    return urlunsplit((scheme, format_netloc(host, port), parts.path.rstrip("/"), "", ""))


# --------------------------------------------------------------------------- links


def openable_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) link with a host (safe to hand to the
    desktop's URL opener), else None: a hub-supplied ``file:``, ``smb:`` or
    ``javascript:`` link must never reach the OS."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in OPENABLE_SCHEMES or not parts.hostname:
        return None
    return text


# --------------------------------------------------------------------------- proxies


def proxy_for(url: str) -> str | None:
    """The proxy a request to ``url`` goes through, or None for a direct connection.

    Never a proxy for a host on this computer (a proxy would see keys and
    passwords in clear for a plain-http local hub, and could not reach it anyway).
    Otherwise the usual environment variables decide, as curl, requests and httpx
    read them: ``HTTPS_PROXY``/``HTTP_PROXY`` for the URL's scheme, then
    ``ALL_PROXY`` (lower-case names win), and ``NO_PROXY`` exempts hosts.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if not host or is_loopback_host(host):
        return None
    import urllib.request  # here: ~20 ms of imports (http.client, email...) kept off the app's start

    proxies = urllib.request.getproxies_environment()
    # typeshed omits this long-standing helper (the same NO_PROXY rule requests applies).
    if urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    if _in_no_proxy_network(host, proxies.get("no", "")):
        return None
    return proxies.get(parts.scheme.lower()) or proxies.get("all") or None


def _in_no_proxy_network(host: str, no_proxy: str) -> bool:
    """``NO_PROXY`` entries written as networks (``10.0.0.0/8``), which requests honours
    and urllib does not: an IP host inside one goes direct."""
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    for entry in no_proxy.split(","):
        try:
            if "/" in entry and addr in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def proxies_for(url: str) -> dict[str, str | None]:
    """``proxy_for(url)`` as the mapping ``requests`` takes (every scheme key set,
    so a None really means "direct": requests only fills in keys that are absent)."""
    proxy = proxy_for(url)
    return {"http": proxy, "https": proxy, "all": proxy}
