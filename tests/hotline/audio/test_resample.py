"""The resampler keeps the telephone band and removes what would alias above the new Nyquist."""
from __future__ import annotations

import math

import pytest

from hotline.audio.resample import resample

RATE_IN, RATE_OUT = 22050, 8000


def tone(frequency: float, rate: int = RATE_IN, seconds: float = 0.4, amplitude: int = 10000) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * frequency * i / rate)) for i in range(int(seconds * rate))]


def level_db(samples, reference) -> float:
    """RMS of `samples` relative to `reference`, ignoring the filter's start and end."""
    def rms(values):
        core = list(values)[len(values) // 10: -len(values) // 10]
        return math.sqrt(sum(v * v for v in core) / len(core))
    return 20 * math.log10(max(rms(samples), 1e-9) / rms(reference))


def crossings_per_second(samples, rate: int) -> float:
    signs = [s >= 0 for s in samples]
    return sum(a != b for a, b in zip(signs, signs[1:])) / (len(samples) / rate)


@pytest.mark.parametrize("frequency", [300, 1000, 3000, 3400])
def test_the_telephone_band_passes_unchanged(frequency):
    source = tone(frequency)
    output = resample(source, RATE_IN, RATE_OUT)
    assert abs(level_db(output, source)) < 0.1
    assert crossings_per_second(output, RATE_OUT) == pytest.approx(2 * frequency, rel=0.02)


@pytest.mark.parametrize("frequency", [4000, 4500, 5000, 7000])
def test_frequencies_above_the_new_nyquist_do_not_fold_back(frequency):
    """Plain decimation would play 5 kHz as a full-strength 3 kHz tone."""
    source = tone(frequency)
    assert level_db(resample(source, RATE_IN, RATE_OUT), source) < -55


def test_length_follows_the_rate_ratio():
    assert len(resample([0] * RATE_IN, RATE_IN, RATE_OUT)) == RATE_OUT
    assert len(resample([0] * 441, RATE_IN, RATE_OUT)) == 160
    assert len(resample([0] * 1000, RATE_IN, RATE_OUT)) == math.ceil(1000 * RATE_OUT / RATE_IN)


def test_constant_signal_keeps_its_level_and_full_scale_does_not_wrap():
    assert set(resample([1000] * 4000, RATE_IN, RATE_OUT)[100:-100]) == {1000}
    square = [32767 if (i // 20) % 2 else -32768 for i in range(RATE_IN // 4)]
    output = resample(square, RATE_IN, RATE_OUT)
    assert max(output) == 32767 and min(output) == -32768  # clipped at the edges, never wrapped around


def test_upsampling_and_equal_rates():
    source = tone(500, rate=RATE_OUT)
    assert abs(level_db(resample(source, RATE_OUT, RATE_IN), source)) < 0.1
    assert list(resample(source, RATE_OUT, RATE_OUT)) == source
    with pytest.raises(ValueError):
        resample(source, 0, RATE_OUT)
