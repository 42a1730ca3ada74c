// Features: librosa's mel-spectrogram, decibels, MFCC, and fixed-size windows for the models.
//
// Defaults are librosa 0.11's: melspectrogram(sr=22050, n_fft=2048, hop_length=512, window='hann' (periodic),
// center=True, pad_mode='constant', power=2.0, n_mels=128, fmin=0, fmax=sr/2, htk=False, norm='slaney') and
// power_to_db(ref=np.max, amin=1e-10, top_db=80). MelOptions and FeatureSettings also cover the front end of
// the pretrained music-tagging networks (Won et al. 2020): htk mel scale, no filter normalisation, reflect
// padding, dB without reference or floor, and 3-second chunks for Musicnn.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <stdexcept>
#include <vector>

namespace tunelens {

// A parameter out of range (n_fft < 2, fmax above Nyquist, ...).
class FeatureError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A 2-D float32 matrix stored row-major: rows are frequency bands (or coefficients), columns are frames.
struct Spectrogram {
  std::size_t rows = 0;
  std::size_t frames = 0;
  std::vector<float> values;  // rows * frames, values[r * frames + t]

  Spectrogram() = default;
  Spectrogram(std::size_t rows, std::size_t frames) : rows(rows), frames(frames), values(rows * frames, 0.0f) {}
  float& at(std::size_t r, std::size_t t) { return values[r * frames + t]; }
  float at(std::size_t r, std::size_t t) const { return values[r * frames + t]; }
};

// How Hz map to mels (librosa's htk argument).
enum class MelScale {
  Slaney,  // Slaney's Auditory Toolbox: linear below 1 kHz, logarithmic above (htk=False, librosa's default)
  Htk,     // mel = 2595 * log10(1 + f / 700) (htk=True; the pretrained networks')
};

// How each triangular filter is scaled (librosa's norm argument).
enum class MelNorm {
  Slaney,  // divided by its width in Hz (2 / (f[m+2] - f[m])): every band has the same area (the default)
  None,    // peak 1 (norm=None; the pretrained networks')
};

// How a centred STFT pads the signal's ends (librosa's pad_mode).
enum class PadMode {
  Constant,  // zeros (librosa's default)
  Reflect,   // mirrored without repeating the edge sample (numpy.pad mode 'reflect'): x[2], x[1], x[0], x[1]
};

// The names the command line and the JSON records use: slaney, htk; slaney, none; constant, reflect. The
// parse functions throw FeatureError for any other word.
std::string to_string(MelScale scale);
std::string to_string(MelNorm norm);
std::string to_string(PadMode mode);
MelScale parse_mel_scale(const std::string& text);
MelNorm parse_mel_norm(const std::string& text);
PadMode parse_pad_mode(const std::string& text);

struct MelOptions {
  int sample_rate = 22050;  // rate of the signal, Hz
  int n_fft = 2048;         // FFT length; the window is a periodic Hann of this length
  int hop_length = 512;     // samples between frame starts
  bool center = true;       // pad n_fft/2 samples on both ends so frame t is centred on sample t*hop
  PadMode pad_mode = PadMode::Constant;  // that padding: zeros (default) or the signal reflected
  double power = 2.0;       // exponent of the magnitude: 1 = magnitude, 2 = power
  int n_mels = 128;         // number of mel bands
  double fmin = 0.0;        // lowest band edge, Hz
  double fmax = -1.0;       // highest band edge, Hz; <= 0 means sample_rate / 2
  MelScale mel_scale = MelScale::Slaney;  // Hz to mel: slaney (default) or htk
  MelNorm mel_norm = MelNorm::Slaney;     // filter scaling: slaney (default, equal areas) or none (peak 1)
};

// The widest settings the front end accepts (checked by MelSpectrogram and the command-line options): beyond
// them a setting is a typo, not a use (an n_fft of 10^7 runs for minutes on a 5 s file).
struct FrontEndLimits {
  int min_sample_rate = 1000, max_sample_rate = 384000;
  int max_n_fft = 1 << 16;        // 3 s at 22,050 Hz
  int max_hop_length = 1 << 20;
  int max_n_mels = 1024;
};
inline constexpr FrontEndLimits kLimits{};

// Number of STFT frames of a signal of n samples under `options` (centring pads n_fft/2 on each side,
// whatever the pad mode); an empty signal has none (librosa would give one of zeros).
std::size_t frame_count(const MelOptions& options, std::size_t n_samples);

// Mel filterbank, as librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=(scale == Htk), norm=('slaney' or
// None)) computes it, stored sparsely: each band keeps only its non-zero run of FFT bins.
class MelFilterbank {
 public:
  MelFilterbank(int sample_rate, int n_fft, int n_mels, double fmin = 0.0, double fmax = -1.0,
                MelScale scale = MelScale::Slaney, MelNorm norm = MelNorm::Slaney);

  int n_mels() const { return n_mels_; }
  int n_bins() const { return n_bins_; }
  // The dense [n_mels, 1 + n_fft/2] matrix, as librosa returns it.
  Spectrogram dense() const;
  // mel[m] = sum_k weights[m][k] * spectrum[k] for one frame.
  void apply(const float* spectrum, float* mel) const;
  // The same for `count` frames at once, stored bin-major: spectra[k * spectra_stride + f] is bin k of
  // frame f (count <= spectra_stride). Writes mel[m * mel_stride + f] for f < count. Bin-major order lets
  // the inner loop run over frames, so it vectorises whatever the length of a band.
  void apply_frames(const float* spectra, std::size_t spectra_stride, std::size_t count, float* mel,
                    std::size_t mel_stride) const;

 private:
  int n_mels_ = 0;
  int n_bins_ = 0;
  std::vector<int> first_bin_;      // per band: first non-zero bin
  std::vector<int> offset_;         // per band: start of its weights in weights_
  std::vector<int> length_;         // per band: number of non-zero bins
  std::vector<float> weights_;
};

// A [rows, frames] spectrogram that grows by frames (columns) in place: its rows are kept `capacity` frames apart,
// so appending writes where the frames will stay, and finish() closes the gaps. Memory is the result's (plus what
// the capacity hint overshoots), never twice it, when the hint is right; a wrong hint costs a reallocation.
class SpectrogramBuilder {
 public:
  explicit SpectrogramBuilder(std::size_t rows) : rows_(rows) {}
  // Makes room for `frames` frames in all.
  void reserve(std::size_t frames);
  // Room for `count` more frames: returns where row 0 of the first of them goes; row r is stride() further on.
  float* append(std::size_t count);
  // Appends all the frames of a spectrogram with as many rows.
  void append(const Spectrogram& frames);
  std::size_t stride() const { return capacity_; }
  std::size_t frames() const { return frames_; }
  // The spectrogram; the builder is left empty.
  Spectrogram finish();

 private:
  std::size_t rows_, frames_ = 0, capacity_ = 0;
  std::vector<float> values_;  // row r at values_[r * capacity_]
};

// Computes mel power spectrograms. Construction makes the FFT plan once; compute() is const and may be called
// from many threads at once on one shared object.
class MelSpectrogram {
 public:
  explicit MelSpectrogram(const MelOptions& options = {});
  ~MelSpectrogram();
  MelSpectrogram(const MelSpectrogram&) = delete;
  MelSpectrogram& operator=(const MelSpectrogram&) = delete;

  const MelOptions& options() const { return options_; }
  const MelFilterbank& filterbank() const { return filterbank_; }
  // Number of frames for a signal of n samples (tunelens::frame_count of options()).
  std::size_t frame_count(std::size_t n_samples) const;
  // Mel spectrogram [n_mels, frames] of a mono signal at options().sample_rate.
  Spectrogram compute(std::span<const float> signal) const;

 private:
  friend class MelStream;
  struct Plan;
  struct Work;
  // Frames [t0, t0 + count) (count <= the block size) of a signal of n samples of which data holds those from
  // `base` on (every sample these frames read), written to out[m * out_stride + f].
  void compute_frames(Work& work, const float* data, std::ptrdiff_t base, std::ptrdiff_t n, std::size_t t0,
                      std::size_t count, float* out, std::size_t out_stride) const;

  MelOptions options_;
  MelFilterbank filterbank_;
  std::unique_ptr<Plan> plan_;
};

// The mel spectrogram of a signal that arrives in pieces (a decoder's blocks): each frame is computed as soon as
// its samples are in, and only the samples later frames need are kept, so memory is the output's. The result is
// exactly MelSpectrogram::compute of the whole signal (the same code computes each frame).
class MelStream {
 public:
  explicit MelStream(const MelSpectrogram& mel);
  ~MelStream();
  MelStream(const MelStream&) = delete;
  MelStream& operator=(const MelStream&) = delete;

  // A hint: the signal will have about this many samples (the spectrogram is reserved once).
  void expect(std::size_t samples);
  void push(std::span<const float> samples);
  // The frames computed so far that take() has not given yet; the stream goes on.
  Spectrogram take();
  // The frames not yet taken, up to the end of everything pushed (all of them without take()); the stream is
  // spent.
  Spectrogram finish();

 private:
  void compute_ready(std::size_t ready_frames, std::ptrdiff_t n);

  const MelSpectrogram& mel_;
  std::unique_ptr<MelSpectrogram::Work> work_;
  std::vector<float> buffer_;  // samples [base_, base_ + buffer_.size()) of the signal
  std::size_t base_ = 0;
  std::size_t next_frame_ = 0;  // the first frame not yet computed
  SpectrogramBuilder out_;
};

// How power_to_db chooses its reference level.
enum class DbReference {
  Max,    // ref = the largest value of the spectrogram (librosa ref=np.max; the original study)
  Value,  // ref = DbOptions::ref (librosa's default ref=1.0)
};

struct DbOptions {
  DbReference reference = DbReference::Max;
  double ref = 1.0;     // used when reference == Value
  double amin = 1e-10;  // floor applied to values and ref before the logarithm
  double top_db = 80.0; // clip to (max - top_db); <= 0 disables clipping
};

// The settings that turn audio into features, as the features and extract commands take them and as a catalog's
// feature configuration and a model record them.
struct FeatureSettings {
  MelOptions mel;
  std::string db = "ref-max";  // ref-max (relative to the loudest bin), ref-one (relative to 1), none (power)
  double top_db = 80.0;        // with dB: floor this far below the peak (0: off)
  double offset = 0.0;         // seconds skipped at the start of each file
  double duration = -1.0;      // seconds used (< 0: all)
  // How damaged input is read, not what the features are (so no configuration or model records it): NaN,
  // infinite or huge samples become silence, with a warning, instead of failing the file.
  bool repair_samples = false;
  // > 0: the signal is cut into chunks of this many samples and each chunk's mel spectrogram is computed on
  // its own (see chunked_mel_spectrogram); 0 (default): the whole signal at once.
  std::size_t chunk_samples = 0;

  bool in_db() const { return db != "none"; }
  // Whether each value is a function of its mel bin alone (power, or decibels relative to 1 without a floor
  // below the peak): then a frame is final as soon as it is computed, without waiting for the rest of the
  // signal.
  bool pointwise() const;
  // The dB options that `db` and `top_db` stand for. Throws FeatureError for a `db` other than the three words.
  DbOptions db_options() const;
};

// The settings that differ from librosa's defaults among mel_scale, mel_norm, pad_mode and chunk_samples, as
// words for a summary line: "htk mels, no filter norm, reflect padding, chunks of 48000 samples"; empty when
// all are the defaults.
std::string describe_front_end_choices(const FeatureSettings& settings);

// The mel spectrogram of a signal cut into consecutive chunks of chunk_samples samples, each computed on its
// own (with its own centre padding), their frames concatenated: chunks * mel.frame_count(chunk_samples)
// frames. This is how networks trained on fixed-length excerpts saw their input; slicing one spectrogram of
// the whole signal differs, since chunk_samples is rarely a multiple of the hop. The tail shorter than a
// chunk is dropped; a non-empty signal shorter than one chunk is repeated end to end until it fills exactly
// one chunk. chunk_samples 0: mel.compute(signal). Throws FeatureError when a chunk is too short to give a
// frame (center off).
Spectrogram chunked_mel_spectrogram(const MelSpectrogram& mel, std::span<const float> signal,
                                    std::size_t chunk_samples);

// A signal's features under `settings`: the mel spectrogram (in chunks when settings.chunk_samples > 0), then
// decibels over the whole (concatenated) spectrogram as settings.db says. `mel` is made from settings.mel.
Spectrogram signal_features(const MelSpectrogram& mel, std::span<const float> signal,
                            const FeatureSettings& settings);

// signal_features of a signal that arrives in pieces, holding only the spectrogram (and a chunk, or the
// samples the next frames need), not the signal: a 6-hour file's features take the memory of its spectrogram;
// with pointwise settings and take(), only the frames not yet taken.
class FeatureStream {
 public:
  // `mel` is made from settings.mel and outlives the stream. Throws FeatureError as chunked_mel_spectrogram does.
  FeatureStream(const MelSpectrogram& mel, const FeatureSettings& settings);
  ~FeatureStream();
  void expect(std::size_t samples);  // a hint, as MelStream::expect
  void push(std::span<const float> samples);
  // The frames computed since the last take(), final: pointwise settings only (else throws std::logic_error),
  // so that a long signal's frames can be used and let go as they come.
  Spectrogram take();
  // The frames not yet taken, the end's included; the stream is spent.
  Spectrogram finish();

 private:
  void add_chunk(std::span<const float> chunk);
  Spectrogram scaled(Spectrogram frames) const;  // in decibels when the settings say so

  const MelSpectrogram& mel_;
  FeatureSettings settings_;
  std::unique_ptr<MelStream> whole_;  // when not in chunks
  std::vector<float> chunk_;          // when in chunks: the samples of the chunk being filled
  std::size_t frames_per_chunk_ = 0;
  std::size_t chunks_added_ = 0;
  SpectrogramBuilder chunks_;  // the frames of the chunks added and not yet taken
};

// Where frame `frame` of a signal's features starts, in seconds from the start of the file: the offset, then
// whole chunks (when settings.chunk_samples > 0), then hops.
double frame_start_seconds(const FeatureSettings& settings, std::size_t frame);

// In place: S = 10*log10(max(amin, S)) - 10*log10(max(amin, ref)), then floored at max(S) - top_db.
void power_to_db(Spectrogram& spectrogram, const DbOptions& options = {});

// MFCC from a dB mel spectrogram: DCT-II with orthonormal scaling along the bands, first n_mfcc rows
// (librosa.feature.mfcc(S=..., n_mfcc=20, dct_type=2, norm='ortho', lifter=0)).
Spectrogram mfcc(const Spectrogram& db_mel, int n_mfcc = 20);

// What to do with a spectrogram shorter than one window.
enum class ShortClip { Pad, Reject };

struct WindowOptions {
  std::size_t frames = 1024;             // frames per window (1024 ≈ 23.8 s at 22050 Hz, hop 512)
  std::size_t hop = 0;                   // frames between window starts; 0 means `frames` (no overlap)
  ShortClip short_clip = ShortClip::Pad; // pad with the spectrogram's minimum, or reject (no windows)
};

// Cuts [rows, frames] into consecutive windows of options.frames frames; the tail that does not fill a window
// is dropped (as the original study did).
std::vector<Spectrogram> cut_windows(const Spectrogram& spectrogram, const WindowOptions& options = {});
// How many windows cut_windows gives, and window `index` of them alone (so a long song's windows need not all be
// held at once). cut_window throws FeatureError for an index past the last.
std::size_t window_count(const Spectrogram& spectrogram, const WindowOptions& options = {});
Spectrogram cut_window(const Spectrogram& spectrogram, const WindowOptions& options, std::size_t index);

// In place: scale the whole matrix linearly to [0, 1] (the original study's min-max scaling of each window).
// A constant matrix becomes all zeros.
void minmax_scale(Spectrogram& window);

}  // namespace tunelens
