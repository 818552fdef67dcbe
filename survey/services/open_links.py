"""Open (poster) links: limits per network address and burst flags.

A poster's QR code can be answered by anyone, so it is the weakest channel.
On top of the per-device cap (User-Agent + address), every start is counted
per *network address* (an IPv4 address, or the /64 prefix of an IPv6
address; stored only as a keyed hash): at most ``OPEN_LINK_ADDRESS_LIMIT``
starts per address and wave in 24 hours, and ``OPEN_LINK_ADDRESS_RATE`` per
hour (rate limiter).  Starts that come ``OPEN_LINK_BURST_COUNT`` or more
within ``OPEN_LINK_BURST_WINDOW_S`` from one address are flagged, so their
answers are left out of scoring until the bureau reviews them.

This is a cap, not a proof of one person one answer: someone with many
addresses can still answer several times.  That is why open-channel answers
count only when the wave opts in (``include_open_channel``) and are flagged
when they cluster (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import _
from ..models import Invitation, Response, Wave

BURST_TEXT = "open-link burst: {n} starts from one network address within {minutes} min"


def network_of(remote_addr: str) -> str:
    """The address an open-link limit counts: IPv4 as is, IPv6 as its /64."""
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return remote_addr or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def address_hash(remote_addr: str) -> str:
    """Keyed SHA-256 of the network address: the only trace of it that is stored."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    message = b"open-link-address\n" + network_of(remote_addr).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _burst_text(n: int) -> str:
    window = int(current_app.config.get("OPEN_LINK_BURST_WINDOW_S", 600))
    return BURST_TEXT.format(n=n, minutes=window // 60)


def check_start(wave: Wave, address: str, now: datetime) -> tuple[bool, str]:
    """Decide on one more open-link start from ``address`` (a hash) in ``wave``.

    :returns: (allowed, burst flag text or '').
    """
    limit = int(current_app.config.get("OPEN_LINK_ADDRESS_LIMIT", 30))
    window = int(current_app.config.get("OPEN_LINK_BURST_WINDOW_S", 600))
    burst = int(current_app.config.get("OPEN_LINK_BURST_COUNT", 4))

    def started_since(since: datetime) -> int:
        return (
            db.session.scalar(
                select(func.count(Invitation.id)).where(
                    Invitation.wave_id == wave.id,
                    Invitation.start_address == address,
                    Invitation.created_at >= since,
                )
            )
            or 0
        )

    if started_since(now - timedelta(days=1)) >= limit:
        return False, ""
    recent = started_since(now - timedelta(seconds=window)) + 1
    return True, _burst_text(recent) if recent >= burst else ""


def address_refusal() -> tuple[str, str]:
    """Title and text of the page shown when an address reached its cap."""
    return (
        _("这个网络的参与人数已达上限"),
        _(
            "同一网络地址（如同一个无线网络）通过公开二维码开始的问卷已达到今天的上限。"
            "请换用手机流量，或向社区索取个人邀请码。"
        ),
    )


def wave_bursts(wave: Wave) -> dict[int, str]:
    """Open-channel responses of ``wave`` whose starts cluster by address: id -> reason."""
    window = timedelta(seconds=int(current_app.config.get("OPEN_LINK_BURST_WINDOW_S", 600)))
    burst = int(current_app.config.get("OPEN_LINK_BURST_COUNT", 4))
    rows = db.session.execute(
        select(Response.id, Invitation.start_address, Invitation.created_at)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(
            Response.wave_id == wave.id,
            Response.channel == "open",
            Invitation.start_address.is_not(None),
        )
        .order_by(Invitation.created_at, Response.id)
    ).all()
    by_address: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for rid, address, created in rows:
        by_address[str(address)].append((rid, created))  # never None (filtered above)
    largest: dict[int, int] = {}  # response id -> size of the largest burst it is in
    for starts in by_address.values():
        lo = 0
        for hi in range(len(starts)):
            while starts[hi][1] - starts[lo][1] > window:
                lo += 1
            n = hi - lo + 1
            if n >= burst:
                for rid, _when in starts[lo : hi + 1]:
                    largest[rid] = max(n, largest.get(rid, 0))
    return {rid: _burst_text(n) for rid, n in largest.items()}
