"""Prompts: WAV files converted to 8 kHz mono and encoded once, at load, to 20 ms frames."""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from operator import mul
from os import PathLike
from pathlib import Path
from typing import Final

from trunkline.media.errors import PromptError
from trunkline.media.g711 import Codec

SAMPLE_RATE: Final = 8000
FRAME_SAMPLES: Final = 160  # 20 ms, the default packetisation of RFC 3551 §4.5
FRAME_S: Final = FRAME_SAMPLES / SAMPLE_RATE

# Resampling: a Hann-windowed sinc low-pass evaluated at each output instant.
#
# Linear interpolation alone folds everything above 4 kHz straight into the voice band,
# and a short moving average in front of it takes only ~4 dB off at 4-5 kHz (a box one
# output period wide has its first null at 8 kHz), so the sibilants of a 44.1 kHz
# recording come back as hiss. A windowed sinc spanning +-8 output periods rejects
# 4.6 kHz and up by more than 40 dB, about G.711's own quantisation noise, and keeps
# speech up to 3 kHz within half a dB (3.4 kHz: -3 dB). The price is ~90 multiply-adds
# per output sample from 44.1/48 kHz, 0.1-0.2 s of CPU per second of audio; it is paid
# once per file, and files already at 8 kHz skip it.
_ZEROS: Final = 8  # kernel half-width, in periods of the lower of the two rates
_CUTOFF: Final = 0.9  # low-pass corner as a fraction of the lower rate's Nyquist frequency
_LOUDEST: Final = 32767


@dataclass(frozen=True, slots=True)
class Prompt:
    """An announcement ready to send: one codec payload per 20 ms."""

    name: str
    codec: Codec
    frames: tuple[bytes, ...]
    duration_s: float  # of the frames as played, the padded last frame included


def silence_frame(codec: Codec) -> bytes:
    """20 ms of silence in ``codec`` (0xFF repeated for PCMU, 0xD5 for PCMA)."""
    return _silence(codec)


@cache
def _silence(codec: Codec) -> bytes:
    return codec.encode(bytes(2 * FRAME_SAMPLES))


def prompt_from_pcm(name: str, pcm16_8k: bytes, codec: Codec) -> Prompt:
    """Encode 8 kHz mono 16-bit little-endian PCM into frames, padding the last one."""
    short = -len(pcm16_8k) % (2 * FRAME_SAMPLES)
    codes = codec.encode(pcm16_8k + bytes(short))  # linear zeros encode as codec silence
    frames = tuple(codes[i : i + FRAME_SAMPLES] for i in range(0, len(codes), FRAME_SAMPLES))
    return Prompt(name=name, codec=codec, frames=frames, duration_s=len(frames) * FRAME_S)


def load_prompt(path: str | PathLike[str], codec: Codec, *, name: str | None = None) -> Prompt:
    """Read a PCM WAV file (8, 16, 24 or 32 bits, any channels and rate) as a prompt."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise PromptError(f"{path}: not a readable WAV file ({exc})", details=_at(path)) from exc
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 1:
        raise PromptError(
            f"{path}: unsupported WAV ({width * 8}-bit, {channels} channels, {rate} Hz)",
            details=_at(path),
        )
    mono = _to_int16(data, width)
    if channels > 1:
        mono = _downmix(mono, channels)
    if not mono:
        raise PromptError(f"{path}: the WAV file holds no audio", details=_at(path))
    samples = mono if rate == SAMPLE_RATE else _resample(mono, rate, SAMPLE_RATE)
    return prompt_from_pcm(name or path.stem, _pcm_bytes(samples), codec)


def tone_frames(
    freq_hz: float | Sequence[float],
    duration_s: float,
    codec: Codec,
    *,
    level_dbfs: float = -16.0,
) -> tuple[bytes, ...]:
    """A steady tone (or the sum of several, e.g. 440 + 480 Hz ringback) in 20 ms frames.

    ``level_dbfs`` is each component's peak relative to full scale. The duration is
    rounded to whole frames; a looped tone clicks at the seam unless its frequencies
    complete whole cycles in that time (425 Hz does in 40 ms, 440 Hz in 100 ms).
    """
    freqs = [freq_hz] if isinstance(freq_hz, int | float) else list(freq_hz)
    count = max(1, round(duration_s / FRAME_S)) * FRAME_SAMPLES
    amplitude = _LOUDEST * 10 ** (level_dbfs / 20)
    steps = [2 * math.pi * f / SAMPLE_RATE for f in freqs]
    samples = [round(amplitude * sum(math.sin(w * n) for w in steps)) for n in range(count)]
    return prompt_from_pcm("tone", _pcm_bytes(samples), codec).frames


def write_wav(path: str | PathLike[str], pcm16_8k: bytes, *, sample_rate: int = 8000) -> None:
    """Write mono 16-bit little-endian PCM as a WAV file (for tests and demo prompts)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16_8k)


def _at(path: Path) -> dict[str, str]:
    return {"path": str(path)}


def _to_int16(data: bytes, width: int) -> array[int]:
    """Samples of any integer WAV width as signed 16-bit values (extra precision dropped)."""
    if width == 1:
        # 8-bit WAV is unsigned with 128 as zero: flip the top bit to make it signed, and
        # make it the high byte of a 16-bit sample.
        pcm = bytearray(2 * len(data))
        pcm[1::2] = data.translate(bytes(b ^ 0x80 for b in range(256)))
    elif width == 2:
        pcm = bytearray(data)
    else:
        # 24/32-bit little-endian: the two most significant bytes are the last two.
        count = len(data) // width
        pcm = bytearray(2 * count)
        pcm[0::2] = data[width - 2 :: width][:count]
        pcm[1::2] = data[width - 1 :: width][:count]
    if len(pcm) % 2:
        pcm = pcm[:-1]  # a torn last sample
    samples = array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _pcm_bytes(samples: Sequence[int]) -> bytes:
    out = array("h", samples)
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def _downmix(samples: array[int], channels: int) -> array[int]:
    # The mean, not the sum: it cannot clip, and a phone cannot play stereo anyway.
    usable = len(samples) - len(samples) % channels
    lanes = [samples[c:usable:channels] for c in range(channels)]
    return array("h", [sum(frame) // channels for frame in zip(*lanes, strict=True)])


def _resample(samples: Sequence[int], src_rate: int, dst_rate: int) -> list[int]:
    """Band-limited resampling with a polyphase Hann-windowed sinc (see _ZEROS above)."""
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g  # output n sits at input position n*down/up
    scale = min(1.0, dst_rate / src_rate)
    half = math.ceil(_ZEROS / scale)  # kernel half-width in input samples
    band = _CUTOFF * scale  # cutoff in cycles per input sample, times two
    phases = [_kernel(p / up, half, band) for p in range(up)]
    # Floats throughout: float * float is the fastest product CPython's map(mul) makes.
    padded = [0.0] * (half - 1) + [float(v) for v in samples] + [0.0] * half
    low, high = -_LOUDEST - 1, _LOUDEST
    out: list[int] = []
    for n in range((len(samples) * up) // down):
        start, phase = divmod(n * down, up)
        value = round(sum(map(mul, phases[phase], padded[start : start + 2 * half])))
        out.append(low if value < low else high if value > high else value)
    return out


def _kernel(fraction: float, half: int, band: float) -> list[float]:
    """Taps for input samples at offsets -half+1..half from an output that lies
    ``fraction`` of a sample past the first of them; normalised to unit gain at DC."""
    taps = []
    for k in range(-half + 1, half + 1):
        d = k - fraction
        x = math.pi * band * d
        sinc = math.sin(x) / x if x else 1.0
        window = 0.5 + 0.5 * math.cos(math.pi * d / half) if abs(d) < half else 0.0
        taps.append(sinc * window)
    total = sum(taps)
    return [t / total for t in taps]
