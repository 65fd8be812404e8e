"""Sample-rate conversion of 16-bit mono audio, in pure Python.

espeak-ng speaks at 22,050 Hz; telephony plays 8,000 Hz. Dropping samples would fold
everything above 4 kHz back into the voice band as noise, so the signal goes through a
windowed-sinc low-pass at the same time as it is resampled (a polyphase filter: each
output sample is one dot product with the filter phase for its position in the input).

The filter keeps 0-85 % of the lower rate's Nyquist frequency (0-3.4 kHz at 8 kHz, the
telephone band), reaches `STOPBAND_ATTENUATION_DB` at that Nyquist frequency, and uses
a Kaiser window, whose length follows from those two numbers. `audioop.ratecv` is not
used: it does no low-pass filtering, and the module is gone from Python 3.13.
"""
from __future__ import annotations

import math
from array import array
from functools import lru_cache
from operator import mul
from typing import Sequence

__all__ = ["resample", "STOPBAND_ATTENUATION_DB", "PASSBAND_FRACTION"]

STOPBAND_ATTENUATION_DB = 60.0
PASSBAND_FRACTION = 0.85  # of the lower rate's Nyquist frequency
INT16_MIN, INT16_MAX = -32768, 32767


def _bessel_i0(x: float) -> float:
    """Modified Bessel function of the first kind, order 0 (for the Kaiser window)."""
    total = term = 1.0
    k = 1
    while term > 1e-12 * total:
        term *= (x / (2 * k)) ** 2
        total += term
        k += 1
    return total


def _kaiser_beta(attenuation_db: float) -> float:
    if attenuation_db > 50:
        return 0.1102 * (attenuation_db - 8.7)
    if attenuation_db >= 21:
        return 0.5842 * (attenuation_db - 21) ** 0.4 + 0.07886 * (attenuation_db - 21)
    return 0.0


def _kaiser_taps(attenuation_db: float, transition_cycles_per_sample: float) -> int:
    """Kaiser's estimate of the filter length, rounded up to an even number of taps."""
    taps = math.ceil((attenuation_db - 7.95) / (2.285 * 2 * math.pi * transition_cycles_per_sample)) + 1
    return taps + taps % 2


@lru_cache(maxsize=8)
def _polyphase_filters(from_rate: int, to_rate: int) -> tuple[tuple[tuple[float, ...], ...], int, int, int]:
    """(one filter per output phase, taps, up, down) for converting from_rate to to_rate.

    Times are in input samples. Output sample n sits at input time n * down / up; its phase
    is the fractional part, one of `up` values, and each phase has its own tap weights.
    """
    common = math.gcd(from_rate, to_rate)
    up, down = to_rate // common, from_rate // common
    nyquist = min(from_rate, to_rate) / 2
    passband_edge = PASSBAND_FRACTION * nyquist
    cutoff = (passband_edge + nyquist) / 2 / from_rate  # cycles per input sample
    transition = (nyquist - passband_edge) / from_rate
    taps = _kaiser_taps(STOPBAND_ATTENUATION_DB, transition)
    half = taps // 2
    beta = _kaiser_beta(STOPBAND_ATTENUATION_DB)
    window_scale = _bessel_i0(beta)
    filters = []
    for phase in range(up):
        fraction = phase / up
        weights = []
        for tap in range(taps):
            offset = tap - half + 1 - fraction  # input sample position minus output time
            ratio = offset / half
            window = _bessel_i0(beta * math.sqrt(1 - ratio * ratio)) / window_scale if abs(ratio) < 1 else 0.0
            argument = 2 * cutoff * offset
            sinc = 1.0 if argument == 0 else math.sin(math.pi * argument) / (math.pi * argument)
            weights.append(2 * cutoff * sinc * window)
        gain = sum(weights)  # each phase passes a constant signal unchanged
        filters.append(tuple(weight / gain for weight in weights))
    return tuple(filters), taps, up, down


def _to_int16(value: float) -> int:
    if value >= INT16_MAX:
        return INT16_MAX
    if value <= INT16_MIN:
        return INT16_MIN
    return round(value)


def resample(samples: Sequence[int], from_rate: int, to_rate: int) -> array:
    """`samples` (16-bit mono at from_rate) at to_rate, low-pass filtered; returns array('h')."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError("sample rates must be positive")
    if from_rate == to_rate:
        return array("h", samples)
    filters, taps, up, down = _polyphase_filters(from_rate, to_rate)
    half = taps // 2
    padded = [0.0] * taps + [float(sample) for sample in samples] + [0.0] * taps
    first_tap = taps - half + 1  # index in `padded` of the first tap for input time 0
    count = (len(samples) * up + down - 1) // down
    values = []
    for n in range(count):
        whole, phase = divmod(n * down, up)
        start = whole + first_tap
        values.append(sum(map(mul, filters[phase], padded[start:start + taps])))
    return array("h", [_to_int16(value) for value in values])
