"""Prompts: WAV formats in, 8 kHz G.711 frames out, with honest resampling and clear errors."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import pytest

from trunkline.media import (
    PCMA,
    PCMU,
    PromptError,
    load_prompt,
    prompt_from_pcm,
    silence_frame,
    tone_frames,
    ulaw_decode,
    write_wav,
)


def sine(freq: float, rate: int, seconds: float, amplitude: float = 10000.0) -> list[int]:
    step = 2 * math.pi * freq / rate
    return [round(amplitude * math.sin(step * n)) for n in range(round(rate * seconds))]


def write(path: Path, samples: list[int], *, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 1:
            wav.writeframes(bytes((s >> 8) + 128 for s in samples))
        elif width == 2:
            wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        else:  # 24-bit: the 16-bit value with a low byte of 0x80 below it
            wav.writeframes(b"".join(b"\x80" + struct.pack("<h", s) for s in samples))
    return path


def decoded(frames: tuple[bytes, ...]) -> list[int]:
    data = ulaw_decode(b"".join(frames))
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def crossings(samples: list[int]) -> int:
    return sum(1 for a, b in zip(samples, samples[1:], strict=False) if a < 0 <= b)


def test_an_8k_mono_file_becomes_20ms_frames_padded_with_silence(tmp_path: Path) -> None:
    samples = sine(1000, 8000, 0.25)  # 2000 samples: 12.5 frames
    path = tmp_path / "welcome.wav"
    write_wav(path, struct.pack(f"<{len(samples)}h", *samples))
    prompt = load_prompt(path, PCMU)
    assert prompt.name == "welcome" and prompt.codec is PCMU
    assert len(prompt.frames) == 13 and {len(f) for f in prompt.frames} == {160}
    assert prompt.duration_s == pytest.approx(0.26)
    assert prompt.frames[-1][80:] == b"\xff" * 80  # the padding is µ-law silence
    back = decoded(prompt.frames)[:2000]
    assert max(abs(a - b) for a, b in zip(back, samples, strict=True)) <= 160  # µ-law step


def test_pcma_prompts_pad_with_alaw_silence(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", [1000] * 100, rate=8000)
    prompt = load_prompt(path, PCMA, name="custom")
    assert prompt.name == "custom" and len(prompt.frames) == 1
    assert prompt.frames[0][100:] == b"\xd5" * 60


def test_silence_frames() -> None:
    assert silence_frame(PCMU) == b"\xff" * 160
    assert silence_frame(PCMA) == b"\xd5" * 160


def test_8_bit_unsigned_samples_are_centred_on_128(tmp_path: Path) -> None:
    path = write(tmp_path / "8bit.wav", [0, 0x4000, -0x4000, 0] * 40, rate=8000, width=1)
    values = decoded(load_prompt(path, PCMU).frames)[:4]
    assert values[0] == 0 and values[3] == 0
    assert values[1] == pytest.approx(0x4000, rel=0.03)
    assert values[2] == pytest.approx(-0x4000, rel=0.03)


def test_24_bit_samples_keep_their_top_16_bits(tmp_path: Path) -> None:
    samples = sine(500, 8000, 0.1)
    path = write(tmp_path / "24bit.wav", samples, rate=8000, width=3)
    back = decoded(load_prompt(path, PCMU).frames)[: len(samples)]
    assert max(abs(a - b) for a, b in zip(back, samples, strict=True)) <= 160


def test_stereo_is_mixed_down_to_the_mean(tmp_path: Path) -> None:
    tone = sine(400, 8000, 0.1)
    same = write(tmp_path / "s.wav", [s for v in tone for s in (v, v)], rate=8000, channels=2)
    opposite = write(tmp_path / "o.wav", [s for v in tone for s in (v, -v)], rate=8000, channels=2)
    assert rms(decoded(load_prompt(same, PCMU).frames)) == pytest.approx(rms(tone), rel=0.02)
    assert set(decoded(load_prompt(opposite, PCMU).frames)) == {0}


@pytest.mark.parametrize("rate", [11025, 16000, 22050, 44100, 48000])
def test_resampling_keeps_a_voice_band_tone_intact(tmp_path: Path, rate: int) -> None:
    path = write(tmp_path / f"{rate}.wav", sine(1000, rate, 0.5), rate=rate)
    prompt = load_prompt(path, PCMU)
    assert len(prompt.frames) == 25  # 0.5 s at 8 kHz, whatever the source rate
    back = decoded(prompt.frames)[200:3800]  # away from the edges of the file
    assert 20 * math.log10(rms(back) / (10000 / math.sqrt(2))) == pytest.approx(0, abs=0.3)
    assert crossings(back) == pytest.approx(450, abs=1)  # 1 kHz for 0.45 s


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_resampling_keeps_tones_above_4khz_from_folding_into_the_voice_band(
    tmp_path: Path, rate: int
) -> None:
    # 5 kHz cannot exist at 8 kHz; a naive resampler turns it into a loud 3 kHz whistle.
    path = write(tmp_path / f"{rate}.wav", sine(5000, rate, 0.3), rate=rate)
    back = decoded(load_prompt(path, PCMU).frames)[200:2200]
    assert 20 * math.log10(max(rms(back), 1.0) / (10000 / math.sqrt(2))) < -35


def test_upsampling_from_a_low_rate_works_too(tmp_path: Path) -> None:
    path = write(tmp_path / "6k.wav", sine(500, 6000, 0.3), rate=6000)
    back = decoded(load_prompt(path, PCMU).frames)[200:2200]
    assert crossings(back) == pytest.approx(125, abs=1)
    assert rms(back) == pytest.approx(10000 / math.sqrt(2), rel=0.05)


def test_prompts_from_pcm_and_tones() -> None:
    prompt = prompt_from_pcm("beep", bytes(640), PCMA)
    assert prompt.frames == (b"\xd5" * 160, b"\xd5" * 160)
    ringback = tone_frames(425, 1.0, PCMU)
    assert len(ringback) == 50
    samples = decoded(ringback)
    assert crossings(samples) == pytest.approx(425, abs=1)
    assert max(samples) == pytest.approx(32767 * 10 ** (-16 / 20), rel=0.03)
    us = decoded(tone_frames((440, 480), 0.5, PCMU))
    assert max(us) > 1.8 * max(samples)  # two components at -16 dBFS each add up


def test_missing_file_is_a_prompt_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(PromptError, match="nope.wav") as info:
        load_prompt(path, PCMU)
    assert info.value.error_id == "prompt_invalid"
    assert info.value.details == {"path": str(path)}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a wav file at all",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # cut off inside the format chunk
        b"OggS" + bytes(100),
    ],
)
def test_unreadable_files_are_prompt_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(PromptError, match="broken.wav"):
        load_prompt(path, PCMU)


def test_a_file_without_audio_is_a_prompt_error(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.wav", [], rate=8000)
    with pytest.raises(PromptError, match="no audio"):
        load_prompt(path, PCMU)


def test_compressed_wav_is_refused(tmp_path: Path) -> None:
    # A WAVE_FORMAT_MULAW (7) header: real telephony prompts sometimes come like this.
    fmt = struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)
    data = b"\xff" * 160
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path = tmp_path / "mulaw.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(PromptError, match="mulaw.wav"):
        load_prompt(path, PCMU)
