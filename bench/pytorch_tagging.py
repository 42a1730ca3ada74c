#!/usr/bin/python3
"""The shipped music-tagging networks run by PyTorch: the baseline of bench_tagging (scripts/bench_tagging.sh).

    /usr/bin/python3 bench/pytorch_tagging.py [--samples SONG.f32 [--threads 1,2] [--repeats 5] | --serve]

FCN, CRNN and Musicnn are defined here as Won et al. define them (sota-music-tagging-models, training/model.py
and training/modules.py), with the same parameter names, so the state dicts in models/ load strictly. The front
end is torchaudio's MelSpectrogram + AmplitudeToDB written out in torch (torchaudio is not a Debian package):
torch.stft (centred, reflect padding) with the window and mel filterbank stored in the state dict, power 2,
10·log10(max(x, 1e-10)). Weights below the smallest normal float (1.2e-38) are zeroed, as tunelens loads them:
four of the eight networks hold 77,000 to 242,000, which x86 multiplies on a slow path (those networks run 8 to
44 times slower; --keep-subnormals measures that), and as zeros they change no output.

First it checks itself: on tests/data/pretrained/input16k.npy every network's tag probabilities must be within
1e-4 of the original code's (tests/data/pretrained/<name>.output.npy); it stops with status 1 otherwise.

Then it tags a whole song (SONG.f32: 16 kHz mono float32 samples, as `ffmpeg -f f32le` writes them) with every
network, end to end from the samples: the song cut into consecutive chunks of the network's input length (the
tail shorter than a chunk dropped), the front end and the network on all chunks as one batch, in eval mode under
torch.inference_mode, on torch.set_num_threads(N). Each figure is the median of --repeats runs after one warm-up.

With --serve it times one run per request instead, for bench_tagging to alternate with its own runs: after the
check (printed on stderr) it answers {"ready": true}, then each line "NETWORK THREADS" on stdin with one JSON line
{"seconds", "windows", "tags"} (the song's mean tag probabilities), until stdin ends.
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
TAG_TOLERANCE = 1e-4


class Conv2dBlock(nn.Module):
    """conv 3 x 3 (same padding), BatchNorm, ReLU, max-pool: the authors' Conv_2d."""

    def __init__(self, in_channels, out_channels, pooling):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.mp = nn.MaxPool2d(pooling)

    def forward(self, x):
        return self.mp(torch.relu(self.bn(self.conv(x))))


class Conv1dBlock(nn.Module):
    """conv 1-D (same padding), BatchNorm, ReLU: the authors' Conv_1d with pooling 1 (Musicnn's back end)."""

    def __init__(self, in_channels, out_channels, length):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, length, padding=length // 2)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class VerticalFilter(nn.Module):
    """Musicnn's timbre filter (Conv_V): a tall kernel over the bands, then the maximum over what is left."""

    def __init__(self, out_channels, shape):
        super().__init__()
        self.conv = nn.Conv2d(1, out_channels, shape, padding=(0, shape[1] // 2))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))).amax(dim=2)


class HorizontalFilter(nn.Module):
    """Musicnn's temporal filter (Conv_H): a long 1-D kernel over the mean of the bands."""

    def __init__(self, out_channels, length):
        super().__init__()
        self.conv = nn.Conv1d(1, out_channels, length, padding=length // 2)
        self.bn = nn.BatchNorm1d(out_channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x.mean(dim=2))))


class ConvStack(nn.Module):
    """The input BatchNorm and the conv blocks of FCN and CRNN, named layer1, layer2, ... as the state dicts do."""

    def __init__(self, blocks):
        super().__init__()
        self.spec_bn = nn.BatchNorm2d(1)
        self.blocks = []
        for number, (in_channels, out_channels, pooling) in enumerate(blocks, start=1):
            block = Conv2dBlock(in_channels, out_channels, pooling)
            setattr(self, f"layer{number}", block)
            self.blocks.append(block)

    def convolve(self, logmel):
        x = self.spec_bn(logmel)
        for block in self.blocks:
            x = block(x)
        return x


class Fcn(ConvStack):
    """Choi et al. 2016: five conv blocks down to one value per channel, then the tag layer."""

    def __init__(self, classes):
        super().__init__([(1, 64, (2, 4)), (64, 128, (2, 4)), (128, 128, (2, 4)), (128, 128, (3, 5)),
                          (128, 64, (4, 4))])
        self.dropout = nn.Dropout(0.5)
        self.dense = nn.Linear(64, classes)

    def forward(self, logmel):
        pre_head = self.convolve(logmel).flatten(1)
        return pre_head, torch.sigmoid(self.dense(self.dropout(pre_head)))


class Crnn(ConvStack):
    """Choi et al. 2017: four conv blocks, a 2-layer GRU over time, its last output into the tag layer."""

    def __init__(self, classes):
        super().__init__([(1, 64, (2, 2)), (64, 128, (3, 3)), (128, 128, (4, 4)), (128, 128, (4, 4))])
        self.layer5 = nn.GRU(128, 32, 2, batch_first=True)
        self.dropout = nn.Dropout(0.5)
        self.dense = nn.Linear(32, classes)

    def forward(self, logmel):
        sequence, _ = self.layer5(self.convolve(logmel).squeeze(2).permute(0, 2, 1))
        pre_head = sequence[:, -1, :]
        return pre_head, torch.sigmoid(self.dense(self.dropout(pre_head)))


class Musicnn(nn.Module):
    """Pons et al. 2018 as Won et al. trained it: vertical and horizontal filters, a residual 1-D back end,
    max and mean over time, dense, tag layer. backend 64 / dense 200 (MagnaTagATune, MTG-Jamendo), 512 / 500 (MSD).
    """

    def __init__(self, classes, backend, dense):
        super().__init__()
        self.spec_bn = nn.BatchNorm2d(1)
        self.layers = nn.ModuleList([
            VerticalFilter(204, (int(0.7 * 96), 7)),
            VerticalFilter(204, (int(0.4 * 96), 7)),
            HorizontalFilter(51, 129),
            HorizontalFilter(51, 65),
            HorizontalFilter(51, 33),
        ])
        front_channels = 2 * 204 + 3 * 51
        self.layer1 = Conv1dBlock(front_channels, backend, 7)
        self.layer2 = Conv1dBlock(backend, backend, 7)
        self.layer3 = Conv1dBlock(backend, backend, 7)
        self.dense1 = nn.Linear(2 * (front_channels + 3 * backend), dense)
        self.bn = nn.BatchNorm1d(dense)
        self.dropout = nn.Dropout(0.5)
        self.dense2 = nn.Linear(dense, classes)

    def forward(self, logmel):
        x = self.spec_bn(logmel)
        front = torch.cat([layer(x) for layer in self.layers], dim=1)
        res1 = self.layer1(front)
        res2 = self.layer2(res1) + res1
        res3 = self.layer3(res2) + res2
        everything = torch.cat([front, res1, res2, res3], dim=1)
        pooled = torch.cat([everything.amax(dim=2), everything.mean(dim=2)], dim=1)
        pre_head = torch.relu(self.bn(self.dense1(pooled)))
        return pre_head, torch.sigmoid(self.dense2(self.dropout(pre_head)))


class Tagger:
    """One shipped network with its front end: chunks of 16 kHz samples in, tag probabilities out."""

    def __init__(self, name, entry, keep_subnormals=False):
        state = torch.load(ROOT / "models" / entry["file"], map_location="cpu")
        if not keep_subnormals:
            tiny = torch.finfo(torch.float32).tiny
            for tensor in state.values():
                if tensor.dtype == torch.float32:
                    tensor[tensor.abs() < tiny] = 0.0
        self.name = name
        self.chunk_samples = entry["input_samples"]
        self.window = state.pop("spec.spectrogram.window")
        self.filterbank = state.pop("spec.mel_scale.fb")  # [bins, mels]
        classes = state["dense2.weight" if entry["architecture"] == "musicnn" else "dense.weight"].shape[0]
        if entry["architecture"] == "fcn":
            self.network = Fcn(classes)
        elif entry["architecture"] == "crnn":
            self.network = Crnn(classes)
        else:
            self.network = Musicnn(classes, state["layer1.conv.weight"].shape[0], state["dense1.weight"].shape[0])
        self.network.load_state_dict(state, strict=True)
        self.network.eval()

    def chunks(self, samples):
        """Consecutive chunks of the input length as a batch [chunks, chunk_samples]; the short tail dropped."""
        count = samples.numel() // self.chunk_samples
        return samples[: count * self.chunk_samples].reshape(count, self.chunk_samples)

    def log_mel(self, chunks):
        """torchaudio's MelSpectrogram(16000, n_fft=512) + AmplitudeToDB(): [chunks, 1, mels, frames]."""
        n_fft = self.window.numel()
        spectrum = torch.stft(chunks, n_fft, hop_length=n_fft // 2, win_length=n_fft, window=self.window,
                              center=True, pad_mode="reflect", normalized=False, onesided=True,
                              return_complex=True)
        power = spectrum.abs().pow(2.0)
        mel = torch.matmul(power.transpose(-1, -2), self.filterbank).transpose(-1, -2)
        return (10.0 * torch.log10(torch.clamp(mel, min=1e-10))).unsqueeze(1)

    def tag(self, samples):
        """(pre-head vectors, tag probabilities) of every chunk of a 1-D float32 tensor of samples."""
        with torch.inference_mode():
            return self.network(self.log_mel(self.chunks(samples)))


def shipped_networks():
    with open(ROOT / "models" / "networks.json") as manifest:
        return json.load(manifest)["networks"]


def check_against_reference(taggers, out):
    """Every network's tags on input16k.npy against the original code's, said on `out`; False when one is off."""
    fixtures = ROOT / "tests" / "data" / "pretrained"
    samples = torch.from_numpy(np.load(fixtures / "input16k.npy"))
    all_match = True
    for tagger in taggers:
        pre_head, tags = tagger.tag(samples)
        reference_tags = np.load(fixtures / f"{tagger.name}.output.npy")
        reference_pre_head = np.load(fixtures / f"{tagger.name}.pre_head.npy")
        # The references of Musicnn are its first chunks only (the first 192,000 samples).
        rows = reference_tags.shape[0]
        tag_error = float(np.abs(tags[:rows].numpy() - reference_tags).max())
        pre_head_error = float(np.abs(pre_head[:rows].numpy() - reference_pre_head).max())
        match = tag_error <= TAG_TOLERANCE
        all_match &= match
        print(f"check {tagger.name:16} tags max |diff| {tag_error:.2e} (limit {TAG_TOLERANCE:g}), "
              f"pre-head {pre_head_error:.2e} vs tests/data/pretrained/{tagger.name}.output.npy: "
              f"{'ok' if match else 'MISMATCH'}", file=out)
    return all_match


def timed_tagging(tagger, samples, threads):
    """Seconds of tagging the whole song once, and the song's mean tag probabilities."""
    torch.set_num_threads(threads)
    start = time.perf_counter()
    _, tags = tagger.tag(samples)
    return time.perf_counter() - start, tags.mean(dim=0).tolist()


def serve(taggers, samples):
    """One timed run per request line "NETWORK THREADS", answered with a JSON line (see the top)."""
    by_name = {tagger.name: tagger for tagger in taggers}
    print(json.dumps({"ready": True}), flush=True)
    for request in sys.stdin:
        name, threads = request.split()
        tagger = by_name[name]
        seconds, tags = timed_tagging(tagger, samples, int(threads))
        print(json.dumps({"seconds": seconds, "windows": samples.numel() // tagger.chunk_samples, "tags": tags}),
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=pathlib.Path, help="the song: 16 kHz mono float32 samples (f32le)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per network and thread count")
    parser.add_argument("--networks", default="", help="comma-separated names (default: every shipped one)")
    parser.add_argument("--serve", action="store_true", help="time one run per request (bench_tagging's mode)")
    parser.add_argument("--keep-subnormals", action="store_true",
                        help="run the weights unchanged, subnormal values included (slow on x86)")
    args = parser.parse_args()

    manifest = shipped_networks()
    names = args.networks.split(",") if args.networks else list(manifest)
    taggers = [Tagger(name, manifest[name], args.keep_subnormals) for name in names]
    if not check_against_reference(taggers, sys.stderr if args.serve else sys.stdout):
        print(f"pytorch_tagging: outputs differ from the reference by more than {TAG_TOLERANCE:g}", file=sys.stderr)
        return 1
    if args.samples is None:
        return 0
    samples = torch.from_numpy(np.fromfile(args.samples, dtype="<f4").astype(np.float32))
    if args.serve:
        serve(taggers, samples)
        return 0

    song_seconds = samples.numel() / 16000.0
    print(f"song: {args.samples.name}, {song_seconds:.1f} s at 16 kHz; torch {torch.__version__}, "
          f"median of {args.repeats} runs")
    for threads in (int(count) for count in args.threads.split(",")):
        for tagger in taggers:
            timed_tagging(tagger, samples, threads)  # warm-up: first-call allocations and kernel choices
            seconds = statistics.median(timed_tagging(tagger, samples, threads)[0] for _ in range(args.repeats))
            windows = samples.numel() // tagger.chunk_samples
            audio_seconds = windows * tagger.chunk_samples / 16000.0  # what the windows cover
            print(f"{tagger.name:16} {threads} thread(s): {windows:3} windows in {seconds:.4f} s, "
                  f"{windows / seconds:8.1f} windows/s, {audio_seconds / seconds:7.1f} x realtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
