#!/usr/bin/env python3
"""Make ffmpeg_rejects.ogg: a valid Ogg Vorbis file that FFmpeg's Ogg demuxer refuses.

What it changes
---------------
The input is a plain oggenc file: page 0 = identification header, page 1 = comment +
setup headers, page 2 onwards = audio. This script copies the three header packets
(identification, comment, setup) once more and puts the copies at the start of the
first audio page, before that page's audio packets (the page's segment table gets the
lacing values of the three copies in front of its own; its granule position, serial,
sequence number and flags are unchanged; its CRC is recomputed). Nothing else changes:
the audio packets, and so the decoded samples, are byte-for-byte those of the input.

This is the layout of a real file that FFmpeg rejects: hr-savino-ocean.ogg from the
Debian package hyperrogue-music repeats its identification, comment and setup headers
at the start of its third page (sequence 2), in the same logical stream, without a
new BOS page.

Why FFmpeg rejects it
---------------------
libavformat/oggdec.c keeps calling the codec's header() callback for each packet of
the stream until it returns 0 ("first non-header packet"). In
libavformat/oggparsevorbis.c, vorbis_header() returns 1 for every packet whose first
byte is odd (a Vorbis header packet: 1, 3 or 5) and stores it in
priv->packet[pkt_type >> 1]. When the repeated identification header (type 1) arrives,
priv->packet[0] is already set, and

    if (priv->packet[pkt_type >> 1])
        return AVERROR_INVALIDDATA;

fails, so ogg_packet() logs "Header processing failed: Invalid data found when
processing input" and avformat_open_input fails (FFmpeg 5.1.x as shipped in Debian 12).
libvorbis/libvorbisfile (oggdec) and libsndfile read the three headers once and then
skip any later packet that is not audio (vorbis_synthesis returns OV_ENOTAUDIO for a
packet whose first byte is odd), so they decode the file.

How to make the input and the fixture (sox 14.4.2, vorbis-tools 1.4.2 / libvorbis 1.3.7;
-D turns sox's random dither off so the WAV, and so tone.ogg, is reproducible):

    sox -D -n -r 44100 -c 2 -b 16 tone.wav synth 2 sine 440 sine 660 vol 0.5
    oggenc -Q --serial 12345 -o tone.ogg tone.wav
    python3 make_ffmpeg_rejects_ogg.py tone.ogg ffmpeg_rejects.ogg

Checks:

    ffmpeg -v error -i ffmpeg_rejects.ogg -f null -   # fails: Header processing failed
    sndfile-info ffmpeg_rejects.ogg                   # 2 ch, 44100 Hz, 88200 frames
    oggdec -Q -o /dev/null ffmpeg_rejects.ogg         # decodes
"""

import struct
import sys


def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(data):
    """Ogg page CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[((crc >> 24) ^ b) & 0xFF]
    return crc


class Page:
    def __init__(self, flags, granule, serial, seq, segs, body):
        self.flags, self.granule, self.serial, self.seq = flags, granule, serial, seq
        self.segs, self.body = list(segs), bytes(body)

    def encode(self):
        if len(self.segs) > 255 or sum(self.segs) != len(self.body):
            raise ValueError("bad segment table")
        head = b"OggS" + struct.pack("<BBqIIIB", 0, self.flags, self.granule, self.serial,
                                     self.seq, 0, len(self.segs)) + bytes(self.segs)
        raw = bytearray(head + self.body)
        struct.pack_into("<I", raw, 22, ogg_crc(raw))
        return bytes(raw)


def read_pages(data):
    pages, off = [], 0
    while off < len(data):
        if data[off:off + 4] != b"OggS":
            raise ValueError("no capture pattern at offset %d" % off)
        ver, flags, granule, serial, seq, crc, nseg = struct.unpack_from("<BBqIIIB", data, off + 4)
        if ver != 0:
            raise ValueError("Ogg version %d at offset %d" % (ver, off))
        segs = data[off + 27:off + 27 + nseg]
        end = off + 27 + nseg + sum(segs)
        raw = bytearray(data[off:end])
        struct.pack_into("<I", raw, 22, 0)
        if ogg_crc(raw) != crc:
            raise ValueError("bad CRC in page %d" % seq)
        pages.append(Page(flags, granule, serial, seq, segs, data[off + 27 + nseg:end]))
        off = end
    return pages


def lacing(n):
    return [255] * (n // 255) + [n % 255]


def split_packets(page):
    """(packet bytes, number of segments, complete?) for each packet piece on the page."""
    out, start, nseg, pos = [], 0, 0, 0
    for s in page.segs:
        pos += s
        nseg += 1
        if s < 255:
            out.append((page.body[start:pos], nseg, True))
            start, nseg = pos, 0
    if nseg:
        out.append((page.body[start:pos], nseg, False))
    return out


def stream_packets(pages):
    """All complete packets of the stream, joined across pages."""
    out, cur = [], b""
    for page in pages:
        pos = 0
        for s in page.segs:
            cur += page.body[pos:pos + s]
            pos += s
            if s < 255:
                out.append(cur)
                cur = b""
    return out


def main(src, dst):
    pages = read_pages(open(src, "rb").read())
    if len({p.serial for p in pages}) != 1:
        raise ValueError("expected a single logical stream")
    # Collect the three header packets and find the page where audio starts.
    headers, first_audio = [], None
    for i, page in enumerate(pages):
        if len(headers) == 3:
            first_audio = i
            break
        for pkt, _, complete in split_packets(page):
            if not complete:
                raise ValueError("header packet spans pages; not handled")
            headers.append(pkt)
        if len(headers) > 3:
            raise ValueError("audio packet on a header page; not handled")
    if first_audio is None or [h[:7] for h in headers] != [b"\x01vorbis", b"\x03vorbis", b"\x05vorbis"]:
        raise ValueError("not an oggenc-style Vorbis file")
    page = pages[first_audio]
    if page.flags & 1:
        raise ValueError("first audio page continues a packet")
    segs = []
    for h in headers:
        segs += lacing(len(h))
    page.segs = segs + page.segs
    page.body = b"".join(headers) + page.body
    out = b"".join(p.encode() for p in pages)
    # Self-check: the output parses, CRCs are right, and packets = headers + headers + audio.
    check = read_pages(out)
    pkts = stream_packets(check)
    orig = stream_packets(read_pages(open(src, "rb").read()))
    assert pkts == orig[:3] + orig[:3] + orig[3:]
    open(dst, "wb").write(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_ffmpeg_rejects_ogg.py INPUT.ogg OUTPUT.ogg")
    main(sys.argv[1], sys.argv[2])
