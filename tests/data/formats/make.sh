#!/usr/bin/env bash
# Makes the format fixtures: one second (44100 frames) of the stereo music excerpt in ../librosa/music_44k_stereo.wav,
# written by the ffmpeg command-line tool in every container and codec tunelens decodes, plus files that are
# media but not audio. Run from this folder; the outputs are committed, so tests never need ffmpeg.
set -euo pipefail
src=../librosa/music_44k_stereo.wav
cut=(-ss 2 -t 1)
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff "${cut[@]}" -i $src -c:a pcm_u8 wav_u8.wav
ff "${cut[@]}" -i $src -c:a pcm_s16le wav_s16.wav
ff "${cut[@]}" -i $src -c:a pcm_s24le wav_s24.wav
ff "${cut[@]}" -i $src -c:a pcm_s32le wav_s32.wav
ff "${cut[@]}" -i $src -c:a pcm_f32le wav_f32.wav
ff "${cut[@]}" -i $src -c:a pcm_f64le wav_f64.wav
ff "${cut[@]}" -i $src -c:a pcm_s16be aiff_s16.aiff
ff "${cut[@]}" -i $src -c:a pcm_s16be au_s16.au
ff "${cut[@]}" -i $src -c:a flac flac_s16.flac
ff "${cut[@]}" -i $src -c:a libvorbis -q:a 5 ogg_vorbis.ogg
ff "${cut[@]}" -i $src -c:a libopus -b:a 96k opus.opus
ff "${cut[@]}" -i $src -c:a libmp3lame -b:a 192k mp3_lame.mp3
ff "${cut[@]}" -i $src -c:a aac -b:a 160k m4a_aac.m4a
# Media without audio: a short video-only clip.
ff -f lavfi -i testsrc=size=64x48:rate=5 -t 1 -c:v mpeg4 -an video_only.mp4
# Tagged files (ID3v2 in MP3, a Vorbis comment in FLAC and in Ogg, where FFmpeg keeps it on the stream).
tags=(-metadata "title=Été – Nocturne" -metadata "artist=Trio Aurora" -metadata "album=Music for Piano"
  -metadata date=1957-03-01 -metadata track=2/9)
ff -ss 2 -t 0.5 -i $src "${tags[@]}" -c:a libmp3lame -b:a 128k tagged.mp3
ff -ss 2 -t 0.5 -i $src "${tags[@]}" -c:a flac tagged.flac
ff -ss 2 -t 0.5 -i $src "${tags[@]}" -c:a libvorbis -q:a 3 tagged.ogg
# A valid Ogg Vorbis file FFmpeg 5.1 rejects ("Header processing failed": it repeats its three header packets at
# the start of its first audio page, as the real hr-savino-ocean.ogg of Debian's hyperrogue-music does); libvorbis
# and libsndfile read it. From a generated tone (sox and vorbis-tools; -D: no random dither, so reproducible),
# tone_vorbis.ogg kept unmodified beside it. See make_ffmpeg_rejects_ogg.py for the bytes it changes and why.
sox -D -n -r 44100 -c 2 -b 16 tone.wav synth 2 sine 440 sine 660 vol 0.5
oggenc -Q --serial 12345 -o tone_vorbis.ogg tone.wav
rm tone.wav
python3 make_ffmpeg_rejects_ogg.py tone_vorbis.ogg ffmpeg_rejects.ogg
