"""Realistic event bodies for the cost model: an ``order.created`` with line items, of a chosen size.

Each body is the JSON that ``POST .../events`` receives (``{"type", "data"}``), built from a seeded random
generator so that every run sends the same bytes, yet with the variety of a real order (distinct SKUs,
names, prices, addresses), so that compression is measured on text that compresses as a real order does,
not on one line repeated. Line items are added until the body reaches the target size, and the last one's
note is cut so that the body is exactly ``target`` bytes (UTF-8, compact separators as clients send).
"""

from __future__ import annotations

import json
import random
from typing import Any

KIB = 1024
_WORDS = (
    "organic",
    "cotton",
    "merino",
    "linen",
    "recycled",
    "classic",
    "slim",
    "relaxed",
    "heavyweight",
    "lightweight",
    "waterproof",
    "insulated",
    "travel",
    "everyday",
    "premium",
    "stretch",
    "vintage",
    "washed",
    "brushed",
    "ribbed",
    "quilted",
    "packable",
    "ceramic",
    "walnut",
    "oak",
    "steel",
    "bamboo",
    "glass",
    "matte",
    "glossy",
)
_THINGS = (
    "shirt",
    "hoodie",
    "jacket",
    "mug",
    "backpack",
    "lamp",
    "notebook",
    "bottle",
    "scarf",
    "sneaker",
    "blanket",
    "chair",
    "pan",
)
_COLORS = ["black", "white", "navy", "olive", "sand", "rust", "forest", "charcoal", "sky", "berry"]
_CITIES = ("Berlin", "Lyon", "Porto", "Utrecht", "Gdansk", "Malmo", "Bilbao", "Graz", "Aarhus", "Turin")


def _line_item(rng: random.Random, number: int) -> dict[str, Any]:
    name = " ".join([*rng.sample(_WORDS, 2), rng.choice(_THINGS)]).title()
    quantity = rng.randint(1, 4)
    unit_price = rng.randint(299, 24999)
    return {
        "id": f"li_{rng.getrandbits(48):012x}",
        "sku": f"{rng.choice(_THINGS)[:3].upper()}-{rng.randint(1000, 9999)}-{rng.choice(_COLORS)[:3]}",
        "name": name,
        "variant": {
            "color": rng.choice(_COLORS),
            "size": rng.choice(("XS", "S", "M", "L", "XL", "one size")),
        },
        "quantity": quantity,
        "unit_price": unit_price,
        "total": quantity * unit_price,
        "tax_rate": rng.choice((0.07, 0.19, 0.2, 0.21)),
        "note": "",
        "position": number,
    }


def _address(rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"{rng.choice(('Ana', 'Jonas', 'Mira', 'Luca', 'Ines', 'Tomasz'))} "
        f"{rng.choice(('Keller', 'Moreau', 'Silva', 'de Vries', 'Nowak', 'Lind'))}",
        "line1": f"{rng.randint(1, 220)} {rng.choice(_WORDS).title()}strasse",
        "city": rng.choice(_CITIES),
        "postal_code": f"{rng.randint(10000, 99999)}",
        "country": rng.choice(("DE", "FR", "PT", "NL", "PL", "SE", "ES", "AT", "DK", "IT")),
    }


def order_event(target: int, number: int = 0) -> dict[str, Any]:
    """A ``POST .../events`` body of exactly ``target`` bytes (at least about 700), event ``number``."""
    rng = random.Random(f"{target}:{number}")
    items: list[dict[str, Any]] = []
    data: dict[str, Any] = {
        "order_id": f"ord_{number:010d}",
        "customer": {"id": f"cus_{rng.getrandbits(64):016x}", "email": f"buyer{number}@example.com"},
        "currency": "EUR",
        "status": "paid",
        "created_at": f"2026-12-06T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "shipping_address": _address(rng),
        "line_items": items,
        "amount_total": 0,
    }
    event = {"type": "order.created", "data": data}

    def size() -> int:
        return len(json.dumps(event, separators=(",", ":")).encode())

    while size() < target:  # one item too many, then drop it: what is left is just under the target
        items.append(_line_item(rng, len(items) + 1))
        data["amount_total"] = sum(item["total"] for item in items)
    items.pop()
    data["amount_total"] = sum(item["total"] for item in items)
    if not items:
        raise ValueError(f"an order body cannot be as small as {target} bytes")
    room = target - size()  # filled by the last item's note, one ASCII byte per character
    items[-1]["note"] = " ".join(rng.choice(_WORDS) for _ in range(room // 4 + 2))[:room]
    if size() != target:
        raise AssertionError(f"order body of {size()} bytes, wanted {target}")
    return event
