"""Every text colour of the desk's style sheet has a contrast of at least 4.5:1 (WCAG 2.x AA
for normal text) against the background it is drawn on."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "webhooks" / "static" / "desk.css"
PAGE, CARD = "#f5f6f8", "#ffffff"
# Rules that set a colour but no background: where their text is drawn.
DRAWN_ON = {".clock": ["#12355b"], ".keys": [PAGE], ".message": [PAGE], ".message.saved": [PAGE, CARD],
            ".message.error": [PAGE, CARD], ".error": [PAGE, CARD], ".no-note": [CARD], ".timer": [CARD],
            ".identity dt": [CARD]}
MINIMUM = 4.5


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _hex(value: str, variables: dict[str, str]) -> str | None:
    value = value.strip()
    value = variables.get(value[4:-1], value) if value.startswith("var(") else value
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background) for every coloured rule of the style sheet."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
    text = re.sub(r"@media[^{]*\{(.*?\})\s*\}", r"\1", text, flags=re.S)
    variables = dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})", text))
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        props = dict((k.strip(), v) for k, _, v in (p.partition(":") for p in body.split(";")) if v)
        colour = _hex(props.get("color", ""), variables)
        if colour is None:
            continue
        background = _hex(props.get("background", "").split()[0] if props.get("background") else "", variables)
        for selector in (s.strip() for s in selectors.split(",")):
            for drawn_on in [background] if background else DRAWN_ON.get(selector, [PAGE, CARD]):
                found.append((selector, colour, drawn_on))
    return found


def test_the_style_sheet_has_coloured_text():
    assert len(pairs()) >= 20


@pytest.mark.parametrize("selector, colour, background", pairs())
def test_text_contrast_is_at_least_4_5_to_1(selector, colour, background):
    ratio = contrast(colour, background)
    print(f"{selector:28} {colour} on {background}: {ratio:.2f}:1")
    assert ratio >= MINIMUM, f"{selector}: {colour} on {background} is {ratio:.2f}:1"


def test_the_check_tells_a_bad_pair_from_a_good_one():
    assert contrast("#ffffff", "#d68910") < MINIMUM < contrast("#ffffff", "#12355b")
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
